"""Running ``radar serve`` as a subprocess in tests, and waiting on things."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def radar_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a radar subprocess on ``home``: its own Prefect home and a free
    Prefect port (the default 4200 may be taken by another test or a real serve)."""
    from flows.service import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        RADAR_HOME=str(home),
        PREFECT_HOME=str(home / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        RADAR_PREFECT_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_serve(
    home: Path, env: dict[str, str], *args: str, web_port: int | None = None
) -> subprocess.Popen[bytes]:
    log = (home / "serve.log").open("wb")
    web = ["--web-port", str(web_port)] if web_port else ["--no-web"]
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", *web, *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes], timeout: float = 60) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}; serve log tail:\n{tail}")
