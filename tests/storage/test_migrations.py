"""Alembic upgrade from an empty database, on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from storage.db import make_engine, upgrade
from storage.models import Base
from storage.search import include_object
from tests.conftest import pg_url

EXPECTED = {
    "sources", "series", "versions", "fetches", "tasks", "task_units", "targets",
    "change_sets", "changes", "change_units", "fetch_state", "subscriptions",
    "signup_events", "deliveries",
}  # fmt: skip


def _head() -> str:
    """The newest migration (one head: the chain must not fork)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.db import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    [head] = ScriptDirectory.from_config(cfg).get_heads()
    return str(head)


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database (its own PostgreSQL database when the suite runs on PG)."""
    base = pg_url()
    if not base:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    name = f"radar_empty_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_from_empty_creates_every_table_and_is_idempotent(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        assert not (set(inspect(engine).get_table_names()) & EXPECTED)
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert tables >= EXPECTED | {"alembic_version"}
        assert {t.name for t in Base.metadata.sorted_tables} == EXPECTED
        upgrade(engine)  # second run: nothing to do, no error
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert version == _head()
        uniques = {
            tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("versions")
        }
        # 0002 dropped (series_id, content_hash): a revert is a new version.
        assert ("series_id", "seq") in uniques
        assert ("series_id", "content_hash") not in uniques
    finally:
        engine.dispose()


def test_migration_matches_models(empty_url: str) -> None:
    """Autogenerate finds nothing to do: the migration and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            # the search indexes (storage.search) are deliberately outside the models
            opts = {"compare_type": False, "include_object": include_object}
            ctx = MigrationContext.configure(conn, opts=opts)
            diffs = compare_metadata(ctx, Base.metadata)
        assert diffs == []
    finally:
        engine.dispose()


def test_upgrade_accepts_a_url_and_sqlite_pragmas_apply(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'radar.db'}"
    upgrade(url)  # creates the parent directory
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        engine.dispose()


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        make_engine("sqlite:///:memory:")


def _upgrade_worker(url: str, barrier: object, out: object) -> None:
    try:
        barrier.wait(timeout=60)  # type: ignore[attr-defined]
        upgrade(url)
        out.put("ok")  # type: ignore[attr-defined]
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


def test_two_processes_migrating_a_fresh_database_at_once(empty_url: str) -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_upgrade_worker, args=(empty_url, barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert results == ["ok", "ok"]
    engine = make_engine(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) >= EXPECTED
    finally:
        engine.dispose()
