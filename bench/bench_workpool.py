"""Backfill throughput on a process work pool: documents/s with 1 worker vs 3 (issue 13).

    python bench/bench_workpool.py [--docs 200] [--workers 1,3] [--fanout 6]
    python bench/bench_workpool.py --smoke       # 1 worker, 4 documents (CI)

For each worker count, a fresh installation (tests/scale/cluster.py: PostgreSQL, a Prefect
server on it, ``radar deploy``, the workers), one synthetic source of ``--docs`` plans on a
local site (``flows.site_fixture.build_plan_site``) and one poll of it: the time from the
poll's start to its end, every document stored. The per-host rate limit is set low
(``RADAR_FETCH_INTERVAL=0.02``) so the workers, not the politeness, are measured.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.site_fixture import FixtureSite, build_plan_site
from tests.scale.cluster import running_cluster

#: Flow runs one worker runs at once (``prefect worker start --limit``): a worker stands for
#: a host of fixed capacity, so 3 workers offer 3 times the slots of 1.
WORKER_LIMIT = 3


def backfill(docs: int, workers: int, fanout: int) -> dict[str, float]:
    with FixtureSite() as site:
        info = build_plan_site(site, "bf", docs)
        with running_cluster(
            {"bf": info.listing_url},
            workers=workers,
            fetch_interval=0.02,
            poll_deadline=7200,
            worker_limit=WORKER_LIMIT,
        ) as cluster:
            started = time.perf_counter()
            run = cluster.run_deployment("poll-source/bf", {"name": "bf", "fanout": fanout})
            cluster.wait_runs([run], 7200)
            seconds = time.perf_counter() - started
            stored = len(
                [
                    r
                    for r in cluster.flow_runs("ingest-document/poll-item")
                    if r["state_type"] == "COMPLETED"
                ]
            )
    return {"docs": docs, "workers": workers, "seconds": seconds, "completed_runs": stored}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--workers", default="1,3")
    parser.add_argument("--fanout", type=int, default=8)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    counts = [1] if args.smoke else [int(n) for n in args.workers.split(",")]
    docs = 4 if args.smoke else args.docs
    results = []
    for workers in counts:
        result = backfill(docs, workers, args.fanout)
        results.append(result)
        rate = result["docs"] / result["seconds"]
        print(
            f"{workers} worker(s): {docs} documents in {result['seconds']:.1f} s = "
            f"{rate:.2f} documents/s ({result['completed_runs']:.0f} runs completed)",
            flush=True,
        )
        if result["completed_runs"] != docs:
            print("not every document was ingested", file=sys.stderr)
            return 1
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"speed-up {last['workers']:.0f} vs {first['workers']:.0f} workers: "
            f"{first['seconds'] / last['seconds']:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
