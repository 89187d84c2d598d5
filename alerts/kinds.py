"""The change-kind vocabulary (labels, order, subject phrases) loaded from ``data/changes.toml``.

Kept as data so a non-programmer can review the wording of every email without reading
the renderer.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from alerts.errors import InvalidFilter

#: Kinds whose *task's* units count as "this unit's task changed" for the unit filter.
TASK_UNIT_KINDS = ("goal_changed", "goal_added", "goal_removed", "task_added", "task_removed")


@dataclass(frozen=True)
class KindInfo:
    kind: str
    rank: int
    label: str
    subject: str | None
    deadline_label: str | None = None


@cache
def _table() -> dict[str, Any]:
    text = resources.files("alerts").joinpath("data/changes.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def kind_info(kind: str) -> KindInfo:
    """Label and rank of a kind; unknown kinds (a newer diff) sort last with their raw name."""
    row = _table()["kinds"].get(kind)
    if row is None:
        return KindInfo(kind=kind, rank=99, label=kind, subject=None)
    return KindInfo(
        kind=kind,
        rank=int(row["rank"]),
        label=row["label"],
        subject=row.get("subject"),
        deadline_label=row.get("deadline_label"),
    )


def known_kinds() -> list[str]:
    return list(_table()["kinds"])


def expand_kinds(values: list[str] | tuple[str, ...] | None) -> list[str] | None:
    """``["goals", "task_added"]`` -> the concrete kinds, sorted; ``None``/empty means all kinds."""
    if not values:
        return None
    groups: dict[str, list[str]] = _table()["groups"]
    known = set(known_kinds())
    out: set[str] = set()
    for raw in values:
        for part in str(raw).replace("，", ",").split(","):
            name = part.strip()
            if not name:
                continue
            if name in groups:
                out.update(groups[name])
            elif name in known:
                out.add(name)
            else:
                choices = ", ".join(sorted(known | set(groups)))
                raise InvalidFilter(f"unknown change kind {name!r} (use one of: {choices})")
    return sorted(out) or None


def signup_limits() -> dict[str, int]:
    return {k: int(v) for k, v in _table()["signup_limits"].items()}
