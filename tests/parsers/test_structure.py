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


# Unit annotations seen in real plans (each from the dev corpus or the held-out shapes named in
# parsers/data/units.toml): name and role as the truth conventions want them.
UNIT_CASES = [
    (
        "加强管理。（各街镇、区规划资源局、区土储中心）",
        [("各街镇", "responsible"), ("区规划资源局", "responsible"), ("区土储中心", "responsible")],
    ),
    (
        "加强管理。（市发展改革委、市财政局按职责分工负责）",
        [("市发展改革委", "responsible"), ("市财政局", "responsible")],
    ),
    (
        "推进建设，各区政府、临港新片区管委会",
        [("各区政府", "responsible"), ("临港新片区管委会", "responsible")],
    ),
    (
        "（责任部门：市交通委、市公安局。时间节点：2025年3月）",
        [("市交通委", "responsible"), ("市公安局", "responsible")],
    ),
    (
        "（牵头部门：市交通委；实施部门：市港航中心）",
        [("市交通委", "lead"), ("市港航中心", "responsible")],
    ),
    (
        "协同责任单位:市经信局、滁州经开区管委会等,各县、市、区政府。",
        [("市经信局", "support"), ("滁州经开区管委会", "support"), ("各县、市、区政府", "support")],
    ),
    ("牵头负责领导:金力。", []),
    ("(省生长改造委牵头卖力)", [("省生长改造委", "lead")]),
    (
        "(能源局等省有关部门和各地级以上市人民政府按职责分工卖力)",
        [("能源局", "responsible"), ("各地级以上市人民政府", "responsible")],
    ),
    (
        "(牽頭單位:市科技局,參與單位:青島藍(lán)谷管理局)",
        [("市科技局", "lead"), ("青島藍(lán)谷管理局", "support")],
    ),
    ("（市科委牵头，市经信委主抓落实）", [("市科委", "lead"), ("市经信委", "lead")]),
    ("（市水务局牵头，市绿化市容局督促）", [("市水务局", "lead"), ("市绿化市容局", "responsible")]),
    ("（主办单位：市商务委；协办单位：市财政局）", [("市商务委", "lead"), ("市财政局", "support")]),
    ("（责任单位：市水务局（海洋局），下同）", [("市水务局（海洋局）", "responsible")]),
]


@pytest.mark.parametrize(("para", "want"), UNIT_CASES)
def test_unit_grammar(para: str, want: list[tuple[str, str]]) -> None:
    ann = find_units(para)
    assert ann is not None
    assert [(u.name, u.role) for u in ann.units] == want


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
