"""Run every benchmark in bench/ (``--smoke``: the tiny versions, as CI does).

Each ``bench_*.py`` is a standalone script; this runner executes them one after another in
subprocesses and fails if any of them fails, so CI notices a benchmark that stopped working.
Figures are read by people from the output and recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    smoke = "--smoke" in argv
    failed: list[str] = []
    for script in sorted(HERE.glob("bench_*.py")):
        cmd = [sys.executable, str(script), *(["--smoke"] if smoke else [])]
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        result = subprocess.run(cmd, cwd=HERE.parent, check=False)
        print(
            f"== {script.name}: exit {result.returncode} in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print("benchmarks failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
