"""Shared fixtures: one suite, two databases.

* ``db_url``          — URL of a fresh, migrated, empty database for this test. SQLite by
  default (a copy of a template migrated once per session, under ``tmp_path``); when
  ``TEST_DATABASE_URL`` is set (``tests/pg_server.py`` does that), a PostgreSQL database
  created for this test session and emptied (TRUNCATE) before each test.
* ``radar_home``      — a temporary ``RADAR_HOME`` (raw files, outbox) with
  ``RADAR_DATABASE_URL`` pointing at ``db_url``, so CLI commands and ``open_db()`` use the
  test database; SMTP is unset (emails go to the .eml outbox).
* ``engine`` / ``session_factory`` — SQLAlchemy engine and sessionmaker on ``db_url``
  (they imply ``radar_home``).

Heavy imports happen inside the fixtures so parser-only tests stay light.
"""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_ENV = "TEST_DATABASE_URL"


def _interrupted(signum: int, _frame: object) -> None:
    """SIGTERM (``timeout``, CI cancelling a job) ends the session like Ctrl-C does: the
    fixtures' teardowns run (serves and their Prefect servers are reaped) and so do the
    atexit handlers (Prefect stops its ephemeral server). Python's default for SIGTERM
    ends the process at once and left those servers running."""
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _interrupted)


def pg_url() -> str | None:
    """The PostgreSQL server URL the suite runs against, if any."""
    return os.environ.get(PG_ENV) or None


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    """A database of its own for this test session on the TEST_DATABASE_URL server."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import dispose_all, make_engine, upgrade

    base = make_url(pg_url() or "")
    name = f"radar_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        created = True
    except Exception:  # no CREATEDB privilege: use the given database, emptied per test
        url = base.render_as_string(hide_password=False)
        created = False
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    dispose_all()
    if created:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test gets a copy (much faster than migrating)."""
    from storage.db import make_engine, upgrade

    path = tmp_path_factory.mktemp("template") / "radar.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # checkpoints the WAL into the main file
    return path


def _truncate_all(url: str) -> None:
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.models import Base

    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if pg_url():
        url: str = request.getfixturevalue("_pg_database")
        _truncate_all(url)
        return url
    template: Path = request.getfixturevalue("_sqlite_template")
    target = tmp_path / "db" / "radar.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def radar_home(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("RADAR_HOME", str(home))
    monkeypatch.setenv("RADAR_DATABASE_URL", db_url)
    monkeypatch.delenv("RADAR_SMTP_URL", raising=False)
    yield home
    from storage.db import dispose_all

    dispose_all()


@pytest.fixture
def engine(db_url: str, radar_home: Path) -> Iterator[Any]:
    """Depends on ``radar_home`` so raw files written by ingest never land in ~/.radar."""
    from storage.db import make_engine

    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Any) -> Any:
    from storage.db import session_factory as make_factory

    return make_factory(engine)


@pytest.fixture(autouse=True)
def _reap_serve_processes() -> Iterator[None]:
    """After each test, kill any ``radar serve`` it started that still runs, and that
    serve's Prefect server (see tests/flows/service_helpers.py)."""
    yield
    from tests.flows.service_helpers import reap_all

    reap_all()
