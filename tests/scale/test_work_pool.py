"""Scale-out on a process work pool (issue 13): a PostgreSQL-backed Prefect server, radar on a
second PostgreSQL database, 3 workers, 30 documents on 3 sites, 10 subscribers.

Slow (a few minutes: every flow run is a Python process): run by ``.ci/run`` as its own step
with ``RADAR_SCALE_TEST=1``; ``make test`` skips it.
"""

from __future__ import annotations

import email
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.site_fixture import PLAN_UNITS, FixtureSite, build_plan_site
from tests.scale.cluster import Cluster, running_cluster, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.prefect,
    pytest.mark.timeout(1500),
    pytest.mark.skipif(
        os.environ.get("RADAR_SCALE_TEST") != "1",
        reason="the work-pool integration test runs in .ci/run (RADAR_SCALE_TEST=1)",
    ),
]

SOURCES = ("s0", "s1", "s2")
DOCS_PER_SOURCE = 10
#: Per-host interval: at most 4 requests a second to one site, whichever worker asks.
FETCH_INTERVAL = 0.25
#: 4 subscribers follow the unit of the revised plan; 6 follow units it does not touch.
SUBSCRIBERS = {f"sub{n}@example.org": PLAN_UNITS[0 if n < 4 else 1 + n % 4] for n in range(10)}


@pytest.fixture
def sites() -> Iterator[dict[str, FixtureSite]]:
    started = {name: FixtureSite().start() for name in SOURCES}
    try:
        for name, site in started.items():
            site.listing = build_plan_site(site, name, DOCS_PER_SOURCE)  # type: ignore[attr-defined]
        yield started
    finally:
        for site in started.values():
            site.stop()


def _poll_all(cluster: Cluster) -> list[str]:
    return [cluster.run_deployment(f"poll-source/{name}") for name in SOURCES]


def _stored(cluster: Cluster) -> dict[str, Any]:
    """Series and versions in radar's database, through the CLI's own reading of it."""
    from sqlalchemy import create_engine, text

    engine = create_engine(cluster.env["RADAR_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            series = conn.execute(text("select count(*) from series")).scalar_one()
            versions = conn.execute(
                text("select series_id, count(*) from versions group by series_id")
            ).all()
            due = conn.execute(
                text(
                    "select count(*) from deliveries where status in ('queued','retrying','sending')"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return {"series": series, "versions": {int(s): int(n) for s, n in versions}, "due": due}


def _messages(cluster: Cluster) -> list[email.message.Message]:
    outbox = cluster.home / "outbox"
    files = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    return [email.message_from_bytes(p.read_bytes()) for p in files]


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_poll_cycle_on_three_workers(sites: dict[str, FixtureSite], tmp_path: Path) -> None:
    listings = {name: site.listing.listing_url for name, site in sites.items()}  # type: ignore[attr-defined]
    # --limit 4 per worker (a host's capacity): a worker that fetched many runs at once
    # would otherwise take most of them; limits make the pool spread them.
    with running_cluster(
        listings, workers=3, fetch_interval=FETCH_INTERVAL, poll_deadline=900, worker_limit=4
    ) as c:
        for address, unit in SUBSCRIBERS.items():
            c.radar("subscribe", address, "--unit", unit)
        wait_for("3 workers online", lambda: _workers_online(c) >= 3, 60)

        # One poll cycle; a worker is killed (with its flow runs) once documents flow.
        first = _poll_all(c)
        wait_for("ingest runs on every worker", lambda: _item_workers(c) >= 3, 240, interval=0.2)
        victim = max(c.workers, key=lambda w: len(w.children()))
        lost = {run for run, name in c.placed.items() if name == victim.name}
        crashed = c.crash_orphans(set(victim.kill_hard()))
        assert lost & set(crashed), (lost, crashed)
        c.wait_runs(first, 600)
        item_runs = c.flow_runs("ingest-document/poll-item")
        spread = Counter(c.placed.get(r["id"]) for r in item_runs if r["id"] in c.placed)
        assert len([w for w in spread if w]) == 3, spread

        # The next cycle (the schedule's, here started by hand) re-runs what was lost.
        second = _poll_all(c)
        c.wait_runs(second, 600)
        stored = _stored(c)
        assert stored["series"] == len(SOURCES) * DOCS_PER_SOURCE
        assert set(stored["versions"].values()) == {1}, "a document was stored twice"

        # Per-host politeness across workers: at most ~1 request per interval per site.
        for name, site in sites.items():
            times = [r.at for r in site.requests if r.path != "/robots.txt"]
            allowed = int(2.0 / FETCH_INTERVAL) + 2
            assert _max_in_window(times, 2.0) <= allowed, (name, _max_in_window(times, 2.0))

        # The revision alerts each matching subscriber exactly once.
        wait_for("the first alerts to go out", lambda: _stored(c)["due"] == 0, 180)
        before = {m["Message-ID"] for m in _messages(c)}
        revised = build_plan_site(sites["s0"], "s0", DOCS_PER_SOURCE, revised=frozenset({0}))
        assert revised.listing_url == listings["s0"]
        c.wait_runs([c.run_deployment("poll-source/s0")], 300)
        matching = {a for a, unit in SUBSCRIBERS.items() if unit == PLAN_UNITS[0]}

        def new_messages() -> list[email.message.Message]:
            return [m for m in _messages(c) if m["Message-ID"] not in before]

        wait_for("the revision's alerts", lambda: len(new_messages()) >= len(matching), 180)
        c.wait_runs([c.run_deployment("dispatch-alerts/on-change")], 120)
        fresh = new_messages()
        assert len({m["Message-ID"] for m in fresh}) == len(fresh)
        assert Counter(m["To"] for m in fresh) == Counter(matching), [m["To"] for m in fresh]
        assert _stored(c)["versions"] and max(_stored(c)["versions"].values()) == 2


def _workers_online(cluster: Cluster) -> int:
    workers = cluster.api("/work_pools/radar-pool/workers/filter", {})
    return sum(1 for w in workers if w.get("status") == "ONLINE")


def _item_workers(cluster: Cluster) -> int:
    """On how many workers ``poll-item`` runs have been seen running."""
    cluster.sample()
    items = {r["id"] for r in cluster.flow_runs("ingest-document/poll-item")}
    return len({w for run, w in cluster.placed.items() if run in items})
