"""A deliberately small stand-in parser for the diff tests, and helpers to compare changes.

The diff must be tested on its own, independently of the real parser (which has its own
tests and may change): these helpers turn the simple layouts of tests/fixtures/revisions/
and the seed TXT into ParsedDocuments with tasks, units and targets. Only the layouts used
there are supported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from parsers.diff import ChangeSet
from parsers.schema import ParsedDocument, Target, Task, Unit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

_NUMBERED = re.compile(r"^\s*(?:(\d+)\s*[.．、]|[（(]([一二三四五六七八九十]+)[）)])\s*(.*)$")
_SECTION = re.compile(r"^\s*([一二三四五六七八九十]+)、\s*(.*)$")
_UNITS = re.compile(r"[（(]?(?:责任单位|牵头单位)[:：]([^）)]*)[）)]?")
_YEAR = re.compile(r"到(\d{4})年")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(亿元|万元|万人次|万人|人次|人|家|个|%)(以上)?")


def _targets(sentence_text: str, default_year: int | None) -> list[Target]:
    out = []
    for sentence in re.split(r"[。；]", sentence_text):
        year_m = _YEAR.search(sentence)
        year = int(year_m.group(1)) if year_m else default_year
        for clause in re.split(r"[，,、]", sentence):
            for m in _AMOUNT.finditer(clause):
                if _YEAR.search(clause[m.start() : m.end() + 1]):
                    continue
                value = float(m.group(1))
                metric = re.sub(r"[\d.%]+|到|年|达到|突破|培育|建成", "", clause[: m.start()])
                out.append(
                    Target(
                        text=sentence.strip() + "。",
                        metric=metric or None,
                        value=int(value) if value.is_integer() else value,
                        unit=m.group(2),
                        year=year,
                        comparator=">=" if m.group(3) else None,
                    )
                )
    return out


def mini_parse(text: str) -> ParsedDocument:
    """Parse the fixture layouts: "一、" sections, numbered tasks with a 。, unit clauses."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    tasks: list[Task] = []
    goals: list[Target] = []
    path: list[str] = []
    section = ""
    goal_year: int | None = None
    for line in lines:
        sec = _SECTION.match(line)
        if sec and "。" not in line:
            path = [line]
            section = sec.group(2)
            continue
        units_m = _UNITS.search(line)
        if line.startswith(("责任单位", "牵头单位")) and tasks:
            names = re.split(r"[、，,；;]", units_m.group(1)) if units_m else []
            task = tasks[-1]
            task.units = [Unit(name=n.strip()) for n in names if n.strip()]
            task.text += "\n" + line
            continue
        num = _NUMBERED.match(line)
        if num and "。" not in line:
            path = [*path[:1], line]
            continue
        if num:
            body = num.group(3)
            title = body.split("。", 1)[0]
            units = []
            if units_m:
                units = [Unit(name=n.strip()) for n in re.split(r"[、，,；;]", units_m.group(1))]
            tasks.append(
                Task(
                    id=f"t{len(tasks) + 1}",
                    number=(num.group(1) + ".") if num.group(1) else f"（{num.group(2)}）",
                    path=list(path),
                    title=title,
                    text=body,
                    units=units,
                    targets=_targets(_UNITS.sub("", body), None),
                )
            )
            continue
        if "目标" in section:
            year_m = _YEAR.search(line)
            if year_m and goal_year is None:
                goal_year = int(year_m.group(1))
            goals += _targets(line, goal_year)
    title = lines[0]
    for line in lines[:12]:
        if ("方案" in line or "措施" in line) and not line.startswith("关于"):
            title = line
            break
    return ParsedDocument(title=title, kind="plan", goals=goals, tasks=tasks)


def load_mini(path: Path) -> ParsedDocument:
    return mini_parse(path.read_text(encoding="utf-8"))


def matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    """Whether an actual change satisfies an expected one (only the keys it pins)."""
    if expected["kind"] != actual["kind"] or expected.get("task") != actual.get("task"):
        return False
    for side in ("before", "after"):
        for k, v in (expected.get(side) or {}).items():
            got = (actual.get(side) or {}).get(k)
            if got != v:
                return False
    for side in ("added", "removed"):
        if side in expected and sorted(expected[side]) != sorted(actual.get(side) or []):
            return False
    return True


def assert_alerts(changes: ChangeSet, expected: list[dict[str, Any]]) -> None:
    """Exactly the expected alerts (as a multiset), nothing more."""
    actual = [c.to_json_dict() for c in changes.alerts]
    unmatched = list(actual)
    missing = []
    for exp in expected:
        for i, act in enumerate(unmatched):
            if matches(exp, act):
                del unmatched[i]
                break
        else:
            missing.append(exp)
    assert not missing and not unmatched, (
        f"missing: {missing}\nunexpected: {[(a['kind'], a.get('task'), a['summary']) for a in unmatched]}"
    )


def test_mini_parse_reads_the_revision_layout() -> None:
    doc = load_mini(FIXTURES / "revisions" / "plan_a_v1.txt")
    titles = [t.title for t in doc.tasks]
    assert titles[0] == "建设数字基础设施" and len(doc.tasks) == 11
    assert [u.name for u in doc.tasks[0].units] == ["区经信委", "区发改委"]
    assert [(g.value, g.unit, g.year) for g in doc.goals] == [
        (500, "亿元", 2025),
        (10, "%", 2025),
        (200, "家", 2025),
    ]


def test_matches_pins_only_given_keys() -> None:
    exp = {"kind": "goal_changed", "task": None, "before": {"value": 1, "unit": "个"}}
    act = {"kind": "goal_changed", "task": None, "before": {"value": 1, "unit": "个", "year": 3}}
    assert matches(exp, act)
    assert not matches({**exp, "before": {"value": 2}}, act)
