"""Web app benchmark: server time of every page at 10k series / 100k versions.

    python bench/bench_web.py                # SQLite (+ PostgreSQL if TEST_DATABASE_URL / --pg)
    python bench/bench_web.py --smoke        # 200 series x 3 versions, a few seconds

1. bulk-insert generated data with executemany: SERIES series x VERSIONS versions (10k x 10
   = 100k by default), each version with its parsed JSON, 5 tasks with 1-2 units out of 2,000
   names, 3 targets (metrics out of 500), and a change set with a goal change and a unit
   change (with their change_units rows); sources.toml with 20 sources, 5 of them failing;
2. request every page (HTML and its /api JSON) in-process through the ASGI app (Starlette's
   TestClient: no network, so the time is the server's: routing, queries, rendering),
   ROUNDS times each with varying parameters (other series, units, pages);
3. report median and max per page, wall time and this process's CPU time (for SQLite that
   is all the server's work; for PostgreSQL the database server's own CPU is not in it, so
   read the wall time there); goal: every page < 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CITIES = ["成都市", "重庆市", "永川区", "渝北区", "杭州市", "武汉市", "西安市", "南京市"]
TOPICS = ["元宇宙产业", "数字经济", "人工智能", "算力基础设施", "智能网联汽车", "低空经济"]
AGENCIES = [
    "发展改革委",
    "经济信息委",
    "科技局",
    "财政局",
    "商务局",
    "大数据发展局",
    "教委",
    "人力社保局",
]
N_UNITS = 2000
N_METRICS = 500
N_SOURCES = 20


def unit_name(i: int) -> str:
    i %= N_UNITS
    return f"{CITIES[i % len(CITIES)][:2]}{i // len(AGENCIES)}区{AGENCIES[i % len(AGENCIES)]}"


def metric_name(i: int) -> str:
    return f"{TOPICS[i % len(TOPICS)]}指标{i % N_METRICS}"


def _parsed(sid: int, seq: int, title: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema": "radar.document/1",
        "title": title,
        "doc_number": f"合发〔{2020 + seq}〕{sid}号",
        "issuers": [f"{CITIES[sid % len(CITIES)]}人民政府"],
        "recipients": [],
        "date": f"{2015 + seq}-06-01",
        "published": None,
        "kind": "plan",
        "proposal": None,
        "goals": [
            {
                "text": f"到2025年{metric_name(sid)}达到{1000 + sid + 10 * seq}亿元",
                "metric": metric_name(sid),
                "value": 1000 + sid + 10 * seq,
                "value_max": None,
                "unit": "亿元",
                "year": 2025,
                "comparator": ">=",
            }
        ],
        "tasks": tasks,
        "outline": [{"number": "二、", "title": "重点任务", "children": []}],
    }


def bulk_fill(engine: Any, n_series: int, n_versions: int, batch_series: int = 500) -> float:
    """Insert the generated rows (explicit ids, executemany per table and batch)."""
    from sqlalchemy import insert

    from parsers.units_alias import scoped_unit_key, scoped_unit_keys, unit_key
    from storage.models import (
        Change,
        ChangeSet,
        ChangeUnit,
        Series,
        TargetRow,
        Task,
        TaskUnit,
        Version,
        utcnow,
    )

    t0 = time.perf_counter()
    now = utcnow()
    vid = tid = cid = 0
    for start in range(0, n_series, batch_series):
        rows: dict[Any, list[dict[str, Any]]] = {
            m: []
            for m in (Series, Version, Task, TaskUnit, TargetRow, ChangeSet, Change, ChangeUnit)
        }
        for sid in range(start + 1, min(n_series, start + batch_series) + 1):
            city = CITIES[sid % len(CITIES)]
            title = f"{city}{TOPICS[sid % len(TOPICS)]}发展行动计划第{sid}号"
            rows[Series].append(
                {
                    "id": sid,
                    "key": f"s{sid}",
                    "canonical_title": title,
                    "title": title,
                    "issuer": f"{city}人民政府",
                    "kind": "plan",
                    "created_at": now,
                }
            )
            for seq in range(1, n_versions + 1):
                vid += 1
                tasks = []
                for t in range(5):
                    tid += 1
                    units = [unit_name(sid * 7 + t), unit_name(sid * 7 + t + seq % 2 * 3)][
                        : 1 + t % 2
                    ]
                    text = (
                        f"推进{TOPICS[t % len(TOPICS)]}第{t}项工作，到2025年达到{10 * t + seq}家。"
                    )
                    tasks.append(
                        {
                            "id": f"t{t}",
                            "number": f"{t + 1}.",
                            "path": ["二、重点任务"],
                            "title": f"重点任务{t}（{sid}）",
                            "text": text,
                            "units": [{"name": u, "role": "lead"} for u in units],
                            "targets": [],
                        }
                    )
                    rows[Task].append(
                        {
                            "id": tid,
                            "version_id": vid,
                            "ord": t,
                            "task_key": f"t{t}",
                            "number": f"{t + 1}.",
                            "path": ["二、重点任务"],
                            "title": f"重点任务{t}（{sid}）",
                            "text": text,
                        }
                    )
                    for u in dict.fromkeys(units):
                        rows[TaskUnit].append(
                            {
                                "task_id": tid,
                                "name": u,
                                "unit_key": unit_key(u),
                                "scoped_key": scoped_unit_key(u, city),
                                "role": "lead",
                            }
                        )
                    if t < 2:
                        rows[TargetRow].append(
                            {
                                "version_id": vid,
                                "task_id": tid,
                                "ord": 0,
                                "metric": metric_name(sid + t),
                                "value": 10 * t + seq,
                                "unit": "家",
                                "year": 2025,
                                "comparator": ">=",
                                "text": text,
                            }
                        )
                parsed = _parsed(sid, seq, title, tasks)
                rows[TargetRow].append(
                    {
                        "version_id": vid,
                        "task_id": None,
                        "ord": 0,
                        "metric": metric_name(sid),
                        "value": 1000 + sid + 10 * seq,
                        "unit": "亿元",
                        "year": 2025,
                        "comparator": ">=",
                        "text": parsed["goals"][0]["text"],
                    }
                )
                rows[Version].append(
                    {
                        "id": vid,
                        "series_id": sid,
                        "seq": seq,
                        "content_hash": f"c{vid}",
                        "raw_hash": f"r{vid}",
                        "filename": "gen.docx",
                        "format": "docx",
                        "parsed": parsed,
                        "parser_version": "1",
                        "title": title,
                        "doc_number": parsed["doc_number"],
                        "date": parsed["date"],
                        "kind": "plan",
                        "source_url": f"https://www{sid % N_SOURCES}.example.gov.cn/art/{vid}.html",
                        "fetched_at": now,
                        "match_reason": "new series" if seq == 1 else "same 文号 series",
                    }
                )
                cid += 1
                first = seq == 1
                rows[ChangeSet].append(
                    {
                        "id": cid,
                        "series_id": sid,
                        "from_version_id": None if first else vid - 1,
                        "to_version_id": vid,
                        "created_at": now,
                        "alert_count": 0 if first else 2,
                        "info_count": 0,
                        "is_new_document": first,
                    }
                )
                if not first:
                    before = 1000 + sid + 10 * (seq - 1)
                    payloads = [
                        (
                            "goal_changed",
                            None,
                            f"{metric_name(sid)} {before}亿元 → {before + 10}亿元",
                        ),
                        (
                            "units_changed",
                            f"重点任务0（{sid}）",
                            f"责任单位：+{unit_name(sid * 7 + 3)}",
                        ),
                    ]
                    for o, (kind, task, summary) in enumerate(payloads):
                        change_id = cid * 2 + o
                        rows[Change].append(
                            {
                                "id": change_id,
                                "change_set_id": cid,
                                "ord": o,
                                "kind": kind,
                                "severity": "alert",
                                "task_title": task,
                                "task_text": None,
                                "summary": summary,
                                "payload": {
                                    "kind": kind,
                                    "severity": "alert",
                                    "task": task,
                                    "summary": summary,
                                },
                            }
                        )
                        if kind == "units_changed":
                            added = unit_name(sid * 7 + 3)
                            rows[ChangeUnit].extend(
                                {
                                    "change_id": change_id,
                                    "unit_key": key,
                                    "unit_name": added,
                                    "relation": "added" if seq % 2 else "removed",
                                }
                                for key in scoped_unit_keys(added, city)
                            )
        with engine.begin() as conn:
            for model, values in rows.items():
                if values:
                    conn.execute(insert(model), values)
    # VACUUM as autovacuum would have by now on a real server (it sets PostgreSQL's
    # visibility map, which index-only scans need); SQLite just gets its statistics.
    command = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(command)
    return time.perf_counter() - t0


def write_sources(home: Path) -> None:
    lines = []
    for i in range(N_SOURCES):
        lines += [
            "[[sources]]",
            f'name = "site{i}"',
            f'url = "https://www{i}.example.gov.cn/list.html"',
            "",
        ]
    (home / "sources.toml").write_text("\n".join(lines), encoding="utf-8")


def mark_failures(factory: Any) -> None:
    from storage.db import write_session
    from storage.repo import put_fetch_state

    with write_session(factory) as session:
        for i in range(N_SOURCES):
            url = f"https://www{i}.example.gov.cn/list.html"
            failing = i % 4 == 0
            put_fetch_state(
                session,
                url,
                last_status="connection refused" if failing else "ok",
                failures=3 if failing else 0,
            )


def pages(n_series: int, n_versions: int, k: int) -> dict[str, str]:
    """The requests of round ``k`` (different series, units and pages each round)."""
    sid = 1 + (k * 7919) % n_series
    unit = unit_name(sid * 7)
    last = n_versions
    return {
        "documents": "/documents",
        "documents deep page": f"/documents?page={1 + (k * 37) % max(1, n_series // 20)}",
        "documents search": f"/documents?q={quote(f'第{sid}号')}",
        "documents search text": f"/documents?q={quote('第3项工作')}",
        "documents filtered": f"/documents?kind=plan&issuer={quote('成都')}&has_alerts=1"
        f"&date_from=2016-01-01&unit={quote(unit)}",
        "api documents": f"/api/documents?q={quote(f'第{sid}号')}",
        "document": f"/documents/s{sid}",
        "api document": f"/api/documents/s{sid}",
        "compare (stored)": f"/compare/s{sid}?a={last - 1}&b={last}",
        "compare (any pair)": f"/compare/s{sid}?a=1&b={last}",
        "api compare": f"/api/compare/s{sid}",
        "changes (email link)": f"/changes/{(sid - 1) * n_versions + last}",
        "unit": f"/units/{quote(unit)}",
        "api unit": f"/api/units/{quote(unit)}",
        "targets": f"/targets?metric={quote(metric_name(sid))}",
        "targets filtered": f"/targets?metric={quote(metric_name(sid))}&region={quote('成都')}&year=2025",
        "api targets": f"/api/targets?metric={quote(metric_name(sid))}",
        "sources": "/sources",
        "feed all": "/feeds/changes.atom",
        "feed unit": f"/feeds/changes.atom?unit={quote(unit_name(sid * 7 + 3))}",
        "feed series": f"/feeds/changes.atom?series=s{sid}",
        "feed keyword": f"/feeds/changes.atom?keyword={quote(metric_name(sid))}",
        "subscribe form": f"/subscribe?unit={quote(unit)}",
    }


def run(url: str, n_series: int, n_versions: int, rounds: int, home: Path) -> dict[str, Any]:
    """Fill (unless the database already holds the data: ``--db-dir`` reuses it) and time."""
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from alerts.web import create_app
    from flows.web_operator import operator_for
    from storage.db import make_engine, session_factory, upgrade
    from storage.models import Version

    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as s:
        filled = (s.scalar(select(func.count(Version.id))) or 0) >= n_series * n_versions
    fill = 0.0 if filled else bulk_fill(engine, n_series, n_versions)
    mark_failures(factory)
    with factory() as s:
        stored = s.scalar(select(func.count(Version.id))) or 0
    write_sources(home)
    client = TestClient(create_app(factory, operator_hooks=operator_for(None, can_poll=False)))
    timings: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for _name, path in pages(n_series, n_versions, 0).items():  # warm-up (imports, caches)
        client.get(path)
    for k in range(1, rounds + 1):
        for name, path in pages(n_series, n_versions, k).items():
            t0, c0 = time.perf_counter(), time.process_time()
            resp = client.get(path)
            elapsed = (time.perf_counter() - t0) * 1000
            cpu.setdefault(name, []).append((time.process_time() - c0) * 1000)
            if resp.status_code != 200:
                raise SystemExit(f"{name}: {path} answered {resp.status_code}: {resp.text[:300]}")
            timings.setdefault(name, []).append(elapsed)
    engine.dispose()
    return {
        "backend": engine.dialect.name,
        "series": n_series,
        "versions": stored,
        "fill_s": round(fill, 1),
        "load_avg_1min": round(os.getloadavg()[0], 1),
        "pages": {
            name: {
                "median_ms": round(statistics.median(v), 1),
                "max_ms": round(max(v), 1),
                "cpu_median_ms": round(statistics.median(cpu[name]), 1),
                "cpu_max_ms": round(max(cpu[name]), 1),
            }
            for name, v in timings.items()
        },
    }


def _pg_database(url: str, keep: bool = False) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import dispose_all

    base = make_url(url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = "radar_bench_web_kept" if keep else f"radar_bench_web_{os.getpid()}"
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not (keep and exists.scalar()):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        dispose_all()
        if keep:
            admin.dispose()
            return
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--versions", type=int, default=10, help="versions per series")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--db-dir", help="keep the SQLite database here and reuse it next time")
    ap.add_argument(
        "--pg-keep", action="store_true", help="keep the PostgreSQL database and reuse it"
    )
    args = ap.parse_args(argv)
    n_series, n_versions, rounds = (
        (200, 3, 2) if args.smoke else (args.series, args.versions, args.rounds)
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="radar-bench-web-") as tmp:
        os.environ["RADAR_HOME"] = tmp
        os.environ.setdefault("RADAR_SECRET", "bench")
        if not args.no_sqlite:
            db = Path(args.db_dir or tmp) / "web.db"
            results.append(run(f"sqlite:///{db}", n_series, n_versions, rounds, Path(tmp)))
        if args.pg:
            url, drop = _pg_database(args.pg, keep=args.pg_keep)
            try:
                results.append(run(url, n_series, n_versions, rounds, Path(tmp)))
            finally:
                drop()
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    worst = 0.0
    for r in results:
        print(
            f"{r['backend']}: {r['series']} series, {r['versions']} versions (fill {r['fill_s']} s)"
        )
        for name, t in r["pages"].items():
            worst = max(worst, t["max_ms"])
            print(
                f"  {name:24} wall median {t['median_ms']:7.1f} max {t['max_ms']:7.1f} ms"
                f"   cpu median {t['cpu_median_ms']:7.1f} max {t['cpu_max_ms']:7.1f} ms"
            )
    print(f"slowest single request: {worst:.1f} ms (goal: every page < 200 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
