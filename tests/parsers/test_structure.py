"""Structure stage on documents other than the seeds: layouts the held-out set will have."""

from __future__ import annotations

import pytest

from parsers.readers.base import Extracted
from parsers.schema import ParsedDocument
from parsers.structure import build_document
from parsers.structure.outline import build_outline
from parsers.structure.units import find_units
from tests.parsers.seeds import STRUCTURE


def _txt(name: str) -> ParsedDocument:
    lines = (STRUCTURE / name).read_text(encoding="utf-8").splitlines()
    return build_document(Extracted("txt", [line for line in lines if line.strip()]))


def test_plan_with_unit_paragraphs_below_items() -> None:
    doc = _txt("plan_units_below.txt")
    assert doc.kind == "notice"
    assert doc.doc_number == "渝北府办发﹝2024﹞15号"
    assert doc.issuers == ["重庆市渝北区人民政府办公室"]
    assert doc.date == "2024-03-08"
    assert [t.number for t in doc.tasks] == [f"（{n}）" for n in "一二三四五六七八九十"]
    assert all(t.path == ["二、重点任务"] for t in doc.tasks)
    second = doc.tasks[1]
    assert [(u.name, u.role) for u in second.units] == [
        ("区大数据发展局", "lead"),
        ("区发展改革委", "support"),
        ("区财政局", "support"),
    ]
    assert "牵头单位" not in second.text
    assert [(t.value, t.unit, t.year) for t in second.targets] == [(5, "亿元", 2025)]
    assert [u.name for u in doc.tasks[2].units] == ["区经济信息委", "区城市管理局"]
    # The attachment list of the cover notice is not an outline item.
    assert all("清单" not in node.title for node in doc.outline)
    goals = {(g.value, g.unit, g.year) for g in doc.goals}
    assert (300, "亿元", 2026) in goals and (20, "家", 2026) in goals


def test_reply_copied_from_a_web_page() -> None:
    doc = _txt("reply_web_copy.txt")
    assert doc.kind == "reply"
    assert doc.title == "关于市五届人大四次会议第0123号建议的答复"
    assert doc.proposal is not None
    assert (doc.proposal.number, doc.proposal.proposer, doc.proposal.meeting) == (
        "0123",
        "张明",
        "市五届人大四次会议",
    )
    assert doc.published == "2023-07-12"
    assert doc.date == "2023-06-30"
    assert [t.title for t in doc.tasks] == ["加快平台建设", "推动企业上云", "强化人才支撑"]
    assert doc.goals == []  # 基本情况 facts are not targets


def test_mixed_numbering_reply_uses_1_at_top_level() -> None:
    paras = [
        "1、基本情况",
        "（一）出台政策",
        "文字。",
        "（二）营造氛围",
        "二、下一步工作",
        "（一）推动发展",
        "一是做甲，内容。二是做乙，内容。",
    ]
    _, root = build_outline(paras)
    assert [c.label for c in root.children] == ["1、", "二、"]
    assert [c.label for c in root.children[1].children[0].children] == ["一是", "二是"]


def test_numbering_that_continues_across_groups_stays_nested() -> None:
    paras = ["二、重点任务", "（一）甲", "1.做一。", "2.做二。", "（二）乙", "3.做三。"]
    _, root = build_outline(paras)
    groups = root.children[0].children
    assert [c.label for c in groups] == ["（一）", "（二）"]
    assert [c.label for c in groups[1].children] == ["3."]


@pytest.mark.parametrize(
    ("para", "expected"),
    [
        (
            "做事。（责任单位：区发改委、区财政局）",
            [("区发改委", "responsible"), ("区财政局", "responsible")],
        ),
        (
            "做事。（责任单位：市市场监管局、各区（市）县）",
            [("市市场监管局", "responsible"), ("各区（市）县", "responsible")],
        ),
        (
            "（牵头单位：区科技局；配合单位：区教委，区科协）",
            [("区科技局", "lead"), ("区教委", "support"), ("区科协", "support")],
        ),
        ("责任单位:区金融办", [("区金融办", "responsible")]),
        (
            "做事。（区发展改革委牵头，区财政局、区统计局配合）",
            [("区发展改革委", "lead"), ("区财政局", "support"), ("区统计局", "support")],
        ),
        ("做事。（2022-2024年）", None),
        ("推动“一网通办”（试点先行，逐步推广）", None),
    ],
)
def test_unit_annotations(para: str, expected: list[tuple[str, str]] | None) -> None:
    ann = find_units(para)
    if expected is None:
        assert ann is None
    else:
        assert ann is not None
        assert [(u.name, u.role) for u in ann.units] == expected
