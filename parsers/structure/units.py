"""Responsible units: ``（责任单位：A、B）``, ``牵头单位：…；配合单位：…``, ``（A牵头，B配合）``.

Names are kept as written (width and spaces normalized upstream); aliases are resolved only
when comparing (parsers.units_alias), never here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from parsers.schema import Unit
from parsers.structure.vocab import vocab

_OPEN, _CLOSE = "（(【[〔", "）)】]〕"


@dataclass(frozen=True)
class UnitAnnotation:
    """Units found in a paragraph, and the span they occupy (removed from the task text)."""

    units: list[Unit]
    start: int
    end: int


@cache
def _label_re() -> re.Pattern[str]:
    labels = "|".join(re.escape(label) for label, _ in vocab().unit_labels if len(label) > 2)
    return re.compile(rf"({labels})\s*[：:]\s*")


@cache
def _roles() -> dict[str, str]:
    return dict(vocab().unit_labels)


def split_names(text: str) -> list[str]:
    """Split on 、，,；; at bracket depth 0 only (各区（市、县） stays one name)."""
    seps = vocab().unit_separators
    names: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if ch in seps and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    names.append("".join(current))
    out = []
    for name in names:
        name = name.strip().strip("。.").strip()
        for noise in vocab().unit_trailing_noise:
            if name.endswith(noise) and len(name) > len(noise) + 1:
                name = name[: -len(noise)]
                break
        if name:
            out.append(name)
    return out


def _parse_labelled(inner: str) -> list[Unit] | None:
    """``牵头单位：A；配合单位：B、C`` -> units with roles; None if no label starts it."""
    matches = list(_label_re().finditer(inner))
    if not matches or inner[: matches[0].start()].strip(" ；;，,"):
        return None
    units: list[Unit] = []
    for i, m in enumerate(matches):
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(inner)
        role = _roles()[m.group(1)]
        for name in split_names(inner[m.end() : stop]):
            units.append(Unit(name=name, role=role))  # type: ignore[arg-type]
    return units or None


_LEAD_SUPPORT = re.compile(r"^(?P<names>[^，,；;]+?)(?P<verb>牵头|配合|负责|按职责分工负责|参与)$")


def _parse_verb_form(inner: str) -> list[Unit] | None:
    """``A牵头，B、C配合`` (every clause must end in such a verb, or it is not a unit list)."""
    units: list[Unit] = []
    clauses = [c for c in re.split(r"[，,；;]", inner) if c.strip()]
    if not clauses:
        return None
    for clause in clauses:
        m = _LEAD_SUPPORT.match(clause.strip())
        if m is None:
            return None
        role = {"牵头": "lead", "配合": "support", "参与": "support"}.get(
            m.group("verb"), "responsible"
        )
        for name in split_names(m.group("names")):
            if not 2 <= len(name) <= 30 or re.search(r"[0-9。：:]", name):
                return None
            units.append(Unit(name=name, role=role))  # type: ignore[arg-type]
    # The clause shape is strong evidence; one recognisable agency name settles it
    # (市工商联, 人行绵阳市分行 need not each end in a known suffix).
    if not any(_looks_like_agency(u.name) for u in units):
        return None
    return units


def _looks_like_agency(name: str) -> bool:
    return len(name) <= 30 and (
        name.startswith("各") or any(name.endswith(s) for s in vocab().agency_suffixes)
    )


def _bracket_groups(text: str) -> list[tuple[int, int]]:
    """(start, end) of every outermost bracket group, nesting allowed: ``（责任单位：各区（市）县）``."""
    groups, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
            if depth == 0 and 2 <= i - start <= 400:
                groups.append((start, i + 1))
    return groups


def find_units(paragraph: str) -> UnitAnnotation | None:
    """The unit annotation of a paragraph: bracketed anywhere (usually at the end), or the
    whole paragraph when it is a bare ``责任单位：…`` line."""
    # A whole-paragraph label line, possibly bracketed.
    stripped = paragraph.strip()
    inner = stripped
    if inner and inner[0] in _OPEN and inner[-1] in _CLOSE:
        inner = inner[1:-1]
    units = _parse_labelled(inner)
    if units:
        return UnitAnnotation(units, 0, len(paragraph))
    # Bracketed annotations inside the paragraph; the last one wins (it closes the item).
    best: UnitAnnotation | None = None
    for start, end in _bracket_groups(paragraph):
        inner = paragraph[start + 1 : end - 1]
        units = _parse_labelled(inner) or _parse_verb_form(inner)
        if units:
            best = UnitAnnotation(units, start, end)
    if best is not None:
        return best
    # A trailing unbracketed label: "…。责任单位：A、B"
    m = _label_re().search(paragraph)
    if m and m.start() > 0 and paragraph[m.start() - 1] in "。；; ":
        units = _parse_labelled(paragraph[m.start() :])
        if units:
            return UnitAnnotation(units, m.start(), len(paragraph))
    return None


def strip_annotation(paragraph: str, ann: UnitAnnotation | None) -> str:
    if ann is None:
        return paragraph
    return (paragraph[: ann.start] + paragraph[ann.end :]).strip()
