"""Issue 12: identity includes the issuer; a new version is anything that differs from the
current one (reverts included); a version that looks broken is stored but held."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from parsers.schema import ParsedDocument
from storage.db import write_session
from storage.hold import NotHeld, discard, hold_reason, release
from storage.ingest import ingest
from storage.models import ChangeSet, Series, Version
from tests.storage.docs import plan, task

URL = "https://www.yb.gov.cn/zwgk/2024/gongzuo.html"
TITLE = "2024年政务公开工作要点"


def _tasks(n: int, unit: str = "区政府办公室") -> list[Any]:
    return [task(i, f"第{i}项工作", [unit]) for i in range(1, n + 1)]


def _doc(n: int = 5, *, issuer: str = "重庆市渝北区人民政府", **kw: Any) -> ParsedDocument:
    return plan(TITLE, doc_number=None, tasks=_tasks(n), **kw).model_copy(
        update={"issuers": [issuer]}
    )


def _waf() -> ParsedDocument:
    return ParsedDocument(title="安全验证", kind="other", source_format="html")


def _series_count(factory: Any) -> int:
    with factory() as session:
        return len(list(session.scalars(select(Series.id))))


def test_same_title_from_two_issuers_is_two_series(session_factory: Any) -> None:
    yubei = ingest(session_factory, b"yubei", _doc(15, issuer="重庆市渝北区人民政府"))
    yongchuan = ingest(
        session_factory,
        b"yongchuan",
        plan(TITLE, doc_number=None, tasks=_tasks(15, "区大数据局")).model_copy(
            update={"issuers": ["重庆市永川区人民政府"]}
        ),
    )
    assert (yubei.status, yongchuan.status) == ("new_series", "new_series")
    assert yubei.series_key != yongchuan.series_key
    assert "重庆市永川区人民政府 is not 重庆市渝北区人民政府" in yongchuan.match_reason
    # The same district's office is the same issuer: a new version of its series.
    office = ingest(session_factory, b"yubei-office", _doc(16, issuer="渝北区人民政府办公室"))
    assert (office.status, office.series_key) == ("new_version", yubei.series_key)


def test_unknown_issuer_on_another_website_is_another_series(session_factory: Any) -> None:
    anon = {"issuers": []}
    first = ingest(session_factory, b"a", _doc(5).model_copy(update=anon), source_url=URL)
    other = ingest(
        session_factory,
        b"b",
        _doc(6).model_copy(update=anon),
        source_url="https://www.cqyc.gov.cn/zwgk/2024/gongzuo.html",
    )
    assert other.status == "new_series" and other.series_key != first.series_key
    assert "published on www.cqyc.gov.cn" in other.match_reason
    same_site = ingest(
        session_factory,
        b"c",
        _doc(6).model_copy(update=anon),
        source_url="https://www.yb.gov.cn/zwgk/2024/gongzuo-v2.html",
    )
    assert same_site.series_key == first.series_key


def test_a_revert_is_a_new_version_with_its_changes(session_factory: Any) -> None:
    v1 = ingest(session_factory, b"v1", _doc(5), source_url=URL)
    v2 = ingest(session_factory, b"v2", _doc(6), source_url=URL)
    back = ingest(session_factory, b"v1", _doc(5), source_url=URL)  # the very bytes of v1
    assert (v1.version_seq, v2.version_seq, back.version_seq) == (1, 2, 3)
    assert back.status == "new_version"
    assert [c["kind"] for c in back.changes] == ["task_removed"]
    # Again: nothing new (it is the current version now).
    assert ingest(session_factory, b"v1", _doc(5), source_url=URL).status == "same_bytes"


@pytest.mark.parametrize(
    ("before", "after", "held"),
    [(5, 1, True), (5, 2, True), (5, 0, True), (1, 0, True), (5, 3, False), (2, 1, False)],
)
def test_task_drop_threshold(before: int, after: int, held: bool) -> None:
    assert (hold_reason(_doc(before), _doc(after)) is not None) is held


def test_kind_change_is_held_but_notice_and_plan_are_one_kind() -> None:
    assert "kind changed" in (hold_reason(_doc(5), _doc(5, kind="news")) or "")
    assert hold_reason(_doc(5), _doc(5, kind="notice")) is None


def test_a_waf_page_is_held_and_the_fixed_page_is_not_a_change(session_factory: Any) -> None:
    calls: list[tuple[str, int]] = []
    hooks = {
        "on_change_set": lambda s, cs: calls.append(("alert", cs)),
        "on_held": lambda s, cs, why: calls.append(("held", cs)),
    }
    ingest(session_factory, b"v1", _doc(5), source_url=URL, **hooks)
    waf = ingest(session_factory, b"<waf>", _waf(), source_url=URL, **hooks)
    assert waf.status == "new_version" and waf.held and "安全验证" in waf.held
    assert [c for c, _ in calls] == ["alert", "held"]
    # The WAF page again: no second held version.
    again = ingest(session_factory, b"<waf>", _waf(), source_url=URL, **hooks)
    assert again.status == "same_bytes" and again.version_id == waf.version_id
    # The site is fixed: the same text as v1 is no change at all (v1 is still current).
    fixed = ingest(session_factory, b"v1", _doc(5), source_url=URL, **hooks)
    assert fixed.status == "same_bytes" and fixed.version_seq == 1
    assert [c for c, _ in calls] == ["alert", "held"]


def test_release_and_discard(session_factory: Any) -> None:
    ingest(session_factory, b"v1", _doc(5), source_url=URL)
    dropped = ingest(session_factory, b"v2", _doc(1), source_url=URL)
    assert dropped.held == "tasks dropped from 5 to 1"
    with write_session(session_factory) as session:
        cs = release(session, dropped.version_id)
        assert session.get(ChangeSet, cs).to_version_id == dropped.version_id
    with write_session(session_factory) as session, pytest.raises(NotHeld):
        release(session, dropped.version_id)
    # The released version is the baseline now: the next drop is measured from it.
    waf = ingest(session_factory, b"waf", _waf(), source_url=URL)
    assert waf.held
    with write_session(session_factory) as session:
        discard(session, waf.version_id)
    with session_factory() as session:
        statuses = [v.hold_status for v in session.scalars(select(Version).order_by(Version.seq))]
    assert statuses == [None, "released", "discarded"]
    nxt = ingest(session_factory, b"v4", _doc(2), source_url=URL)
    assert nxt.held is None and nxt.version_seq == 4
    assert [c["kind"] for c in nxt.changes] == ["task_added"]
    assert _series_count(session_factory) == 1
