"""Seed 002 and its revision as stored change sets, for alert tests.

Uses the real parser and diff when they are importable (the end-to-end path); otherwise a
small line-based reading of the TXT fixtures and a title-based diff that yields the
contract changes listed in ``002_152408040e809265_v2.expected.json``, so the alerts tests
do not wait for the parser.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from parsers.schema import ParsedDocument, Target, Task, Unit

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"
V1 = SEEDS / "002_152408040e809265.txt"
V2 = SEEDS / "002_152408040e809265_v2.txt"

_TASK = re.compile(r"^(\d+)\.\s*(.+?)。(.*)（责任单位：(.+?)）$")
_GOAL = re.compile(r"(\d+)(亿元|家|个)")


def simple_parse(path: Path) -> ParsedDocument:
    """Title, document goals and numbered tasks with their units (enough for alerts)."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    tasks: list[Task] = []
    goals: list[Target] = []
    for line in lines:
        m = _TASK.match(line)
        if m:
            n, title, body, units = m.groups()
            tasks.append(
                Task(
                    id=f"t{n}",
                    number=f"{n}.",
                    path=["三、重点任务"],
                    title=title,
                    text=f"{title}。{body}",
                    units=[Unit(name=u) for u in units.split("、")],
                )
            )
        elif line.startswith("——"):
            for value, unit in _GOAL.findall(line):
                if unit == "个" and "2个" in line and value == "2":
                    continue
                goals.append(
                    Target(
                        text=line.lstrip("—"),
                        value=int(value),
                        unit=unit,
                        year=2025,
                        comparator=">=",
                    )
                )
    return ParsedDocument(
        title=lines[0],
        issuers=["成都市人民政府"],
        date="2022-12-01",
        kind="plan",
        goals=goals,
        tasks=tasks,
    )


def simple_diff(old: ParsedDocument, new: ParsedDocument) -> list[dict[str, Any]]:
    """Title-aligned diff producing contract change dicts (alert + task_moved info)."""
    changes: list[dict[str, Any]] = []
    for before, after in zip(old.goals, new.goals, strict=False):
        if (before.value, before.unit) != (after.value, after.unit):
            changes.append(
                {
                    "kind": "goal_changed",
                    "severity": "alert",
                    "task": None,
                    "before": before.model_dump(),
                    "after": after.model_dump(),
                    "summary": f"{before.value}{before.unit} → {after.value}{after.unit}",
                }
            )
    olds = {t.title: t for t in old.tasks}
    news = {t.title: t for t in new.tasks}
    for title, nt in news.items():
        ot = olds.get(title)
        if ot is None:
            changes.append(
                {
                    "kind": "task_added",
                    "severity": "alert",
                    "task": title,
                    "units": [u.name for u in nt.units],
                    "number": nt.number,
                    "summary": f"新增任务：{title}",
                }
            )
            continue
        ou, nu = [u.name for u in ot.units], [u.name for u in nt.units]
        added = [u for u in nu if u not in ou]
        removed = [u for u in ou if u not in nu]
        if added or removed:
            changes.append(
                {
                    "kind": "units_changed",
                    "severity": "alert",
                    "task": title,
                    "added": added,
                    "removed": removed,
                    "units": nu,
                    "summary": " ".join([*(f"+{u}" for u in added), *(f"−{u}" for u in removed)]),
                }
            )
        if ot.number != nt.number:
            changes.append(
                {
                    "kind": "task_moved",
                    "severity": "info",
                    "task": title,
                    "units": nu,
                    "summary": f"{ot.number} → {nt.number}",
                }
            )
    for title, ot in olds.items():
        if title not in news:
            changes.append(
                {
                    "kind": "task_removed",
                    "severity": "alert",
                    "task": title,
                    "units": [u.name for u in ot.units],
                    "number": ot.number,
                    "summary": f"删除任务：{title}",
                }
            )
    return changes


def real_pipeline() -> tuple[Any, Any] | None:
    """``(parse_bytes, diff)`` from the real parser and diff, or ``None`` while they are absent."""
    try:
        from parsers import parse_bytes
        from parsers.diff import diff_documents

        doc = parse_bytes(V1.read_bytes(), V1.name)
        if not doc.tasks:
            return None
    except Exception:
        return None

    def diff(old: ParsedDocument, new: ParsedDocument) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json") for c in diff_documents(old, new).changes]

    return parse_bytes, diff


def ingest_seed(
    session_factory: Any, path: Path, *, on_change_set: Any = None, series_key: str = "cd-metaverse"
) -> Any:
    """Ingest one seed file (real pipeline if available, else the simple one)."""
    from storage.ingest import ingest

    data = path.read_bytes()
    real = real_pipeline()
    if real is not None:
        parse_bytes, diff = real
        parsed = parse_bytes(data, path.name)
    else:
        parsed, diff = simple_parse(path), simple_diff
    return ingest(
        session_factory,
        data,
        parsed,
        filename=path.name,
        source_url=f"https://www.chengdu.gov.cn/{path.name}",
        series_key=series_key,
        diff=diff,
        on_change_set=on_change_set,
    )
