"""Filters (AND-combined, matched in SQL), digests, and the CLI commands."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from alerts.dispatch import send_due, status_counts
from alerts.matching import digest_date_for, digest_due_at, queue_for_change_set
from alerts.subscriptions import subscribe, unsubscribe
from alerts.transport import OutboxTransport
from storage.db import write_session
from storage.models import Delivery
from tests.alerts.conftest import body_text, read_outbox, seed_revision


def _recipients(session_factory: Any) -> set[str]:
    with session_factory() as session:
        return set(
            session.scalars(select(Delivery.recipient).where(Delivery.change_set_id.is_not(None)))
        )


def test_filters_are_and_combined(alert_env: Path, session_factory: Any) -> None:
    seed_revision(
        session_factory,
        {
            "issuer@example.org": {"issuer": "成都市"},
            "wrong-issuer@example.org": {"issuer": "渝北区"},
            "series@example.org": {"series_key": "cd-metaverse"},
            "wrong-series@example.org": {"series_key": "yb-metaverse"},
            "alias@example.org": {"unit": "市交通局"},  # = 市交通运输局 through the alias table
            "title-kw@example.org": {"keyword": "元宇宙"},
            "literal-kw@example.org": {"keyword": "5_%"},  # no LIKE wildcards
            "goals@example.org": {"kinds": ["goals"]},
            "kinds-and-unit@example.org": {"unit": "市数据局", "kinds": ["tasks"]},
            "unit-and-kw@example.org": {"unit": "市数据局", "keyword": "元交通"},
            "unit-and-issuer@example.org": {"unit": "市数据局", "issuer": "成都"},
        },
    )
    assert _recipients(session_factory) == {
        "issuer@example.org",
        "series@example.org",
        "alias@example.org",
        "title-kw@example.org",
        "goals@example.org",
        "unit-and-issuer@example.org",
    }
    send_due(session_factory, transport=OutboxTransport(alert_env / "outbox"))
    goals = next(m for m in read_outbox(alert_env) if str(m["To"]) == "goals@example.org")
    assert str(goals["Subject"]).endswith("：3项目标调整")
    assert "市数据局" not in body_text(goals)


def test_unsubscribed_before_sending_is_not_sent(alert_env: Path, session_factory: Any) -> None:
    seed_revision(session_factory, {"gone@example.org": {}})
    with write_session(session_factory) as session:
        assert unsubscribe(session, "gone@example.org") == 1
    report = send_due(session_factory, transport=OutboxTransport(alert_env / "outbox"))
    assert (report.sent, report.dead) == (0, 1)
    assert not read_outbox(alert_env)


def test_daily_digest_groups_the_day_in_one_email(alert_env: Path, session_factory: Any) -> None:
    from storage.ingest import ingest
    from tests.alerts.seed002 import V2, real_pipeline, simple_diff, simple_parse

    cs1 = seed_revision(session_factory, {"daily@example.org": {"mode": "daily"}})
    # A third version the same day: one more task for 市数据局.
    v3 = simple_parse(V2)
    extra = v3.tasks[-1].model_copy(
        update={"id": "t99", "number": "26.", "title": "建设算力调度中心"}
    )
    v3 = v3.model_copy(update={"tasks": [*v3.tasks, extra]})
    real = real_pipeline()
    diff = real[1] if real is not None else simple_diff
    cs2 = ingest(
        session_factory,
        b"v3",
        v3,
        series_key="cd-metaverse",
        diff=diff,
        on_change_set=queue_for_change_set,
    ).change_set_id
    assert cs2 and cs2 != cs1
    with session_factory() as session:
        counts = status_counts(session)
    assert counts["digest_pending"] == 2 and counts["queued"] == 0

    outbox = OutboxTransport(alert_env / "outbox")
    assert send_due(session_factory, transport=outbox).sent == 0  # not before the morning
    with session_factory() as session:
        created = session.scalars(select(Delivery.created_at)).first()
    day = digest_date_for(created)
    report = send_due(
        session_factory, transport=outbox, now=digest_due_at(day) + timedelta(minutes=1)
    )
    assert (report.digests_built, report.sent) == (1, 1)
    [msg] = read_outbox(alert_env)
    assert str(msg["Subject"]) == f"【政策变更日报 {day.isoformat()}】2份文件有变更"
    text = body_text(msg)
    assert "建设算力调度中心" in text and "共创“元交通”场景" in text
    with session_factory() as session:
        counts = status_counts(session)
    assert counts == {
        "queued": 0,
        "sending": 0,
        "sent": 1,
        "retrying": 0,
        "dead": 0,
        "digest_pending": 0,
    }


def test_cli_subscribe_status_send(alert_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    main(["subscribe", "cli@example.org", "--unit", "市数据局", "--kinds", "units", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["kinds"], data["unit"]) == (
        "active",
        ["units_changed"],
        "市数据局",
    )
    main(["subscriptions", "--json"])
    assert [s["email"] for s in json.loads(capsys.readouterr().out)] == ["cli@example.org"]
    main(["alerts", "status", "--json"])
    assert json.loads(capsys.readouterr().out)["queued"] == 0
    main(["alerts", "send"])
    assert "sent 0" in capsys.readouterr().out
    main(["unsubscribe", "cli@example.org"])
    assert "unsubscribed 1" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["unsubscribe", "cli@example.org"])
    assert exc.value.code == 1
    assert "no active subscription" in capsys.readouterr().err


def test_subscribe_is_idempotent_for_the_operator(alert_env: Path, session_factory: Any) -> None:
    with write_session(session_factory) as session:
        a = subscribe(session, "Same@Example.ORG", unit="区发改委")
        b = subscribe(session, "Same@example.org", unit="区发展改革委")  # alias, same key
    assert a.id == b.id and a.email == "Same@example.org"


def test_unit_matches_goal_changes_of_its_tasks_but_not_wording(
    alert_env: Path, session_factory: Any
) -> None:
    """区金融办 is responsible for a task whose target changes: alert. 区城管执法局's task only
    gets reworded (info): no email."""
    from parsers.schema import ParsedDocument, Target, Task, Unit
    from storage.ingest import ingest

    def doc(value: int, wording: str) -> ParsedDocument:
        target = Target(
            text=f"到2025年融资规模达到{value}亿元",
            metric="融资规模",
            value=value,
            unit="亿元",
            year=2025,
            comparator=">=",
        )
        return ParsedDocument(
            title="黄浦区可再生能源发展行动方案",
            issuers=["黄浦区人民政府"],
            kind="plan",
            tasks=[
                Task(
                    id="t1",
                    number="1.",
                    title="拓宽融资渠道",
                    text=f"拓宽融资渠道。到2025年融资规模达到{value}亿元。",
                    units=[Unit(name="区金融办")],
                    targets=[target],
                ),
                Task(
                    id="t2",
                    number="2.",
                    title="规范执法",
                    text=f"规范执法。{wording}",
                    units=[Unit(name="区城管执法局")],
                ),
            ],
        )

    ingest(
        session_factory,
        b"one",
        doc(1500, "加强巡查。"),
        series_key="hp",
        on_change_set=queue_for_change_set,
    )
    with write_session(session_factory) as session:
        subscribe(session, "finance@example.org", unit="区金融办")
        subscribe(session, "city@example.org", unit="区城管执法局")
        subscribe(session, "region@example.org", issuer="黄浦区", kinds=["goals"])
    result = ingest(
        session_factory,
        b"two",
        doc(2000, "全面加强日常巡查工作。"),
        series_key="hp",
        on_change_set=queue_for_change_set,
    )
    kinds = {c["kind"] for c in result.changes}
    assert "goal_changed" in kinds
    assert _recipients(session_factory) == {"finance@example.org", "region@example.org"}
    send_due(session_factory, transport=OutboxTransport(alert_env / "outbox"))
    finance = next(m for m in read_outbox(alert_env) if str(m["To"]) == "finance@example.org")
    assert "拓宽融资渠道" in body_text(finance) and "2000亿元" in body_text(finance)
    assert str(finance["Subject"]) == "【政策变更】黄浦区可再生能源发展行动方案：1项目标调整"
