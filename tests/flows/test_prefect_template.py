"""The kept Prefect database a new serve home starts from, and the stale-server stop."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from flows import prefect_template
from flows.service import SERVER_PID_FILE, stop_stale_server


@pytest.fixture
def template_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "templates"
    monkeypatch.setenv("RADAR_PREFECT_TEMPLATE_DIR", str(root))
    for name in (
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
        "PREFECT_API_DATABASE_CONNECTION_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return root


def _migrated_home(home: Path) -> Path:
    """A Prefect home as a first server start leaves it: the database in WAL mode with
    rows still in the log, and the block registration memo."""
    home.mkdir(parents=True)
    db = sqlite3.connect(home / "prefect.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # keep the rows in the log, as a live server
    db.execute("CREATE TABLE alembic_version (version_num TEXT)")
    db.execute("INSERT INTO alembic_version VALUES ('head-of-this-prefect')")
    db.commit()
    (home / "memo_store.toml").write_text('block_auto_registration = "abc"\n')
    return home


def test_a_fresh_home_starts_from_the_kept_database(template_root: Path, tmp_path: Path) -> None:
    first = _migrated_home(tmp_path / "first")
    assert prefect_template.save_template(first)
    assert not prefect_template.save_template(first)  # one template per Prefect version
    kept = prefect_template.template_dir()
    assert kept.parent == template_root and kept.name.startswith("prefect-")

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert prefect_template.is_fresh(fresh)
    assert prefect_template.seed_home(fresh)
    with closing(sqlite3.connect(fresh / "prefect.db")) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("head-of-this-prefect",)
        ]
    assert (fresh / "memo_store.toml").read_text() == 'block_auto_registration = "abc"\n'
    assert (fresh / "memo_store.toml").stat().st_mode & 0o777 == 0o600
    assert not prefect_template.seed_home(fresh)  # a home with a database is left alone
    assert sorted(p.name for p in fresh.iterdir()) == [
        "memo_store.toml",
        "prefect.db",
        prefect_template.MIGRATED,
    ]


def test_the_migration_check_is_skipped_only_for_a_database_this_prefect_migrated(
    template_root: Path, tmp_path: Path
) -> None:
    home = _migrated_home(tmp_path / "home")
    assert not prefect_template.migrated_already(home)  # nothing recorded: let it check
    prefect_template.mark_migrated(home)
    assert prefect_template.migrated_already(home)
    (home / prefect_template.MIGRATED).write_text("2.0.0\n")  # another Prefect migrated it
    assert not prefect_template.migrated_already(home)
    prefect_template.mark_migrated(home)
    (home / "prefect.db").unlink()  # a new database is migrated by the server
    assert not prefect_template.migrated_already(home)


def test_nothing_is_seeded_without_a_template_or_with_another_database(
    template_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert not prefect_template.seed_home(home)  # no template yet: the server migrates
    assert prefect_template.save_template(_migrated_home(tmp_path / "first"))
    monkeypatch.setenv("PREFECT_SERVER_DATABASE_CONNECTION_URL", "postgresql+asyncpg://x/y")
    assert not prefect_template.is_fresh(home)
    assert not prefect_template.seed_home(home)
    assert not (home / "prefect.db").exists()


def _sleeper(*argv: str) -> subprocess.Popen[bytes]:
    code = "import time; time.sleep(120)"
    return subprocess.Popen([sys.executable, "-c", code, *argv], start_new_session=True)


def test_a_server_left_by_a_killed_serve_is_stopped(tmp_path: Path) -> None:
    server = _sleeper("prefect", "server", "start")  # what the pid file's process runs
    try:
        deadline = time.monotonic() + 30
        while b"start" not in Path(f"/proc/{server.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (tmp_path / SERVER_PID_FILE).write_text(f"{server.pid}\n")
        assert stop_stale_server(tmp_path, timeout=10)
        assert server.wait(timeout=10) is not None
        assert not (tmp_path / SERVER_PID_FILE).exists()
    finally:
        server.kill()
        server.wait()


def test_a_pid_file_naming_another_program_kills_nothing(tmp_path: Path) -> None:
    other = _sleeper("something", "else")
    try:
        (tmp_path / SERVER_PID_FILE).write_text(f"{other.pid}\n")
        assert not stop_stale_server(tmp_path, timeout=1)
        assert other.poll() is None
        assert not (tmp_path / SERVER_PID_FILE).exists()
    finally:
        other.kill()
        other.wait()


def test_the_stop_watchdog_is_cancelled_once_the_stop_is_done() -> None:
    """serve_forever arms it when a stop begins and cancels it when the stop is done, so a
    caller that goes on after serve returned is never ended by it."""
    from flows import service

    service.arm_stop_watchdog(grace=0.2)
    service.disarm_stop_watchdog()
    time.sleep(0.5)  # past the grace: had it fired, this process would have exited
    assert service._stopping["timer"] is None
