"""Alerts benchmark: match + queue for 10,000 subscribers, and SMTP throughput.

    .venv/bin/python bench/bench_alerts.py            # full run (10,000 subscribers)
    .venv/bin/python bench/bench_alerts.py --smoke    # tiny and quick
    BENCH_DATABASE_URL=postgresql+psycopg://… to run against an empty PostgreSQL database

1. Seed 002 and its revision are ingested into a fresh database (real parser and diff),
   10,000 subscriptions with a realistic mix of filters are inserted, then
   ``queue_for_change_set`` is timed on the revision's change set. Goal: < 5 s.
2. A local aiosmtpd server receives (a) the queued alerts through ``send_due`` (render +
   send + mark, one SMTP connection for the batch) and (b) one pre-rendered message sent N
   times on one reused connection versus a new connection per message.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEEDS = ROOT / "tests" / "fixtures" / "seeds"

UNITS_IN_DOC = [
    "市数据局",
    "市交通运输局",
    "市规划和自然资源局",
    "市商务局",
    "市卫健委",
    "市科技局",
]
OTHER_UNITS = [f"区测试单位{i}" for i in range(200)]
KEYWORDS = ["元交通", "算力", "元消费", "数字孪生", "医院", "不相关词"]
ISSUERS = ["成都市", "渝北区", "永川区"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _subscription_rows(n: int, rng: random.Random) -> list[dict[str, Any]]:
    from parsers.units_alias import unit_key

    rows = []
    for i in range(n):
        roll = rng.random()
        row: dict[str, Any] = {
            "email": f"user{i}@example.org",
            "mode": "daily" if rng.random() < 0.1 else "instant",
            "status": "active",
            "origin": "cli",
            "kinds": None,
        }
        if roll < 0.45:
            unit = rng.choice(UNITS_IN_DOC if rng.random() < 0.3 else OTHER_UNITS)
            row.update(unit=unit, unit_key=unit_key(unit))
        elif roll < 0.65:
            row["keyword"] = rng.choice(KEYWORDS)
        elif roll < 0.85:
            row["issuer"] = rng.choice(ISSUERS)
        elif roll < 0.95:
            row["kinds"] = ["goal_changed", "goal_added", "goal_removed"]
        rows.append(row)
    return rows


def bench_queue(n_subs: int) -> tuple[Any, int, float, int]:
    from sqlalchemy import insert

    from alerts.matching import queue_for_change_set
    from parsers import parse_bytes
    from storage.db import open_db, write_session
    from storage.ingest import ingest
    from storage.models import Subscription

    _, factory = open_db()
    for name in ("002_152408040e809265.txt", "002_152408040e809265_v2.txt"):
        data = (SEEDS / name).read_bytes()
        result = ingest(factory, data, parse_bytes(data, name), filename=name, series_key="cd")
    cs = int(result.change_set_id or 0)
    rows = _subscription_rows(n_subs, random.Random(7))
    with write_session(factory) as session:
        session.execute(insert(Subscription), rows)
    start = time.perf_counter()
    with write_session(factory) as session:
        queued = queue_for_change_set(session, cs)
    elapsed = time.perf_counter() - start
    return factory, queued, elapsed, cs


class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def bench_smtp(factory: Any, n_raw: int, n_alerts: int) -> dict[str, float]:
    from aiosmtpd.controller import Controller

    from alerts.dispatch import send_due
    from alerts.message import compose
    from alerts.render import RenderedEmail
    from alerts.transport import SmtpTransport

    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        url = f"smtp://127.0.0.1:{port}?timeout=10"
        transport = SmtpTransport.from_url(url)
        start = time.perf_counter()
        report = send_due(factory, transport=transport, limit=n_alerts)
        full = time.perf_counter() - start

        msg = compose(
            RenderedEmail("【政策变更】基准测试：1项目标调整", "正文" * 400, "<p>正文</p>" * 400),
            sender="radar@localhost",
            recipient="x@example.org",
            message_id="<radar.bench@localhost>",
        )
        reuse = SmtpTransport.from_url(url)
        start = time.perf_counter()
        with reuse:
            for _ in range(n_raw):
                reuse.send(msg, sender="radar@localhost", recipients=["x@example.org"])
        reused = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(n_raw):
            with SmtpTransport.from_url(url) as fresh:
                fresh.send(msg, sender="radar@localhost", recipients=["x@example.org"])
        fresh_t = time.perf_counter() - start
    finally:
        controller.stop()
    return {
        "alerts_sent": report.sent,
        "alerts_seconds": full,
        "alerts_per_s": report.sent / full if full else 0.0,
        "alerts_connections": transport.connections_opened,
        "raw_n": n_raw,
        "reuse_per_s": n_raw / reused,
        "fresh_per_s": n_raw / fresh_t,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="200 subscribers, 50 messages")
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    n_subs = 200 if args.smoke else args.subscribers
    n_raw = 50 if args.smoke else 1000

    home = tempfile.mkdtemp(prefix="radar-bench-alerts-")
    os.environ["RADAR_HOME"] = home
    # Never the configured RADAR_DATABASE_URL: the benchmark inserts 10,000 subscriptions.
    os.environ["RADAR_DATABASE_URL"] = (
        os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{home}/radar.db"
    )
    os.environ.pop("RADAR_SMTP_URL", None)

    factory, queued, elapsed, _cs = bench_queue(n_subs)
    verdict = "ok" if elapsed < 5 else "TOO SLOW"
    db = os.environ["RADAR_DATABASE_URL"].split(":", 1)[0]
    print(
        f"match+queue: {n_subs} subscribers -> {queued} deliveries in {elapsed * 1000:.0f} ms ({db}) [{verdict}, goal < 5 s]"
    )
    smtp = bench_smtp(factory, n_raw, 200 if args.smoke else 1000)
    print(
        f"send_due to aiosmtpd: {smtp['alerts_sent']:.0f} alerts in {smtp['alerts_seconds']:.2f} s "
        f"= {smtp['alerts_per_s']:.0f}/s (render + send + mark, first batch of the queue), "
        f"{smtp['alerts_connections']:.0f} connection(s)"
    )
    print(
        f"raw SMTP, {smtp['raw_n']:.0f} messages: reused connection {smtp['reuse_per_s']:.0f}/s, "
        f"new connection each {smtp['fresh_per_s']:.0f}/s"
    )


if __name__ == "__main__":
    main()
