"""Seed 002 -> its revision, end to end: ingest queues in the same transaction, send_due
delivers through a real SMTP server (aiosmtpd) or the .eml outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alerts.dispatch import send_due, status_counts
from alerts.matching import queue_for_change_set
from alerts.transport import OutboxTransport, SmtpTransport
from tests.alerts.conftest import (
    E2E_SUBSCRIBERS,
    SmtpServer,
    body_html,
    body_text,
    read_outbox,
    seed_revision,
)
from tests.alerts.seed002 import SEEDS, V2, ingest_seed, real_pipeline

#: What each subscriber's single email must name, and what it must not (others' changes).
EXPECTED = {
    "keyword@example.org": (["共创“元交通”场景", "市交通运输局"], ["2000亿元", "市数据局"]),
    "data@example.org": (["做强算力赛道", "+市数据局"], ["2000亿元", "元交通"]),
    "traffic@example.org": (["共创“元交通”场景", "新增任务"], ["市数据局", "元消费"]),
    "planning@example.org": (["做强数字孪生城市赛道", "−市规划和自然资源局"], ["元交通"]),
    "commerce@example.org": (["共创“元消费”场景", "删除任务", "市商务局"], ["市数据局"]),
}


def _deliver(kind: str, smtp: SmtpServer, home: Path, session_factory: Any) -> list[Any]:
    transport = SmtpTransport.from_url(smtp.url) if kind == "smtp" else None
    report = send_due(session_factory, transport=transport)
    assert report.dead == 0 and report.retrying == 0, report.errors
    return list(smtp.handler.messages) if kind == "smtp" else read_outbox(home)


@pytest.mark.parametrize("kind", ["smtp", "outbox"])
def test_each_subscriber_gets_exactly_their_changes_once(
    kind: str, smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, E2E_SUBSCRIBERS)
    messages = _deliver(kind, smtp, alert_env, session_factory)

    by_rcpt: dict[str, list[Any]] = {}
    for msg in messages:
        by_rcpt.setdefault(str(msg["To"]), []).append(msg)
    assert "health@example.org" not in by_rcpt  # untouched unit: no email
    assert sorted(by_rcpt) == sorted(EXPECTED)
    for address, (wanted, unwanted) in EXPECTED.items():
        assert len(by_rcpt[address]) == 1, address
        msg = by_rcpt[address][0]
        text, html = body_text(msg), body_html(msg)
        assert str(msg["Subject"]).startswith("【政策变更】")
        for needle in wanted:
            assert needle in text, (address, needle)
            assert needle.lstrip("+−") in html, (address, needle)
        for needle in unwanted:
            assert needle not in text, (address, needle)
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "https://radar.example.org/unsubscribe?token=" in str(msg["List-Unsubscribe"])
        assert "mailto:" in str(msg["List-Unsubscribe"])
    assert by_rcpt["data@example.org"][0]["Subject"].endswith("1项责任单位调整")

    # The same revision again — same bytes, or (with the real parser) another format —
    # queues nothing and sends nothing.
    again = ingest_seed(session_factory, V2, on_change_set=queue_for_change_set)
    assert again.status == "same_bytes"
    if real_pipeline() is not None:
        docx = ingest_seed(
            session_factory,
            SEEDS / "002_152408040e809265_v2.docx",
            on_change_set=queue_for_change_set,
        )
        assert docx.status in {"same_content", "same_bytes"}
    before = len(messages)
    messages = _deliver(kind, smtp, alert_env, session_factory)
    assert len(messages) == before
    with session_factory() as session:
        counts = status_counts(session)
    assert counts["sent"] == len(EXPECTED)
    assert counts["queued"] == counts["retrying"] == counts["dead"] == 0


def test_queueing_twice_is_harmless(alert_env: Path, session_factory: Any) -> None:
    from storage.db import write_session

    cs = seed_revision(session_factory, E2E_SUBSCRIBERS)
    with write_session(session_factory) as session:
        assert queue_for_change_set(session, cs) == 0
    report = send_due(session_factory, transport=OutboxTransport(alert_env / "outbox"))
    assert report.sent == len(EXPECTED)


def test_new_document_alerts_the_units_it_assigns(
    smtp: SmtpServer, alert_env: Path, session_factory: Any
) -> None:
    from alerts.subscriptions import subscribe
    from storage.db import write_session
    from tests.alerts.seed002 import V1

    with write_session(session_factory) as session:
        subscribe(session, "health@example.org", unit="市卫健委")
        subscribe(session, "finance@example.org", unit="区金融办")  # not in the document
        subscribe(session, "yubei@example.org", issuer="渝北区")  # another region
    result = ingest_seed(session_factory, V1, on_change_set=queue_for_change_set)
    assert result.status == "new_series"
    send_due(session_factory, transport=SmtpTransport.from_url(smtp.url))
    assert [str(m["To"]) for m in smtp.handler.messages] == ["health@example.org"]
    msg = smtp.handler.messages[0]
    assert "【新文件】" in str(msg["Subject"])
    assert "为市卫健委分配1项任务" in str(msg["Subject"])
    assert "共创“元健康”场景" in body_text(msg)
