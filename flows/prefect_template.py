"""A migrated Prefect database to start a new ``PREFECT_HOME`` from.

The first ``prefect server start`` in a new home creates its SQLite database, runs every one
of Prefect's migrations (it has no "create at head" shortcut) and registers the block types:
~5 s of CPU on top of the ~3 s a later start costs (BENCHMARKS.md, "Command line"). What that
leaves in the database is the same for every home of one Prefect version — the alembic
revision and the registered block types and schemas, nothing else (no runs, no deployments,
no identity) — so ``radar serve`` copies a kept one into a home that has no database yet,
with ``memo_store.toml``, which tells Prefect the block registration is done.

The template is kept per Prefect version under ``<venv>/share/policy-radar/`` (or
``RADAR_PREFECT_TEMPLATE_DIR``): ``make install`` builds it (``python -m
flows.prefect_template``), and a serve that had to migrate a fresh home keeps its database as
the template right after the server answered, before anything else wrote to it. A home whose
Prefect database is not the default SQLite file (a PostgreSQL connection URL) is left alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

log = logging.getLogger("radar.serve")

DATABASE = "prefect.db"
MEMO = "memo_store.toml"
#: The Prefect version whose migrations the home's database is known to be at: written
#: when a server of that version answered on it (it migrates at start) or the template was
#: copied in. While it matches, serve starts the server without the migration check.
MIGRATED = "radar-migrated-for.txt"
#: Prefect's settings that move its database elsewhere (then there is nothing to seed).
_DATABASE_SETTINGS = (
    "PREFECT_SERVER_DATABASE_CONNECTION_URL",
    "PREFECT_API_DATABASE_CONNECTION_URL",
)


def prefect_version() -> str:
    """The installed Prefect's version (from its metadata: importing Prefect costs ~1 s)."""
    from importlib.metadata import version

    return version("prefect")


def template_dir() -> Path:
    """Where the template of the installed Prefect version lives."""
    base = os.environ.get("RADAR_PREFECT_TEMPLATE_DIR")
    root = Path(base) if base else Path(sys.prefix) / "share" / "policy-radar"
    return root / f"prefect-{prefect_version()}"


def mark_migrated(prefect_home: Path) -> None:
    """Record that ``prefect_home``'s database is at this Prefect version's head."""
    if _default_database() and (prefect_home / DATABASE).exists():
        (prefect_home / MIGRATED).write_text(prefect_version() + "\n", encoding="utf-8")


def migrated_already(prefect_home: Path) -> bool:
    """Whether a server of this Prefect version may skip its migration check on start.

    The check loads every one of Prefect's ~100 migration scripts through alembic even
    when there is nothing to do (~0.4 s CPU, seconds of wall time on a loaded machine)."""
    if not _default_database() or not (prefect_home / DATABASE).exists():
        return False
    try:
        recorded = (prefect_home / MIGRATED).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return recorded == prefect_version()


def _default_database() -> bool:
    return not any(os.environ.get(name) for name in _DATABASE_SETTINGS)


def is_fresh(prefect_home: Path) -> bool:
    """Whether a server started on ``prefect_home`` would create and migrate its database."""
    return _default_database() and not (prefect_home / DATABASE).exists()


def seed_home(prefect_home: Path) -> bool:
    """Copy the template into a fresh ``prefect_home``; True if it did."""
    if not is_fresh(prefect_home):
        return False
    source = template_dir()
    if not (source / DATABASE).is_file():
        return False
    target = prefect_home / DATABASE
    partial = prefect_home / f".{DATABASE}.{os.getpid()}.part"
    shutil.copyfile(source / DATABASE, partial)
    partial.replace(target)  # a server never sees half a database
    memo = prefect_home / MEMO
    if (source / MEMO).is_file() and not memo.exists():
        shutil.copyfile(source / MEMO, memo)
        memo.chmod(0o600)
    mark_migrated(prefect_home)
    log.info("prefect database copied from %s (no migrations to run)", source)
    return True


def save_template(prefect_home: Path) -> bool:
    """Keep ``prefect_home``'s database as the template if there is none yet; True if kept.

    Call it when the server has just answered for the first time (migrated, blocks
    registered, nothing else written). SQLite's backup API copies a consistent database
    while the server runs (the write-ahead log included). A template folder that cannot
    be written (a read-only install) only costs the next fresh home its migrations."""
    target_dir = template_dir()
    if (target_dir / DATABASE).exists() or not (prefect_home / DATABASE).is_file():
        return False
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        partial = target_dir / f".{DATABASE}.{os.getpid()}.part"
        with (
            closing(sqlite3.connect(prefect_home / DATABASE)) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)
        partial.replace(target_dir / DATABASE)
        if (prefect_home / MEMO).is_file():
            shutil.copyfile(prefect_home / MEMO, target_dir / MEMO)
    except (OSError, sqlite3.Error) as exc:
        log.info("prefect database template not kept in %s: %s", target_dir, exc)
        return False
    log.info("prefect database kept as the template for new homes: %s", target_dir)
    return True


def build() -> Path:
    """Start a Prefect server on a new home, wait for it, keep its database (``make install``)."""
    from flows.service import start_prefect_server

    if (template_dir() / DATABASE).is_file():
        return template_dir()
    with tempfile.TemporaryDirectory(prefix="radar-prefect-template-") as tmp:
        home = Path(tmp)
        server = start_prefect_server(home)
        try:
            save_template(home)
        finally:
            server.stop()
    return template_dir()


if __name__ == "__main__":
    print(f"prefect database template: {build()}")
