"""Deliver what is due from the outbox table: claim with a lease, render, send, mark.

The life of a delivery row::

    queued ──claim──▶ sending ──sent──▶ sent
       ▲                 │ temporary failure (refused, timeout, 4xx)
       └── retrying ◀────┤   (exponential backoff with jitter, up to MAX_ATTEMPTS)
                         └ permanent failure (5xx, nothing left to say) ──▶ dead (+reason)

Claiming sets a lease (``lease_until``) in its own short transaction (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL; SQLite serializes writers with ``BEGIN IMMEDIATE``), so two senders
never take the same row. A crash after sending but before marking leaves the row ``sending``
until its lease expires; it is then sent again with the same Message-ID (at most one
duplicate, recognisable by the recipient's mail system). Each row is marked in its own
transaction, so one failing recipient never blocks or rolls back the others.

Daily subscribers' items (``kind='digest'`` with a change set) wait until the morning after,
then are folded into one digest row per subscriber and day (``change_set_id`` NULL,
``digest_date`` set) that is sent like any other.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import and_, func, not_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts import webhook
from alerts.content import section_for_subscription
from alerts.errors import DeliveryError, PermanentDeliveryError
from alerts.headers import clean_header, domain_of
from alerts.message import compose, message_id_for
from alerts.render import RenderedEmail, SectionView, render_alert, render_confirm
from alerts.subscriptions import describe
from alerts.tokens import make_token
from alerts.transport import Transport, envelope_address, transport_from_settings
from storage.db import write_session
from storage.models import Delivery, Subscription
from storage.settings import Settings, load_settings

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)

#: Digest items parked until the morning; folded ones keep this status for the record.
DIGESTED = "digested"


@dataclass
class DispatchReport:
    """What one ``send_due`` run did (printed by ``radar alerts send``)."""

    digests_built: int = 0
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "digests_built": self.digests_built,
            "claimed": self.claimed,
            "sent": self.sent,
            "retrying": self.retrying,
            "dead": self.dead,
            "errors": list(self.errors),
        }


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; they are stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def backoff(attempts: int, *, rng: Callable[[], float] = random.random) -> timedelta:
    """Exponential delay (1, 2, 4 … minutes, capped at 6 h) times a jitter in [0.5, 1.5)."""
    base = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** min(max(0, attempts - 1), 20)))
    return base * (0.5 + rng())


_ITEM = and_(Delivery.kind == "digest", Delivery.change_set_id.is_not(None))


# -- digests ----------------------------------------------------------------------------


def build_due_digests(session_factory: sessionmaker[Session], *, now: datetime) -> int:
    """Fold due digest items into one digest delivery per (subscriber, day); return how many
    digest rows were created or extended."""
    settings = load_settings()
    domain = domain_of(settings.mail_from)
    built = 0
    with write_session(session_factory) as session:
        items = session.scalars(
            select(Delivery)
            .where(_ITEM, Delivery.status == "queued", Delivery.next_attempt_at <= now)
            .order_by(Delivery.id)
        ).all()
        groups: dict[tuple[int, date], list[Delivery]] = {}
        for item in items:
            raw_day = (item.payload or {}).get("digest_date")
            day = (
                date.fromisoformat(raw_day) if raw_day else (_aware(item.created_at) or now).date()
            )
            groups.setdefault((int(item.subscription_id or 0), day), []).append(item)
        for (sub_id, day), group in groups.items():
            ids = [int(i.change_set_id or 0) for i in group]
            digest = session.scalars(
                select(Delivery).where(
                    Delivery.subscription_id == sub_id,
                    Delivery.digest_date == day,
                    Delivery.kind == "digest",
                )
            ).first()
            if digest is None:
                digest = Delivery(
                    subscription_id=sub_id,
                    change_set_id=None,
                    kind="digest",
                    recipient=group[0].recipient,
                    subject="",
                    message_id=message_id_for(f"digest.{day.isoformat()}.s{sub_id}", domain),
                    status="queued",
                    attempts=0,
                    next_attempt_at=now,
                    digest_date=day,
                    payload={"change_set_ids": ids},
                    created_at=now,
                )
                session.add(digest)
                session.flush()
            elif digest.status in {"queued", "retrying"}:
                known = list((digest.payload or {}).get("change_set_ids") or [])
                digest.payload = {"change_set_ids": known + [i for i in ids if i not in known]}
            else:
                # That day's digest already went out: send the late items on their own.
                for item in group:
                    item.kind, item.next_attempt_at = "instant", now
                continue
            built += 1
            for item in group:
                item.status = DIGESTED
                item.payload = {"digest_date": day.isoformat(), "digest_delivery_id": digest.id}
                item.sent_at = now
    return built


# -- claiming and marking ---------------------------------------------------------------


def claim(session_factory: sessionmaker[Session], *, now: datetime, limit: int) -> list[int]:
    """Lease up to ``limit`` due rows (due retries, and ``sending`` rows whose lease expired)."""
    with write_session(session_factory) as session:
        ids = list(
            session.scalars(
                select(Delivery.id)
                .where(
                    not_(_ITEM),
                    or_(
                        and_(
                            Delivery.status.in_(("queued", "retrying")),
                            Delivery.next_attempt_at <= now,
                        ),
                        and_(Delivery.status == "sending", Delivery.lease_until < now),
                    ),
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(status="sending", lease_until=now + LEASE, attempts=Delivery.attempts + 1)
            )
    return ids


def _mark(session_factory: sessionmaker[Session], delivery_id: int, **values: Any) -> None:
    with write_session(session_factory) as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "sending")
            .values(lease_until=None, **values)
        )


# -- building the message ---------------------------------------------------------------


class _Skip(Exception):
    """Nothing to send any more (unsubscribed, nothing matches): the row goes dead with why."""


@dataclass
class Outgoing:
    message: EmailMessage
    subject: str
    recipient: str
    #: set for a webhook subscription's alert: POST ``webhook_body`` there, no email
    webhook_url: str | None = None
    webhook_body: dict[str, Any] | None = None


def _links(settings: Settings, sub: Subscription) -> dict[str, str]:
    base = settings.base_url
    unsub = make_token(settings.secret, "unsubscribe", sub.id, sub.email)
    manage = make_token(settings.secret, "manage", sub.id, sub.email)
    return {
        "unsubscribe_url": f"{base}/unsubscribe?token={unsub}",
        "manage_url": f"{base}/manage?token={manage}",
        "mailto": f"mailto:unsubscribe@{domain_of(settings.mail_from)}?subject=unsubscribe%20{unsub}",
    }


def build_message(
    session: Session,
    delivery: Delivery,
    settings: Settings,
    *,
    facts_cache: dict[Any, Any] | None = None,
) -> Outgoing:
    """Render one delivery into a message (raises :class:`_Skip` when it no longer applies)."""
    sub = session.get(Subscription, delivery.subscription_id) if delivery.subscription_id else None
    rendered: RenderedEmail
    links: dict[str, str] = {}
    sections: list[SectionView] = []
    if delivery.kind == "admin":
        payload = delivery.payload or {}
        rendered = RenderedEmail(
            subject=str(payload.get("subject") or delivery.subject),
            text=str(payload.get("text") or ""),
            html=f"<pre>{_escape(str(payload.get('text') or ''))}</pre>",
        )
    elif sub is None:
        raise _Skip("subscription no longer exists")
    elif delivery.kind == "confirm":
        if sub.status != "pending":
            raise _Skip(f"subscription is {sub.status}, no confirmation needed")
        token = make_token(settings.secret, "confirm", sub.id, sub.email)
        rendered = render_confirm(
            email=sub.email,
            confirm_url=f"{settings.base_url}/confirm?token={token}",
            filters=describe(sub),
        )
    else:
        if sub.status != "active":
            raise _Skip(f"subscription is {sub.status}")
        if delivery.kind == "digest" and delivery.change_set_id is None:
            cs_ids = [int(i) for i in (delivery.payload or {}).get("change_set_ids") or []]
            digest_date = delivery.digest_date.isoformat() if delivery.digest_date else None
        else:
            cs_ids = [int(delivery.change_set_id or 0)]
            digest_date = None
        for cs_id in cs_ids:
            section = section_for_subscription(
                session, cs_id, sub, settings.base_url, facts_cache=facts_cache
            )
            if section is not None:
                sections.append(section)
        if not sections:
            raise _Skip("no matching changes left to report")
        links = _links(settings, sub)
        rendered = render_alert(
            sections,
            manage_url=links["manage_url"],
            unsubscribe_url=links["unsubscribe_url"],
            filters=describe(sub),
            digest_date=digest_date,
        )
    message = compose(
        rendered,
        sender=settings.mail_from,
        recipient=delivery.recipient,
        message_id=delivery.message_id,
        unsubscribe_url=links.get("unsubscribe_url"),
        unsubscribe_mailto=links.get("mailto"),
    )
    outgoing = Outgoing(message=message, subject=rendered.subject, recipient=delivery.recipient)
    if sub is not None and sub.webhook_url and delivery.kind in ("instant", "digest"):
        outgoing.webhook_url = sub.webhook_url
        outgoing.webhook_body = webhook.payload(
            sections,
            subject=rendered.subject,
            filters=describe(sub),
            manage_url=links["manage_url"],
        )
    return outgoing


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


# -- the loop ---------------------------------------------------------------------------


def send_due(
    session_factory: sessionmaker[Session],
    *,
    transport: Transport | None = None,
    now: datetime | None = None,
    limit: int = 500,
    settings: Settings | None = None,
) -> DispatchReport:
    """Build due digests, claim up to ``limit`` due deliveries, send them on one transport
    session (one SMTP connection), and mark each one sent / retrying / dead."""
    settings = settings or load_settings()
    now = _aware(now) or datetime.now(UTC)
    transport = transport or transport_from_settings(settings)
    report = DispatchReport()
    report.digests_built = build_due_digests(session_factory, now=now)
    ids = claim(session_factory, now=now, limit=limit)
    report.claimed = len(ids)
    if not ids:
        return report
    sender = envelope_address(settings.mail_from)
    facts_cache: dict[Any, Any] = {}
    with transport:
        for delivery_id in ids:
            _send_one(
                session_factory, transport, delivery_id, sender, settings, now, report, facts_cache
            )
    return report


def _send_one(
    session_factory: sessionmaker[Session],
    transport: Transport,
    delivery_id: int,
    sender: str,
    settings: Settings,
    now: datetime,
    report: DispatchReport,
    facts_cache: dict[Any, Any],
) -> None:
    with session_factory() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return
        attempts = int(delivery.attempts or 0)
        try:
            outgoing = build_message(session, delivery, settings, facts_cache=facts_cache)
        except _Skip as exc:
            _mark(session_factory, delivery_id, status="dead", last_error=f"skipped: {exc}")
            report.dead += 1
            return
        except Exception as exc:  # a rendering bug must not stop the batch
            reason = f"render failed: {type(exc).__name__}: {exc}"
            _mark(
                session_factory,
                delivery_id,
                status="dead",
                last_error=clean_header(reason, max_len=1000),
            )
            report.dead += 1
            report.errors.append(f"delivery {delivery_id}: {reason}")
            return
    try:
        if outgoing.webhook_url and outgoing.webhook_body is not None:
            webhook.post(
                outgoing.webhook_url,
                outgoing.webhook_body,
                secret=settings.secret,
                delivery_id=outgoing.message["Message-ID"] or str(delivery_id),
                allow_private=settings.allow_private_networks,
            )
        else:
            transport.send(outgoing.message, sender=sender, recipients=[outgoing.recipient])
    except PermanentDeliveryError as exc:
        _mark(
            session_factory,
            delivery_id,
            status="dead",
            subject=outgoing.subject,
            last_error=str(exc),
        )
        report.dead += 1
        report.errors.append(f"delivery {delivery_id} to {outgoing.recipient}: {exc}")
        return
    except DeliveryError as exc:  # temporary, or a transport that does not say: retry
        if attempts >= MAX_ATTEMPTS:
            _mark(
                session_factory,
                delivery_id,
                status="dead",
                subject=outgoing.subject,
                last_error=f"gave up after {attempts} attempts: {exc}",
            )
            report.dead += 1
        else:
            _mark(
                session_factory,
                delivery_id,
                status="retrying",
                subject=outgoing.subject,
                last_error=str(exc),
                next_attempt_at=now + backoff(attempts),
            )
            report.retrying += 1
        report.errors.append(f"delivery {delivery_id} to {outgoing.recipient}: {exc}")
        return
    _mark(
        session_factory,
        delivery_id,
        status="sent",
        subject=outgoing.subject,
        sent_at=datetime.now(UTC),
        last_error=None,
    )
    report.sent += 1


# -- status and admin mail --------------------------------------------------------------


def status_counts(session: Session) -> dict[str, int]:
    """Deliveries per status for ``radar alerts status``; parked digest items are counted as
    ``digest_pending`` and folded ones are left out (their digest row is counted)."""
    counts = {"queued": 0, "sending": 0, "sent": 0, "retrying": 0, "dead": 0, "digest_pending": 0}
    rows = session.execute(
        select(Delivery.status, _ITEM.label("item"), func.count()).group_by(Delivery.status, _ITEM)
    ).all()
    for status, is_item, n in rows:
        if is_item and status == "queued":
            counts["digest_pending"] += int(n)
        elif status == DIGESTED:
            continue
        else:
            counts[str(status)] = counts.get(str(status), 0) + int(n)
    return counts


def queue_admin_email(
    session: Session, *, subject: str, text: str, key: str, recipient: str | None = None
) -> Delivery | None:
    """Queue an operator email (source health …) to ``RADAR_ADMIN_EMAIL``; ``key`` makes it
    idempotent (same key, same Message-ID, queued once). ``None`` when no admin is set."""
    settings = load_settings()
    to = recipient or settings.admin_email
    if not to:
        return None
    message_id = message_id_for(f"admin.{key}", domain_of(settings.mail_from))
    existing = session.scalars(select(Delivery).where(Delivery.message_id == message_id)).first()
    if existing is not None:
        return existing
    now = datetime.now(UTC)
    delivery = Delivery(
        subscription_id=None,
        change_set_id=None,
        kind="admin",
        recipient=to,
        subject=clean_header(subject),
        message_id=message_id,
        status="queued",
        attempts=0,
        next_attempt_at=now,
        payload={"subject": clean_header(subject), "text": text},
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery
