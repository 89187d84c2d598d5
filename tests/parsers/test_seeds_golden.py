"""Golden tests on the five seed documents, in every format they come in.

What the issue pins: 000 has 15 tasks and a range target; 001 its 11 numbered tasks and the
保障机制 items with the exact units; 002 its 25 numbered tasks with units and the goals
1500亿元/10家/100家/100个以上 (2025); 003 is news with its targets; 004 is a reply to proposal
343. And the output is the same whatever the format.
"""

from __future__ import annotations

import json
from functools import cache

import pytest

from parsers import ParsedDocument, parse_bytes
from tests.parsers.seeds import NAMES, formats, seed


@cache
def parsed(key: str, ext: str) -> ParsedDocument:
    path = seed(key, ext)
    return parse_bytes(path.read_bytes(), filename=path.name)


def _comparable(doc: ParsedDocument, *, printed_numbers: bool = True) -> str:
    d = doc.to_json_dict()
    d.pop("source_format")
    if not printed_numbers:
        # Word's automatic list in the autonum fixture continues （一）…（六） of 重点任务 into
        # 保障措施, which therefore prints （七）…（十二） (LibreOffice's PDF of it shows the
        # same): the numbers differ as printed, everything else must not.
        for task in d["tasks"]:
            task["number"] = None
        _drop_numbers(d["outline"])
    return json.dumps(d, ensure_ascii=False, indent=1, sort_keys=True)


def _drop_numbers(nodes: list[dict]) -> None:
    for node in nodes:
        node["number"] = None
        _drop_numbers(node["children"])


@pytest.mark.parametrize(
    ("key", "ext"),
    [(k, e) for k in NAMES for e in ("docx", "pdf")],
)
def test_every_format_parses_like_the_txt(key: str, ext: str) -> None:
    if key == "002_autonum":
        assert _comparable(parsed(key, ext), printed_numbers=False) == _comparable(
            parsed("002", "txt"), printed_numbers=False
        )
        assert _comparable(parsed(key, "pdf")) == _comparable(parsed(key, "docx"))
        outline = parsed(key, ext).outline
        safeguards = next(n for n in outline if n.title == "保障措施").children
        assert [n.number for n in safeguards] == [
            "（七）",
            "（八）",
            "（九）",
            "（十）",
            "（十一）",
            "（十二）",
        ]
    else:
        assert _comparable(parsed(key, ext)) == _comparable(parsed(key, "txt"))


def _units(task) -> list[str]:
    return [u.name for u in task.units]


def _targets(doc: ParsedDocument) -> list:
    return [*doc.goals, *(t for task in doc.tasks for t in task.targets)]


@pytest.mark.parametrize("ext", formats("000"))
def test_000_notice_wrapping_a_plan(ext: str) -> None:
    doc = parsed("000", ext)
    assert doc.kind == "notice"
    assert doc.title == "关于印发重庆市永川区元宇宙产业发展三年行动计划（2023-2025年）的通知"
    assert doc.doc_number == "永川府发〔2022〕22号"
    assert doc.issuers == ["重庆市永川区人民政府"]
    assert doc.recipients[:2] == ["各镇人民政府", "街道办事处"]
    assert doc.date == "2022-12-15"
    assert len(doc.tasks) == 15
    assert [t.number for t in doc.tasks] == [f"{i}." for i in range(1, 16)]
    assert doc.tasks[0].title == "攻克虚拟拍摄技术"
    assert doc.tasks[0].path == ["二、重点任务", "（一）元宇宙特色应用技术攻关行动"]
    assert all(not t.units for t in doc.tasks)
    ranges = [t for t in _targets(doc) if t.value_max is not None]
    assert [(t.value, t.value_max, t.unit) for t in ranges] == [(1500, 2000, "人")]
    area = [t for t in doc.tasks[14].targets if t.unit == "万平方米"]
    assert [t.value for t in area] == [20]
    assert "bookmark" not in json.dumps(doc.to_json_dict(), ensure_ascii=False)


EXPECTED_001_SAFEGUARDS = {
    "加强组织保障": ["区大数据发展局", "区经济信息委"],
    "加强政策支持": ["区经济信息委", "区大数据发展局", "区科技局"],
    "加强规范管理": [
        "区委网信办",
        "区公安分局",
        "区金融办",
        "区市场监管局",
        "区大数据发展局",
        "区经济信息委",
    ],
    "加强宣传推广": [
        "区委宣传部",
        "区委网信办",
        "区融媒体中心",
        "区大数据发展局",
        "空港经济开发公司",
        "创新经济走廊公司",
        "仙桃数据谷公司",
        "城市更新公司",
    ],
}


@pytest.mark.parametrize("ext", formats("001"))
def test_001_plan_tasks_and_safeguard_units(ext: str) -> None:
    doc = parsed("001", ext)
    assert doc.kind == "plan"
    numbered = [t for t in doc.tasks if t.path and t.path[0] == "二、重点任务"]
    assert [t.number for t in numbered] == [f"{i}." for i in range(1, 12)]
    assert _units(numbered[0]) == [
        "区临空办",
        "区科技局",
        "区大数据发展局",
        "区经济信息委",
        "创新经济走廊公司",
        "仙桃数据谷公司",
        "龙溪街道",
        "龙山街道",
        "龙塔街道",
    ]
    assert _units(numbered[10]) == ["区大数据发展局", "仙桃数据谷公司"]
    assert numbered[10].title == "加强多模式合作交流"
    safeguards = {t.title: _units(t) for t in doc.tasks if t.path == ["三、建立健全保障机制"]}
    assert safeguards == EXPECTED_001_SAFEGUARDS
    assert len(doc.tasks) == 11 + 4
    assert all(u.role == "responsible" for t in doc.tasks for u in t.units)


@pytest.mark.parametrize("ext", formats("002"))
def test_002_plan_goals_and_units(ext: str) -> None:
    doc = parsed("002", ext)
    assert doc.kind == "plan"
    assert doc.title == "元宇宙产业发展行动方案（2022—2025年）"
    assert len(doc.tasks) == 25
    assert all(t.path[0] == "三、重点任务" and t.units for t in doc.tasks)
    numbered = doc.tasks
    # The 保障措施 items are bare headings over a general paragraph: safeguards, not tasks
    # (001's 保障机制 items name their units on the item itself and are tasks).
    assert _units(numbered[0]) == ["市经信局市新经济委"]
    assert _units(numbered[3]) == ["市经信局市新经济委", "市规划和自然资源局"]
    assert _units(numbered[9]) == ["各区（市）县"]
    assert _units(numbered[23]) == [
        "市人社局",
        "市教育局",
        "市网络理政办",
        "市经信局市新经济委",
        "成都产业集团",
    ]
    goals = {(g.value, g.unit, g.year) for g in doc.goals}
    for expected in [(1500, "亿元", 2025), (10, "家", 2025), (100, "家", 2025), (100, "个", 2025)]:
        assert expected in goals
    hundred = next(g for g in doc.goals if g.value == 100 and g.unit == "个")
    assert hundred.comparator == ">="


@pytest.mark.parametrize("ext", formats("003"))
def test_003_news_targets(ext: str) -> None:
    doc = parsed("003", ext)
    assert doc.kind == "news"
    assert doc.tasks == []
    assert doc.title == "永川提前布局元宇宙产业打造重庆元宇宙中心"
    found = {(t.value, t.unit) for t in _targets(doc)}
    for expected in [(50, "家"), (500, "家"), (8000, "人"), (300, "亿元")]:
        assert expected in found
    fifty = next(t for t in doc.goals if (t.value, t.unit) == (50, "家"))
    assert (fifty.year, fifty.comparator) == (2022, ">=")
    assert (445, "家") not in found  # a reported fact, not a target


@pytest.mark.parametrize("ext", formats("004"))
def test_004_reply_to_proposal(ext: str) -> None:
    doc = parsed("004", ext)
    assert doc.kind == "reply"
    assert doc.proposal is not None
    assert doc.proposal.number == "343"
    assert doc.proposal.proposer == "尹华"
    assert doc.proposal.meeting == "区政协十六届二次会议"
    assert doc.doc_number == "渝北大数据函〔2023〕25号"
    assert doc.date == "2023-04-28"
    assert doc.issuers == ["重庆市渝北区大数据应用发展管理局"]
    assert doc.title == "关于区政协十六届二次会议提案第343号的复函"
    assert [t.number for t in doc.tasks] == [
        "一是",
        "二是",
        "一是",
        "二是",
        "一是",
        "二是",
        "三是",
        "四是",
        "一是",
        "二是",
        "三是",
    ]
    assert doc.tasks[0].path == ["二、下一步工作计划", "（一）推动产业集群化发展"]
    assert doc.tasks[0].title == "优化元宇宙产业布局"
    assert all((t.value, t.unit) != (4569, "家") for t in _targets(doc))
