"""Build an alert once, then format it per channel: subject, plain text and inline-CSS HTML.

The input is plain data (the ``radar.changes/1`` change dicts stored in ``changes.payload``
plus a few document facts), so rendering needs no database and the example under ``docs/``
is produced by exactly the code that renders real emails. HTML goes through Jinja2 with
autoescape on: every value taken from a document is escaped; header values are cleaned
separately (:mod:`alerts.headers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from alerts.headers import clean_header
from alerts.kinds import kind_info

if TYPE_CHECKING:
    from jinja2 import Environment

_COMPARATORS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": ""}


@dataclass(frozen=True)
class Row:
    """One line of a before/after table."""

    field: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class ChangeView:
    kind: str
    severity: str
    label: str
    rank: int
    ord: int
    task: str | None
    summary: str
    rows: list[Row] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NewTaskView:
    """A task of a new document, shown when a first version is the alert."""

    number: str | None
    title: str
    units: list[str]


@dataclass
class SectionView:
    """One document's part of an email (an instant alert has one, a digest several)."""

    change_set_id: int
    title: str
    issuer: str | None = None
    doc_number: str | None = None
    from_date: str | None = None
    to_date: str | None = None
    source_url: str | None = None
    diff_url: str | None = None
    is_new_document: bool = False
    focus_unit: str | None = None
    alerts: list[ChangeView] = field(default_factory=list)
    infos: list[ChangeView] = field(default_factory=list)
    new_tasks: list[NewTaskView] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return headline(self)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


# -- values ---------------------------------------------------------------------------


def format_value(target: Mapping[str, Any] | None) -> str:
    """``{"value": 1500, "unit": "亿元", "comparator": ">="}`` -> ``≥1500亿元``."""
    if not target:
        return "—"
    value = target.get("value")
    if value is None:
        return "—"
    text = _num(value)
    if target.get("value_max") is not None:
        text += "–" + _num(target["value_max"])
    text += str(target.get("unit") or "")
    return _COMPARATORS.get(str(target.get("comparator") or "="), "") + text


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _target_rows(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Row]:
    def get(t: Mapping[str, Any] | None, key: str) -> str:
        if not t or t.get(key) in (None, ""):
            return "—"
        return str(t[key])

    if is_deadline(before, after):
        rows = [
            Row("指标", get(before, "metric"), get(after, "metric")),
            Row("完成期限", _year(before), _year(after)),
            Row("原文", get(before, "text"), get(after, "text")),
        ]
    else:
        rows = [
            Row("指标", get(before, "metric"), get(after, "metric")),
            Row(
                "数值",
                format_value(before) if before else "—",
                format_value(after) if after else "—",
            ),
            Row("年份", get(before, "year"), get(after, "year")),
            Row("原文", get(before, "text"), get(after, "text")),
        ]
    return [r for r in rows if not (r.before == "—" and r.after == "—")]


def is_deadline(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> bool:
    """A deadline goal: a year and no number on every side that exists."""
    sides = [t for t in (before, after) if t]
    return bool(sides) and all(t.get("value") is None and t.get("year") for t in sides)


def _year(t: Mapping[str, Any] | None) -> str:
    return f"{t['year']}年" if t and t.get("year") else "—"


def change_view(payload: Mapping[str, Any], ord_: int = 0) -> ChangeView:
    """A contract change dict -> what the templates show (labels, table rows)."""
    kind = str(payload.get("kind") or "")
    info = kind_info(kind)
    before = payload.get("before") if isinstance(payload.get("before"), Mapping) else None
    after = payload.get("after") if isinstance(payload.get("after"), Mapping) else None
    rows: list[Row] = []
    if kind.startswith("goal_") or before or after:
        rows = _target_rows(before, after)
    added = [str(u) for u in payload.get("added") or []]
    removed = [str(u) for u in payload.get("removed") or []]
    units = [str(u) for u in payload.get("units") or []]
    summary = str(payload.get("summary") or "")
    if not summary:
        summary = _default_summary(kind, payload, before, after, added, removed)
    label = info.label
    if info.deadline_label and is_deadline(before, after):
        label = info.deadline_label
    return ChangeView(
        kind=kind,
        severity=str(payload.get("severity") or "info"),
        label=label,
        rank=info.rank,
        ord=ord_,
        task=str(payload["task"]) if payload.get("task") else None,
        summary=summary,
        rows=rows,
        added=added,
        removed=removed,
        units=units,
    )


def _default_summary(
    kind: str,
    payload: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    added: list[str],
    removed: list[str],
) -> str:
    if kind == "goal_changed" and is_deadline(before, after):
        return f"{_year(before)} → {_year(after)}"
    if kind == "goal_changed":
        return f"{format_value(before)} → {format_value(after)}"
    if kind == "units_changed":
        return " ".join([*(f"+{u}" for u in added), *(f"−{u}" for u in removed)])
    if kind in {"task_added", "task_removed"}:
        return str(payload.get("task") or "")
    return kind_info(kind).label


def safe_url(url: str | None) -> str | None:
    """Only http(s) links reach an email: a document's ``javascript:`` URL is dropped."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def sort_changes(changes: Iterable[ChangeView]) -> list[ChangeView]:
    """Most important first: alert before info, then kind rank, then document order."""
    return sorted(changes, key=lambda c: (c.severity != "alert", c.rank, c.ord))


def headline(section: SectionView) -> str:
    """``3项目标调整，2项责任单位调整`` (or, for a new document, ``为区发展改革委分配12项任务``)."""
    if section.is_new_document:
        n = len(section.new_tasks)
        if section.focus_unit:
            return f"为{section.focus_unit}分配{n}项任务"
        return f"共{n}项任务"
    counts: dict[str, int] = {}
    for change in sort_changes(section.alerts):
        phrase = kind_info(change.kind).subject
        if phrase:
            counts[phrase] = counts.get(phrase, 0) + 1
    if not counts:
        return f"{len(section.infos)}处表述调整" if section.infos else "有变更"
    return "，".join(p.replace("{n}", str(n)) for p, n in counts.items())


# -- templates ------------------------------------------------------------------------


@cache
def _env(html: bool) -> Environment:
    # jinja2 is imported with the first template: the view classes above are imported by
    # every ingest (alerts.content), which mostly has nothing to render.
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("alerts", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True)
        if html
        else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_template(name: str, **context: Any) -> str:
    """``*.html.j2`` is autoescaped, ``*.txt.j2`` is not (plain text has nothing to escape)."""
    return _env(name.endswith(".html.j2")).get_template(name).render(**context)


def alert_subject(sections: Sequence[SectionView], *, digest_date: str | None = None) -> str:
    if digest_date is not None:
        if len(sections) == 1:
            s = sections[0]
            return clean_header(f"【政策变更日报 {digest_date}】{s.title}：{s.headline}")
        return clean_header(f"【政策变更日报 {digest_date}】{len(sections)}份文件有变更")
    s = sections[0]
    tag = "新文件" if s.is_new_document else "政策变更"
    return clean_header(f"【{tag}】{s.title}：{s.headline}")


def render_alert(
    sections: Sequence[SectionView],
    *,
    manage_url: str,
    unsubscribe_url: str,
    filters: str = "",
    digest_date: str | None = None,
) -> RenderedEmail:
    """The alert (one section) or digest (several) as subject + text + HTML with the same content."""
    for s in sections:
        s.source_url = safe_url(s.source_url)
        s.diff_url = safe_url(s.diff_url)
        s.alerts = sort_changes(s.alerts)
        s.infos = sort_changes(s.infos)
    subject = alert_subject(sections, digest_date=digest_date)
    context: dict[str, Any] = {
        "sections": list(sections),
        "manage_url": manage_url,
        "unsubscribe_url": unsubscribe_url,
        "filters": filters,
        "digest_date": digest_date,
        "subject": subject,
    }
    return RenderedEmail(
        subject=subject,
        text=render_template("alert.txt.j2", **context),
        html=render_template("alert.html.j2", **context),
    )


def render_confirm(*, email: str, confirm_url: str, filters: str) -> RenderedEmail:
    context = {"email": email, "confirm_url": confirm_url, "filters": filters}
    return RenderedEmail(
        subject="【政策雷达】请确认订阅",
        text=render_template("confirm.txt.j2", **context),
        html=render_template("confirm.html.j2", **context),
    )
