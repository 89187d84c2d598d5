"""Side-by-side comparison of two versions: tasks aligned, changes marked word by word.

Pure functions over :class:`parsers.schema.ParsedDocument` (no database), so the compare
page and its JSON are the same data. Chinese has no spaces, so a "word" here is a number
(with its decimal point and percent sign, so ``1500`` → ``2000`` is marked as one change,
not as single digits), a Latin word, or one CJK character or punctuation mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from parsers.schema import ParsedDocument, Task


@dataclass(frozen=True)
class Item:
    """What alignment needs of a task (or of a goal sentence, shown as a row too)."""

    number: str | None
    path: tuple[str, ...]
    title: str
    text: str
    units: list[str]


def _task_item(task: Task) -> Item:
    return Item(task.number, tuple(task.path), task.title, task.text, [u.name for u in task.units])


def _goal_items(doc: ParsedDocument) -> list[Item]:
    """One row per distinct goal sentence (several targets often share one sentence)."""
    texts = dict.fromkeys(g.text for g in doc.goals if g.text)
    return [Item(None, ("目标",), text[:20], text, []) for text in texts]


_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[A-Za-z]+|\s+|.", re.S)


@dataclass(frozen=True)
class Segment:
    """A run of text: ``same``, ``del`` (only in the old text) or ``ins`` (only in the new)."""

    op: str
    text: str


@dataclass
class AlignedTask:
    """One row of the side-by-side view: a task in the old and/or the new version."""

    old_number: str | None
    new_number: str | None
    title: str
    old: list[Segment] = field(default_factory=list)
    new: list[Segment] = field(default_factory=list)
    old_units: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    status: str = "same"  # same | changed | added | removed


def word_diff(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """The two texts split into segments, changed words marked on each side."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    left: list[Segment] = []
    right: list[Segment] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            _push(left, "same", "".join(a[i1:i2]))
            _push(right, "same", "".join(b[j1:j2]))
            continue
        _push(left, "del", "".join(a[i1:i2]))
        _push(right, "ins", "".join(b[j1:j2]))
    return left, right


def _push(out: list[Segment], op: str, text: str) -> None:
    if not text:
        return
    if out and out[-1].op == op:
        out[-1] = Segment(op, out[-1].text + text)
    else:
        out.append(Segment(op, text))


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pairs(old: list[Item], new: list[Item]) -> dict[int, int]:
    """new index -> old index: same title first, then same number under the same heading,
    then the most similar remaining text (ratio ≥ 0.6)."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    by_title: dict[str, list[int]] = {}
    for i, t in enumerate(old):
        by_title.setdefault(_norm(t.title), []).append(i)
    for j, t in enumerate(new):
        for i in by_title.get(_norm(t.title), []):
            if i not in used:
                pairs[j] = i
                used.add(i)
                break
    by_place: dict[tuple[tuple[str, ...], str | None], int] = {
        (t.path, t.number): i for i, t in enumerate(old) if t.number
    }
    for j, t in enumerate(new):
        i2 = by_place.get((t.path, t.number))
        if j not in pairs and i2 is not None and i2 not in used:
            pairs[j] = i2
            used.add(i2)
    for j, t in enumerate(new):
        if j in pairs:
            continue
        best, score = None, 0.6
        for i, o in enumerate(old):
            if i in used:
                continue
            ratio = SequenceMatcher(None, o.text, t.text, autojunk=False).quick_ratio()
            if ratio >= score:
                best, score = i, ratio
        if best is not None:
            pairs[j] = best
            used.add(best)
    return pairs


def align(old_doc: ParsedDocument, new_doc: ParsedDocument) -> list[AlignedTask]:
    """The goal sentences, then the tasks, each in the new version's order."""
    goals = _align(_goal_items(old_doc), _goal_items(new_doc))
    tasks = _align([_task_item(t) for t in old_doc.tasks], [_task_item(t) for t in new_doc.tasks])
    return goals + tasks


def _align(old: list[Item], new: list[Item]) -> list[AlignedTask]:
    """Rows in the new order; a removed item appears before the first new item that
    follows it in the old order."""
    pairs = _pairs(old, new)
    matched_old = set(pairs.values())
    rows: list[AlignedTask] = []
    next_old = 0

    def flush_removed(upto: int) -> None:
        nonlocal next_old
        for i in range(next_old, upto):
            if i not in matched_old:
                t = old[i]
                rows.append(
                    AlignedTask(
                        t.number,
                        None,
                        t.title,
                        old=[Segment("del", t.text)],
                        old_units=t.units,
                        status="removed",
                    )
                )
        next_old = max(next_old, upto)

    for j, t in enumerate(new):
        i = pairs.get(j)
        if i is None:
            rows.append(
                AlignedTask(
                    None,
                    t.number,
                    t.title,
                    new=[Segment("ins", t.text)],
                    new_units=t.units,
                    status="added",
                )
            )
            continue
        flush_removed(i)
        o = old[i]
        left, right = word_diff(o.text, t.text)
        changed = o.text != t.text or o.units != t.units
        rows.append(
            AlignedTask(
                o.number,
                t.number,
                t.title,
                old=left,
                new=right,
                old_units=o.units,
                new_units=t.units,
                status="changed" if changed else "same",
            )
        )
    flush_removed(len(old))
    return rows
