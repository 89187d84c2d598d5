"""Held versions: a new version that looks broken is stored but kept from subscribers.

A site that serves a WAF challenge page ("安全验证") at a document URL, a template change that
hides most of the body, or an error page that parses as another kind of document would
otherwise mail every subscriber "4项任务删除". Such a version is stored (``hold_status =
'held'`` with its reason), its change set is computed but no alert is queued, the operator
is told (``on_held`` hook), and ``radar held release|discard`` decides. A held or discarded
version is never the baseline the next version is compared with, so the fixed page that
follows is compared with the last good version. The rules are data
(``storage/data/hold.toml``).
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.schema import ParsedDocument
from storage.errors import StorageError, VersionNotFound
from storage.models import ChangeSet, Version

RULES_FILE = Path(__file__).with_name("data") / "hold.toml"
HELD, RELEASED, DISCARDED = "held", "released", "discarded"
#: Versions that never serve as the baseline of the next one.
NOT_BASELINE = (HELD, DISCARDED)


class NotHeld(StorageError):
    """The version given to ``radar held release|discard`` is not held."""


@dataclass(frozen=True)
class _Rules:
    markers: tuple[str, ...]
    scan_chars: int
    max_tasks: int
    min_before: int
    keep_ratio: float
    compatible: frozenset[frozenset[str]]


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    return _Rules(
        markers=tuple(_fold(m) for m in data["challenge"]["markers"]),
        scan_chars=int(data["challenge"]["scan_chars"]),
        max_tasks=int(data["challenge"]["max_tasks"]),
        min_before=int(data["drop"]["min_before"]),
        keep_ratio=float(data["drop"]["keep_ratio"]),
        compatible=frozenset(frozenset(p) for p in data["kinds"]["compatible"]),
    )


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _leading_text(doc: ParsedDocument, limit: int) -> str:
    parts: list[str] = [n.title for n in doc.outline]
    parts += [t.text for t in doc.tasks]
    parts += [g.text for g in doc.goals]
    return _fold(" ".join(parts))[:limit]


def challenge_marker(doc: ParsedDocument) -> str | None:
    """The challenge/error-page marker ``doc`` shows, if any."""
    rules = _rules()
    title = _fold(doc.title or "")
    for marker in rules.markers:
        if marker in title:
            return marker
    if len(doc.tasks) > rules.max_tasks:
        return None
    text = _leading_text(doc, rules.scan_chars)
    return next((m for m in rules.markers if m in text), None)


def hold_reason(previous: ParsedDocument | None, new: ParsedDocument) -> str | None:
    """Why ``new`` looks broken rather than changed (None: it looks like a real version)."""
    marker = challenge_marker(new)
    if marker:
        return f"looks like a challenge or error page ({marker!r})"
    if previous is None:
        return None
    rules = _rules()
    before, after = len(previous.tasks), len(new.tasks)
    if before > 0 and after == 0:
        return f"parsed with no tasks (previous version had {before})"
    if before >= rules.min_before and after < before * rules.keep_ratio:
        return f"tasks dropped from {before} to {after}"
    kinds = frozenset({previous.kind, new.kind})
    if previous.kind != new.kind and kinds not in rules.compatible:
        return f"document kind changed from {previous.kind} to {new.kind}"
    return None


def held_versions(session: Session) -> list[Version]:
    """Every version waiting for the operator, oldest first."""
    return list(session.scalars(select(Version).where(Version.hold_status == HELD)))


def _held(session: Session, version_id: int) -> Version:
    version = session.get(Version, version_id)
    if version is None:
        raise VersionNotFound(f"version id {version_id}: no such version")
    if version.hold_status != HELD:
        raise NotHeld(f"version id {version_id} is not held (status {version.hold_status!r})")
    return version


def release(session: Session, version_id: int) -> int:
    """Release a held version: it becomes the series' current version; returns its change
    set id (the caller queues the alerts). Refused when a newer good version exists: its
    changes were computed against another baseline and would mislead."""
    version = _held(session, version_id)
    newer = session.scalar(
        select(Version.seq).where(
            Version.series_id == version.series_id,
            Version.seq > version.seq,
            Version.hold_status.is_(None) | Version.hold_status.not_in(NOT_BASELINE),
        )
    )
    if newer is not None:
        raise NotHeld(
            f"version id {version_id}: version {newer} of the series came later; discard it"
        )
    change_set_id = session.scalar(
        select(ChangeSet.id).where(ChangeSet.to_version_id == version.id)
    )
    if change_set_id is None:  # pragma: no cover - every stored version has one
        raise VersionNotFound(f"version id {version_id} has no change set")
    version.hold_status = RELEASED
    if version.title:
        version.series.title = version.title
    return int(change_set_id)


def discard(session: Session, version_id: int) -> None:
    """Discard a held version: kept for the record, never alerted, never a baseline."""
    _held(session, version_id).hold_status = DISCARDED
