"""Read-side queries of the web app: document list, document page, unit, targets, feeds.

Each returns plain dataclasses (like :mod:`storage.repo`) and is built to stay fast at
10k series / 100k versions (``bench/bench_web.py``): lists are paginated with LIMIT/OFFSET,
"newest change first" orders by each series' highest version id (a covering scan of the
``(series_id, seq)`` unique index, no sort of the versions table), and per-row counts are
computed only for the rows on the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from parsers.units_alias import scoped_unit_key
from storage.models import (
    Change,
    ChangeSet,
    ChangeUnit,
    Delivery,
    FetchState,
    Series,
    TargetRow,
    Task,
    TaskUnit,
    Version,
)
from storage.repo import unit_is
from storage.search import contains, indexed, matching, rare

#: Rows per page of every paginated list.
PAGE_SIZE = 20


@dataclass(frozen=True)
class DocumentFilters:
    """What the documents page can filter on (all optional)."""

    q: str | None = None
    kind: str | None = None
    issuer: str | None = None
    unit: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    has_alerts: bool = False


@dataclass(frozen=True)
class DocumentRow:
    key: str
    title: str
    issuer: str | None
    kind: str | None
    doc_number: str | None
    date: str | None
    latest_seq: int
    version_count: int
    task_count: int
    target_count: int
    alert_count: int
    last_fetched_at: datetime | None


@dataclass(frozen=True)
class Page:
    """One page of a list and what the pager needs."""

    rows: list[Any]
    total: int
    page: int
    per_page: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def as_dict(rows: Iterable[Any]) -> dict[Any, Any]:
    """Two-column result rows as a dict (first column -> second)."""
    return {row[0]: row[1] for row in rows}


_contains = contains


def _latest_version_ids(session: Session) -> Any:
    """``series_id -> newest version id`` (ids grow with every ingest).

    Read from ``change_sets`` (every version has exactly one, ``to_version_id`` unique;
    change set ids grow with the versions they describe): its
    rows are a few integers, while a ``versions`` row carries the parsed JSON, so grouping
    the versions table means reading every document (PostgreSQL keeps JSON under ~2 kB
    inline in the row)."""
    if session.get_bind().dialect.name == "postgresql":  # one pass over the slim heap
        return (
            select(
                ChangeSet.series_id.label("series_id"),
                func.max(ChangeSet.to_version_id).label("vid"),
            )
            .group_by(ChangeSet.series_id)
            .subquery("latest")
        )
    newest = (
        select(ChangeSet.series_id, func.max(ChangeSet.id).label("cs_id"))
        .group_by(ChangeSet.series_id)
        .subquery("newest")
    )  # a covering scan of ix_change_sets_series_id (the id rides along in the index)
    return (
        select(newest.c.series_id, ChangeSet.to_version_id.label("vid"))
        .join(ChangeSet, ChangeSet.id == newest.c.cs_id)
        .subquery("latest")
    )


def _text_search(session: Session, q: str, latest: Any) -> ColumnElement[bool]:
    """The documents page's search: the series' title/issuer, or its latest version's 文号/title
    or one of that version's tasks contains ``q``.

    For the versions and the tasks each: when a search index knows the word and it is not
    everywhere (:func:`storage.search.rare`), the rows containing it come from the index and
    the latest version id is looked up in that set; otherwise each series' latest version
    (and its ~5 tasks) is probed by primary key. The 文号 and title were searched joined by a
    space, so a ``q`` with a space keeps that probe.
    """
    lv = aliased(Version, name="lv")
    conds = [
        _contains(Series.title, q),
        _contains(Series.canonical_title, q),
        _contains(Series.issuer, q),
    ]
    if " " not in q and rare(session, Version, q):
        conds.append(latest.c.vid.in_(matching(session, Version, q)))
    else:
        # A scalar lookup by primary key (an EXISTS here became a scan of every version on
        # PostgreSQL).
        meta = (
            select(func.coalesce(lv.doc_number, "") + " " + func.coalesce(lv.title, ""))
            .where(lv.id == latest.c.vid)
            .scalar_subquery()
        )
        conds.append(_contains(meta, q))
    if rare(session, Task, q):
        conds.append(latest.c.vid.in_(matching(session, Task, q, Task.version_id)))
    else:
        # LIMIT 1 keeps it a per-series lookup on tasks.version_id: as EXISTS, PostgreSQL
        # hashed it into a scan of every version's tasks.
        probe = (
            select(Task.id)
            .where(
                Task.version_id == latest.c.vid,
                or_(_contains(Task.title, q), _contains(Task.text, q)),
            )
            .limit(1)
            .scalar_subquery()
        )
        conds.append(probe.is_not(None))
    return or_(*conds)


#: the latest version, joined when the list filters on its date
_LATEST = aliased(Version, name="latest_version")


def _document_conditions(
    session: Session, f: DocumentFilters, latest: Any
) -> list[ColumnElement[bool]]:
    """Each filter as a condition on (series, latest version id). Unit and alert filters are
    ``IN (indexed subquery)`` (a rare unit is a few hundred rows, not a probe per series);
    the text search looks at the latest version only."""
    conds: list[ColumnElement[bool]] = []
    if f.q:
        conds.append(_text_search(session, f.q, latest))
    if f.kind:
        conds.append(Series.kind == f.kind)
    if f.issuer:
        conds.append(_contains(Series.issuer, f.issuer))
    if f.unit:
        conds.append(
            latest.c.vid.in_(
                select(Task.version_id)
                .join(TaskUnit, TaskUnit.task_id == Task.id)
                .where(unit_is(f.unit))
            )
        )
    if f.date_from:
        conds.append(_LATEST.date >= f.date_from)  # joined by list_documents
    if f.date_to:
        conds.append(_LATEST.date <= f.date_to)
    if f.has_alerts:
        conds.append(
            Series.id.in_(
                select(ChangeSet.series_id).where(
                    ChangeSet.alert_count > 0, ChangeSet.is_new_document.is_(False)
                )
            )
        )
    return conds


def list_documents(session: Session, filters: DocumentFilters, page: int = 1) -> Page:
    """Series matching ``filters``, newest version first, one page with counts.

    The total comes with the page (``count(*) OVER ()``), so a search scans once, not twice.
    """
    page = max(1, page)
    latest = _latest_version_ids(session)
    base = select(Series.id, latest.c.vid, func.count().over().label("total")).join(
        latest, latest.c.series_id == Series.id
    )
    if filters.date_from or filters.date_to:
        # A join, not a per-series subquery: the planner then reads the (wide) versions rows
        # only for series that pass the cheaper filters (PostgreSQL read all 10k first).
        base = base.join(_LATEST, _LATEST.id == latest.c.vid)
    for cond in _document_conditions(session, filters, latest):
        base = base.where(cond)
    found = session.execute(
        base.order_by(latest.c.vid.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    if found:
        total = int(found[0][2])
    else:  # past the last page (or nothing matches): count without the page
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = _document_rows(session, [(sid, vid) for sid, vid, _ in found])
    return Page(rows=rows, total=total, page=page)


def _grouped(session: Session, key: Any, aggregate: Any, *where: Any) -> dict[Any, Any]:
    """``{key: aggregate}`` over the rows matching ``where``, grouped by ``key``."""
    return as_dict(session.execute(select(key, aggregate).where(*where).group_by(key)).all())


def _document_rows(session: Session, pairs: list[tuple[int, int]]) -> list[DocumentRow]:
    """Details and counts for the series on one page (a handful of indexed lookups)."""
    if not pairs:
        return []
    vids = [vid for _, vid in pairs]
    sids = [sid for sid, _ in pairs]
    tasks = _grouped(session, Task.version_id, func.count(Task.id), Task.version_id.in_(vids))
    targets = _grouped(
        session, TargetRow.version_id, func.count(TargetRow.id), TargetRow.version_id.in_(vids)
    )
    versions = _grouped(
        session, Version.series_id, func.count(Version.id), Version.series_id.in_(sids)
    )
    alerts = _grouped(
        session,
        ChangeSet.series_id,
        func.sum(ChangeSet.alert_count),
        ChangeSet.series_id.in_(sids),
        ChangeSet.is_new_document.is_(False),
    )
    # Named columns, not the Version entity: its parsed JSON is large and not shown here.
    info = {
        r.id: r
        for r in session.execute(
            select(
                Series.id,
                Series.key,
                Series.title,
                Series.canonical_title,
                Series.issuer,
                Series.kind,
                Version.title.label("v_title"),
                Version.kind.label("v_kind"),
                Version.doc_number,
                Version.date,
                Version.seq,
                Version.fetched_at,
            )
            .join(Version, Version.series_id == Series.id)
            .where(Version.id.in_(vids))
        ).all()
    }
    rows = []
    for sid, vid in pairs:
        r = info[sid]
        rows.append(
            DocumentRow(
                key=r.key,
                title=r.title or r.v_title or r.canonical_title or r.key,
                issuer=r.issuer,
                kind=r.kind or r.v_kind,
                doc_number=r.doc_number,
                date=r.date,
                latest_seq=r.seq,
                version_count=versions.get(sid, 0),
                task_count=tasks.get(vid, 0),
                target_count=targets.get(vid, 0),
                alert_count=int(alerts.get(sid) or 0),
                last_fetched_at=r.fetched_at,
            )
        )
    return rows


def document_kinds(session: Session) -> list[str]:
    """The kinds present (for the filter's choices)."""
    return [k for k in session.scalars(select(Series.kind).distinct().order_by(Series.kind)) if k]


# -- one document ------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    version_id: int
    seq: int
    title: str | None
    doc_number: str | None
    date: str | None
    published: str | None
    fetched_at: datetime
    source_url: str | None
    filename: str | None
    format: str | None
    match_reason: str
    change_set_id: int | None
    alert_count: int
    info_count: int
    is_new_document: bool
    summaries: list[str] = field(default_factory=list)
    #: storage.hold: ``held`` (its alerts wait for the operator), ``released``, ``discarded``
    hold_status: str | None = None
    hold_reason: str | None = None


@dataclass(frozen=True)
class TaskRow:
    id: int
    number: str | None
    path: list[Any]
    title: str
    text: str
    units: list[tuple[str, str]]
    targets: list[TargetValue]


@dataclass(frozen=True)
class TargetValue:
    metric: str | None
    value: Decimal | None
    value_max: Decimal | None
    unit: str | None
    year: int | None
    comparator: str | None
    text: str


@dataclass(frozen=True)
class RelatedDoc:
    key: str
    title: str
    relation: str


def timeline(session: Session, series_id: int) -> list[TimelineEntry]:
    """Every version of a series, newest first, with how it matched and its change summary."""
    rows = session.execute(
        select(Version, ChangeSet)
        .outerjoin(ChangeSet, ChangeSet.to_version_id == Version.id)
        .where(Version.series_id == series_id)
        .order_by(Version.seq.desc())
    ).all()
    cs_ids = [cs.id for _, cs in rows if cs is not None]
    summaries: dict[int, list[str]] = {i: [] for i in cs_ids}
    if cs_ids:
        for cs_id, summary in session.execute(
            select(Change.change_set_id, Change.summary)
            .where(Change.change_set_id.in_(cs_ids), Change.severity == "alert")
            .order_by(Change.change_set_id, Change.ord)
        ):
            if summary and len(summaries[cs_id]) < 5:
                summaries[cs_id].append(summary)
    return [
        TimelineEntry(
            version_id=v.id,
            seq=v.seq,
            title=v.title,
            doc_number=v.doc_number,
            date=v.date,
            published=v.published,
            fetched_at=v.fetched_at,
            source_url=v.source_url,
            filename=v.filename,
            format=v.format,
            match_reason=v.match_reason,
            change_set_id=cs.id if cs else None,
            alert_count=cs.alert_count if cs else 0,
            info_count=cs.info_count if cs else 0,
            is_new_document=bool(cs.is_new_document) if cs else False,
            summaries=summaries.get(cs.id, []) if cs else [],
            hold_status=v.hold_status,
            hold_reason=v.hold_reason,
        )
        for v, cs in rows
    ]


def _target_value(t: TargetRow) -> TargetValue:
    return TargetValue(t.metric, t.value, t.value_max, t.unit, t.year, t.comparator, t.text)


def version_tasks(session: Session, version_id: int) -> tuple[list[TaskRow], list[TargetValue]]:
    """A version's tasks with units (name, role) and targets, and its document-level goals."""
    tasks = list(
        session.scalars(select(Task).where(Task.version_id == version_id).order_by(Task.ord))
    )
    ids = [t.id for t in tasks]
    units: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    targets: dict[int | None, list[TargetValue]] = {i: [] for i in ids}
    targets[None] = []
    if ids:
        for tid, name, role in session.execute(
            select(TaskUnit.task_id, TaskUnit.name, TaskUnit.role)
            .where(TaskUnit.task_id.in_(ids))
            .order_by(TaskUnit.id)
        ):
            units[tid].append((name, role))
    for row in session.scalars(
        select(TargetRow).where(TargetRow.version_id == version_id).order_by(TargetRow.ord)
    ):
        targets.setdefault(row.task_id, []).append(_target_value(row))
    rows = [
        TaskRow(t.id, t.number, list(t.path or []), t.title, t.text, units[t.id], targets[t.id])
        for t in tasks
    ]
    return rows, targets[None]


def related_documents(session: Session, series_id: int) -> list[RelatedDoc]:
    """Series linked by ``versions.related_to`` in either direction (a reply citing a plan,
    an adjustment notice of a plan)."""
    mine = aliased(Version)
    other = aliased(Version)
    out: dict[str, RelatedDoc] = {}
    cites = (
        select(Series.key, Series.title, Series.canonical_title)
        .join(other, other.series_id == Series.id)
        .join(mine, mine.related_to == other.id)
        .where(mine.series_id == series_id, other.series_id != series_id)
        .distinct()
    )
    for key, title, canon in session.execute(cites):
        out[key] = RelatedDoc(key, title or canon, "本文引用/调整")
    cited_by = (
        select(Series.key, Series.title, Series.canonical_title)
        .join(mine, mine.series_id == Series.id)
        .join(other, mine.related_to == other.id)
        .where(other.series_id == series_id, mine.series_id != series_id)
        .distinct()
    )
    for key, title, canon in session.execute(cited_by):
        out.setdefault(key, RelatedDoc(key, title or canon, "引用/调整本文"))
    return list(out.values())


# -- unit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitAssignment:
    """One assignment or removal of a unit seen in a change."""

    series_key: str
    series_title: str | None
    change_set_id: int
    created_at: datetime
    relation: str
    task: str | None
    unit_name: str


def unit_history(session: Session, name: str, page: int = 1) -> Page:
    """Changes that added or removed the unit (alias-resolved, scoped by region: the rows
    ingest stores under the unit's scoped key), newest first."""
    page = max(1, page)
    key = scoped_unit_key(name)
    base: Select[Any] = (
        select(
            Series.key,
            Series.title,
            ChangeSet.id,
            ChangeSet.created_at,
            ChangeUnit.relation,
            Change.task_title,
            ChangeUnit.unit_name,
        )
        .select_from(ChangeUnit)
        .join(Change, Change.id == ChangeUnit.change_id)
        .join(ChangeSet, ChangeSet.id == Change.change_set_id)
        .join(Series, Series.id == ChangeSet.series_id)
        .where(
            ChangeUnit.unit_key == key,
            or_(
                ChangeUnit.relation.in_(("added", "removed")),
                and_(
                    ChangeUnit.relation == "task_unit",
                    Change.kind.in_(("task_added", "task_removed")),
                ),
            ),
        )
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(ChangeSet.id.desc(), Change.ord)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    kinds = {"added": "新增", "removed": "移除"}
    return Page(
        rows=[
            UnitAssignment(r[0], r[1], r[2], r[3], kinds.get(r[4], "任务增删"), r[5], r[6])
            for r in rows
        ],
        total=total,
        page=page,
    )


# -- targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetPoint:
    series_key: str
    series_title: str | None
    issuer: str | None
    seq: int
    date: str | None
    metric: str | None
    value: Decimal | None
    unit: str | None
    year: int | None
    text: str
    fetched_at: datetime


def find_targets(
    session: Session,
    metric: str | None,
    *,
    unit: str | None = None,
    region: str | None = None,
    year: int | None = None,
    limit: int = 200,
) -> list[TargetPoint]:
    """Targets whose metric contains ``metric``, across documents and versions, ordered by
    document then version; capped at ``limit`` rows (the chart's points). The metric column
    only (not the sentence): one pass over short values."""
    stmt = (
        select(
            Series.key,
            Series.title,
            Series.issuer,
            Version.seq,
            Version.date,
            TargetRow.metric,
            TargetRow.value,
            TargetRow.unit,
            TargetRow.year,
            TargetRow.text,
            Version.fetched_at,
        )
        .select_from(TargetRow)
        .join(Version, Version.id == TargetRow.version_id)
        .join(Series, Series.id == Version.series_id)
    )
    if metric and indexed(session, TargetRow, metric):
        stmt = stmt.where(TargetRow.id.in_(matching(session, TargetRow, metric)))
    elif metric:
        stmt = stmt.where(_contains(TargetRow.metric, metric))
    if region:
        stmt = stmt.where(_contains(Series.issuer, region))
    if year:
        stmt = stmt.where(TargetRow.year == year)
    if unit:
        stmt = stmt.where(
            exists(select(TaskUnit.id).where(TaskUnit.task_id == TargetRow.task_id, unit_is(unit)))
        )
    stmt = stmt.order_by(Series.key, Version.seq, TargetRow.ord).limit(limit)
    return [TargetPoint(*r) for r in session.execute(stmt).all()]


# -- feeds --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    change_set_id: int
    created_at: datetime
    series_key: str
    title: str
    alert_count: int
    info_count: int
    is_new_document: bool
    summaries: list[str]


def feed_entries(
    session: Session,
    *,
    series_key: str | None = None,
    unit: str | None = None,
    keyword: str | None = None,
    limit: int = 50,
) -> list[FeedEntry]:
    """The newest change sets matching one filter (the Atom feeds), newest first."""
    stmt = (
        select(ChangeSet, Series.key, Series.title, Series.canonical_title)
        .join(Series, Series.id == ChangeSet.series_id)
        .order_by(ChangeSet.id.desc())  # ids follow creation: a backward walk of the pk
    )
    if series_key:
        stmt = stmt.where(Series.key == series_key)
    if unit:
        stmt = stmt.where(
            ChangeSet.id.in_(
                select(Change.change_set_id)
                .join(ChangeUnit, ChangeUnit.change_id == Change.id)
                .where(ChangeUnit.unit_key == scoped_unit_key(unit))
            )
        )
    if keyword:
        # Two materialized id sets, then a walk down created_at: no per-row LIKE there. The
        # changes containing the keyword come from the search index when there is one.
        stmt = stmt.where(
            or_(
                ChangeSet.series_id.in_(select(Series.id).where(_contains(Series.title, keyword))),
                ChangeSet.id.in_(matching(session, Change, keyword, Change.change_set_id)),
            )
        )
    rows = session.execute(stmt.limit(limit)).all()
    ids = [cs.id for cs, *_ in rows]
    summaries: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for cs_id, summary in session.execute(
            select(Change.change_set_id, Change.summary)
            .where(Change.change_set_id.in_(ids))
            .order_by(Change.change_set_id, Change.ord)
        ):
            if summary:
                summaries[cs_id].append(summary)
    return [
        FeedEntry(
            cs.id,
            cs.created_at,
            key,
            title or canon,
            cs.alert_count,
            cs.info_count,
            cs.is_new_document,
            summaries[cs.id],
        )
        for cs, key, title, canon in rows
    ]


# -- sources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteActivity:
    """What the database knows about one site (a URL prefix): fetch state and documents."""

    last_checked_at: datetime | None
    last_status: str | None
    failures: int
    #: versions stored from this site's URLs
    documents: int
    failing_urls: list[tuple[str, str | None, int]]


def _starts_with(session: Session, column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, in a form the column's index serves.

    SQLite: a range (``>= prefix`` and ``< prefix+1``; its LIKE is case-insensitive and never
    uses the index). PostgreSQL: ``LIKE 'prefix%'``, which the planner turns into an index
    range in a C-collation database (``initdb --no-locale``) and which stays correct under a
    linguistic collation, where a plain range would not (punctuation is ignored there)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.startswith(prefix, autoescape=True)  # type: ignore[no-any-return]
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


def site_activity(session: Session, listing_url: str, prefix: str) -> SiteActivity:
    """The listing's fetch state, the versions stored from URLs under ``prefix`` (counted on
    the source_url index alone) and the URLs under it that currently fail."""
    state = session.scalar(select(FetchState).where(FetchState.url == listing_url))
    documents = (
        session.scalar(
            select(func.count()).where(_starts_with(session, Version.source_url, prefix))
        )
        or 0
    )
    failing = session.execute(
        select(FetchState.url, FetchState.last_status, FetchState.failures)
        .where(_starts_with(session, FetchState.url, prefix), FetchState.failures > 0)
        .order_by(FetchState.failures.desc())
        .limit(10)
    ).all()
    return SiteActivity(
        last_checked_at=state.last_checked_at if state else None,
        last_status=state.last_status if state else None,
        failures=state.failures if state else 0,
        documents=documents,
        failing_urls=[(u, s, n) for u, s, n in failing],
    )


def health_alarms(session: Session, *, limit: int = 20) -> list[tuple[datetime, str, str]]:
    """The newest source-health emails to the operator (``flows.health`` queues them as
    admin deliveries): (queued at, subject, delivery status)."""
    stmt = select(Delivery.created_at, Delivery.subject, Delivery.status).where(
        Delivery.kind == "admin"
    )
    rows = session.execute(stmt.order_by(Delivery.created_at.desc()).limit(limit)).all()
    return [(r[0], r[1], r[2]) for r in rows]
