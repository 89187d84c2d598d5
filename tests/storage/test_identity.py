"""Document identity: canonical titles (pure) and series resolution (through ingest)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from storage.identity import adjusted_title, canonical_title, derive_series_key
from storage.ingest import ingest
from storage.models import Series, Version
from tests.storage.docs import plan, task

BASE = "成都市元宇宙产业发展行动计划2022-2025年"


@pytest.mark.parametrize(
    "title",
    [
        "成都市元宇宙产业发展行动计划（2022—2025年）",
        "成都市元宇宙产业发展行动计划(2022-2025年)",
        "成都市元宇宙产业发展行动计划（2022—2025年）（试行）",
        "成都市元宇宙产业发展行动计划（2022－2025年）（2025版）",
        "成都市元宇宙产业发展行动计划（2022—2025年）(2025年版)",
        "成都市元宇宙产业发展行动计划（2022—2025年）（征求意见稿）",
        "成都市元宇宙产业发展行动计划 （2022—2025年） 送审稿",
        "成都市元宇宙产业发展行动计划（2022—2025年）（修订）",
        "成都市元宇宙产业发展行动计划（2022—2025年）修订版",
        "成都市元宇宙产业发展行动计划（2022—2025年）（草案）",
        "关于印发《成都市元宇宙产业发展行动计划（2022—2025年）》的通知",
        "成都市人民政府办公厅关于印发成都市元宇宙产业发展行动计划（2022—2025年）的通知",
        "成都市元宇宙产业发展行动计划【2022—2025年】",
    ],
)
def test_canonical_title_removes_version_markers_and_wrappers(title: str) -> None:
    assert canonical_title(title) == BASE


def test_canonical_title_keeps_what_makes_a_different_document() -> None:
    assert canonical_title("成都市元宇宙产业发展行动计划（2026—2028年）") != BASE
    assert canonical_title("重庆市暂行办法") == "重庆市办法"
    assert canonical_title(None) == "" and canonical_title("  ") == ""


def test_adjusted_title_finds_the_adjusted_document() -> None:
    assert adjusted_title("关于印发《X行动计划》增补和调整内容的通知") == "X行动计划"
    assert adjusted_title("关于调整《X行动计划》部分任务的通知") == "X行动计划"
    assert adjusted_title("成都市元宇宙产业发展行动计划") is None


def test_series_key_is_deterministic() -> None:
    a = derive_series_key(BASE, source_url=None, content_hash="x")
    assert a == derive_series_key(BASE, source_url="http://a", content_hash="y")
    assert a != derive_series_key(BASE + "2", source_url=None, content_hash="x")


def _versions(session_factory: Any) -> list[Version]:
    with session_factory() as s:
        return list(s.scalars(select(Version).order_by(Version.id)))


def test_trial_then_2025_edition_is_the_same_series(session_factory: Any) -> None:
    first = ingest(
        session_factory, b"a", plan("成都市元宇宙产业发展行动计划（2022—2025年）（试行）")
    )
    second = ingest(
        session_factory,
        b"b",
        plan(
            "成都市元宇宙产业发展行动计划（2022—2025年）（2025版）",
            tasks=[task(1, "做强算力赛道", ["区大数据发展局"])],
        ),
        diff=lambda o, n: [],
    )
    assert first.status == "new_series" and second.status == "new_version"
    assert second.series_key == first.series_key and second.version_seq == 2
    assert second.match_reason == f"same canonical title '{BASE}'"


def test_new_doc_number_with_same_canonical_title_is_a_new_version(session_factory: Any) -> None:
    first = ingest(session_factory, b"a", plan(doc_number="成办发〔2022〕1号"))
    second = ingest(
        session_factory,
        b"b",
        plan(doc_number="成办发〔2024〕9号", tasks=[task(1, "新任务")]),
        diff=lambda o, n: [],
    )
    assert (second.series_key, second.version_seq) == (first.series_key, 2)
    assert (
        second.match_reason == f"same canonical title '{BASE}' (new doc number 成办发〔2024〕9号)"
    )


def test_a_reply_citing_the_plan_is_related_not_a_version(session_factory: Any) -> None:
    p = ingest(session_factory, b"plan", plan())
    reply = plan(
        "关于区政协十六届二次会议第343号提案答复的函",
        doc_number="渝北大数据函〔2023〕25号",
        kind="reply",
        cites=["成都市元宇宙产业发展行动计划（2022—2025年）"],
    )
    r = ingest(session_factory, b"reply", reply)
    assert r.status == "new_series" and r.series_key != p.series_key
    assert r.related_to == p.version_id
    assert r.match_reason == "new series"
    # Even a reply whose title canonicalizes like the plan never joins the plan's series.
    same_title = plan(kind="reply", doc_number="渝北大数据函〔2023〕26号", tasks=[task(1, "答复")])
    r2 = ingest(session_factory, b"reply2", same_title)
    assert r2.series_key not in {p.series_key}
    with session_factory() as s:
        plan_versions = s.scalar(
            select(func.count(Version.id)).join(Series).where(Series.key == p.series_key)
        )
    assert plan_versions == 1


def test_an_adjustment_notice_is_related_not_a_version(session_factory: Any) -> None:
    p = ingest(session_factory, b"plan", plan())
    notice = plan(
        "关于印发《成都市元宇宙产业发展行动计划（2022—2025年）》增补和调整内容的通知",
        kind="notice",
        tasks=[task(1, "增补任务", ["市数据局"])],
    )
    r = ingest(session_factory, b"adjust", notice)
    assert r.status == "new_series" and r.series_key != p.series_key
    assert r.related_to == p.version_id


def test_explicit_series_key_wins_and_same_source_url_joins(session_factory: Any) -> None:
    a = ingest(session_factory, b"a", plan("甲计划"), series_key="my-plan")
    assert a.series_key == "my-plan" and a.match_reason == "explicit series key"
    b = ingest(
        session_factory, b"b", plan("完全不同的标题"), series_key="my-plan", diff=lambda o, n: []
    )
    assert (b.series_key, b.version_seq, b.match_reason) == ("my-plan", 2, "explicit series key")

    url = "https://gov.example.cn/art/2024/1.html"
    c = ingest(session_factory, b"c", plan("乙计划"), source_url=url)
    d = ingest(session_factory, b"d", plan("乙计划（更正）"), source_url=url, diff=lambda o, n: [])
    assert d.series_key == c.series_key and d.match_reason == "same source URL"
    e = ingest(session_factory, b"e", plan("丙计划"))
    assert e.status == "new_series" and e.match_reason == "new series"
    assert len(_versions(session_factory)) == 5


def test_a_notice_citing_its_own_plan_is_not_related_to_itself(session_factory: Any) -> None:
    title = "关于印发成都市元宇宙产业发展行动计划（2022—2025年）的通知"
    cites = ["成都市元宇宙产业发展行动计划（2022—2025年）"]
    first = ingest(session_factory, b"n1", plan(title, kind="notice", cites=cites))
    second = ingest(
        session_factory,
        b"n2",
        plan(title, kind="notice", cites=cites, tasks=[task(1, "只剩一项")]),
        diff=lambda o, n: [],
    )
    assert (second.series_key, second.status) == (first.series_key, "new_version")
    assert first.related_to is None and second.related_to is None
