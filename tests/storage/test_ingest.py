"""ingest(): new series, versions, idempotency, atomicity, normalized rows and queries."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parsers.units_alias import unit_key
from storage.ingest import content_hash, ingest
from storage.models import (
    Base,
    Change,
    ChangeSet,
    ChangeUnit,
    Fetch,
    Series,
    TargetRow,
    Task,
    TaskUnit,
    Version,
)
from storage.rawstore import raw_path, sha256
from storage.repo import (
    change_set_changes,
    get_fetch_state,
    load_parsed_version,
    load_version,
    put_fetch_state,
    series_history,
    tasks_for_unit,
)
from tests.storage.docs import plan, target, task

UNITS_CHANGE = {
    "kind": "units_changed",
    "severity": "alert",
    "task": "做强算力赛道",
    "added": ["市数据局"],
    "removed": ["市经信局市新经济委"],
    "summary": "责任单位 +市数据局 −市经信局市新经济委",
    "id_before": "t1",
    "id_after": "t1",
}
WORDING = {"kind": "task_changed", "severity": "info", "task": "培育市场主体", "summary": "措辞"}


def v2() -> Any:
    return plan(
        "成都市元宇宙产业发展行动计划（2022—2025年）（2025版）",
        tasks=[
            task(1, "做强算力赛道", ["市数据局", "区大数据发展局"]),
            task(2, "培育市场主体", ["市发改委"], [target("企业数量", 120, "家")]),
        ],
    )


def counts(session_factory: Any) -> dict[str, int]:
    with session_factory() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def test_first_version_stores_rows_raw_bytes_and_a_new_document_change_set(
    session_factory: Any, radar_home: Path
) -> None:
    doc = plan()
    r = ingest(session_factory, b"raw-v1", doc, filename="plan.docx", source_url=None, etag='"e1"')
    assert r.status == "new_series" and r.version_seq == 1 and r.changes == []
    assert raw_path(sha256(b"raw-v1"), radar_home / "raw").read_bytes() == b"raw-v1"
    with session_factory() as s:
        version = s.get(Version, r.version_id)
        assert version is not None
        assert version.format == "docx" and version.etag == '"e1"'
        assert version.content_hash == content_hash(doc)
        assert version.raw_hash == sha256(b"raw-v1")
        cs = s.scalar(select(ChangeSet).where(ChangeSet.to_version_id == r.version_id))
        assert cs is not None and cs.is_new_document and cs.from_version_id is None
        assert cs.id == r.change_set_id and cs.alert_count == 0
        assert s.scalar(select(func.count(Task.id))) == 3
        assert s.scalar(select(func.count(TaskUnit.id))) == 4
        goal = s.scalar(select(TargetRow).where(TargetRow.task_id.is_(None)))
        assert goal is not None and goal.value == Decimal("1500") and goal.unit == "亿元"
        task_target = s.scalar(select(TargetRow).where(TargetRow.task_id.is_not(None)))
        assert task_target is not None and task_target.metric == "企业数量"
        fetch = s.scalar(select(Fetch))
        assert fetch is not None and fetch.status == "new_version"
        assert load_parsed_version(s, r.version_id) == doc


def test_same_bytes_twice_gives_a_fetch_row_and_no_version(session_factory: Any) -> None:
    first = ingest(session_factory, b"same", plan())
    before = counts(session_factory)
    again = ingest(session_factory, b"same", plan(), source_url="https://a.example/x")
    after = counts(session_factory)
    assert again.status == "same_bytes" and again.version_id == first.version_id
    assert again.change_set_id is None
    assert after["fetches"] == before["fetches"] + 1
    assert {k: v for k, v in after.items() if k != "fetches"} == {
        k: v for k, v in before.items() if k != "fetches"
    }


def test_same_content_in_another_format_is_recorded_as_a_fetch(session_factory: Any) -> None:
    docx = plan(source_format="docx")
    pdf = plan(source_format="pdf", published="2022-12-20")
    assert content_hash(docx) == content_hash(pdf)
    first = ingest(session_factory, b"%DOCX-bytes", docx, filename="p.docx")
    second = ingest(session_factory, b"%PDF-bytes", pdf, filename="p.pdf")
    assert second.status == "same_content" and second.version_id == first.version_id
    c = counts(session_factory)
    assert (c["versions"], c["change_sets"], c["fetches"]) == (1, 1, 2)
    with session_factory() as s:
        statuses = list(s.scalars(select(Fetch.status).order_by(Fetch.id)))
    assert statuses == ["new_version", "same_content"]


def test_new_version_stores_changes_and_change_units(session_factory: Any) -> None:
    first = ingest(session_factory, b"v1", plan())
    seen: list[tuple[Any, ...]] = []

    def diff(old: Any, new: Any) -> list[dict[str, Any]]:
        seen.append((old.title, new.title))
        return [UNITS_CHANGE, WORDING]

    r = ingest(session_factory, b"v2", v2(), diff=diff)
    assert seen == [(plan().title, v2().title)]
    assert r.status == "new_version" and r.version_seq == 2 and r.changes == [UNITS_CHANGE, WORDING]
    with session_factory() as s:
        cs = s.get(ChangeSet, r.change_set_id)
        assert cs is not None and not cs.is_new_document
        assert (cs.from_version_id, cs.alert_count, cs.info_count) == (first.version_id, 1, 1)
        assert change_set_changes(s, cs.id) == [UNITS_CHANGE, WORDING]
        change = s.scalar(select(Change).where(Change.kind == "units_changed"))
        assert change is not None and change.task_text == "做强算力赛道。具体内容第1项。"
        rel = {(u.unit_name, u.relation) for u in change.units}
        assert ("市数据局", "added") in rel and ("市经信局市新经济委", "removed") in rel
        # units responsible for the task in either version
        assert {n for n, r_ in rel if r_ == "task_unit"} == {
            "市数据局",
            "区大数据发展局",
            "市经信局市新经济委",
        }
        # "a change to a task that 区大数据发展局 is responsible for" is a join
        hits = s.scalars(
            select(Change.kind)
            .join(ChangeUnit, ChangeUnit.change_id == Change.id)
            .where(ChangeUnit.unit_key == unit_key("区大数据发展局"))
        ).all()
        assert hits == ["units_changed"]
        series = s.scalar(select(Series))
        assert series is not None and series.title == v2().title


def test_history_and_load_version(session_factory: Any) -> None:
    first = ingest(session_factory, b"v1", plan(), filename="a.txt")
    ingest(session_factory, b"v2", v2(), filename="b.txt", diff=lambda o, n: [UNITS_CHANGE])
    with session_factory() as s:
        history = series_history(s, first.series_key)
        assert [(v.seq, v.task_count, v.target_count) for v in history] == [(1, 3, 2), (2, 2, 2)]
        assert history[0].is_new_document and history[1].alert_count == 1
        assert (
            series_history(s, "成都市元宇宙产业发展行动计划（2022—2025年）")[0].id == history[0].id
        )
        info, doc = load_version(s, first.series_key)
        assert info.seq == 2 and doc.tasks[0].units[0].name == "市数据局"
        info1, doc1 = load_version(s, first.series_key, 1)
        assert info1.filename == "a.txt" and len(doc1.tasks) == 3
        from storage.errors import SeriesNotFound, VersionNotFound

        with pytest.raises(SeriesNotFound):
            series_history(s, "no-such-series")
        with pytest.raises(VersionNotFound):
            load_version(s, first.series_key, 9)


def test_tasks_for_unit_across_documents_by_alias_key(session_factory: Any) -> None:
    a = ingest(session_factory, b"a", plan())
    b = ingest(
        session_factory,
        b"b",
        plan("渝北区元宇宙产业发展行动计划", tasks=[task(1, "建设数据底座", ["区大数据发展局"])]),
    )
    ingest(session_factory, b"c", plan("不相关的计划", tasks=[task(1, "别的事", ["区财政局"])]))
    with session_factory() as s:
        hits = tasks_for_unit(s, "区大数据发展局")
        assert sorted((h.series_key, h.task_title) for h in hits) == sorted(
            [
                (a.series_key, "做强算力赛道"),
                (a.series_key, "建设数据中心"),
                (b.series_key, "建设数据底座"),
            ]
        )
    # after a new version drops the unit from one plan, only the current tasks count
    ingest(session_factory, b"a2", v2(), diff=lambda o, n: [])
    with session_factory() as s:
        current = tasks_for_unit(s, "区大数据发展局")
        everything = tasks_for_unit(s, "区大数据发展局", latest_only=False)
    assert sorted(h.task_title for h in current) == ["做强算力赛道", "建设数据底座"]
    assert len(everything) == 4


def test_tasks_for_unit_uses_the_alias_table(session_factory: Any) -> None:
    assert unit_key("区发改委") == unit_key("区发展和改革委员会")
    ingest(
        session_factory,
        b"x",
        plan("某区行动计划", tasks=[task(1, "稳增长", ["区发展和改革委员会"])]),
    )
    with session_factory() as s:
        hits = tasks_for_unit(s, "区发改委")
    assert [h.unit_name for h in hits] == ["区发展和改革委员会"]


class Boom(RuntimeError):
    pass


def test_failure_in_the_change_set_step_leaves_nothing(session_factory: Any) -> None:
    ingest(session_factory, b"v1", plan())
    before = counts(session_factory)

    def hook(session: Session, change_set_id: int) -> None:
        assert session.get(ChangeSet, change_set_id) is not None
        raise Boom("alerts queueing failed")

    with pytest.raises(Boom):
        ingest(session_factory, b"v2", v2(), diff=lambda o, n: [UNITS_CHANGE], on_change_set=hook)
    assert counts(session_factory) == before

    def bad_diff(old: Any, new: Any) -> list[dict[str, Any]]:
        raise Boom("diff failed")

    with pytest.raises(Boom):
        ingest(session_factory, b"v2", v2(), diff=bad_diff)
    assert counts(session_factory) == before
    # and a later successful ingest of the same document works normally
    ok = ingest(session_factory, b"v2", v2(), diff=lambda o, n: [])
    assert ok.status == "new_version" and ok.version_seq == 2


def test_on_change_set_writes_commit_with_the_version(session_factory: Any) -> None:
    from storage.models import Subscription

    def hook(session: Session, change_set_id: int) -> None:
        session.add(Subscription(email=f"cs{change_set_id}@example.org", status="active"))

    ingest(session_factory, b"v1", plan(), on_change_set=hook)
    with session_factory() as s:
        assert s.scalars(select(Subscription.email)).all() == ["cs1@example.org"]


def test_fetch_state_round_trip(session_factory: Any) -> None:
    url = "https://gov.example.cn/list.html"
    with session_factory() as s:
        assert get_fetch_state(s, url) is None
        put_fetch_state(s, url, etag='"abc"', last_status="ok", failures=0)
        s.commit()
    with session_factory() as s:
        put_fetch_state(s, url, last_status="error", failures=1)
        s.commit()
    with session_factory() as s:
        state = get_fetch_state(s, url)
        assert state is not None
        assert (state.etag, state.last_status, state.failures) == ('"abc"', "error", 1)
        assert state.last_checked_at is not None
        with pytest.raises(TypeError):
            put_fetch_state(s, url, bogus=1)


def test_reply_units_and_proposers_are_stored_and_a_units_change_matches_its_unit(
    session_factory: Any,
) -> None:
    """The fields a reply adds (document ``units``, ``proposal.proposers``) survive the stored
    JSON, and a document-level units_changed (task null) is found by the added unit's key."""
    from parsers.diff import diff_documents
    from parsers.schema import ParsedDocument, Proposal, Unit

    def reply(units: list[Unit]) -> ParsedDocument:
        return ParsedDocument(
            title="关于市十五届人大一次会议第40号建议办理情况的答复",
            kind="reply",
            issuers=["银川市交通运输局"],
            proposal=Proposal(
                number="40", proposer="刘鲜兰、王金燕", proposers=["刘鲜兰", "王金燕"]
            ),
            units=units,
        )

    def diff(old: ParsedDocument, new: ParsedDocument) -> list[dict[str, Any]]:
        return [c.to_json_dict() for c in diff_documents(old, new).changes]

    lead = Unit(name="银川市交通运输局", role="lead")
    first = ingest(session_factory, b"r1", reply([lead]))
    r = ingest(
        session_factory, b"r2", reply([lead, Unit(name="市公交公司", role="support")]), diff=diff
    )
    assert [(c["kind"], c["task"], c["added"]) for c in r.changes] == [
        ("units_changed", None, ["市公交公司"])
    ]
    with session_factory() as s:
        _, doc = load_version(s, first.series_key)
        assert doc.proposal is not None and doc.proposal.proposers == ["刘鲜兰", "王金燕"]
        assert [(u.name, u.role) for u in doc.units][-1] == ("市公交公司", "support")
        hits = s.scalars(
            select(Change.kind)
            .join(ChangeUnit, ChangeUnit.change_id == Change.id)
            .where(ChangeUnit.unit_key == unit_key("市公交公司"))
        ).all()
        assert hits == ["units_changed"]
