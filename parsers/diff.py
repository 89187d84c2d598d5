"""The structural diff of two parsed versions of a document (``radar.changes/1``).

What a subscriber needs to know is which goals and which responsibilities changed, not which
lines did. So tasks are aligned by content (:mod:`parsers.diff_align`), then targets are
compared by value in base units and units as sets of alias-resolved keys
(:mod:`parsers.units_alias`). Formatting — file format, wrapping, punctuation width,
spaces, numbering style — is normalized away before anything is compared, so the same
content in another format gives no change at all.

Severities follow the DESIGN contract: goal/unit changes and added/removed tasks are
``alert``; wording edits, moves/renumbering and metadata are ``info``.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from parsers.diff_align import Group, TaskInfo, align_targets, align_tasks
from parsers.diff_measures import to_base
from parsers.diff_text import clean, key, number_key
from parsers.schema import ParsedDocument, Target, Task, number
from parsers.units_alias import document_place, unit_key

CHANGES_SCHEMA_ID = "radar.changes/1"
_SPACES = re.compile(r"\s+")

ChangeKind = Literal[
    "goal_changed",
    "goal_added",
    "goal_removed",
    "units_changed",
    "task_added",
    "task_removed",
    "task_changed",
    "task_moved",
    "metadata_changed",
]
Severity = Literal["alert", "info"]

SEVERITY: dict[str, Severity] = {
    "goal_changed": "alert",
    "goal_added": "alert",
    "goal_removed": "alert",
    "units_changed": "alert",
    "task_added": "alert",
    "task_removed": "alert",
    "task_changed": "info",
    "task_moved": "info",
    "metadata_changed": "info",
}

#: Metadata fields compared, with the label used in summaries.
METADATA_FIELDS: dict[str, str] = {
    "title": "标题",
    "doc_number": "文号",
    "date": "成文日期",
    "issuers": "发文机关",
    "kind": "类型",
}


class Change(BaseModel):
    """One change. Contract fields: kind, severity, task, summary, before/after, added/removed.

    The rest is provenance for people and for subscription matching: where the task sits in
    each version, its source sentence, and the units it concerns.
    """

    model_config = ConfigDict(extra="allow")

    kind: ChangeKind
    severity: Severity
    #: task title (new version, or old if removed); None for document goals and metadata
    task: str | None = None
    summary: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    added: list[str] | None = None
    removed: list[str] | None = None
    # provenance
    number_before: str | None = None
    number_after: str | None = None
    path_before: list[str] | None = None
    path_after: list[str] | None = None
    id_before: str | None = None
    id_after: str | None = None
    title_before: str | None = None
    text: str | None = None
    units: list[str] | None = None
    # metadata_changed
    field: str | None = None
    value_before: Any = None
    value_after: Any = None

    def to_json_dict(self) -> dict[str, Any]:
        """Contract JSON: fields that do not apply are omitted, ``task`` is always present."""
        data = self.model_dump(mode="json", exclude_none=True)
        data.setdefault("task", None)
        return data


class ChangeSet(BaseModel):
    """All changes from one version to the next, alerts first."""

    model_config = ConfigDict(populate_by_name=True)

    schema_id: str = Field(default=CHANGES_SCHEMA_ID, alias="schema")
    changes: list[Change] = Field(default_factory=list)

    @property
    def alerts(self) -> list[Change]:
        return [c for c in self.changes if c.severity == "alert"]

    def to_json_dict(self) -> dict[str, Any]:
        return {"schema": self.schema_id, "changes": [c.to_json_dict() for c in self.changes]}

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> ChangeSet:
        return cls.model_validate(data)


# --- formatting -------------------------------------------------------------------------

_CMP_SYMBOL = {">=": "≥", ">": ">", "=": "=", "<=": "≤", "<": "<"}


def _fmt_value(t: Target, with_comparator: bool) -> str:
    if t.value is None:
        return "—"
    text = str(number(t.value))
    if t.value_max is not None:
        text += f"-{number(t.value_max)}"
    text += t.unit or ""
    if with_comparator and t.comparator:
        text = _CMP_SYMBOL.get(t.comparator, t.comparator) + text
    return text


def _target_label(t: Target) -> str:
    if t.metric:
        return _display(t.metric)
    return _snippet(t.text, 24)


def _display(text: str | None) -> str:
    """Text as written (the parser already normalized width), spaces dropped, for people."""
    return _SPACES.sub("", text or "")


def _snippet(text: str | None, limit: int) -> str:
    s = _display(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _target_dict(t: Target) -> dict[str, Any]:
    return t.model_dump(mode="json")


def _target_diff(a: Target, b: Target) -> str | None:
    """Summary of how b differs from a, or None when they are the same goal."""
    value_same = (
        to_base(a.value, a.unit) == to_base(b.value, b.unit)
        and to_base(a.value_max, a.unit) == to_base(b.value_max, b.unit)
        and (a.value is None) == (b.value is None)
    )
    cmp_same = (a.comparator or None) == (b.comparator or None)
    parts = []
    if not value_same or not cmp_same:
        parts.append(f"{_fmt_value(a, not cmp_same)} → {_fmt_value(b, not cmp_same)}")
    if a.year != b.year:
        parts.append(f"{a.year or '—'}年 → {b.year or '—'}年")
    if not parts:
        return None
    return f"{_target_label(b)} " + "；".join(parts)


# --- comparing one group of tasks ---------------------------------------------------------


def _target_changes(
    old: list[Target], new: list[Target], task: str | None, base: dict[str, Any]
) -> tuple[list[Change], list[str], list[str]]:
    """Goal changes between two target lists, and the source sentences involved (old, new)."""
    if [_target_sig(t) for t in old] == [_target_sig(t) for t in new]:
        return [], [], []
    out: list[Change] = []
    old_texts: list[str] = []
    new_texts: list[str] = []
    for i, j in align_targets(old, new):
        if i is not None and j is not None:
            summary = _target_diff(old[i], new[j])
            if summary is None:
                if _written(old[i]) != _written(new[j]):
                    # "1万人" -> "10000人": the same goal, so not a wording edit either
                    old_texts.append(old[i].text)
                    new_texts.append(new[j].text)
                continue
            out.append(
                Change(
                    kind="goal_changed",
                    severity="alert",
                    task=task,
                    summary=summary,
                    before=_target_dict(old[i]),
                    after=_target_dict(new[j]),
                    text=new[j].text,
                    **base,
                )
            )
            old_texts.append(old[i].text)
            new_texts.append(new[j].text)
        elif j is not None:
            t = new[j]
            out.append(
                Change(
                    kind="goal_added",
                    severity="alert",
                    task=task,
                    summary=f"新增目标：{_target_label(t)} {_fmt_value(t, True)}"
                    + (f"（{t.year}年）" if t.year else ""),
                    after=_target_dict(t),
                    text=t.text,
                    **base,
                )
            )
            new_texts.append(t.text)
        elif i is not None:
            t = old[i]
            out.append(
                Change(
                    kind="goal_removed",
                    severity="alert",
                    task=task,
                    summary=f"删除目标：{_target_label(t)} {_fmt_value(t, True)}"
                    + (f"（{t.year}年）" if t.year else ""),
                    before=_target_dict(t),
                    text=t.text,
                    **base,
                )
            )
            old_texts.append(t.text)
    # Order by position in the new version (removed ones where they were).
    return out, old_texts, new_texts


def _written(t: Target) -> tuple[Any, ...]:
    return (t.value, t.value_max, t.unit and clean(t.unit))


def _target_sig(t: Target) -> tuple[Any, ...]:
    return (
        key(t.metric),
        to_base(t.value, t.unit),
        to_base(t.value_max, t.unit),
        t.unit and key(t.unit),
        t.value,
        t.year,
        t.comparator,
    )


def place_of(doc: ParsedDocument) -> str | None:
    """The place whose local unit aliases apply to ``doc`` (成都: 市经信局 = 市新经济委)."""
    text = "\n".join([*(t.text for t in doc.tasks), *(g.text for g in doc.goals)])
    return document_place(doc.issuers, doc.title, doc.doc_number, text)


def _unit_names(tasks: list[Task], place: str | None) -> dict[str, str]:
    """unit key -> name as first written, over the tasks of one side of a group."""
    out: dict[str, str] = {}
    for t in tasks:
        for u in t.units:
            out.setdefault(unit_key(u.name, place), _display(u.name))
    return out


def _unit_roles(tasks: list[Task], place: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in tasks:
        for u in t.units:
            out.setdefault(unit_key(u.name, place), u.role)
    return out


def _unit_sentence(task: Task) -> str | None:
    for marker in ("责任单位", "牵头单位", "配合单位", "责任部门", "牵头部门"):
        pos = task.text.find(marker)
        if pos >= 0:
            start = max(task.text.rfind("（", 0, pos), task.text.rfind("(", 0, pos))
            return task.text[start if 0 <= pos - start <= 2 else pos :].strip()
    return None


def _wording_summary(old: str, new: str) -> str:
    """A short description of a wording edit: the first differing segments."""
    a, b = _display(old), _display(new)
    # Trim the common head and tail first: most edits are local, and SequenceMatcher on
    # whole bodies would cost most of a 300-task diff.
    head = len(os.path.commonprefix([a, b]))  # noqa: RUF071 (characters, not paths)
    tail = len(os.path.commonprefix([a[head:][::-1], b[head:][::-1]]))  # noqa: RUF071
    a, b = a[head : len(a) - tail], b[head : len(b) - tail]
    if len(a) <= 40 and len(b) <= 40:  # one local edit: no alignment needed
        if not a:
            return f"文字修改：新增「{_snippet(b, 40)}」"
        if not b:
            return f"文字修改：删除「{_snippet(a, 40)}」"
        return f"文字修改：「{a}」→「{b}」"
    if len(a) + len(b) > 600:
        return f"文字修改：「{_snippet(a, 20)}」→「{_snippet(b, 20)}」（改动较多）"
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    parts: list[str] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        before, after = _snippet(a[i1:i2], 20), _snippet(b[j1:j2], 20)
        if tag == "delete":
            parts.append(f"删除「{before}」")
        elif tag == "insert":
            parts.append(f"新增「{after}」")
        else:
            parts.append(f"「{before}」→「{after}」")
        if len(parts) == 2:
            break
    more = sum(1 for op in ops if op[0] != "equal") - len(parts)
    text = "文字修改：" + "；".join(parts)
    return text + (f"（另有{more}处）" if more > 0 else "")


def _remove_sentences(body: str, sentences: list[str]) -> str:
    for s in sentences:
        k = key(s)
        if k:
            body = body.replace(k, "")
    return body


class _Differ:
    """One diff run: the two documents with their tasks' comparison keys."""

    def __init__(self, old: ParsedDocument, new: ParsedDocument) -> None:
        self.old_doc, self.new_doc = old, new
        # One series is one place; a version whose issuer line was lost still is.
        self.place = place_of(old) or place_of(new)
        self.old = [TaskInfo.of(i, t) for i, t in enumerate(old.tasks)]
        self.new = [TaskInfo.of(i, t) for i, t in enumerate(new.tasks)]

    def run(self) -> ChangeSet:
        groups = align_tasks(self.old, self.new)
        sort_key = self._group_positions(groups)
        groups.sort(key=sort_key)
        alerts: list[Change] = []
        info: list[Change] = []
        goal_changes, _, _ = _target_changes(self.old_doc.goals, self.new_doc.goals, None, {})
        alerts += goal_changes
        alerts += self._document_unit_changes()
        info += self._metadata_changes()
        for g in groups:
            a, i = self._group_changes(g)
            alerts += a
            info += i
        info += self._move_changes(groups)
        return ChangeSet(changes=alerts + info)

    # -- ordering

    def _group_positions(self, groups: list[Group]) -> Any:
        """Sort key: new-document order; a removed task sits after its old predecessor."""
        matched = sorted((min(g.old), min(g.new)) for g in groups if g.old and g.new)
        old_positions = [o for o, _ in matched]

        def position(g: Group) -> tuple[float, int]:
            if g.new:
                return (float(min(g.new)), 0)
            o = min(g.old)
            k = bisect_left(old_positions, o)
            before = matched[k - 1][1] if k > 0 else -1
            return (before + 0.5, o)

        return position

    # -- per group

    def _base(self, g: Group) -> dict[str, Any]:
        o = self.old_doc.tasks[min(g.old)] if g.old else None
        n = self.new_doc.tasks[min(g.new)] if g.new else None
        if g.primary is not None:
            o = self.old_doc.tasks[g.primary[0]]
            n = self.new_doc.tasks[g.primary[1]]
        unit_source = [self.new_doc.tasks[j] for j in g.new] or [
            self.old_doc.tasks[i] for i in g.old
        ]
        return {
            "number_before": o.number if o else None,
            "number_after": n.number if n else None,
            "path_before": list(o.path) if o else None,
            "path_after": list(n.path) if n else None,
            "id_before": o.id if o else None,
            "id_after": n.id if n else None,
            "units": list(_unit_names(unit_source, self.place).values()),
        }

    def _title(self, g: Group) -> str:
        if g.primary is not None:
            task = self.new_doc.tasks[g.primary[1]]
        elif g.new:
            task = self.new_doc.tasks[min(g.new)]
        else:
            task = self.old_doc.tasks[min(g.old)]
        return _task_name(task)

    def _unchanged(self, g: Group) -> bool:
        """Fast path for the common case: a 1:1 pair with nothing to report."""
        if g.primary is None or len(g.old) != 1 or len(g.new) != 1:
            return False
        oi, ni = self.old[g.primary[0]], self.new[g.primary[1]]
        if oi.title_key != ni.title_key or oi.body_key != ni.body_key:
            return False
        o, n = oi.task, ni.task
        if {(unit_key(u.name, self.place), u.role) for u in o.units} != {
            (unit_key(u.name, self.place), u.role) for u in n.units
        }:
            return False
        return [_target_sig(t) for t in o.targets] == [_target_sig(t) for t in n.targets]

    def _group_changes(self, g: Group) -> tuple[list[Change], list[Change]]:
        if self._unchanged(g):
            return [], []
        base = self._base(g)
        title = self._title(g)
        old_tasks = [self.old_doc.tasks[i] for i in g.old]
        new_tasks = [self.new_doc.tasks[j] for j in g.new]
        if not old_tasks:
            t = new_tasks[0]
            return [
                Change(
                    kind="task_added",
                    severity="alert",
                    task=title,
                    summary=f"新增任务：{title}",
                    text=t.text,
                    **base,
                )
            ], []
        if not new_tasks:
            t = old_tasks[0]
            return [
                Change(
                    kind="task_removed",
                    severity="alert",
                    task=title,
                    summary=f"删除任务：{title}",
                    text=t.text,
                    **base,
                )
            ], []

        alerts: list[Change] = []
        info: list[Change] = []
        old_targets = [x for t in old_tasks for x in t.targets]
        new_targets = [x for t in new_tasks for x in t.targets]
        goal_changes, old_sents, new_sents = _target_changes(old_targets, new_targets, title, base)
        alerts += goal_changes

        old_units = _unit_names(old_tasks, self.place)
        new_units = _unit_names(new_tasks, self.place)
        added = [name for k, name in new_units.items() if k not in old_units]
        removed = [name for k, name in old_units.items() if k not in new_units]
        if added or removed:
            parts = [f"+{n}" for n in added] + [f"−{n}" for n in removed]
            alerts.append(
                Change(
                    kind="units_changed",
                    severity="alert",
                    task=title,
                    summary="责任单位：" + " ".join(parts),
                    added=added,
                    removed=removed,
                    text=_unit_sentence(new_tasks[0]) or _unit_sentence(old_tasks[0]),
                    **base,
                )
            )

        notes: list[str] = []
        if len(old_tasks) > 1:
            notes.append("由" + "、".join(f"「{_task_name(t)}」" for t in old_tasks) + "合并")
        if len(new_tasks) > 1:
            notes.append("拆分为" + "、".join(f"「{_task_name(t)}」" for t in new_tasks))
        old_title = _task_name(old_tasks[0]) if g.primary is not None else None
        if g.primary is not None:
            oi, ni = self.old[g.primary[0]], self.new[g.primary[1]]
            if oi.title_key != ni.title_key:
                notes.append(f"标题：{_task_name(oi.task)} → {_task_name(ni.task)}")
        old_body = "".join(self.old[i].body_key for i in g.old)
        new_body = "".join(self.new[j].body_key for j in g.new)
        if old_body != new_body:
            old_body = _remove_sentences(old_body, old_sents)
            new_body = _remove_sentences(new_body, new_sents)
        if old_body != new_body:
            notes.append(
                _wording_summary(
                    "".join(t.text for t in old_tasks), "".join(t.text for t in new_tasks)
                )
            )
        old_roles = _unit_roles(old_tasks, self.place)
        new_roles = _unit_roles(new_tasks, self.place)
        role_changes = [
            f"{new_units[k]} {old_roles[k]}→{new_roles[k]}"
            for k in new_roles
            if k in old_roles and old_roles[k] != new_roles[k]
        ]
        if role_changes:
            notes.append("单位角色：" + "，".join(role_changes))
        if notes:
            info.append(
                Change(
                    kind="task_changed",
                    severity="info",
                    task=title,
                    summary="；".join(notes),
                    title_before=old_title if old_title != title else None,
                    text=new_tasks[0].text,
                    **base,
                )
            )
        return alerts, info

    # -- moves and renumbering

    def _move_changes(self, groups: list[Group]) -> list[Change]:
        """task_moved for tasks whose section or relative order changed.

        Renumbering alone (a task before them was removed) is one summary line, so a
        removal does not flood the change set with a move per following task.
        """
        primaries = sorted(g.primary for g in groups if g.primary is not None)
        same_number = [
            number_key(self.old[o].task.number) == number_key(self.new[n].task.number)
            for o, n in primaries
        ]
        stable = _longest_increasing([n for _, n in primaries], same_number)
        successor = _section_successors([(self.old[o], self.new[n]) for o, n in primaries])
        by_primary = {g.primary: g for g in groups if g.primary is not None}
        moved: list[tuple[int, Change]] = []
        renumbered: list[str] = []
        for idx, (o, n) in enumerate(primaries):
            oi, ni = self.old[o], self.new[n]
            section_changed = successor.get(oi.section, oi.section) != ni.section
            reordered = idx not in stable
            g = by_primary[(o, n)]
            if section_changed or reordered:
                where_old = _where(oi.task)
                where_new = _where(ni.task)
                moved.append(
                    (
                        n,
                        Change(
                            kind="task_moved",
                            severity="info",
                            task=_task_name(ni.task),
                            summary=f"{'移至其他部分' if section_changed else '顺序调整'}：{where_old} → {where_new}",
                            **self._base(g),
                        ),
                    )
                )
            elif (
                o != n
                and oi.task.number
                and ni.task.number
                and number_key(oi.task.number) != number_key(ni.task.number)
            ):
                # Only a number that changed because the task's position did (a task
                # before it was added or removed) is a renumbering; the same position
                # under another number is numbering style (Word lists that continue).
                renumbered.append(f"{_display(oi.task.number)}→{_display(ni.task.number)}")
        out = [c for _, c in sorted(moved, key=lambda nc: nc[0])]
        if renumbered:
            shown = "、".join(renumbered[:5]) + ("…" if len(renumbered) > 5 else "")
            out.append(
                Change(
                    kind="task_moved",
                    severity="info",
                    task=None,
                    summary=f"{len(renumbered)}项任务仅重新编号（{shown}）",
                )
            )
        return out

    # -- metadata

    def _document_unit_changes(self) -> list[Change]:
        """A reply's handling units (``ParsedDocument.units``: 承办/会办) added or dropped:
        ``units_changed`` with ``task`` null, an alert like a task's units (the analyst whose
        unit is named wants it)."""
        old = {unit_key(u.name, self.place): _display(u.name) for u in self.old_doc.units}
        new = {unit_key(u.name, self.place): _display(u.name) for u in self.new_doc.units}
        added = [name for k, name in new.items() if k not in old]
        removed = [name for k, name in old.items() if k not in new]
        if not added and not removed:
            return []
        parts = [f"+{n}" for n in added] + [f"−{n}" for n in removed]
        return [
            Change(
                kind="units_changed",
                severity="alert",
                task=None,
                summary="办理单位：" + " ".join(parts),
                added=added,
                removed=removed,
            )
        ]

    def _metadata_changes(self) -> list[Change]:
        out: list[Change] = []
        for name, label in METADATA_FIELDS.items():
            a, b = getattr(self.old_doc, name), getattr(self.new_doc, name)
            if _meta_key(a) == _meta_key(b):
                continue
            out.append(
                Change(
                    kind="metadata_changed",
                    severity="info",
                    task=None,
                    field=name,
                    value_before=a,
                    value_after=b,
                    summary=f"{label}：{_meta_text(a)} → {_meta_text(b)}",
                )
            )
        return out


def _meta_key(value: Any) -> Any:
    if isinstance(value, list):
        return sorted({key(v) for v in value})
    if isinstance(value, str):
        return key(value)
    return value


def _meta_text(value: Any) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _task_name(task: Task) -> str:
    name = _display(task.title).rstrip(".。;；")
    return name or _snippet(task.text, 30)


def _where(task: Task) -> str:
    path = " / ".join(_display(p) for p in task.path)
    num = _display(task.number)
    return f"{path} {num}".strip() or "—"


def _section_successors(pairs: list[tuple[TaskInfo, TaskInfo]]) -> dict[Any, Any]:
    """Old section -> the new section most of its tasks went to.

    A renamed or renumbered section ("支持企业落户发展" -> "支持企业集聚壮大") is the same
    section; only a task that left its section's successor counts as moved.
    """
    votes: dict[Any, Counter[Any]] = defaultdict(Counter)
    for oi, ni in pairs:
        votes[oi.section][ni.section] += 1
    out: dict[Any, Any] = {}
    for old_section, counter in votes.items():
        if old_section in counter and counter[old_section] == max(counter.values()):
            out[old_section] = old_section
        else:
            out[old_section] = counter.most_common(1)[0][0]
    return out


def _longest_increasing(seq: list[int], prefer: list[bool]) -> set[int]:
    """Indices of a longest strictly increasing subsequence of ``seq``.

    Among equally long ones, the one keeping most ``prefer``-ed elements (tasks whose
    number did not change) wins, so of two swapped tasks the one that kept its number
    is the one reported as not moved.
    """
    import numpy as np

    n = len(seq)
    if n == 0:
        return set()
    if all(a < b for a, b in itertools.pairwise(seq)):
        return set(range(n))
    values = np.asarray(seq)
    weight = 1.0 + 1e-3 * np.asarray(prefer, dtype=np.float64)
    best = np.zeros(n)
    prev = np.full(n, -1)
    for i in range(n):
        mask = values[:i] < values[i]
        if mask.any():
            cand = np.where(mask, best[:i], -1.0)
            j = int(cand.argmax())
            best[i] = cand[j] + weight[i]
            prev[i] = j
        else:
            best[i] = weight[i]
    out: set[int] = set()
    i = int(best.argmax())
    while i >= 0:
        out.add(i)
        i = int(prev[i])
    return out


def diff_documents(old: ParsedDocument, new: ParsedDocument) -> ChangeSet:
    """All changes from ``old`` to ``new``: alerts first (document goals, then per task in
    new-document order), then info (metadata, wording edits, moves, renumbering)."""
    return _Differ(old, new).run()


__all__ = ["CHANGES_SCHEMA_ID", "SEVERITY", "Change", "ChangeSet", "diff_documents", "place_of"]
