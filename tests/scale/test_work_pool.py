"""Scale-out on a process work pool (issue 13): a PostgreSQL-backed Prefect server, radar on a
second PostgreSQL database, 3 workers, 30 documents on 3 sites, 10 subscribers.

One poll cycle of the three sources runs on the pool while a worker is killed with kill -9
(with its flow runs); ``radar deploy``'s automations crash the lost runs and run them again.
Then: every document stored once, the runs spread over the 3 workers, the per-host rate limit
held across them, each subscriber mailed once per matching plan (by Message-ID), and a
revision alerts exactly its unit's subscribers once.

A few minutes (every flow run is a Python process; a lost run is noticed after its missed
heartbeats): run by ``.ci/run`` with ``RADAR_SCALE_TEST=1``; ``make test`` skips it. Every
wait is on a condition with a deadline sized for a loaded 2-core machine.
"""

from __future__ import annotations

import email
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from flows.site_fixture import PLAN_UNITS, FixtureSite, build_plan_site
from tests.scale.cluster import FINAL, Cluster, running_cluster, wait_for

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
#: Plan n of each source has unit PLAN_UNITS[n % 5]: each unit leads 2 plans per source.
PLANS_PER_UNIT = len(SOURCES) * DOCS_PER_SOURCE // len(PLAN_UNITS)
BATCHES = "ingest-links/poll-batch"


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


def _subscribe(cluster: Cluster) -> None:
    """The 10 subscriptions, as ``radar subscribe`` makes them, in one process."""
    cluster.python(
        "from alerts.subscriptions import subscribe\n"
        "from storage.db import open_db, write_session\n"
        "_, factory = open_db()\n"
        "with write_session(factory) as session:\n"
        f"    for address, unit in {SUBSCRIBERS!r}.items():\n"
        "        subscribe(session, address, unit=unit, origin='cli')\n"
    )


def _stored(cluster: Cluster) -> dict[str, Any]:
    """Series, versions and unsent deliveries in radar's database."""
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


def test_poll_cycle_on_three_workers(sites: dict[str, FixtureSite]) -> None:
    started = time.monotonic()

    def phase(what: str) -> None:  # shown with -s, or with the failure
        print(f"[{time.monotonic() - started:6.1f} s, load {os.getloadavg()[0]:.1f}] {what}")

    listings = {name: site.listing.listing_url for name, site in sites.items()}  # type: ignore[attr-defined]
    # --limit 4 per worker (a host's capacity): a worker that fetched many runs at once
    # would otherwise take most of them; limits make the pool spread them.
    with running_cluster(
        listings,
        workers=3,
        fetch_interval=FETCH_INTERVAL,
        poll_deadline=900,
        worker_limit=4,
        setup=_subscribe,
        # A lost run is noticed after 60 s without heartbeat (2 missed; pending: 120 s).
        deploy_args=("--lost-after", "60"),
    ) as c:
        phase("cluster up")
        wait_for("3 workers online", lambda: _workers_online(c) >= 3, 120)

        # One poll cycle; a worker is killed (with its flow runs) once batches run everywhere.
        first = [c.run_deployment(f"poll-source/{name}") for name in SOURCES]
        wait_for("batch runs on every worker", lambda: _batch_workers(c) >= 3, 300, interval=0.2)
        phase("batches on 3 workers")
        victim = max(c.workers, key=lambda w: len(w.children()))
        victim.kill_hard()
        lost = {run for run, names in c.placed.items() if victim.name in names}
        lost = {run for run in lost if c.state_of(run) not in FINAL}
        assert lost, "the killed worker was running nothing"
        # No help from the test: radar deploy's automations crash and re-run the lost runs.
        c.wait_runs(first, 900)
        phase(f"first cycle done ({len(lost)} lost runs re-run)")
        for run in lost:
            history = c.api(f"/flow_run_states/?flow_run_id={run}")
            states = [s["type"] for s in sorted(history, key=lambda s: s["timestamp"])]
            assert "CRASHED" in states and states[-1] == "COMPLETED", (run, states)

        spread = Counter(w for r in c.flow_runs(BATCHES) for w in c.placed.get(r["id"], ()))
        assert len(spread) == 3, spread
        stored = _stored(c)
        assert stored["series"] == len(SOURCES) * DOCS_PER_SOURCE
        assert set(stored["versions"].values()) == {1}, "a document was stored twice"

        # Per-host politeness across workers: at most ~1 request per interval per site.
        for name, site in sites.items():
            times = [r.at for r in site.requests if r.path != "/robots.txt"]
            allowed = int(2.0 / FETCH_INTERVAL) + 2
            assert _max_in_window(times, 2.0) <= allowed, (name, _max_in_window(times, 2.0))

        # The new plans: each subscriber hears once of each plan of its unit, and the
        # radar.document.changed trigger ran the dispatch deployment on the pool.
        wait_for("the first alerts to go out", lambda: _stored(c)["due"] == 0, 300)
        phase("first alerts sent")
        first_mail = _messages(c)
        assert len({m["Message-ID"] for m in first_mail}) == len(first_mail)
        assert Counter(m["To"] for m in first_mail) == dict.fromkeys(SUBSCRIBERS, PLANS_PER_UNIT)
        triggered = [
            r
            for r in c.flow_runs("dispatch-alerts/on-change")
            if r["state_type"] == "COMPLETED" and not r.get("auto_scheduled")
        ]
        assert triggered, "the on-change trigger never ran dispatch-alerts on the pool"

        # The revision alerts each matching subscriber exactly once.
        before = {m["Message-ID"] for m in first_mail}
        revised = build_plan_site(sites["s0"], "s0", DOCS_PER_SOURCE, revised=frozenset({0}))
        assert revised.listing_url == listings["s0"]
        c.wait_runs([c.run_deployment("poll-source/s0")], 600)
        phase("revision polled")
        matching = {a for a, unit in SUBSCRIBERS.items() if unit == PLAN_UNITS[0]}

        def new_messages() -> list[email.message.Message]:
            return [m for m in _messages(c) if m["Message-ID"] not in before]

        wait_for("the revision's alerts", lambda: len(new_messages()) >= len(matching), 300)
        phase("revision alerts sent")
        c.wait_runs([c.run_deployment("dispatch-alerts/on-change")], 300)
        phase("dispatch again: nothing more")
        fresh = new_messages()
        assert len({m["Message-ID"] for m in fresh}) == len(fresh)
        assert Counter(m["To"] for m in fresh) == Counter(matching), [m["To"] for m in fresh]
        versions = _stored(c)["versions"]
        assert sorted(versions.values()).count(2) == 1 and max(versions.values()) == 2


def _workers_online(cluster: Cluster) -> int:
    workers = cluster.api("/work_pools/radar-pool/workers/filter", {})
    return sum(1 for w in workers if w.get("status") == "ONLINE")


def _batch_workers(cluster: Cluster) -> int:
    """On how many workers ``ingest-links`` batch runs have been seen running."""
    cluster.sample()
    batches = {r["id"] for r in cluster.flow_runs(BATCHES)}
    return len({w for run, names in cluster.placed.items() if run in batches for w in names})
