"""Substring search ("contains", CJK text has no spaces to split words on) served by an index.

``LIKE '%…%'`` is what the pages mean: a literal substring, ASCII case-insensitive on SQLite,
case-sensitive on PostgreSQL. Unindexed it scans every row (the keyword feed read 200k change
rows per request at 10k series / 100k versions). Migration 0005 builds, per searched column:

* SQLite: an FTS5 table with the ``trigram`` tokenizer (``search_<table>``, external content:
  it stores only the index, kept in step by triggers). A phrase query finds the rows holding
  every three-character window of the text, a superset of the ``LIKE`` matches (its case
  folding is wider than ``LIKE``'s ASCII one), so the ``LIKE`` is applied again on those
  rows: results are exactly the unindexed ones. Fewer than three characters have no trigram:
  such searches scan as before.
* PostgreSQL: ``pg_trgm`` GIN indexes (``search_<table>_<column>_trgm``), which serve ``LIKE``
  itself. Without the extension (not installed, no privilege) the migration logs one line and
  searches scan. pg_trgm only sees letters the database's ``LC_CTYPE`` calls letters: with
  ``C`` (``initdb --no-locale``) Chinese text yields no trigrams, so create the database with
  a UTF-8 ctype (``initdb --locale=C --lc-ctype=C.UTF-8``); the migration says so in its log.

The search objects are not in :mod:`storage.models` (SQLAlchemy has no FTS5 tables), so
:func:`include_object` keeps them out of autogenerate's comparison.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

#: table -> the columns searched with "contains" (an FTS5 table / GIN indexes each)
SEARCHED: dict[str, tuple[str, ...]] = {
    "tasks": ("title", "text"),
    "changes": ("summary", "task_title", "task_text"),
    "targets": ("metric",),
    "versions": ("doc_number", "title"),
}
PREFIX = "search_"
#: trigram windows: a shorter search string cannot use the index
MIN_INDEXED = 3
#: :func:`rare`'s default: below this many matching rows, fetching them by index beats probing
#: each series' latest version (10k series: ~50k task rows)
RARE_BELOW = 10_000


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: the search tables, their shadow tables and indexes are ours alone."""
    return not (name or "").startswith(PREFIX)


def like_pattern(text_: str) -> str:
    """``%text%`` with LIKE's wildcards escaped (escape character ``\\``)."""
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: Any, text_: str) -> ColumnElement[bool]:
    """``column LIKE '%text%'`` (literal text): today's semantics, which the index must keep."""
    return column.like(like_pattern(text_), escape="\\")  # type: ignore[no-any-return]


#: engine -> which tables have a usable search index (probed once per engine)
_PROBED: weakref.WeakKeyDictionary[Engine, dict[str, bool]] = weakref.WeakKeyDictionary()


def _probe(session: Session) -> dict[str, bool]:
    """Which tables have a usable index (cached per engine: migrations run before serving)."""
    bind = session.get_bind()
    engine: Engine = bind.engine if isinstance(bind, Connection) else bind
    cached = _PROBED.get(engine)
    if cached is not None:
        return cached
    dialect = engine.dialect.name
    if dialect == "sqlite":
        names = set(
            session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")).all()
        )
        found = {t: PREFIX + t in names for t in SEARCHED}
    elif dialect == "postgresql":
        names = set(
            session.scalars(
                text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'search\\_%'")
            ).all()
        )
        # Under LC_CTYPE=C pg_trgm sees no letters in Chinese: such an index cannot serve.
        cjk = bool(names) and bool(session.scalar(text("SELECT show_trgm('数据交易') <> '{}'")))
        found = {
            t: cjk and all(f"{PREFIX}{t}_{c}_trgm" in names for c in cols)
            for t, cols in SEARCHED.items()
        }
    else:
        found = dict.fromkeys(SEARCHED, False)
    _PROBED[engine] = found
    return found


def forget(engine: Engine) -> None:
    """Probe again on next use (after a migration)."""
    _PROBED.pop(engine, None)


def indexed(session: Session, model: Any, text_: str) -> bool:
    """Can an index find the rows of ``model`` containing ``text_``? (Three characters at
    least; otherwise, or without the index, a caller keeps its scanning plan.)"""
    return len(text_) >= MIN_INDEXED and _probe(session).get(model.__tablename__, False)


def _phrase(text_: str) -> str:
    return '"' + text_.replace('"', '""') + '"'


def _candidates(name: str, text_: str) -> Select[Any]:
    """Rowids of the FTS5 table ``search_<name>`` holding every trigram of ``text_``."""
    return (
        select(literal_column("rowid"))
        .select_from(table(PREFIX + name))
        .where(literal_column(PREFIX + name).op("MATCH")(_phrase(text_)))
    )


def rare(session: Session, model: Any, text_: str, limit: int | None = None) -> bool:
    """Do fewer than ``limit`` rows of ``model`` contain ``text_`` (by the index)?

    Looking up an index's matches costs per match: for a word in every fifth task (100k rows
    at 100k versions) a caller that only needs a few thousand rows (each series' latest
    version) is faster probing those. Counting stops at ``limit``, so asking is cheap.
    """
    if not indexed(session, model, text_):
        return False
    limit = limit or RARE_BELOW
    if session.get_bind().dialect.name == "sqlite":
        probe = _candidates(model.__tablename__, text_).limit(limit)
    else:
        probe = matching(session, model, text_).limit(limit)
    found = session.scalar(select(func.count()).select_from(probe.subquery())) or 0
    return found < limit


def matching(session: Session, model: Any, text_: str, column: Any = None) -> Select[Any]:
    """``column`` (default: the id) of ``model``'s rows where a searched column contains
    ``text_``.

    SQLite: the FTS5 phrase query narrows to candidates by index, the LIKE decides (see the
    module docstring). PostgreSQL: the LIKE alone (the GIN indexes serve it, an OR of columns
    as a BitmapOr). Use when :func:`indexed`; it is correct, only slow, otherwise.
    """
    name = model.__tablename__
    likes = or_(*(contains(getattr(model, c), text_) for c in SEARCHED[name]))
    stmt = select(model.id if column is None else column).where(likes)
    if session.get_bind().dialect.name != "sqlite" or not indexed(session, model, text_):
        return stmt
    return stmt.where(model.id.in_(_candidates(name, text_)))
