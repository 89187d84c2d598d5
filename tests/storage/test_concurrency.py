"""Two real processes ingesting the same document at the same moment end with one version.

Each round both workers wait on a barrier and then ingest; even rounds hand in identical
bytes, odd rounds different bytes with the same parsed content (a DOCX and its PDF). The
unique constraints (and SQLite's BEGIN IMMEDIATE) must settle every race.
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage.models import Fetch, Series, Version

ROUNDS = 6


def _worker(url: str, home: str, who: int, barrier: Any, out: Any) -> None:
    import os

    os.environ["RADAR_HOME"] = home
    from storage.db import make_engine, session_factory
    from storage.ingest import ingest
    from tests.storage.docs import plan

    engine = make_engine(url)
    factory = session_factory(engine)
    try:
        for i in range(ROUNDS):
            doc = plan(f"并发测试行动计划第{i}号", source_format="docx" if who == 0 else "pdf")
            data = f"round {i}".encode() if i % 2 == 0 else f"round {i} by {who}".encode()
            barrier.wait(timeout=60)
            result = ingest(factory, data, doc, diff=lambda o, n: [])
            out.put((i, result.status, result.series_key, result.version_id))
    except Exception as exc:  # reported to the parent, which fails the test
        out.put(("error", type(exc).__name__, str(exc)[:500], who))
    finally:
        engine.dispose()


def test_two_processes_ingesting_the_same_document_make_one_version(
    db_url: str, radar_home: Path, session_factory: Any
) -> None:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(db_url, str(radar_home), who, barrier, out))
        for who in (0, 1)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in range(2 * ROUNDS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    errors = [r for r in results if r[0] == "error"]
    assert not errors, errors
    for i in range(ROUNDS):
        pair = [r for r in results if r[0] == i]
        statuses = sorted(r[1] for r in pair)
        expected_dup = "same_bytes" if i % 2 == 0 else "same_content"
        assert statuses == sorted(["new_series", expected_dup]), (i, pair)
        assert pair[0][2] == pair[1][2] and pair[0][3] == pair[1][3]
    with session_factory() as s:
        assert s.scalar(select(func.count(Series.id))) == ROUNDS
        assert s.scalar(select(func.count(Version.id))) == ROUNDS
        assert s.scalar(select(func.count(Fetch.id))) == 2 * ROUNDS


def test_a_writer_holding_its_transaction_open_does_not_cause_a_duplicate(
    session_factory: Any,
) -> None:
    """Deterministic race: A has inserted the series and version but not committed when B
    starts the same ingest. B must wait (SQLite's write lock) or lose on the unique key and
    retry (PostgreSQL), and then see A's version: one version, B records same_bytes."""
    import threading

    from storage.ingest import ingest
    from tests.storage.docs import plan

    inside, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def hold(session: Any, change_set_id: int) -> None:
        inside.set()
        release.wait(timeout=30)

    def run(name: str, hook: Any) -> None:
        try:
            results[name] = ingest(session_factory, b"held", plan("竞争计划"), on_change_set=hook)
        except Exception as exc:  # surfaced by the assertions below
            results[name] = exc

    a = threading.Thread(target=run, args=("a", hold))
    a.start()
    assert inside.wait(timeout=30)
    b = threading.Thread(target=run, args=("b", None))
    b.start()
    b.join(timeout=0.5)
    assert b.is_alive()  # B is blocked behind A's uncommitted transaction
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)
    assert results["a"].status == "new_series", results
    assert results["b"].status == "same_bytes", results
    assert results["b"].version_id == results["a"].version_id
    with session_factory() as s:
        assert s.scalar(select(func.count(Version.id))) == 1
