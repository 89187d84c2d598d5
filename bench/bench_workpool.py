"""Backfill throughput on a process work pool: documents/s with 1 worker vs 3 (issue 13).

    python bench/bench_workpool.py [--docs 200] [--workers 1,3] [--fanout 8] [--batch 20]
    python bench/bench_workpool.py --smoke       # 1 worker, 4 documents (CI)

For each worker count, a fresh installation (tests/scale/cluster.py: PostgreSQL, a Prefect
server on it, ``radar deploy``, the workers), one synthetic source of ``--docs`` plans on a
local site (``flows.site_fixture.build_plan_site``) and one poll of it: the time from
starting the poll to its end (its batch runs included), every document stored. The per-host rate
limit is set low (``RADAR_FETCH_INTERVAL=0.02``) so the workers, not the politeness, are
measured. Also printed: the load average before and after (the machine is shared), the CPU
seconds the worker process trees used, and the flow runs' own durations, to say what
bounds the figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.site_fixture import FixtureSite, build_plan_site
from tests.scale.cluster import FINAL, Cluster, descendants, running_cluster, wait_for

#: Flow runs one worker runs at once (``prefect worker start --limit``): a worker stands for
#: a host of fixed capacity, so 3 workers offer 3 times the slots of 1.
WORKER_LIMIT = 3


def _stored_series(cluster: Cluster) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(cluster.env["RADAR_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from series")).scalar_one())
    finally:
        engine.dispose()


def _cpu_seconds(pids: list[int]) -> float:
    """utime+stime of ``pids`` and their reaped children (/proc/<pid>/stat fields 14-17)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / ticks
    return total


def _run_seconds(cluster: Cluster, deployment: str) -> list[float]:
    return [float(r.get("total_run_time") or 0) for r in cluster.flow_runs(deployment)]


def backfill(docs: int, workers: int, fanout: int, batch: int) -> dict[str, Any]:
    with FixtureSite() as site:
        info = build_plan_site(site, "bf", docs)
        with running_cluster(
            {"bf": info.listing_url},
            workers=workers,
            fetch_interval=0.02,
            poll_deadline=7200,
            worker_limit=WORKER_LIMIT,
        ) as cluster:
            load_before = os.getloadavg()[0]
            pids = [w.process.pid for w in cluster.workers]
            server = [cluster.server.pid] if cluster.server is not None else []
            cpu_before = _cpu_seconds(pids)
            server_before = _cpu_seconds(server)
            started = time.perf_counter()
            run = cluster.run_deployment(
                "poll-source/bf", {"name": "bf", "fanout": fanout, "batch": batch}
            )
            # Timed to the poll's end: every batch is done, every document stored. The
            # dispatch runs the documents' events triggered may still be queued behind.
            wait_for("the poll", lambda: cluster.state_of(run) in FINAL, 7200, interval=0.2)
            seconds = time.perf_counter() - started
            # The workers' own CPU, their live flow-run processes' and the reaped ones'
            # (cutime/cstime), and the Prefect server's, up to the poll's end.
            cpu = _cpu_seconds(pids + [p for pid in pids for p in descendants(pid)]) - cpu_before
            server_cpu = _cpu_seconds(server) - server_before
            load_after = os.getloadavg()[0]
            cluster.wait_runs([run], 7200)
            batches = _run_seconds(cluster, "ingest-links/poll-batch")
            return {
                "docs": docs,
                "workers": workers,
                "seconds": seconds,
                "stored": _stored_series(cluster),
                "batch_runs": len(batches),
                "batch_run_seconds": sum(batches),
                "worker_cpu_seconds": cpu,
                "server_cpu_seconds": server_cpu,
                "load": (load_before, load_after),
            }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--workers", default="1,3")
    parser.add_argument("--fanout", type=int, default=8)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    counts = [1] if args.smoke else [int(n) for n in args.workers.split(",")]
    docs = 4 if args.smoke else args.docs
    results = []
    for workers in counts:
        result = backfill(docs, workers, args.fanout, args.batch)
        results.append(result)
        print(
            f"{workers} worker(s): {docs} documents in {result['seconds']:.1f} s = "
            f"{docs / result['seconds']:.2f} documents/s; {result['batch_runs']} batch runs "
            f"({result['batch_run_seconds']:.0f} s of run time), workers' CPU "
            f"{result['worker_cpu_seconds']:.0f} s, Prefect server's CPU "
            f"{result['server_cpu_seconds']:.0f} s; load {result['load'][0]:.1f} -> "
            f"{result['load'][1]:.1f}",
            flush=True,
        )
        if result["stored"] != docs:
            print(f"only {result['stored']} of {docs} documents were stored", file=sys.stderr)
            return 1
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"speed-up {last['workers']} vs {first['workers']} workers: "
            f"{first['seconds'] / last['seconds']:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
