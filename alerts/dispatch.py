"""Deliver what is due from the outbox table: claim with a lease, render, send, mark.

The life of a delivery row::

    queued ──claim──▶ sending ──sent──▶ sent
       ▲                 │ temporary failure (timeout, 4xx)
       └── retrying ◀────┤   (exponential backoff with jitter; given up only after BOTH
       ▲                 │    MAX_ATTEMPTS attempts and RETRY_WINDOW since it was queued)
       │                 ├ per-recipient 5xx (550/553 on RCPT), nothing left to say ──▶ dead
       └─ waiting ◀──────┘ operator problem (535, TLS, refused, relay-wide 554): the row and
                           the rest of the batch wait without spending an attempt; the run
                           reports ``operator_error`` (``radar alerts send`` exits 3) and
                           the operator is told (log + RADAR_ADMIN_EMAIL, once a day)

``radar alerts retry`` makes waiting/retrying rows due now; ``--dead`` re-queues dead ones
after the operator fixed their cause.

Claiming sets a lease (``lease_until``, owner ``lease_owner``) in its own short transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serializes writers with ``BEGIN
IMMEDIATE``), so two senders never take the same row. Rows are claimed a few at a time
(``CLAIM_BATCH``) and the lease of the rows still to send is renewed before every message,
so a slow relay can never let a lease lapse under a running sender (a second dispatcher would
then send the same rows again); a sender that finds its lease taken skips the row. A crash
after sending but before marking leaves the row ``sending`` until its lease expires; it is
then sent again with the same Message-ID (at most one duplicate, recognisable by the
recipient's mail system). Each row is marked in its own transaction, so one failing recipient
never blocks or rolls back the others.

Daily subscribers' items (``kind='digest'`` with a change set) wait until the morning after,
then are folded into one digest row per subscriber and day (``change_set_id`` NULL,
``digest_date`` set) that is sent like any other.
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import and_, func, not_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts import webhook
from alerts.content import section_for_subscription
from alerts.errors import DeliveryError, OperatorDeliveryError, PermanentDeliveryError
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
#: A temporary failure is given up only when the delivery has also waited this long: an
#: outage of a weekend must not kill what was queued on Friday evening.
RETRY_WINDOW = timedelta(hours=72)
LEASE = timedelta(minutes=10)
#: Overrides ``LEASE`` (seconds): tests of slow relays use a lease of a second or two.
LEASE_ENV = "RADAR_DELIVERY_LEASE_SECONDS"
#: Rows claimed per round: small, so rows never sit leased behind a long queue.
CLAIM_BATCH = 10
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
#: How long deliveries wait after an operator problem before the next run tries again
#: (``radar alerts retry`` makes them due at once after a fix).
OPERATOR_WAIT = timedelta(minutes=5)

logger = logging.getLogger(__name__)

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
    #: Deliveries put back to wait for the operator (not counted as attempts).
    waiting: int = 0
    #: Set when the relay or configuration refuses every message: the operator must act.
    operator_error: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "digests_built": self.digests_built,
            "claimed": self.claimed,
            "sent": self.sent,
            "retrying": self.retrying,
            "dead": self.dead,
            "waiting": self.waiting,
            "operator_error": self.operator_error,
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


def lease_length() -> timedelta:
    """``LEASE``, or ``RADAR_DELIVERY_LEASE_SECONDS`` when set (tests of slow relays)."""
    raw = os.environ.get(LEASE_ENV, "").strip()
    return timedelta(seconds=float(raw)) if raw else LEASE


def claim(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    limit: int,
    owner: str | None = None,
    lease: timedelta | None = None,
) -> list[int]:
    """Lease up to ``limit`` due rows (due retries, and ``sending`` rows whose lease expired)
    to ``owner``."""
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
                .values(
                    status="sending",
                    lease_until=now + (lease or lease_length()),
                    lease_owner=owner,
                    attempts=Delivery.attempts + 1,
                )
            )
    return ids


def renew(
    session_factory: sessionmaker[Session],
    ids: list[int],
    *,
    owner: str,
    until: datetime,
) -> set[int]:
    """Extend ``owner``'s lease on ``ids``; return the ids it still holds (a row whose lease
    lapsed and was claimed by another sender is no longer ours to send)."""
    if not ids:
        return set()
    with write_session(session_factory) as session:
        session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_(ids),
                Delivery.status == "sending",
                Delivery.lease_owner == owner,
            )
            .values(lease_until=until)
        )
        held = session.scalars(
            select(Delivery.id).where(
                Delivery.id.in_(ids),
                Delivery.status == "sending",
                Delivery.lease_owner == owner,
            )
        )
        return set(held)


def _mark(
    session_factory: sessionmaker[Session],
    delivery_id: int,
    owner: str | None = None,
    **values: Any,
) -> None:
    conditions = [Delivery.id == delivery_id, Delivery.status == "sending"]
    if owner is not None:
        conditions.append(Delivery.lease_owner == owner)
    with write_session(session_factory) as session:
        session.execute(
            update(Delivery).where(*conditions).values(lease_until=None, lease_owner=None, **values)
        )


def _wait_for_operator(
    session_factory: sessionmaker[Session],
    ids: list[int],
    *,
    owner: str,
    reason: str,
    until: datetime,
) -> int:
    """Put ``ids`` back to wait after an operator problem, giving back their attempt."""
    if not ids:
        return 0
    with write_session(session_factory) as session:
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_(ids),
                Delivery.status == "sending",
                Delivery.lease_owner == owner,
            )
            .values(
                status="retrying",
                lease_until=None,
                lease_owner=None,
                attempts=Delivery.attempts - 1,
                next_attempt_at=until,
                last_error=clean_header(f"waiting for the operator: {reason}", max_len=1000),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def requeue(
    session_factory: sessionmaker[Session],
    *,
    dead: bool = False,
    ids: list[int] | None = None,
    now: datetime | None = None,
) -> int:
    """``radar alerts retry``: make waiting/retrying rows due now; with ``dead``, re-queue
    dead rows (attempts reset) once the operator fixed their cause. Returns how many."""
    now = _aware(now) or datetime.now(UTC)
    statuses = ("dead",) if dead else ("retrying", "queued")
    conditions = [Delivery.status.in_(statuses), not_(_ITEM)]
    if ids:
        conditions.append(Delivery.id.in_(ids))
    values: dict[str, Any] = {"next_attempt_at": now}
    if dead:
        values.update(status="queued", attempts=0)
    with write_session(session_factory) as session:
        result = session.execute(update(Delivery).where(*conditions).values(**values))
        return int(getattr(result, "rowcount", 0) or 0)


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
    """Build due digests, then claim due deliveries ``CLAIM_BATCH`` at a time (up to
    ``limit``), send them on one transport session (one SMTP connection), and mark each one
    sent / retrying / dead. An operator problem stops the run: the rest waits."""
    settings = settings or load_settings()
    clock = _Clock(_aware(now) or datetime.now(UTC))
    transport = transport or transport_from_settings(settings)
    run = _Run(session_factory, transport, settings, clock, uuid.uuid4().hex, lease_length())
    run.report.digests_built = build_due_digests(session_factory, now=clock.start)
    with transport:
        while run.report.claimed < limit and run.report.operator_error is None:
            ids = claim(
                session_factory,
                now=clock(),
                limit=min(CLAIM_BATCH, limit - run.report.claimed),
                owner=run.owner,
                lease=run.lease,
            )
            if not ids:
                break
            run.report.claimed += len(ids)
            run.send_batch(ids)
    return run.report


class _Clock:
    """``now`` as given (a test's fake time), advancing with the real time of the run, so
    leases renewed mid-run really move forward."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


@dataclass
class _Run:
    """One ``send_due`` run: its lease owner, clock, and report."""

    session_factory: sessionmaker[Session]
    transport: Transport
    settings: Settings
    clock: _Clock
    owner: str
    lease: timedelta
    report: DispatchReport = field(default_factory=DispatchReport)
    facts_cache: dict[Any, Any] = field(default_factory=dict)

    def send_batch(self, ids: list[int]) -> None:
        sender = envelope_address(self.settings.mail_from)
        for i, delivery_id in enumerate(ids):
            # Renew the lease of this row and of those still to send before every message.
            mine = renew(
                self.session_factory, ids[i:], owner=self.owner, until=self.clock() + self.lease
            )
            if delivery_id not in mine:
                continue
            try:
                self._send_one(delivery_id, sender)
            except OperatorDeliveryError as exc:
                self._operator_problem(ids[i:], exc)
                return

    def _operator_problem(self, ids: list[int], exc: OperatorDeliveryError) -> None:
        reason = str(exc)
        self.report.operator_error = reason
        self.report.waiting += _wait_for_operator(
            self.session_factory,
            ids,
            owner=self.owner,
            reason=reason,
            until=self.clock.start + OPERATOR_WAIT,
        )
        self.report.errors.append(f"operator: {reason}")
        logger.error("alert delivery stopped, the operator must act: %s", reason)
        day = self.clock.start.date().isoformat()
        with write_session(self.session_factory) as session:
            queue_admin_email(
                session,
                subject="[policy-radar] alert delivery is stopped: check the SMTP relay",
                text=(
                    f"Sending alert emails failed for every message: {reason}\n"
                    "No delivery was given up; they wait and are retried every few minutes.\n"
                    "After fixing RADAR_SMTP_URL or the relay, run: radar alerts retry && "
                    "radar alerts send\n"
                ),
                key=f"smtp.operator.{day}",
            )

    def _deliver(self, outgoing: Outgoing, sender: str, delivery_id: int) -> None:
        """POST a webhook subscription's alert, or send the email."""
        if outgoing.webhook_url and outgoing.webhook_body is not None:
            webhook.post(
                outgoing.webhook_url,
                outgoing.webhook_body,
                secret=self.settings.secret,
                delivery_id=outgoing.message["Message-ID"] or str(delivery_id),
                allow_private=self.settings.allow_private_networks,
            )
        else:
            self.transport.send(outgoing.message, sender=sender, recipients=[outgoing.recipient])

    def _send_one(self, delivery_id: int, sender: str) -> None:
        report, now = self.report, self.clock.start
        with self.session_factory() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                return
            attempts = int(delivery.attempts or 0)
            queued_at = _aware(delivery.created_at) or now
            try:
                outgoing = build_message(
                    session, delivery, self.settings, facts_cache=self.facts_cache
                )
            except _Skip as exc:
                self._mark(delivery_id, status="dead", last_error=f"skipped: {exc}")
                report.dead += 1
                return
            except Exception as exc:  # a rendering bug must not stop the batch
                reason = f"render failed: {type(exc).__name__}: {exc}"
                self._mark(
                    delivery_id, status="dead", last_error=clean_header(reason, max_len=1000)
                )
                report.dead += 1
                report.errors.append(f"delivery {delivery_id}: {reason}")
                return
        try:
            self._deliver(outgoing, sender, delivery_id)
        except OperatorDeliveryError:
            raise
        except PermanentDeliveryError as exc:
            self._mark(delivery_id, status="dead", subject=outgoing.subject, last_error=str(exc))
            report.dead += 1
            report.errors.append(f"delivery {delivery_id} to {outgoing.recipient}: {exc}")
            return
        except DeliveryError as exc:  # temporary, or a transport that does not say: retry
            report.errors.append(f"delivery {delivery_id} to {outgoing.recipient}: {exc}")
            if attempts >= MAX_ATTEMPTS and now - queued_at >= RETRY_WINDOW:
                self._mark(
                    delivery_id,
                    status="dead",
                    subject=outgoing.subject,
                    last_error=f"gave up after {attempts} attempts: {exc}",
                )
                report.dead += 1
                return
            self._mark(
                delivery_id,
                status="retrying",
                subject=outgoing.subject,
                last_error=str(exc),
                next_attempt_at=now + backoff(attempts),
            )
            report.retrying += 1
            return
        self._mark(
            delivery_id,
            status="sent",
            subject=outgoing.subject,
            sent_at=datetime.now(UTC),
            last_error=None,
        )
        report.sent += 1

    def _mark(self, delivery_id: int, **values: Any) -> None:
        _mark(self.session_factory, delivery_id, self.owner, **values)


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
