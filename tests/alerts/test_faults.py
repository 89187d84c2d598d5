"""Delivery under SMTP faults, against a real aiosmtpd server scripted to misbehave.

After every fault the server recovers; then every due email is delivered, none twice
(checked by Message-ID), and dead ones carry their reason.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from alerts.dispatch import MAX_ATTEMPTS, backoff, build_message, claim, send_due
from alerts.transport import SmtpTransport, envelope_address
from storage.models import Delivery
from storage.settings import load_settings
from tests.alerts.conftest import E2E_SUBSCRIBERS, SmtpServer, seed_revision

EXPECTED_EMAILS = 5  # E2E_SUBSCRIBERS minus the untouched unit


def _later(hours: float = 24) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def _rows(session_factory: Any) -> list[Delivery]:
    with session_factory() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def _assert_all_delivered_once(smtp: SmtpServer, session_factory: Any) -> None:
    ids = smtp.handler.message_ids()
    assert len(ids) == EXPECTED_EMAILS
    assert max(Counter(ids).values()) == 1, Counter(ids)
    rows = _rows(session_factory)
    assert {r.status for r in rows} == {"sent"}
    assert sorted(ids) == sorted(r.message_id for r in rows)


def test_connection_refused_then_recovered(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    smtp.stop()
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url))
    # Refused is an operator problem: every row waits, none spends an attempt.
    assert report.waiting == EXPECTED_EMAILS and report.sent == 0 and report.dead == 0
    assert report.operator_error and "refused" in report.operator_error.lower()
    rows = _rows(session_factory)
    assert all(r.status == "retrying" and r.attempts == 0 for r in rows)
    assert all("refused" in (r.last_error or "").lower() for r in rows), rows[0].last_error
    now = datetime.now(UTC)
    assert all(r.next_attempt_at is not None for r in rows)
    # Not due yet: a second run right away sends nothing.
    smtp.start()
    assert (
        send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), now=now).claimed == 0
    )
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), now=_later())
    assert report.sent == EXPECTED_EMAILS
    _assert_all_delivered_once(smtp, session_factory)


def test_421_and_451_retry_550_is_dead_with_reason(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    smtp.handler.data_script = ["421 4.3.0 service not available", "451 4.3.0 try again later"]
    smtp.handler.rcpt_replies["commerce@example.org"] = "550 5.1.1 no such user"
    transport = SmtpTransport.from_url(smtp.url)
    report = send_due(session_factory, transport=transport)
    assert (report.sent, report.retrying, report.dead) == (2, 2, 1)
    dead = [r for r in _rows(session_factory) if r.status == "dead"]
    assert [r.recipient for r in dead] == ["commerce@example.org"]
    assert "550" in (dead[0].last_error or "") and "no such user" in (dead[0].last_error or "")
    retrying = [r for r in _rows(session_factory) if r.status == "retrying"]
    assert {(r.last_error or "")[:3] for r in retrying} == {"421", "451"}

    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), now=_later())
    assert (report.sent, report.retrying, report.dead) == (2, 0, 0)
    ids = smtp.handler.message_ids()
    assert len(ids) == EXPECTED_EMAILS - 1 and len(set(ids)) == len(ids)
    assert "commerce@example.org" not in [str(m["To"]) for m in smtp.handler.messages]


def test_timeout_after_data_does_not_block_the_others(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    smtp.handler.data_script = ["sleep"]
    smtp.handler.sleep_seconds = 1.6  # the client times out after 1 s
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url))
    assert (report.sent, report.retrying) == (EXPECTED_EMAILS - 1, 1)
    slow = next(r for r in _rows(session_factory) if r.status == "retrying")
    assert "timed out" in (slow.last_error or "")
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), now=_later())
    assert report.sent == 1
    _assert_all_delivered_once(smtp, session_factory)


def test_one_connection_per_batch(smtp: SmtpServer, alert_env: Path, session_factory: Any) -> None:
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    transport = SmtpTransport.from_url(smtp.url)
    send_due(session_factory, transport=transport)
    assert transport.connections_opened == 1
    assert smtp.handler.connections == 1
    _assert_all_delivered_once(smtp, session_factory)


def test_crash_between_send_and_mark_resends_once_with_the_same_message_id(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    now = datetime.now(UTC)
    settings = load_settings()
    # A sender claims one row, sends it, and dies before marking it.
    [claimed] = claim(session_factory, now=now, limit=1)
    with session_factory() as session, SmtpTransport.from_url(smtp.url) as transport:
        out = build_message(session, session.get(Delivery, claimed), settings)
        transport.send(
            out.message, sender=envelope_address(settings.mail_from), recipients=[out.recipient]
        )
    # Another run before the lease expires leaves it alone …
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), now=now)
    assert report.sent == EXPECTED_EMAILS - 1
    # … and after it expires sends it again, with the same Message-ID.
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), now=_later(1))
    assert report.sent == 1
    counts = Counter(smtp.handler.message_ids())
    assert sorted(counts.values()) == [1] * (EXPECTED_EMAILS - 1) + [2]
    assert {r.status for r in _rows(session_factory)} == {"sent"}


def test_gives_up_after_max_attempts(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, {"data@example.org": {"unit": "市数据局"}})
    smtp.handler.rcpt_replies["data@example.org"] = "452 4.2.2 mailbox full"
    when = datetime.now(UTC)
    for _ in range(MAX_ATTEMPTS):
        send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), now=when)
        when += timedelta(days=1)
    [row] = _rows(session_factory)
    assert row.status == "dead" and row.attempts == MAX_ATTEMPTS
    assert (row.last_error or "").startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert "452" in (row.last_error or "")


def test_backoff_grows_exponentially_with_jitter() -> None:
    low = [backoff(n, rng=lambda: 0.0) for n in range(1, 6)]
    high = [backoff(n, rng=lambda: 0.999) for n in range(1, 6)]
    assert [d.total_seconds() for d in low] == [30, 60, 120, 240, 480]
    assert all(h > lo for h, lo in zip(high, low, strict=True))
    assert backoff(50, rng=lambda: 0.0) == timedelta(hours=3)  # capped (6 h) times 0.5


def test_concurrent_senders_never_send_the_same_row(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    import threading

    seed_revision(session_factory, E2E_SUBSCRIBERS)
    reports: list[Any] = []

    def worker() -> None:
        for _ in range(EXPECTED_EMAILS):
            reports.append(
                send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), limit=1)
            )

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.sent for r in reports) == EXPECTED_EMAILS
    _assert_all_delivered_once(smtp, session_factory)
