"""Engine, sessions and migrations: the one way every part of radar reaches the database.

SQLite (the default, a file in ``RADAR_HOME``) gets WAL, foreign keys and a 30 s busy
timeout on every connection, and takes its write lock at the *start* of a write
transaction (``BEGIN IMMEDIATE`` via :func:`write_session`): with a deferred BEGIN, two
writers that both read first fail with ``SQLITE_BUSY_SNAPSHOT`` no matter the timeout.
PostgreSQL is reached with ``postgresql+psycopg://`` and relies on unique constraints.

The package migrates itself: :func:`upgrade` runs ``alembic upgrade head`` through the
Alembic API with the script directory inside this package, so no ``alembic.ini`` is needed
in the working directory.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.settings import load_settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Execution option that asks SQLite for ``BEGIN IMMEDIATE`` (ignored by other databases).
IMMEDIATE = "radar_sqlite_immediate"

_cache: dict[str, tuple[Engine, sessionmaker[Session]]] = {}
_cache_lock = threading.Lock()


def _normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs (the locked driver)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own implicit BEGIN is
        # always deferred and cannot be made IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # The busy timeout first: on a new file, switching to WAL needs the database lock, and
        # while another process's first migration holds it the switch must wait, not fail
        # at once with "database is locked" (test_migrations' two-process test, under load).
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # WAL + NORMAL: a commit is durable against a crash of the process, not of the OS
        # (the documented trade-off); fsync happens at checkpoints.
        cur.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB page cache (default 2 MiB): at 100k versions the random-key indexes
        # (hashes, series keys) no longer fit the default and every insert rereads pages.
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: ``load_settings().database_url``).

    For SQLite the parent directory is created and the connection pragmas installed.
    """
    raw = _normalize_url(url or load_settings().database_url)
    parsed = make_url(raw)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise ValueError(f"{raw}: use a SQLite file, not an in-memory database")
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(raw, connect_args={"timeout": 30})
        _install_sqlite_pragmas(engine)
        return engine
    return create_engine(raw, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (results outlive the transaction)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*['\"]?([\w-]+|None)", re.M)


def _script_head() -> str | None:
    """The single head revision, read from the migration files without importing alembic
    (alembic pulls in mako and pygments: ~0.4 s of every one-shot command's start-up).
    None when the files do not form one simple chain; then alembic decides."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text("utf-8")
        found: dict[str, str] = {m[1]: m[2] for m in _REVISION_LINE.finditer(text)}
        if "revision" in found:
            down = found.get("down_revision")
            revisions[found["revision"]] = None if down in (None, "None") else down
    heads = set(revisions) - {d for d in revisions.values() if d}
    return heads.pop() if len(heads) == 1 else None


def _recorded_head(conn: Any) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        conn.rollback()
        return None
    return rows[0] if len(rows) == 1 else None


def _at_head(conn: Any, cfg: Any) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    return set(MigrationContext.configure(conn).get_current_heads()) == heads


def upgrade(engine: Engine | str) -> None:
    """``alembic upgrade head`` on ``engine`` (or a URL). Idempotent and cheap at head.

    The revision is first checked with a plain read, so a migrated database costs no write
    lock. Otherwise the upgrade runs in one transaction holding a lock that serializes
    concurrent first runs (two workers starting at once): ``BEGIN IMMEDIATE`` on SQLite,
    an advisory lock on PostgreSQL; the loser then finds the schema at head.
    """
    own = isinstance(engine, str)
    eng = make_engine(engine) if isinstance(engine, str) else engine
    try:
        head = _script_head()
        if head is not None:
            with eng.connect() as conn:
                if _recorded_head(conn) == head:
                    return
        from alembic import command

        cfg = _alembic_config(eng)
        with eng.connect() as conn:
            if _at_head(conn, cfg):
                return
        with eng.connect() as conn:
            conn = conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(724917)")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        from storage.search import forget

        forget(eng)  # the search indexes may be new
    finally:
        if own:
            eng.dispose()


def open_db(url: str | None = None) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory for ``url`` (default from settings), migrated on first use.

    Cached per URL for the life of the process, so commands and flows can call it freely.
    """
    key = _normalize_url(url or load_settings().database_url)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is None:
            engine = make_engine(key)
            upgrade(engine)
            hit = (engine, session_factory(engine))
            _cache[key] = hit
        return hit


def dispose_all() -> None:
    """Close every cached engine (tests; before dropping a database)."""
    with _cache_lock:
        for engine, _ in _cache.values():
            engine.dispose()
        _cache.clear()


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error.

    On SQLite it begins with ``BEGIN IMMEDIATE`` so concurrent writers queue on the busy
    timeout instead of failing; elsewhere it is a plain transaction.
    """
    with factory() as session:
        session.connection(execution_options={IMMEDIATE: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
