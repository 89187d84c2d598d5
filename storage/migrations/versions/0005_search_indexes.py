"""keyword search indexes: SQLite FTS5 trigram tables, PostgreSQL pg_trgm GIN indexes

For the "contains" searches of the web app and the keyword feed (``storage.search``): task
title/text, change summary/task title/task text, target metric, version 文号/title.

SQLite: one external-content FTS5 table per searched table (``search_<table>``, tokenizer
``trigram``), filled with ``rebuild`` and kept in step by AFTER INSERT/UPDATE/DELETE triggers
(cascaded deletes fire them too). A later batch-mode migration that recreates one of these
tables drops its triggers: it must create them again (``_create_sqlite`` below).

PostgreSQL: ``CREATE EXTENSION pg_trgm`` in a savepoint; when refused (not installed, no
privilege) one warning line and no indexes: searches then scan, with the same results.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 21:30:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import Connection, exc, text

from storage.search import PREFIX, SEARCHED

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("radar.storage")


def _create_sqlite(conn: Connection, table: str, columns: tuple[str, ...]) -> None:
    fts = PREFIX + table
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
        "content_rowid='id', tokenize='trigram')"
    )
    conn.exec_driver_sql(
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    conn.exec_driver_sql(
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    conn.exec_driver_sql(
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _create_postgresql(conn: Connection) -> None:
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0]
        log.warning(
            "migration 0005: pg_trgm extension unavailable (%s); keyword search will scan "
            "without an index (same results, slower). Install postgresql-contrib or run "
            "CREATE EXTENSION pg_trgm as a superuser, then re-create the indexes.",
            reason,
        )
        return
    for table, columns in SEARCHED.items():
        for column in columns:
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {PREFIX}{table}_{column}_trgm ON {table} "
                f"USING gin ({column} gin_trgm_ops)"
            )
    if not conn.execute(text("SELECT show_trgm('数据交易') <> '{}'")).scalar():
        ctype = conn.execute(text("SHOW lc_ctype")).scalar()
        log.warning(
            "migration 0005: this database's LC_CTYPE is %s, under which pg_trgm sees no "
            "letters in Chinese text: searches for Chinese words will scan. Create the "
            "database with a UTF-8 ctype (initdb --locale=C --lc-ctype=C.UTF-8).",
            ctype,
        )


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for table, columns in SEARCHED.items():
            _create_sqlite(conn, table, columns)
    elif conn.dialect.name == "postgresql":
        _create_postgresql(conn)


def downgrade() -> None:
    conn = op.get_bind()
    for table, columns in SEARCHED.items():
        if conn.dialect.name == "sqlite":
            for suffix in ("ai", "ad", "au"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {PREFIX}{table}_{suffix}")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {PREFIX}{table}")
        elif conn.dialect.name == "postgresql":
            for column in columns:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {PREFIX}{table}_{column}_trgm")
