"""units scoped by region: task_units.scoped_key, scoped change_units rows, subscriptions

Two districts' 区发改委 are two bodies. ``task_units.scoped_key`` is a unit's identity with its
region (区发改委 in a 嘉定区 document -> 嘉定区发改委; ``parsers.units_alias.scoped_unit_key``),
``change_units`` gain a row per scoped key (the place-free rows stay, for subscriptions to a
bare 区发改委), and a subscription's ``unit_key`` becomes the scoped key of the name it was
made for. Existing rows are backfilled from each stored version's issuers and title.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 21:00:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from alembic import op

from parsers.units_alias import (
    document_place,
    document_scope,
    scoped_unit_key,
    scoped_unit_keys,
    unit_key,
)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000

versions = sa.table("versions", sa.column("id", sa.Integer), sa.column("parsed", sa.JSON))
tasks = sa.table("tasks", sa.column("id", sa.Integer), sa.column("version_id", sa.Integer))
task_units = sa.table(
    "task_units",
    sa.column("id", sa.Integer),
    sa.column("task_id", sa.Integer),
    sa.column("name", sa.Text),
    sa.column("scoped_key", sa.String),
)
change_sets = sa.table(
    "change_sets",
    sa.column("id", sa.Integer),
    sa.column("from_version_id", sa.Integer),
    sa.column("to_version_id", sa.Integer),
)
changes = sa.table(
    "changes", sa.column("id", sa.Integer), sa.column("change_set_id", sa.Integer)
)
change_units = sa.table(
    "change_units",
    sa.column("id", sa.Integer),
    sa.column("change_id", sa.Integer),
    sa.column("unit_key", sa.String),
    sa.column("unit_name", sa.Text),
    sa.column("relation", sa.String),
)
subscriptions = sa.table(
    "subscriptions",
    sa.column("id", sa.Integer),
    sa.column("unit", sa.Text),
    sa.column("unit_key", sa.String),
)


def _where(parsed: dict[str, Any] | None) -> tuple[str, str | None]:
    """(region scope, alias-table place) of a stored version, as ingest computes them."""
    p = parsed or {}
    issuers = [i for i in p.get("issuers") or [] if isinstance(i, str)]
    title = p.get("title") if isinstance(p.get("title"), str) else None
    text = "\n".join(
        str(item.get("text") or "")
        for item in [*(p.get("tasks") or []), *(p.get("goals") or [])]
        if isinstance(item, dict)
    )
    return document_scope(issuers, title), document_place(issuers, title, p.get("doc_number"), text)


def _scopes(conn: sa.Connection) -> dict[int, tuple[str, str | None]]:
    """version id -> (scope, place), for versions whose units can be scoped at all."""
    out: dict[int, tuple[str, str | None]] = {}
    # yield_per on the statement: on the connection it would stick to every later one
    stmt = sa.select(versions.c.id, versions.c.parsed).execution_options(yield_per=500)
    rows = conn.execute(stmt)
    for vid, parsed in rows:
        where = _where(parsed)
        if where != ("", None):
            out[vid] = where
    return out


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), _BATCH):
        yield rows[i : i + _BATCH]


def _backfill_task_units(conn: sa.Connection, scopes: dict[int, tuple[str, str | None]]) -> None:
    conn.execute(task_units.update().values(scoped_key=sa.text("unit_key")))
    key = lru_cache(maxsize=None)(scoped_unit_key)
    updates: list[dict[str, Any]] = []
    stmt = sa.select(task_units.c.id, task_units.c.name, tasks.c.version_id).join(
        tasks, tasks.c.id == task_units.c.task_id
    )
    for tu_id, name, vid in conn.execute(stmt):
        scope, place = scopes.get(vid, ("", None))
        if scope:
            updates.append({"tu_id": tu_id, "k": key(name, scope, place)})
    update = (
        task_units.update()
        .where(task_units.c.id == sa.bindparam("tu_id"))
        .values(scoped_key=sa.bindparam("k"))
    )
    for chunk in _chunks(updates):
        conn.execute(update, chunk)


def _backfill_change_units(conn: sa.Connection, scopes: dict[int, tuple[str, str | None]]) -> None:
    stmt = (
        sa.select(
            change_units.c.change_id,
            change_units.c.unit_key,
            change_units.c.unit_name,
            change_units.c.relation,
            change_sets.c.to_version_id,
            change_sets.c.from_version_id,
        )
        .join(changes, changes.c.id == change_units.c.change_id)
        .join(change_sets, change_sets.c.id == changes.c.change_set_id)
    )
    have: set[tuple[int, str, str]] = set()
    wanted: dict[tuple[int, str, str], str] = {}
    for change_id, key, name, relation, to_vid, from_vid in conn.execute(stmt):
        have.add((change_id, key, relation))
        new, old = scopes.get(to_vid, ("", None)), scopes.get(from_vid, ("", None))
        scope, place = new[0] or old[0], old[1] or new[1]  # as ingest's _change_rows
        if scope:
            for k in scoped_unit_keys(name, scope, place):
                wanted.setdefault((change_id, k, relation), name)
    rows = [
        {"change_id": c, "unit_key": k, "unit_name": n, "relation": r}
        for (c, k, r), n in wanted.items()
        if (c, k, r) not in have
    ]
    for chunk in _chunks(rows):
        conn.execute(change_units.insert(), chunk)


def _rekey_subscriptions(conn: sa.Connection, key: Any) -> None:
    rows = conn.execute(
        sa.select(subscriptions.c.id, subscriptions.c.unit).where(subscriptions.c.unit.is_not(None))
    ).all()
    update = (
        subscriptions.update()
        .where(subscriptions.c.id == sa.bindparam("sid"))
        .values(unit_key=sa.bindparam("k"))
    )
    for chunk in _chunks([{"sid": sid, "k": key(unit)} for sid, unit in rows if unit]):
        conn.execute(update, chunk)


def upgrade() -> None:
    with op.batch_alter_table("task_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scoped_key", sa.String(length=200), nullable=True))
    conn = op.get_bind()
    scopes = _scopes(conn)
    _backfill_task_units(conn, scopes)
    _backfill_change_units(conn, scopes)
    _rekey_subscriptions(conn, scoped_unit_key)
    with op.batch_alter_table("task_units", schema=None) as batch_op:
        batch_op.alter_column("scoped_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_index(batch_op.f("ix_task_units_scoped_key"), ["scoped_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_units_scoped_key"))
        batch_op.drop_column("scoped_key")
    # The scoped change_units rows stay: a place-free subscription never matches them.
    _rekey_subscriptions(op.get_bind(), unit_key)
