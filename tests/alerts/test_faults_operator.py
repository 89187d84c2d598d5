"""Issue 12's fault suite for delivery: operator problems, long outages, slow relays.

A real aiosmtpd server, and the real ``radar`` command in its own processes where the
issue asks for them (exit codes, two dispatchers at once). After each fault is fixed every
due email is delivered exactly once (by Message-ID) and nothing is dead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from alerts.dispatch import requeue, send_due
from alerts.transport import SmtpTransport
from storage.models import Delivery
from tests.alerts.conftest import E2E_SUBSCRIBERS, ScriptedHandler, SmtpServer, seed_revision

EXPECTED_EMAILS = 5  # E2E_SUBSCRIBERS minus the untouched unit
ADMIN = "ops@example.org"


def _rows(session_factory: Any) -> list[Delivery]:
    with session_factory() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def _radar(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """The real ``radar`` command in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def auth_smtp() -> Any:
    server = SmtpServer(ScriptedHandler(), password="right")
    server.start()
    yield server
    server.stop()


def test_535_waits_exits_nonzero_tells_the_operator_then_delivers_once(
    auth_smtp: SmtpServer, alert_env: Path, session_factory: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RADAR_ADMIN_EMAIL", ADMIN)
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    wrong = _radar("alerts", "send", env={"RADAR_SMTP_URL": auth_smtp.url_with("wrong")})
    assert wrong.returncode == 3, wrong.stderr
    assert "535" in wrong.stderr and "needs the operator" in wrong.stderr
    rows = _rows(session_factory)
    subscriber_rows = [r for r in rows if r.kind != "admin"]
    assert len(subscriber_rows) == EXPECTED_EMAILS
    assert {r.status for r in rows} == {"retrying", "queued"}  # nothing dead
    assert all(r.attempts == 0 for r in subscriber_rows)
    admin = [r for r in rows if r.kind == "admin"]
    assert [r.recipient for r in admin] == [ADMIN]  # the operator is told once
    assert auth_smtp.handler.messages == []

    # Fixed: the operator re-queues and sends.
    env = {"RADAR_SMTP_URL": auth_smtp.url_with("right")}
    retried = _radar("alerts", "retry", env=env)
    assert retried.returncode == 0, retried.stderr
    sent = _radar("alerts", "send", env=env)
    assert sent.returncode == 0, sent.stderr
    ids = auth_smtp.handler.message_ids()
    assert len(ids) == EXPECTED_EMAILS + 1 and max(Counter(ids).values()) == 1
    assert {r.status for r in _rows(session_factory)} == {"sent"}
    assert len(auth_smtp.handler.to(ADMIN)) == 1


def test_relay_wide_554_waits_per_recipient_553_is_dead(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    smtp.handler.mail_reply = "554 5.7.1 relay access denied"
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url))
    assert report.operator_error and "554" in report.operator_error
    assert (report.sent, report.dead, report.waiting) == (0, 0, EXPECTED_EMAILS)
    # A 554 to RCPT ("Relay access denied", Postfix) is relay-wide too.
    smtp.handler.mail_reply = None
    smtp.handler.rcpt_replies = {a: "554 5.7.1 Relay access denied" for a in E2E_SUBSCRIBERS}
    requeue(session_factory)
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url))
    assert (report.dead, report.waiting) == (0, EXPECTED_EMAILS)
    # Fixed, except one address that does not exist: only that one is dead, with its reason.
    smtp.handler.rcpt_replies = {"commerce@example.org": "553 5.1.3 bad address"}
    requeue(session_factory)
    report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url))
    assert (report.sent, report.dead, report.operator_error) == (EXPECTED_EMAILS - 1, 1, None)
    dead = [r for r in _rows(session_factory) if r.status == "dead"]
    assert [r.recipient for r in dead] == ["commerce@example.org"]
    assert "553" in (dead[0].last_error or "")
    # The operator fixes the address book and re-queues the dead one.
    smtp.handler.rcpt_replies = {}
    assert requeue(session_factory, dead=True) == 1
    assert send_due(session_factory, transport=SmtpTransport.from_url(smtp.url)).sent == 1
    ids = smtp.handler.message_ids()
    assert len(ids) == EXPECTED_EMAILS and max(Counter(ids).values()) == 1


def test_a_60_hour_outage_kills_nothing(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    smtp.handler.data_default = "421 4.3.2 system not accepting messages"
    start = datetime.now(UTC)
    when, attempts_made = start, 0
    while when < start + timedelta(hours=60):  # a dispatcher every 10 minutes (fake clock)
        report = send_due(session_factory, transport=SmtpTransport.from_url(smtp.url), now=when)
        attempts_made += report.claimed
        assert report.dead == 0, report.errors
        when += timedelta(minutes=10)
    rows = _rows(session_factory)
    assert {r.status for r in rows} == {"retrying"}
    print("60 h outage: attempts per delivery", sorted(r.attempts for r in rows))
    assert attempts_made >= EXPECTED_EMAILS * 10
    # Retries stay spread: each row's next attempt is within the backoff cap (<= 9 h).
    assert all(r.next_attempt_at is not None for r in rows)
    smtp.handler.data_default = "ok"
    report = send_due(
        session_factory, transport=SmtpTransport.from_url(smtp.url), now=when + timedelta(hours=9)
    )
    assert report.sent == EXPECTED_EMAILS
    ids = smtp.handler.message_ids()
    assert len(ids) == EXPECTED_EMAILS and max(Counter(ids).values()) == 1


def _dispatcher(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "alerts", "send"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_dispatchers_on_a_slow_relay_send_no_duplicates(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    """Each message takes 2 s and the lease is 4 s: the first dispatcher's batch (10 s)
    outlives its first lease, and the second starts while it is still sending. Only lease
    renewal keeps the second from sending the same rows again (without it: duplicates)."""
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    smtp.handler.data_delay = 2.0
    env = {
        **os.environ,
        "RADAR_SMTP_URL": smtp.url.replace("timeout=1", "timeout=10"),
        "RADAR_DELIVERY_LEASE_SECONDS": "4",
    }
    first = _dispatcher(env)
    deadline = time.monotonic() + 60
    while not smtp.handler.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    second = _dispatcher(env)
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    ids = smtp.handler.message_ids()
    duplicates = sum(n - 1 for n in Counter(ids).values())
    assert duplicates == 0, Counter(ids)
    assert len(ids) == EXPECTED_EMAILS
    assert {r.status for r in _rows(session_factory)} == {"sent"}
