"""Subscriptions: who wants which changes, and the double opt-in that protects third parties.

The operator's command line is trusted, so ``origin="cli"`` is active at once. Anything else
(the web form) starts ``pending``, gets exactly one confirmation email, and nothing more until
the address confirms. Sign-ups are rate-limited per address (counted case-folded) and per IP
(``signup_events``; ``X-Forwarded-For`` only from ``RADAR_TRUSTED_PROXIES``) so the form
cannot be used to mail-bomb somebody; control, bidi and zero-width characters are refused and
filter lengths capped. Functions flush but never commit: the caller
owns the transaction (a CLI command, a web request, a test).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, null, select
from sqlalchemy.orm import Session

from alerts.errors import InvalidEmail, InvalidFilter, InvalidToken, RateLimited
from alerts.headers import domain_of
from alerts.kinds import expand_kinds, signup_limits
from alerts.message import message_id_for
from alerts.webhook import check_webhook_url
from parsers.units_alias import scoped_unit_key
from storage.models import Delivery, SignupEvent, Subscription, utcnow
from storage.settings import load_settings

MODES = ("instant", "daily")
ORIGINS = ("cli", "web")
#: Statuses of a subscription that still counts (may get mail now or after confirming).
LIVE = ("active", "pending")

# Deliberately simple: one @, no spaces/controls/brackets, a dotted domain (or localhost).
_EMAIL = re.compile(
    r"^[^@\s<>()\[\]\\,;:\"]{1,64}@(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]{2,}$|^[^@\s<>()\[\]\\,;:\"]{1,64}@localhost$"
)


#: Longest filter values a sign-up may store (the web form is anyone's input).
MAX_FILTER_LEN = {"series_key": 200, "issuer": 100, "unit": 100, "keyword": 50}


def _invisible(text: str) -> str | None:
    """The first control, format (bidi override, zero-width) or separator character."""
    for ch in text:
        if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            return f"U+{ord(ch):04X}"
    return None


def normalize_email(email: str) -> str:
    """Trim and lower-case the domain; refuse anything that could break a header or hide
    what the address is (control, bidi and zero-width characters)."""
    value = (email or "").strip()
    bad = _invisible(value)
    if bad:
        raise InvalidEmail(f"{value[:80]!r}: invisible or control character {bad} in the address")
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidEmail(f"{value[:80]!r}: not a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def signup_key(address: str) -> str:
    """The address as sign-up limits count it: NFKC and case-folded, local part included
    (``Victim@X.org`` and ``victim@x.org`` reach one inbox on every real mail system)."""
    return unicodedata.normalize("NFKC", address).casefold()


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Iterable[str]) -> str | None:
    """The client address for per-IP limits: ``X-Forwarded-For`` only when the peer is one of
    the ``trusted`` proxies (``RADAR_TRUSTED_PROXIES``, IPs or CIDRs), and then the right-most
    hop that is not itself a trusted proxy (a client can prepend anything it likes)."""
    networks = []
    for item in trusted:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            continue

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr.strip())
        except ValueError:
            return False
        return any(ip in net for net in networks)

    if not peer or not forwarded_for or not is_trusted(peer):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


def _clean(value: str | None, field: str = "filter") -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    bad = _invisible(text)
    if bad:
        raise InvalidFilter(f"{text[:40]!r}: invisible or control character {bad} in {field}")
    limit = MAX_FILTER_LEN.get(field)
    if limit is not None and len(text) > limit:
        raise InvalidFilter(f"{field} is {len(text)} characters long: at most {limit}")
    return text or None


def _same_filters(sub: Subscription, wanted: dict[str, Any]) -> bool:
    """Same filters, with units compared by alias key (区发改委 = 区发展改革委)."""
    return all(getattr(sub, key) == value for key, value in wanted.items() if key != "unit")


def describe(sub: Subscription) -> str:
    """Human summary of the filters, shown in emails and on the manage page."""
    parts: list[str] = []
    if sub.series_key:
        parts.append(f"文件：{sub.series_key}")
    if sub.issuer:
        parts.append(f"发文机关/地区：{sub.issuer}")
    if sub.unit:
        parts.append(f"单位：{sub.unit}")
    if sub.keyword:
        parts.append(f"关键词：{sub.keyword}")
    if sub.kinds:
        parts.append("类型：" + ",".join(str(k) for k in sub.kinds))
    if sub.webhook_url:
        parts.append(f"Webhook：{sub.webhook_url}")
    if not parts:
        parts.append("全部变更")
    parts.append("每日汇总" if sub.mode == "daily" else "即时提醒")
    return "；".join(parts)


def check_rate_limit(session: Session, email: str, ip: str | None, *, now: datetime) -> None:
    """Refuse a web sign-up when this address or IP signed up too often in the window."""
    limits = signup_limits()
    since = now - timedelta(hours=limits["window_hours"])

    def recent(match: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(SignupEvent)
        return session.scalar(query.where(match, SignupEvent.created_at >= since)) or 0

    if recent(SignupEvent.email == email) >= limits["per_email"]:
        raise RateLimited(f"{email}: too many sign-ups for this address, try again later")
    if ip and recent(SignupEvent.ip == ip) >= limits["per_ip"]:
        raise RateLimited(f"{ip}: too many sign-ups from this address, try again later")


def subscribe(
    session: Session,
    email: str,
    *,
    series_key: str | None = None,
    issuer: str | None = None,
    unit: str | None = None,
    keyword: str | None = None,
    kinds: list[str] | tuple[str, ...] | None = None,
    mode: str = "instant",
    origin: str = "cli",
    ip: str | None = None,
    now: datetime | None = None,
    webhook_url: str | None = None,
) -> Subscription:
    """Create (or return the identical existing) subscription.

    ``origin="cli"``: active at once. ``origin="web"``: rate-limited, ``pending``, and a
    confirmation email is queued in the same transaction; an older pending duplicate is
    retired so only the newest confirm link works.
    """
    now = now or utcnow()
    address = normalize_email(email)
    if mode not in MODES:
        raise InvalidFilter(f"mode {mode!r}: use one of {', '.join(MODES)}")
    if origin not in ORIGINS:
        raise InvalidFilter(f"origin {origin!r}: use one of {', '.join(ORIGINS)}")
    unit_name = _clean(unit, "unit")
    wanted: dict[str, Any] = {
        "series_key": _clean(series_key, "series_key"),
        "issuer": _clean(issuer, "issuer"),
        "unit": unit_name,
        "unit_key": scoped_unit_key(unit_name) if unit_name else None,
        "keyword": _clean(keyword, "keyword"),
        "kinds": expand_kinds(list(kinds) if kinds else None),
        "mode": mode,
        "webhook_url": check_webhook_url(webhook_url),
    }
    same = [
        sub
        for sub in session.scalars(
            select(Subscription)
            .where(Subscription.email == address, Subscription.status.in_(LIVE))
            .order_by(Subscription.id)
        )
        if _same_filters(sub, wanted)
    ]
    for sub in same:
        if sub.status == "active":
            return sub
    pending = [sub for sub in same if sub.status == "pending"]

    if origin == "web":
        key = signup_key(address)
        check_rate_limit(session, key, ip, now=now)
        session.add(SignupEvent(email=key, ip=ip, created_at=now))
        for sub in pending:
            sub.status = "unsubscribed"
            sub.unsubscribed_at = now
    elif pending:  # the operator confirms an open web sign-up by repeating it
        sub = pending[0]
        sub.status, sub.confirmed_at = "active", now
        return sub

    sub = Subscription(
        email=address,
        origin=origin,
        status="active" if origin == "cli" else "pending",
        created_at=now,
        confirmed_at=now if origin == "cli" else None,
        **{k: v for k, v in wanted.items() if k != "kinds"},
    )
    sub.kinds = wanted["kinds"] if wanted["kinds"] else null()  # SQL NULL, not JSON null
    session.add(sub)
    session.flush()
    if origin == "web":
        queue_confirmation(session, sub, now=now)
    return sub


def queue_confirmation(session: Session, sub: Subscription, *, now: datetime) -> Delivery:
    """The one email a pending address may get; rendered when sent (the token needs the secret)."""
    settings = load_settings()
    delivery = Delivery(
        subscription_id=sub.id,
        change_set_id=None,
        kind="confirm",
        recipient=sub.email,
        subject="【政策雷达】请确认订阅",
        message_id=message_id_for(f"confirm.s{sub.id}", domain_of(settings.mail_from)),
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def unsubscribe(
    session: Session,
    email: str,
    *,
    subscription_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Unsubscribe every live subscription of ``email`` (or just ``subscription_id``); count."""
    now = now or utcnow()
    address = normalize_email(email)
    query = select(Subscription).where(Subscription.email == address, Subscription.status.in_(LIVE))
    if subscription_id is not None:
        query = query.where(Subscription.id == subscription_id)
    subs = session.scalars(query).all()
    for sub in subs:
        sub.status = "unsubscribed"
        sub.unsubscribed_at = now
    session.flush()
    return len(subs)


def confirm_subscription(
    session: Session, subscription_id: int, email: str, *, now: datetime | None = None
) -> str:
    """Activate a pending subscription from a verified confirm token.

    Returns ``"confirmed"`` or ``"already confirmed"``. A token whose subscription was
    unsubscribed or replaced meanwhile is refused: confirming must never resurrect it.
    """
    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.email != email:
        raise InvalidToken("confirm link does not match any subscription")
    if sub.status == "active":
        return "already confirmed"
    if sub.status != "pending":
        raise InvalidToken("confirm link is no longer valid (subscription was cancelled)")
    sub.status = "active"
    sub.confirmed_at = now or utcnow()
    session.flush()
    return "confirmed"


def list_subscriptions(
    session: Session, *, email: str | None = None, include_inactive: bool = False
) -> list[Subscription]:
    query = select(Subscription).order_by(Subscription.id)
    if email is not None:
        query = query.where(Subscription.email == normalize_email(email))
    if not include_inactive:
        query = query.where(Subscription.status.in_(LIVE))
    return list(session.scalars(query).all())


def update_filters(
    session: Session,
    subscription_id: int,
    email: str,
    *,
    series_key: str | None = None,
    issuer: str | None = None,
    unit: str | None = None,
    keyword: str | None = None,
    kinds: list[str] | tuple[str, ...] | None = None,
    mode: str = "instant",
    webhook_url: str | None = None,
) -> Subscription:
    """Change a live subscription's filters, mode and webhook (from the manage page, whose signed
    link already proved the address: status and confirmation stay as they are)."""
    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.email != email or sub.status not in LIVE:
        raise InvalidToken("manage link does not cover this subscription")
    if mode not in MODES:
        raise InvalidFilter(f"mode {mode!r}: use one of {', '.join(MODES)}")
    unit_name = _clean(unit)
    sub.series_key = _clean(series_key)
    sub.issuer = _clean(issuer)
    sub.unit = unit_name
    sub.unit_key = scoped_unit_key(unit_name) if unit_name else None
    sub.keyword = _clean(keyword)
    expanded = expand_kinds(list(kinds) if kinds else None)
    sub.kinds = expanded if expanded else null()
    sub.mode = mode
    sub.webhook_url = check_webhook_url(webhook_url)
    session.flush()
    return sub
