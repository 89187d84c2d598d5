"""Storage benchmark: ingest throughput at 1k and at 100k stored versions.

    python bench/bench_storage.py            # SQLite (+ PostgreSQL if TEST_DATABASE_URL / --pg)
    python bench/bench_storage.py --smoke    # tiny sizes, a few seconds

What is measured is :func:`storage.ingest.ingest` on already-parsed documents (parsing and
the structural diff have their own benchmarks; ``diff`` is a no-op here): identity
resolution, duplicate checks, the version row with ~25 tasks, their units and targets, the
change set, the fetch row, the raw file and the commit — one transaction per document.

1. bulk-insert synthetic series/versions/tasks/units/targets/change sets/fetches with
   executemany into a "big" database until it holds BULK versions (100k by default);
2. ingest N generated documents (variants of a seed-like plan: distinct titles, numbers and
   units; every series gets two versions) into an empty "small" database (-> ~1k versions)
   and N others into the big one, alternating slices so both see the same machine load;
3. report docs/s for each and the ratio big/small (goal >= 0.8).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parsers.schema import ParsedDocument, Target, Task, Unit  # noqa: E402

CITIES = ["成都市", "重庆市", "永川区", "渝北区", "杭州市", "武汉市", "西安市", "南京市"]
TOPICS = ["元宇宙产业", "数字经济", "人工智能", "算力基础设施", "智能网联汽车", "低空经济"]
UNITS = [
    "市经信局市新经济委",
    "区大数据发展局",
    "市发改委",
    "市科技局",
    "市财政局",
    "市商务局",
    "区教委",
    "区人力社保局",
    "仙桃数据谷公司",
    "龙溪街道",
]
METRICS = [("产业规模", "亿元"), ("企业数量", "家"), ("应用场景", "个"), ("人才", "人")]


def make_doc(series: int, version: int, tasks: int = 25) -> ParsedDocument:
    """A plan-like document; ``version`` 2 changes a target, a unit list and the title."""
    city = CITIES[series % len(CITIES)]
    topic = TOPICS[(series // len(CITIES)) % len(TOPICS)]
    title = f"{city}{topic}发展行动计划第{series}号（2022—2025年）"
    if version > 1:
        title += f"（{2023 + version}版）"
    task_list = []
    for t in range(tasks):
        units = [UNITS[(series + t + k) % len(UNITS)] for k in range(1 + (t % 3))]
        if version > 1 and t == 3:
            units = [*units[:1], "市数据局"]
        metric, unit = METRICS[t % len(METRICS)]
        value = 10 * (t + 1) + series % 97 + (5 if version > 1 and t == 5 else 0)
        targets = (
            [
                Target(
                    text=f"到2025年{metric}达到{value}{unit}",
                    metric=metric,
                    value=value,
                    unit=unit,
                    year=2025,
                    comparator=">=",
                )
            ]
            if t % 2 == 0
            else []
        )
        task_list.append(
            Task(
                id=f"t{t}",
                number=f"{t + 1}.",
                path=["二、重点任务", f"（{t // 5 + 1}）"],
                title=f"{topic}任务{t}（系列{series}）",
                text=f"围绕{topic}推进第{t}项工作，加快建设，形成示范效应。" * 3,
                units=[Unit(name=u) for u in units],
                targets=targets,
            )
        )
    return ParsedDocument(
        title=title,
        doc_number=f"{city[:2]}府发〔202{version + 1}〕{series}号",
        issuers=[f"{city}人民政府"],
        date=f"202{version + 1}-06-01",
        kind="plan",
        goals=[
            Target(
                text=f"到2025年{topic}规模达到{1000 + series}亿元",
                metric=f"{topic}规模",
                value=1000 + series,
                unit="亿元",
                year=2025,
                comparator=">=",
            )
        ],
        tasks=task_list,
        source_format="docx",
    )


def generated(start_series: int, n: int) -> list[tuple[bytes, ParsedDocument]]:
    """n documents: series start..start+n/2, each as version 1 then version 2."""
    docs = []
    for i in range(n):
        doc = make_doc(start_series + i // 2, 1 + i % 2)
        raw = json.dumps(doc.to_json_dict(), ensure_ascii=False).encode("utf-8")
        docs.append((raw, doc))
    return docs


def ingest_chunk(factory: Any, docs: list[tuple[bytes, ParsedDocument]]) -> tuple[float, float]:
    """Ingest ``docs`` one transaction each; return (docs per wall second, per CPU second).

    CPU time is this process's only (for PostgreSQL the server's work is not in it).
    """
    from storage.ingest import ingest

    t0, c0 = time.perf_counter(), time.process_time()
    for raw, doc in docs:
        result = ingest(factory, raw, doc, filename="bench.docx", diff=lambda o, n: [])
        assert result.status in {"new_series", "new_version"}, result.status
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return len(docs) / wall, len(docs) / max(cpu, 1e-9)


def bulk_fill(engine: Any, target_versions: int, batch: int = 5000) -> float:
    """Insert synthetic rows with executemany until ``versions`` holds target_versions rows."""
    from sqlalchemy import func, insert, select

    from storage.models import ChangeSet, Fetch, Series, TargetRow, Task, TaskUnit, Version, utcnow

    t0 = time.perf_counter()
    with engine.begin() as conn:
        have = conn.execute(select(func.count(Version.id))).scalar() or 0
        next_id = (conn.execute(select(func.max(Version.id))).scalar() or 0) + 1
        next_series = (conn.execute(select(func.max(Series.id))).scalar() or 0) + 1
        next_task = (conn.execute(select(func.max(Task.id))).scalar() or 0) + 1
    need = max(0, target_versions - have)
    now = utcnow()
    done = 0
    while done < need:
        size = min(batch, need - done)
        series_rows: list[dict[str, Any]] = []
        version_rows: list[dict[str, Any]] = []
        task_rows: list[dict[str, Any]] = []
        unit_rows: list[dict[str, Any]] = []
        target_rows: list[dict[str, Any]] = []
        cs_rows: list[dict[str, Any]] = []
        fetch_rows: list[dict[str, Any]] = []
        for k in range(0, size, 2):
            sid = next_series
            next_series += 1
            canon = f"合成计划{sid}"
            series_rows.append(
                {
                    "id": sid,
                    "key": hashlib.sha1(f"bulk{sid}".encode()).hexdigest()[:12],
                    "canonical_title": canon,
                    "title": canon,
                    "issuer": "合成政府",
                    "kind": "plan",
                    "created_at": now,
                }
            )
            for seq in (1, 2)[: min(2, size - k)]:
                vid = next_id
                next_id += 1
                h = hashlib.sha256(f"bulk-{vid}".encode()).hexdigest()
                version_rows.append(
                    {
                        "id": vid,
                        "series_id": sid,
                        "seq": seq,
                        "content_hash": h,
                        "raw_hash": h,
                        "filename": "bulk.docx",
                        "format": "docx",
                        "parsed": {"schema": "radar.document/1", "title": canon},
                        "parser_version": "1",
                        "title": canon,
                        "doc_number": f"合发〔2024〕{vid}号",
                        "date": "2024-01-01",
                        "kind": "plan",
                        "source_url": f"https://bulk.example.cn/{vid}.html",
                        "fetched_at": now,
                        "match_reason": "new series" if seq == 1 else "bulk",
                    }
                )
                cs_rows.append(
                    {
                        "series_id": sid,
                        "from_version_id": vid - 1 if seq == 2 else None,
                        "to_version_id": vid,
                        "created_at": now,
                        "alert_count": 0,
                        "info_count": 0,
                        "is_new_document": seq == 1,
                    }
                )
                fetch_rows.append(
                    {"raw_hash": h, "version_id": vid, "fetched_at": now, "status": "new_version"}
                )
                for t in range(5):
                    tid = next_task
                    next_task += 1
                    task_rows.append(
                        {
                            "id": tid,
                            "version_id": vid,
                            "ord": t,
                            "task_key": f"t{t}",
                            "number": f"{t + 1}.",
                            "path": [],
                            "title": f"合成任务{t}",
                            "text": "合成任务正文。",
                        }
                    )
                    unit = UNITS[(vid + t) % len(UNITS)]
                    unit_rows.append(
                        {
                            "task_id": tid,
                            "name": unit,
                            "unit_key": unit,
                            "scoped_key": unit,
                            "role": "responsible",
                        }
                    )
                    if t % 2 == 0:
                        target_rows.append(
                            {
                                "version_id": vid,
                                "task_id": tid,
                                "ord": 0,
                                "metric": "企业数量",
                                "value": t * 10,
                                "unit": "家",
                                "year": 2025,
                                "comparator": ">=",
                                "text": "合成目标",
                            }
                        )
        with engine.begin() as conn:
            conn.execute(insert(Series), series_rows)
            conn.execute(insert(Version), version_rows)
            conn.execute(insert(Task), task_rows)
            conn.execute(insert(TaskUnit), unit_rows)
            conn.execute(insert(TargetRow), target_rows)
            conn.execute(insert(ChangeSet), cs_rows)
            conn.execute(insert(Fetch), fetch_rows)
        done += len(version_rows)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    elif engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    with engine.begin() as conn:
        # Keep the sequences ahead of the explicit ids we inserted (PostgreSQL only).
        if engine.dialect.name == "postgresql":
            for table in ("series", "versions", "tasks"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    return time.perf_counter() - t0


def run(small_url: str, big_url: str, n: int, bulk: int) -> dict[str, Any]:
    """Ingest n documents into a small and a big (``bulk`` versions) database, interleaved.

    The machine is shared (two cores, other suites running), so load swings by 2x within a
    minute. Alternating slices between the two databases exposes both to the same load;
    the median of the per-slice ratios is the comparable figure.
    """
    from sqlalchemy import func, select

    from storage.db import make_engine, session_factory, upgrade
    from storage.models import Version

    small, big = make_engine(small_url), make_engine(big_url)
    upgrade(small)
    upgrade(big)
    fill_s = bulk_fill(big, bulk)
    f_small, f_big = session_factory(small), session_factory(big)
    with f_big() as s:
        stored = s.scalar(select(func.count(Version.id))) or 0
    docs_small, docs_big = generated(0, n), generated(10_000_000, n)
    size = max(2, n // 20)
    rates_small: list[float] = []
    rates_big: list[float] = []
    cpu_small: list[float] = []
    cpu_big: list[float] = []
    t_small = t_big = 0.0
    for start in range(0, n, size):
        t0 = time.perf_counter()
        wall, cpu = ingest_chunk(f_small, docs_small[start : start + size])
        rates_small.append(wall)
        cpu_small.append(cpu)
        t1 = time.perf_counter()
        wall, cpu = ingest_chunk(f_big, docs_big[start : start + size])
        rates_big.append(wall)
        cpu_big.append(cpu)
        t_small += t1 - t0
        t_big += time.perf_counter() - t1
    ratios = [b / a for a, b in zip(rates_small, rates_big, strict=True)]
    cpu_ratios = [b / a for a, b in zip(cpu_small, cpu_big, strict=True)]
    backend = small.dialect.name
    small.dispose()
    big.dispose()
    return {
        "backend": backend,
        "docs": n,
        "docs_per_s_small": round(n / t_small, 1),
        "docs_per_s_small_median": round(statistics.median(rates_small), 1),
        "versions_in_big": stored,
        "bulk_fill_s": round(fill_s, 1),
        "docs_per_s_big": round(n / t_big, 1),
        "docs_per_s_big_median": round(statistics.median(rates_big), 1),
        "ratio_median": round(statistics.median(ratios), 2),
        "ratio_overall": round(t_small / t_big, 2),
        "docs_per_cpu_s_small_median": round(statistics.median(cpu_small), 1),
        "docs_per_cpu_s_big_median": round(statistics.median(cpu_big), 1),
        "cpu_ratio_median": round(statistics.median(cpu_ratios), 2),
    }


def _pg_databases(url: str) -> tuple[str, str, Any]:
    """Two fresh databases next to ``url`` (small, big) and a function that drops them."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import dispose_all

    base = make_url(url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    names = [f"radar_bench_small_{os.getpid()}", f"radar_bench_big_{os.getpid()}"]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        dispose_all()
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    small, big = (base.set(database=nm).render_as_string(hide_password=False) for nm in names)
    return small, big, drop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    ap.add_argument("--n", type=int, default=1000, help="documents per measured run")
    ap.add_argument("--bulk", type=int, default=100_000, help="versions stored before run 2")
    ap.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    args = ap.parse_args(argv)
    n, bulk = (40, 2_000) if args.smoke else (args.n, args.bulk)

    results = []
    with tempfile.TemporaryDirectory(prefix="radar-bench-") as tmp:
        os.environ["RADAR_HOME"] = tmp  # raw files go here
        if not args.no_sqlite:
            results.append(
                run(
                    f"sqlite:///{Path(tmp) / 'small.db'}",
                    f"sqlite:///{Path(tmp) / 'big.db'}",
                    n,
                    bulk,
                )
            )
        if args.pg:
            small, big, drop = _pg_databases(args.pg)
            try:
                results.append(run(small, big, n, bulk))
            finally:
                drop()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(
                f"{r['backend']:>10}: {r['docs']} docs into ~{r['docs']} versions: "
                f"{r['docs_per_s_small']} docs/s; into {r['versions_in_big']} versions: "
                f"{r['docs_per_s_big']} docs/s; ratio x{r['ratio_median']} (median of slices), "
                f"x{r['ratio_overall']} overall; per CPU-second {r['docs_per_cpu_s_small_median']}"
                f" -> {r['docs_per_cpu_s_big_median']} (x{r['cpu_ratio_median']}); "
                f"bulk fill {r['bulk_fill_s']} s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
