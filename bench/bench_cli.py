"""The operator's commands as real processes (issue 14): every ratio measured in one run.

* ``radar --help`` against a bare interpreter start;
* ``radar ingest FILE`` against ``radar parse FILE`` (goal ≤ 2×), in a home whose database is
  already migrated, no Prefect server running (the CLI runs the flow locally);
* ``radar parse`` of a small PDF against raw pypdfium2 text extraction in a fresh
  interpreter (goal ≤ 3×);
* an unchanged ``radar poll`` against ``urlwatch`` on the same local site (goal ≤ 3× CPU);
* ``radar serve``'s time to ready (its own "ready in" line: the Prefect API and the web
  pages answer) for a new home (Prefect database from the template), its second start,
  and a new home without a template (Prefect migrates), with the load average of each;
* N files as N ``radar ingest`` commands against the same files dropped into a running
  ``radar serve``'s inbox.

CPU is the children's user+system time (``RUSAGE_CHILDREN``), wall is ``perf_counter``;
each figure is the median of ``--repeat N`` runs (default 3). ``--smoke`` runs one repetition
and 3 files.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RADAR_", "PREFECT_"))}
    env.update(HOME=str(home), RADAR_HOME=str(home / ".radar"), **extra)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float]:
    """(wall s, CPU s) of one child process; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{cmd}: exit {proc.returncode}: {proc.stderr.decode()[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def median_of(repeat: int, once: Callable[[int], tuple[float, float]]) -> tuple[float, float]:
    samples = [once(i) for i in range(repeat)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def row(name: str, a: tuple[float, float], b: tuple[float, float], goal: str) -> None:
    print(
        f"| {name} | {a[0]:.2f} s / {a[1]:.2f} s | {b[0]:.2f} s / {b[1]:.2f} s "
        f"| {a[0] / b[0]:.2f}× | {a[1] / b[1]:.2f}× | {goal} |",
        flush=True,
    )


def template_home(work: Path) -> Path:
    """A home whose database is migrated (one document stored), copied per measurement."""
    home = work / "template"
    home.mkdir()
    run([str(BIN / "radar"), "ingest", str(SEEDS / "000_569c03692071d7e0.txt")], _env(home))
    return home


def fresh_copy(template: Path, work: Path, name: str) -> Path:
    target = work / name
    shutil.copytree(template, target)
    return target


def bench_help(repeat: int) -> None:
    env = dict(os.environ)
    bare = median_of(repeat, lambda _: run([sys.executable, "-c", "pass"], env))
    help_ = median_of(repeat, lambda _: run([str(BIN / "radar"), "--help"], env))
    row("`radar --help` vs `python -c pass`", help_, bare, "(start-up only)")


def bench_ingest_vs_parse(work: Path, template: Path, repeat: int, name: str) -> None:
    path = SEEDS / name

    def parse(_: int) -> tuple[float, float]:
        return run([str(BIN / "radar"), "parse", str(path)], dict(os.environ))

    def ingest(i: int) -> tuple[float, float]:
        home = fresh_copy(template, work, f"ingest-{name}-{i}")
        return run([str(BIN / "radar"), "ingest", str(path)], _env(home))

    row(
        f"`radar ingest` vs `radar parse`, {name}",
        median_of(repeat, ingest),
        median_of(repeat, parse),
        "≤ 2×",
    )


RAW_PDFIUM = """
import sys, pypdfium2
pdf = pypdfium2.PdfDocument(sys.argv[1])
text = "".join(page.get_textpage().get_text_range() for page in pdf)
print(len(text))
"""


def bench_parse_vs_pdfium(repeat: int, name: str) -> None:
    path = str(SEEDS / name)
    raw = median_of(
        repeat, lambda _: run([sys.executable, "-c", RAW_PDFIUM, path], dict(os.environ))
    )
    cli = median_of(repeat, lambda _: run([str(BIN / "radar"), "parse", path], dict(os.environ)))
    row(f"`radar parse` (table) vs raw pypdfium2, {name}", cli, raw, "≤ 3×")
    cmd = [str(BIN / "radar"), "parse", "--json", path]
    as_json = median_of(repeat, lambda _: run(cmd, dict(os.environ)))
    row(f"`radar parse --json` vs raw pypdfium2, {name}", as_json, raw, "≤ 3×")


def bench_poll_vs_urlwatch(work: Path, repeat: int) -> None:
    from flows.site_fixture import FixtureSite, build_demo_site

    with FixtureSite() as site:
        demo = build_demo_site(site, SEEDS)
        home = work / "poll"
        (home / ".radar").mkdir(parents=True)
        (home / ".radar" / "sources.toml").write_text(
            f'[[sources]]\nname = "portal"\nurl = "{demo.listing_url}"\n', encoding="utf-8"
        )
        env = _env(home, RADAR_ALLOW_PRIVATE_NETWORKS="1", RADAR_FETCH_INTERVAL="0")
        poll = [str(BIN / "radar"), "poll"]
        run(poll, env)  # first poll: everything new
        site.clear_requests()
        radar = median_of(repeat, lambda _: run(poll, env))
        radar_requests = len(site.requests) / repeat
        # urlwatch on the same listing page, its cache and config in the same kind of home.
        uw = work / "urlwatch"
        uw.mkdir()
        (uw / "urls.yaml").write_text(f"url: {demo.listing_url}\n", encoding="utf-8")
        cmd = [
            str(BIN / "urlwatch"),
            "--urls", str(uw / "urls.yaml"),
            "--config", str(uw / "urlwatch.yaml"),
            "--hooks", str(uw / "hooks.py"),
            "--cache", str(uw / "cache.db"),
        ]  # fmt: skip
        uw_env = {**os.environ, "HOME": str(uw)}
        run(cmd, uw_env)  # first run fills its cache
        site.clear_requests()
        watch = median_of(repeat, lambda _: run(cmd, uw_env))
        watch_requests = len(site.requests) / repeat
    row(
        f"unchanged `radar poll` ({radar_requests:g} requests) vs urlwatch "
        f"({watch_requests:g} requests)",
        radar,
        watch,
        "≤ 3× CPU",
    )


def _files(work: Path, count: int) -> list[Path]:
    """``count`` distinct small documents (seed texts, each with its own closing line)."""
    texts = sorted(SEEDS.glob("00[0-4]_*[0-9a-f].txt"))
    folder = work / "files"
    folder.mkdir()
    out = []
    for i in range(count):
        source = texts[i % len(texts)].read_text(encoding="utf-8")
        path = folder / f"doc{i:03}.txt"
        path.write_text(source + f"\n\n（第{i + 1}份，基准测试）\n", encoding="utf-8")
        out.append(path)
    return out


def _free_port() -> int:
    from flows.service import free_port

    return free_port()


def _serve_env(home: Path, **extra: str) -> dict[str, str]:
    return _env(
        home,
        RADAR_PREFECT_PORT=str(_free_port()),
        RADAR_WEB_PORT=str(_free_port()),
        PYTHONUNBUFFERED="1",
        **extra,
    )


def _start_serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``radar serve``; (the process, its own "ready in" seconds)."""
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [str(BIN / "radar"), "serve"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ready = _wait(lambda: re.search(r"ready in ([\d.]+) s", log.read_text()), 300)
    except TimeoutError:
        _stop_serve(serve)
        raise
    return serve, float(ready.group(1))  # type: ignore[attr-defined]


def _stop_serve(serve: subprocess.Popen[bytes]) -> None:
    serve.send_signal(signal.SIGTERM)
    try:
        serve.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait()


def bench_serve_ready(work: Path, template: Path, smoke: bool = False) -> None:
    """Time to ready (the API and the web pages answer): a new home started from the kept
    Prefect database, the same home's second start, and a new home that has to migrate
    (no template: what a first serve without ``make install``'s template costs)."""
    home = fresh_copy(template, work, "serve-ready")
    no_template = work / "no-template"
    cases = [
        ("new home, Prefect database from the template", home, {}),
        ("second start of that home", home, {}),
        (
            "new home without a template (Prefect migrates)",
            fresh_copy(template, work, "serve-migrate"),
            {"RADAR_PREFECT_TEMPLATE_DIR": str(no_template)},
        ),
    ]
    for name, case_home, extra in cases[:1] if smoke else cases:
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        serve, ready = _start_serve(_serve_env(case_home, **extra), case_home / "serve.log")
        _stop_serve(serve)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(
            f"| `radar serve` ready: {name} | {ready:.1f} s (load {load:.1f}) "
            f"| CPU to ready and stop {cpu:.1f} s | | | well under 10 s where Prefect allows |",
            flush=True,
        )


def bench_many_files(work: Path, template: Path, count: int) -> None:
    files = _files(work, count)
    home = fresh_copy(template, work, "one-by-one")
    env = _env(home)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for path in files:
        run([str(BIN / "radar"), "ingest", str(path)], env)
    one_by_one = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_one = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    home = fresh_copy(template, work, "serve")
    serve, ready = _start_serve(_serve_env(home), home / "serve.log")
    try:
        inbox = home / ".radar" / "inbox"
        started = time.perf_counter()
        for path in files:
            shutil.copy(path, inbox / path.name)
        done = inbox / "done"
        _wait(
            lambda: (
                len(list(done.glob("*.txt"))) + len(list((inbox / "failed").glob("*.txt"))) >= count
            ),
            1800,
        )
        through_serve = time.perf_counter() - started
    finally:
        _stop_serve(serve)
    failed = len(list((inbox / "failed").glob("*.txt")))
    print(
        f"| {count} files: one `radar ingest` each vs dropped into serve's inbox "
        f"| {one_by_one:.1f} s wall, {cpu_one:.1f} s CPU | {through_serve:.1f} s wall "
        f"({failed} failed; serve ready in {ready:.1f} s) | {one_by_one / through_serve:.2f}× "
        "| | |",
        flush=True,
    )


def _wait(check: Callable[[], object], timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError("benchmark step timed out")


def main(argv: list[str]) -> int:
    smoke = "--smoke" in argv
    repeat = 1 if smoke else 3
    if "--repeat" in argv:  # more runs per median: CPU figures on a shared machine vary ±10 %
        repeat = int(argv[argv.index("--repeat") + 1])
    count = 3 if smoke else 50
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    print("| measurement | A: wall / CPU | B: wall / CPU | wall A/B | CPU A/B | goal |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="radar-bench-cli-") as tmp:
        work = Path(tmp)
        template = template_home(work)
        bench_help(repeat)
        bench_ingest_vs_parse(work, template, repeat, "004_2276e3ffef9e3d8c.pdf")
        bench_ingest_vs_parse(work, template, repeat, "002_152408040e809265.txt")
        bench_parse_vs_pdfium(repeat, "004_2276e3ffef9e3d8c.pdf")
        bench_poll_vs_urlwatch(work, repeat)
        if "--no-serve" not in argv:
            bench_serve_ready(work, template, smoke)
            bench_many_files(work, template, count)
    print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
