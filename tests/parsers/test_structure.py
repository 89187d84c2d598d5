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


def _unit_examples() -> list[tuple[str, list[str]]]:
    import tomllib
    from importlib import resources

    raw = tomllib.loads(
        resources.files("parsers").joinpath("data/units.toml").read_text(encoding="utf-8")
    )
    return [(e["text"], e["units"]) for e in raw["examples"]]


@pytest.mark.parametrize(("para", "want"), _unit_examples())
def test_unit_vocabulary_examples(para: str, want: list[str]) -> None:
    """The examples of parsers/data/units.toml (each from a real plan) parse as written there."""
    ann = find_units(para)
    assert ann is not None
    assert [f"{u.name}:{u.role}" for u in ann.units] == want


def test_numbering_variants_and_articles() -> None:
    from parsers import parse_bytes

    plan = (
        "某区推进某某工作实施方案\n一、重点任务\n"
        "——任务1：建设数据平台。加快建设。（责任单位：区数据局）\n"
        "——任务2：完善标准体系。制定标准。（牵头单位：区市场监管局；配合单位：区科委）\n"
    )
    got = [(t.number, t.title) for t in parse_bytes(plan.encode()).tasks]
    assert got == [("——任务1：", "建设数据平台"), ("——任务2：", "完善标准体系")]
    # 第X条: work items in a plan (若干措施), rules in a 办法 (documented in build._is_task).
    measures = "某区推进某某工作若干措施\n第一条 加大财政支持。（责任单位：区财政局）\n第二条 优化审批。（责任单位：区政务服务办）\n"
    assert [t.number for t in parse_bytes(measures.encode()).tasks] == ["第一条", "第二条"]
    rules = "上海市某某管理办法\n第一条 为了加强管理，制定本办法。\n第二条 本办法适用于本市。\n第三条 市交通委负责本办法的组织实施。\n"
    assert parse_bytes(rules.encode()).tasks == []


def test_units_written_once_for_a_group() -> None:
    from parsers import parse_bytes

    text = (
        "关于推进某项工作的实施方案\n一、重点任务\n（一）完善设施\n1.建设A。加快建设A设施。\n"
        "2.建设B。加快建设B设施。\n3.建设C。加快建设C设施。\n责任单位：区建管委、区发改委\n"
        "（二）强化管理\n1.加强D。（区城管局负责）\n2.加强E。\n"
    )
    got = {t.title: [u.name for u in t.units] for t in parse_bytes(text.encode()).tasks}
    assert got == {
        "建设A": ["区建管委", "区发改委"],
        "建设B": ["区建管委", "区发改委"],
        "建设C": ["区建管委", "区发改委"],
        "加强D": ["区城管局"],
        "加强E": [],
    }


def test_prose_is_not_a_unit_list() -> None:
    for para in (
        "二、深化政务服务改革，创优便捷高效的办事体验",
        "加强运维管理，保障海绵设施运行。",
        "面积(不含6亩)的项目",
        "2026年应完成剩余1620亩整治任务量（各街镇（管委会）任务详见附件）。",
    ):
        assert find_units(para) is None, para


def test_parse_units_for_a_table_cell() -> None:
    from parsers.structure.units import parse_units

    got = parse_units("区政府办公室*、区财政局", "responsible")
    assert [(u.name, u.role) for u in got] == [
        ("区政府办公室", "lead"),
        ("区财政局", "responsible"),
    ]


MD_PLAN = """---
标题: 某区推进某某工作实施方案
文号: 某府办〔2025〕1号
发布日期: 2025-03-01
---

> 本文正文由脚本自官方公开页面提取，仅供检索查阅。

# 某区推进某某工作实施方案

为推进某某工作，制定本方案。

## 一、总体思路

坚持问题导向。

## 一体推进数据治理

### 1. 建设数据平台

加快建设。（责任单位：区数据局）

### 2. 完善标准体系

制定**标准**。（牵头单位：区市场监管局；配合单位：区科委）
"""


def test_markdown_front_matter_headings_and_notes() -> None:
    """Front matter -> metadata, '>' notes are not text, an unnumbered '##' is a chapter."""
    from parsers import parse_bytes

    doc = parse_bytes(MD_PLAN.encode())
    assert doc.source_format == "markdown"
    assert doc.doc_number == "某府办〔2025〕1号"
    assert [(t.number, t.title, t.path) for t in doc.tasks] == [
        ("1.", "建设数据平台", ["一体推进数据治理"]),
        ("2.", "完善标准体系", ["一体推进数据治理"]),
    ]
    assert all("脚本" not in t.text for t in doc.tasks)


def test_markdown_and_text_of_the_same_plan_agree() -> None:
    """A Shanghai-Gov-Docs-Index Markdown file and its text without the Markdown syntax
    (front matter, '>' notes, '#') give the same tasks."""
    import re
    from pathlib import Path

    from parsers import parse_bytes

    md = (Path(__file__).parent.parent / "fixtures/structure/real/sh_fx.md").read_text("utf-8")
    body = md.split("\n---\n", 1)[1]
    txt = "\n".join(
        re.sub(r"^#+\s*", "", line) for line in body.splitlines() if not line.startswith(">")
    )
    a, b = parse_bytes(md.encode()), parse_bytes(txt.encode())
    assert [(t.number, t.title, t.units) for t in a.tasks] == [
        (t.number, t.title, t.units) for t in b.tasks
    ]
