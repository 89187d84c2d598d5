"""Parsing benchmark: full PDF parsing against raw pypdfium2 text extraction.

    .venv/bin/python bench/bench_parse.py            # 20 rounds over the seed PDFs
    .venv/bin/python bench/bench_parse.py --smoke    # 1 round, quick
    .venv/bin/python bench/bench_parse.py --rounds 50
    .venv/bin/python bench/bench_parse.py --dir tests/fixtures/tables   # ruled task tables
    .venv/bin/python bench/bench_parse.py --cpu      # CPU time instead of wall (loaded box)

Every round times, on the same seed PDFs and interleaved (so machine load hits all
alike): raw pypdfium2 extraction (``PdfDocument(data)`` and ``get_text_range()`` on every
page: the floor), our PDF reader alone (``parsers.readers.registry.extract``), the full
in-process parse (``parsers.pipeline.parse_bytes``: reader + structure), and the full
parse through one warm ``ParserPool`` (sandboxed worker, pickling both ways). A
pdfplumber-only pipeline (``extract_text`` per page) runs on fewer rounds, for the record.
Goal: full parse <= 3x the raw extraction. Figures are medians of per-round wall times.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
GOAL_RATIO = 3.0


def raw_pdfium(data: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    chars = 0
    for i in range(len(doc)):
        page = doc[i]
        textpage = page.get_textpage()
        chars += len(textpage.get_text_range())
        textpage.close()
        page.close()
    doc.close()
    return chars


def pdfplumber_only(data: bytes) -> int:
    import pdfplumber

    chars = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            chars += len(page.extract_text() or "")
    return chars


def page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    n = len(doc)
    doc.close()
    return n


CLOCK = time.perf_counter


def timed(fn: Callable[[bytes], object], files: list[bytes]) -> float:
    start = CLOCK()
    for data in files:
        fn(data)
    return CLOCK() - start


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="one round, quick")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument(
        "--cpu",
        action="store_true",
        help="time CPU of this process (time.process_time), not wall time: for a loaded "
        "machine; the ParserPool row then shows only the client's share",
    )
    ap.add_argument(
        "--dir",
        type=Path,
        default=SEEDS,
        help="the PDFs to parse (default: the seeds; tests/fixtures/tables has ruled tables)",
    )
    args = ap.parse_args(argv)
    rounds = 1 if args.smoke else args.rounds
    global CLOCK
    CLOCK = time.process_time if args.cpu else time.perf_counter
    plumber_rounds = 1 if args.smoke else max(1, rounds // 10)

    from parsers.pipeline import parse_bytes
    from parsers.readers.registry import extract
    from parsers.sandbox import ParserPool

    paths = sorted(args.dir.glob("*.pdf"))
    if not paths:
        print(f"bench_parse: no PDFs in {args.dir}", file=sys.stderr)
        return 2
    files = [p.read_bytes() for p in paths]
    pages = sum(page_count(d) for d in files)
    print(f"{len(files)} PDFs from {args.dir}, {pages} pages per round, {rounds} round(s)")

    results: dict[str, list[float]] = {"raw": [], "reader": [], "full": [], "pool": []}
    with ParserPool() as pool:

        def pooled(data: bytes) -> object:
            return pool.parse(data)

        # Warm up: imports, pdfium init, the worker process, caches.
        for fn in (raw_pdfium, extract, parse_bytes, pooled):
            timed(fn, files)
        for _ in range(rounds):
            results["raw"].append(timed(raw_pdfium, files))
            results["reader"].append(timed(extract, files))
            results["full"].append(timed(parse_bytes, files))
            results["pool"].append(timed(pooled, files))
    plumber = [timed(pdfplumber_only, files) for _ in range(plumber_rounds)]

    raw = statistics.median(results["raw"])
    rows = [
        ("raw pypdfium2 get_text_range", raw, rounds),
        ("PDF reader (extract)", statistics.median(results["reader"]), rounds),
        ("full parse_bytes (reader + structure)", statistics.median(results["full"]), rounds),
        ("full parse via ParserPool", statistics.median(results["pool"]), rounds),
        ("pdfplumber extract_text only", statistics.median(plumber), plumber_rounds),
    ]
    print(f"{'pipeline':40} {'ms/round':>10} {'pages/s':>9} {'x raw':>7} {'rounds':>7}")
    for name, t, n in rows:
        print(f"{name:40} {t * 1000:10.1f} {pages / t:9.0f} {t / raw:7.2f} {n:7d}")
    ratio = statistics.median(results["full"]) / raw
    verdict = "ok" if ratio <= GOAL_RATIO else "OVER"
    print(f"full parse / raw extraction = {ratio:.2f} (goal <= {GOAL_RATIO:g}): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
