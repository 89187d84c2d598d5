"""Store one parsed document: the single, atomic, idempotent way in.

``ingest`` decides between these outcomes:

* ``same_bytes``   — these exact bytes are the series' current version already (or a held
  version after it): one ``fetches`` row, nothing else;
* ``same_content`` — other bytes, same canonical content as that version (the PDF of a DOCX
  we have): one ``fetches`` row pointing at the stored version;
* ``new_series`` / ``new_version`` — a version with its task/unit/target rows, a change set
  with its changes and change units (the first version of a series gets an empty change set
  with ``is_new_document``), the fetch row, and whatever ``on_change_set`` adds (the alerts
  outbox) — all in ONE transaction, so a failure anywhere leaves nothing behind.

A new version is anything that differs from the **current** version: a return to an earlier
text (a revert) is a version with its own changes and alerts. A version that looks broken
(``storage.hold``: a challenge page, a sharp drop in tasks, another document kind) is stored
*held*: its change set is computed, but ``on_held`` is called instead of ``on_change_set``
(the operator is told; subscribers are not) and ``IngestResult.held`` says why.

Races between workers are settled by unique constraints (``series.key``, ``(series_id,
seq)``): the loser gets an ``IntegrityError``, and the whole transaction is retried (up to
``MAX_CONFLICT_RETRIES`` times), re-resolving identity against what the winner committed. On
SQLite the write transaction starts with ``BEGIN IMMEDIATE`` so workers simply queue.

When the previous version was parsed by another ``PARSER_VERSION``, its raw bytes are parsed
again (outside the transaction) before diffing, so parser improvements never show up as
changes to the document.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from parsers.diff import place_of
from parsers.errors import RadarError
from parsers.schema import ParsedDocument
from parsers.schema import Target as TargetModel
from parsers.units_alias import document_scope, scoped_unit_key, scoped_unit_keys, unit_key
from storage.db import write_session
from storage.hold import HELD, hold_reason
from storage.identity import (
    SeriesMatch,
    derive_series_key,
    latest_version,
    newest_versions,
    resolve_series,
)
from storage.models import (
    Change,
    ChangeSet,
    ChangeUnit,
    Fetch,
    Series,
    TargetRow,
    Task,
    TaskUnit,
    Version,
)
from storage.rawstore import get_raw, put_raw

log = logging.getLogger("radar.storage")

DiffFn = Callable[[ParsedDocument, ParsedDocument], list[dict[str, Any]]]
ChangeSetHook = Callable[[Session, int], object]
#: Called with (session, change_set_id, reason) for a held version, in the same transaction.
HeldHook = Callable[[Session, int, str], object]
#: Each conflict means another worker committed first, so a retry sees more; one retry is
#: normally enough, a few guard against a worker losing two keys in a row under load.
MAX_CONFLICT_RETRIES = 3

#: Keys left out of the content hash: they describe the container or the website, not what
#: the document says (a PDF and a DOCX of one text must hash alike).
VOLATILE_KEYS = ("source_format", "published", "attachments", "parser_version")


@dataclass
class IngestResult:
    series_key: str
    series_title: str | None
    version_seq: int
    version_id: int
    #: new_series | new_version | same_content | same_bytes
    status: str
    change_set_id: int | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    match_reason: str = ""
    related_to: int | None = None
    #: Why the version is held from subscribers (None: not held): it looks broken, or the
    #: earlier version could not be re-parsed with the current parser.
    held: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)


def content_hash(parsed: ParsedDocument) -> str:
    """sha256 of the parsed JSON without volatile keys, with sorted keys."""
    data = parsed.to_json_dict()
    for key in VOLATILE_KEYS:
        data.pop(key, None)
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def default_diff(old: ParsedDocument, new: ParsedDocument) -> list[dict[str, Any]]:
    """The contract change objects ``parsers.diff`` finds between two versions."""
    from parsers.diff import diff_documents

    changes: list[dict[str, Any]] = diff_documents(old, new).to_json_dict()["changes"]
    return changes


def _format_of(parsed: ParsedDocument, filename: str | None) -> str | None:
    if parsed.source_format:
        return parsed.source_format
    if filename and "." in filename:
        return filename.rsplit(".", 1)[1].lower()
    return None


def _dec(value: int | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _target_dict(
    target: TargetModel, version_id: int, task_id: int | None, ord_: int
) -> dict[str, Any]:
    return {
        "version_id": version_id,
        "task_id": task_id,
        "ord": ord_,
        "metric": target.metric,
        "value": _dec(target.value),
        "value_max": _dec(target.value_max),
        "unit": target.unit,
        "year": target.year,
        "comparator": target.comparator,
        "text": target.text,
    }


def _add_rows(session: Session, version: Version, parsed: ParsedDocument) -> None:
    """tasks, task_units and targets for ``version``.

    Bulk INSERTs (task ids come back through RETURNING in parameter order) rather than one
    ORM object per row: a 25-task plan is ~100 rows and per-object bookkeeping dominated
    ingest time.
    """
    targets = [_target_dict(g, version.id, None, i) for i, g in enumerate(parsed.goals)]
    units: list[dict[str, Any]] = []
    scope, place = scope_of(parsed), place_of(parsed)
    if parsed.tasks:
        task_ids = session.scalars(
            insert(Task).returning(Task.id, sort_by_parameter_order=True),
            [
                {
                    "version_id": version.id,
                    "ord": i,
                    "task_key": task.id,
                    "number": task.number,
                    "path": list(task.path),
                    "title": task.title,
                    "text": task.text,
                }
                for i, task in enumerate(parsed.tasks)
            ],
        ).all()
        for task_id, task in zip(task_ids, parsed.tasks, strict=True):
            units.extend(
                {
                    "task_id": task_id,
                    "name": u.name,
                    "unit_key": unit_key(u.name),
                    "scoped_key": scoped_unit_key(u.name, scope, place),
                    "role": u.role,
                }
                for u in task.units
            )
            targets.extend(
                _target_dict(t, version.id, task_id, j) for j, t in enumerate(task.targets)
            )
    if units:
        session.execute(insert(TaskUnit), units)
    if targets:
        session.execute(insert(TargetRow), targets)


def _find_task(change: dict[str, Any], doc: ParsedDocument, side: str) -> Any:
    """The task a change is about in one version: by id when the diff gives one, else title."""
    for key in (f"id_{side}", f"{side}_id"):
        tid = change.get(key)
        if tid:
            for task in doc.tasks:
                if task.id == tid:
                    return task
    title = change.get("task")
    if title:
        for task in doc.tasks:
            if task.title == title:
                return task
    return None


def scope_of(doc: ParsedDocument) -> str:
    """The region relative unit names of ``doc`` belong to (区发改委 -> 嘉定区发改委)."""
    return document_scope(doc.issuers, doc.title)


def _change_units(
    change: dict[str, Any],
    new_task: Any,
    old_task: Any,
    place: str | None = None,
    scope: str = "",
) -> list[ChangeUnit]:
    """added/removed units of a change, and the units of its task in either version.

    A unit of a body with two plaques in the document's place (成都: 市经信局 = 市新经济委) is
    stored under the keys of all its names there, so a subscriber to either name matches; a
    unit named relatively (区发改委) under its scoped key (嘉定区发改委) and its bare one.
    """
    units: list[ChangeUnit] = []
    seen: set[tuple[str, str]] = set()
    named: list[tuple[str, str]] = [
        (n, "added") for n in change.get("added") or [] if isinstance(n, str)
    ]
    named += [(n, "removed") for n in change.get("removed") or [] if isinstance(n, str)]
    for task in (new_task, old_task):
        if task is not None:
            named += [(u.name, "task_unit") for u in task.units]
    named += [(n, "task_unit") for n in change.get("units") or [] if isinstance(n, str)]
    for name, relation in named:
        for key in scoped_unit_keys(name, scope, place):
            if (key, relation) not in seen:
                seen.add((key, relation))
                units.append(ChangeUnit(unit_key=key, unit_name=name, relation=relation))
    return units


def _change_rows(
    change_set_id: int, changes: list[dict[str, Any]], old: ParsedDocument, new: ParsedDocument
) -> list[Change]:
    rows: list[Change] = []
    place = place_of(old) or place_of(new)
    scope = scope_of(new) or scope_of(old)
    for i, change in enumerate(changes):
        new_task = _find_task(change, new, "after")
        old_task = _find_task(change, old, "before")
        body = new_task if new_task is not None else old_task
        row = Change(
            change_set_id=change_set_id,
            ord=i,
            kind=str(change.get("kind", "")),
            severity=str(change.get("severity", "info")),
            task_title=change.get("task"),
            task_text=body.text if body is not None else None,
            summary=change.get("summary"),
            payload=change,
        )
        row.units = _change_units(change, new_task, old_task, place, scope)
        rows.append(row)
    return rows


def _unique_key(session: Session, base: str) -> str:
    key, n = base, 1
    while session.scalar(select(Series.id).where(Series.key == key)) is not None:
        n += 1
        key = f"{base}-{n}"
    return key


def _record_fetch(
    session: Session, version: Version, status: str, raw_hash: str, meta: dict[str, Any]
) -> None:
    session.add(
        Fetch(
            url=meta["source_url"],
            filename=meta["filename"],
            raw_hash=raw_hash,
            version_id=version.id,
            etag=meta["etag"],
            last_modified=meta["last_modified"],
            status=status,
        )
    )


def _existing(version: Version, status: str, match_reason: str) -> IngestResult:
    series = version.series
    return IngestResult(
        series_key=series.key,
        series_title=series.title,
        version_seq=version.seq,
        version_id=version.id,
        status=status,
        change_set_id=None,
        changes=[],
        match_reason=match_reason,
        related_to=version.related_to,
    )


class _NeedsBaseline(Exception):
    """The previous version was parsed by another parser version: re-parse it (outside the
    transaction, parsing can take seconds) and start over."""

    def __init__(self, version_id: int, raw_hash: str, filename: str | None) -> None:
        super().__init__(version_id)
        self.version_id, self.raw_hash, self.filename = version_id, raw_hash, filename


def _old_side(
    previous: Version, parsed: ParsedDocument, baselines: dict[int, ParsedDocument | None]
) -> ParsedDocument:
    """The earlier version as the *current* parser reads it.

    Diffing a stored parse from an older parser against a fresh parse would report the
    parser's improvements as changes to the document (false alerts), so when the parser
    versions differ the stored raw bytes are parsed again. If that fails (raw file gone,
    parse error) the stored parse is used, and the caller holds the alerts (see
    :func:`_reparse`).
    """
    if previous.parser_version != parsed.parser_version:
        if previous.id not in baselines:
            raise _NeedsBaseline(previous.id, previous.raw_hash, previous.filename)
        fresh = baselines[previous.id]
        if fresh is not None:
            return fresh
    return ParsedDocument.from_json_dict(previous.parsed)


def _reparse(need: _NeedsBaseline, failures: dict[int, str]) -> ParsedDocument | None:
    """The earlier version parsed again, or None (recorded in ``failures`` and logged): the
    diff then compares against a parse by an older parser and may report the parser's
    changes as the document's, so that change set's alerts are held, not sent."""
    try:
        return parse_file_bytes(get_raw(need.raw_hash), need.filename or "document")
    except (RadarError, OSError) as exc:
        reason = f"the earlier version could not be re-parsed ({type(exc).__name__}: {exc})"
        log.warning("version %s: %s; alerts held", need.version_id, reason)
        failures[need.version_id] = reason
        return None


def _ingest_once(
    session: Session,
    parsed: ParsedDocument,
    raw_hash: str,
    chash: str,
    meta: dict[str, Any],
    series_key: str | None,
    diff: DiffFn,
    hooks: _Hooks,
    baselines: dict[int, ParsedDocument | None],
    failures: dict[int, str],
) -> IngestResult:
    # 1. The same bytes as some series' current version (or a held version after it), in
    #    the requested series when one is named. An *earlier* version's bytes again are a
    #    revert: they go on to become a new version.
    stmt = select(Version).where(Version.raw_hash == raw_hash)
    if series_key:
        stmt = stmt.join(Series, Version.series_id == Series.id).where(Series.key == series_key)
    for same in session.scalars(stmt.order_by(Version.id)):
        if same in newest_versions(session, same.series_id):
            _record_fetch(session, same, "same_bytes", raw_hash, meta)
            return _existing(same, "same_bytes", "same bytes")

    # 2. Which series; this content already its current version (or a held one after it)?
    match: SeriesMatch = resolve_series(
        session, parsed, source_url=meta["source_url"], series_key=series_key
    )
    series = match.series
    if series is not None:
        newest = newest_versions(session, series.id)
        twin = next((v for v in newest if v.content_hash == chash), None)
        if twin is not None:
            _record_fetch(session, twin, "same_content", raw_hash, meta)
            return _existing(twin, "same_content", "same content")

    # 3. A new version (of a new series, perhaps).
    status = "new_version"
    if series is None:
        status = "new_series"
        key = series_key or _unique_key(
            session,
            derive_series_key(match.canonical, source_url=meta["source_url"], content_hash=chash),
        )
        series = Series(
            key=key,
            canonical_title=match.canonical,
            title=parsed.title,
            issuer=parsed.issuers[0] if parsed.issuers else None,
            kind=parsed.kind,
        )
        session.add(series)
        session.flush()
        previous = None
    else:
        previous = latest_version(session, series.id)
    # After the highest seq, held ones included (the baseline may be older than those).
    top = session.scalar(select(func.max(Version.seq)).where(Version.series_id == series.id))
    seq = int(top or 0) + 1
    doc = parsed.to_json_dict()
    published = meta["published"] or parsed.published
    if published and not doc.get("published"):
        doc["published"] = published
    version = Version(
        series_id=series.id,
        seq=seq,
        content_hash=chash,
        raw_hash=raw_hash,
        filename=meta["filename"],
        format=_format_of(parsed, meta["filename"]),
        parsed=doc,
        parser_version=parsed.parser_version,
        title=parsed.title,
        doc_number=parsed.doc_number,
        date=parsed.date,
        published=published,
        kind=parsed.kind,
        source_url=meta["source_url"],
        etag=meta["etag"],
        last_modified=meta["last_modified"],
        match_reason=match.reason,
        related_to=match.related_to.id if match.related_to is not None else None,
    )
    session.add(version)
    session.flush()
    _add_rows(session, version, parsed)

    changes: list[dict[str, Any]] = []
    change_set = ChangeSet(
        series_id=series.id,
        from_version_id=previous.id if previous is not None else None,
        to_version_id=version.id,
        is_new_document=previous is None,
    )
    session.add(change_set)
    session.flush()
    old: ParsedDocument | None = None
    if previous is not None:
        old = _old_side(previous, parsed, baselines)
        changes = list(diff(old, parsed))
        change_set.alert_count = sum(1 for c in changes if c.get("severity") == "alert")
        change_set.info_count = len(changes) - change_set.alert_count
        session.add_all(_change_rows(change_set.id, changes, old, parsed))
    held = hold_reason(old, parsed)
    if held is None and previous is not None and previous.id in failures:
        # The earlier version could not be re-parsed with this parser: its diff may show
        # parser changes, not document changes, so the operator decides.
        held = failures[previous.id]
    if held:
        version.hold_status, version.hold_reason = HELD, held
    elif previous is not None:
        # Keep the series' display title current (the latest good version's).
        series.title = parsed.title or series.title
    session.flush()
    if held:
        if hooks.on_held is not None:
            hooks.on_held(session, change_set.id, held)
    elif hooks.on_change_set is not None:
        hooks.on_change_set(session, change_set.id)
    _record_fetch(session, version, "new_version", raw_hash, meta)
    session.flush()
    return IngestResult(
        series_key=series.key,
        series_title=series.title,
        version_seq=seq,
        version_id=version.id,
        status=status,
        change_set_id=change_set.id,
        changes=changes,
        match_reason=match.reason,
        related_to=version.related_to,
        held=held,
    )


@dataclass(frozen=True)
class _Hooks:
    on_change_set: ChangeSetHook | None
    on_held: HeldHook | None


def ingest(
    session_factory: sessionmaker[Session],
    data: bytes,
    parsed: ParsedDocument,
    *,
    filename: str | None = None,
    source_url: str | None = None,
    series_key: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    published: str | None = None,
    diff: DiffFn | None = None,
    on_change_set: ChangeSetHook | None = None,
    on_held: HeldHook | None = None,
) -> IngestResult:
    """Store ``data`` (already parsed to ``parsed``) atomically; see the module docstring."""
    raw_hash, _ = put_raw(data)
    chash = content_hash(parsed)
    meta = {
        "filename": filename,
        "source_url": source_url,
        "etag": etag,
        "last_modified": last_modified,
        "published": published,
    }
    diff_fn = diff or default_diff
    baselines: dict[int, ParsedDocument | None] = {}
    failures: dict[int, str] = {}
    conflicts = 0
    while True:
        try:
            with write_session(session_factory) as session:
                return _ingest_once(
                    session,
                    parsed,
                    raw_hash,
                    chash,
                    meta,
                    series_key,
                    diff_fn,
                    _Hooks(on_change_set, on_held),
                    baselines,
                    failures,
                )
        except IntegrityError:
            conflicts += 1
            if conflicts > MAX_CONFLICT_RETRIES:
                raise
        except _NeedsBaseline as need:
            if need.version_id in baselines:  # pragma: no cover - defensive
                raise
            baselines[need.version_id] = _reparse(need, failures)


def parse_file_bytes(data: bytes, filename: str) -> ParsedDocument:
    """Parse untrusted bytes in the sandbox (``parsers.sandbox.parse_untrusted``)."""
    from parsers.sandbox import parse_untrusted

    parsed: ParsedDocument = parse_untrusted(data, filename)
    return parsed
