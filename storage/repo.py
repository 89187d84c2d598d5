"""Read-side queries (and the fetcher's small write) that other packages and the CLI share.

They return plain dataclasses rather than ORM objects so results outlive their session
and can be printed, serialized or compared without lazy loads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from parsers.schema import ParsedDocument
from parsers.units_alias import region_parts, scoped_unit_key
from storage.errors import SeriesNotFound, VersionNotFound
from storage.identity import canonical_title
from storage.models import (
    Change,
    ChangeSet,
    FetchState,
    Series,
    TargetRow,
    Task,
    TaskUnit,
    Version,
    utcnow,
)


@dataclass(frozen=True)
class VersionInfo:
    id: int
    series_key: str
    series_title: str | None
    seq: int
    title: str | None
    doc_number: str | None
    date: str | None
    published: str | None
    kind: str | None
    format: str | None
    filename: str | None
    source_url: str | None
    fetched_at: datetime
    parser_version: str
    content_hash: str
    raw_hash: str
    match_reason: str
    related_to: int | None
    task_count: int
    target_count: int
    change_set_id: int | None
    alert_count: int
    info_count: int
    is_new_document: bool
    #: None for a normal version; ``held``/``released``/``discarded`` (storage.hold) with why.
    hold_status: str | None = None
    hold_reason: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fetched_at"] = self.fetched_at.isoformat()
        return data


@dataclass(frozen=True)
class SeriesInfo:
    key: str
    title: str | None
    canonical_title: str
    kind: str | None
    issuer: str | None
    version_count: int
    latest_seq: int | None


@dataclass(frozen=True)
class UnitTask:
    """One task a unit is named for, with where it sits."""

    series_key: str
    series_title: str | None
    version_id: int
    version_seq: int
    doc_number: str | None
    task_id: int
    task_number: str | None
    task_title: str
    unit_name: str
    role: str


def find_series(session: Session, ref: str) -> Series:
    """A series by key, by (canonical) title, or by a unique key prefix."""
    series = session.scalar(select(Series).where(Series.key == ref))
    if series is not None:
        return series
    canon = canonical_title(ref)
    if canon:
        series = session.scalars(
            select(Series).where(Series.canonical_title == canon).order_by(Series.id)
        ).first()
        if series is not None:
            return series
    if len(ref) >= 4:
        hits = list(session.scalars(select(Series).where(Series.key.startswith(ref)).limit(2)))
        if len(hits) == 1:
            return hits[0]
    raise SeriesNotFound(f"{ref}: no such series (use a key from `radar ingest` or a title)")


def _version_info_stmt() -> Any:
    task_count = select(func.count(Task.id)).where(Task.version_id == Version.id).scalar_subquery()
    target_count = (
        select(func.count(TargetRow.id)).where(TargetRow.version_id == Version.id).scalar_subquery()
    )
    return (
        select(
            Version,
            Series.key,
            Series.title,
            task_count,
            target_count,
            ChangeSet.id,
            ChangeSet.alert_count,
            ChangeSet.info_count,
            ChangeSet.is_new_document,
        )
        .join(Series, Version.series_id == Series.id)
        .outerjoin(ChangeSet, ChangeSet.to_version_id == Version.id)
    )


def _info(row: Any) -> VersionInfo:
    v: Version = row[0]
    return VersionInfo(
        id=v.id,
        series_key=row[1],
        series_title=row[2],
        seq=v.seq,
        title=v.title,
        doc_number=v.doc_number,
        date=v.date,
        published=v.published,
        kind=v.kind,
        format=v.format,
        filename=v.filename,
        source_url=v.source_url,
        fetched_at=v.fetched_at,
        parser_version=v.parser_version,
        content_hash=v.content_hash,
        raw_hash=v.raw_hash,
        match_reason=v.match_reason,
        related_to=v.related_to,
        task_count=row[3] or 0,
        target_count=row[4] or 0,
        change_set_id=row[5],
        alert_count=row[6] or 0,
        info_count=row[7] or 0,
        is_new_document=bool(row[8]),
        hold_status=v.hold_status,
        hold_reason=v.hold_reason,
    )


def series_history(session: Session, key: str) -> list[VersionInfo]:
    """Every version of a series, oldest first, with row and change counts."""
    series = find_series(session, key)
    rows = session.execute(
        _version_info_stmt().where(Version.series_id == series.id).order_by(Version.seq)
    ).all()
    return [_info(r) for r in rows]


def load_version(
    session: Session, series_key: str, seq: int | None = None
) -> tuple[VersionInfo, ParsedDocument]:
    """A version of a series (the latest when ``seq`` is None) and its parsed document."""
    series = find_series(session, series_key)
    stmt = _version_info_stmt().where(Version.series_id == series.id)
    stmt = stmt.where(Version.seq == seq) if seq is not None else stmt.order_by(Version.seq.desc())
    row = session.execute(stmt.limit(1)).first()
    if row is None:
        what = f"version {seq}" if seq is not None else "any version"
        raise VersionNotFound(f"{series.key}: series has no {what}")
    return _info(row), ParsedDocument.from_json_dict(row[0].parsed)


def load_parsed_version(session: Session, version_id: int) -> ParsedDocument:
    version = session.get(Version, version_id)
    if version is None:
        raise VersionNotFound(f"version id {version_id}: no such version")
    return ParsedDocument.from_json_dict(version.parsed)


def list_series(session: Session) -> list[SeriesInfo]:
    stmt = (
        select(Series, func.count(Version.id), func.max(Version.seq))
        .outerjoin(Version, Version.series_id == Series.id)
        .group_by(Series.id)
        .order_by(Series.id)
    )
    return [
        SeriesInfo(
            key=s.key,
            title=s.title,
            canonical_title=s.canonical_title,
            kind=s.kind,
            issuer=s.issuer,
            version_count=n,
            latest_seq=latest,
        )
        for s, n, latest in session.execute(stmt).all()
    ]


def unit_is(unit_name: str) -> ColumnElement[bool]:
    """``task_units`` rows of the unit called ``unit_name`` (as a user or a link names it).

    By scoped key: 嘉定区发改委 finds the 区发改委 of 嘉定区 documents and 上海市嘉定区发展和改革委员会,
    not 浦东's 区发改委. A bare relative name (区发改委, no region) finds every such unit by its
    place-free key, as a subscription to it does (alerts.matching)."""
    key = scoped_unit_key(unit_name)
    return or_(TaskUnit.scoped_key == key, TaskUnit.unit_key == key)


def unit_places(session: Session, unit_name: str, *, limit: int = 50) -> list[str]:
    """For a name without a region (区发改委): the scoped units documents wrote it for
    (嘉定区发改委, 浦东新区发改委), so the unit page can send the reader to one of them."""
    key = scoped_unit_key(unit_name)
    if region_parts(key)[0]:
        return []
    stmt = (
        select(TaskUnit.scoped_key)
        .where(TaskUnit.unit_key == key, TaskUnit.scoped_key != key)
        .distinct()
        .order_by(TaskUnit.scoped_key)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def tasks_for_unit(session: Session, unit_name: str, *, latest_only: bool = True) -> list[UnitTask]:
    """Tasks a unit is named for across all documents, in one query.

    The unit is matched by alias key, scoped by region (:func:`unit_is`: 区发改委 of a 嘉定区
    document finds 嘉定区发展和改革委员会). With ``latest_only`` only each series' current
    version counts (what the unit must do now).
    """
    stmt = (
        select(
            Series.key,
            Series.title,
            Version.id,
            Version.seq,
            Version.doc_number,
            Task.id,
            Task.number,
            Task.title,
            TaskUnit.name,
            TaskUnit.role,
        )
        .select_from(TaskUnit)
        .join(Task, TaskUnit.task_id == Task.id)
        .join(Version, Task.version_id == Version.id)
        .join(Series, Version.series_id == Series.id)
        .where(unit_is(unit_name))
        .order_by(Series.key, Version.seq, Task.ord, TaskUnit.id)
    )
    if latest_only:
        latest = (
            select(func.max(Version.seq))
            .where(Version.series_id == Series.id)
            .correlate(Series)
            .scalar_subquery()
        )
        stmt = stmt.where(Version.seq == latest)
    return [
        UnitTask(
            series_key=r[0],
            series_title=r[1],
            version_id=r[2],
            version_seq=r[3],
            doc_number=r[4],
            task_id=r[5],
            task_number=r[6],
            task_title=r[7],
            unit_name=r[8],
            role=r[9],
        )
        for r in session.execute(stmt).all()
    ]


def change_set_changes(session: Session, change_set_id: int) -> list[dict[str, Any]]:
    """The contract change objects of a change set, in order."""
    return list(
        session.scalars(
            select(Change.payload).where(Change.change_set_id == change_set_id).order_by(Change.ord)
        )
    )


def get_fetch_state(session: Session, url: str) -> FetchState | None:
    return session.scalar(select(FetchState).where(FetchState.url == url))


#: Columns the fetcher may set through :func:`put_fetch_state`.
_FETCH_STATE_FIELDS = frozenset(
    {"etag", "last_modified", "content_hash", "last_status", "failures"}
)


def put_fetch_state(session: Session, url: str, **fields: Any) -> FetchState:
    """Create or update the fetch state of ``url`` (caller commits); stamps last_checked_at.

    Fields: etag, last_modified, content_hash, last_status, failures.
    """
    unknown = set(fields) - _FETCH_STATE_FIELDS
    if unknown:
        raise TypeError(f"put_fetch_state: unknown fields {sorted(unknown)}")
    state = get_fetch_state(session, url)
    if state is None:
        state = FetchState(url=url, failures=0)
        session.add(state)
    for name, value in fields.items():
        setattr(state, name, value)
    state.last_checked_at = utcnow()
    session.flush()
    return state
