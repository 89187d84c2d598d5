"""Build ParsedDocument objects for storage tests (independent of the parser's progress)."""

from __future__ import annotations

from typing import Any

from parsers.schema import ParsedDocument, Target, Task, Unit


def target(metric: str, value: float, unit: str, year: int | None = 2025) -> Target:
    return Target(
        text=f"到{year}年{metric}达到{value}{unit}",
        metric=metric,
        value=value,
        unit=unit,
        year=year,
        comparator=">=",
    )


def task(
    n: int, title: str, units: list[str] | None = None, targets: list[Target] | None = None
) -> Task:
    return Task(
        id=f"t{n}",
        number=f"{n}.",
        path=["二、重点任务"],
        title=title,
        text=f"{title}。具体内容第{n}项。",
        units=[Unit(name=u) for u in (units or [])],
        targets=targets or [],
    )


def plan(
    title: str = "成都市元宇宙产业发展行动计划（2022—2025年）",
    *,
    doc_number: str | None = "成办发〔2022〕1号",
    tasks: list[Task] | None = None,
    goals: list[Target] | None = None,
    kind: str = "plan",
    **extra: Any,
) -> ParsedDocument:
    if tasks is None:
        tasks = [
            task(1, "做强算力赛道", ["市经信局市新经济委", "区大数据发展局"]),
            task(2, "培育市场主体", ["市发改委"], [target("企业数量", 100, "家")]),
            task(3, "建设数据中心", ["区大数据发展局"]),
        ]
    return ParsedDocument(
        title=title,
        doc_number=doc_number,
        issuers=["成都市人民政府办公厅"],
        date="2022-12-01",
        kind=kind,  # type: ignore[arg-type]
        goals=goals if goals is not None else [target("产业规模", 1500, "亿元")],
        tasks=tasks,
        **extra,
    )
