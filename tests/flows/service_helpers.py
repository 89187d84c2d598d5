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


#: Every serve a test started, with the Prefect home whose server it launches: the
#: autouse fixture in tests/conftest.py reaps them after each test, also when the test
#: failed or timed out half-way (two Prefect servers once outlived their test run).
_STARTED: list[tuple[subprocess.Popen[bytes], Path]] = []


def prefect_home_of(env: dict[str, str]) -> Path:
    """Where serve keeps its Prefect home for ``env`` (as ``flows.prefect_env`` decides)."""
    if env.get("PREFECT_HOME"):
        return Path(env["PREFECT_HOME"])
    radar_home = env.get("RADAR_HOME") or str(Path(env["HOME"]) / ".radar")
    return Path(radar_home) / "prefect"


def track(process: subprocess.Popen[bytes], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Register a serve process for :func:`reap_all`; returns it."""
    _STARTED.append((process, prefect_home_of(env)))
    return process


def start_serve(
    home: Path, env: dict[str, str], *args: str, web_port: int | None = None
) -> subprocess.Popen[bytes]:
    log = (home / "serve.log").open("wb")
    web = ["--web-port", str(web_port)] if web_port else ["--no-web"]
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", *web, *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a kill takes its children too
    )
    return track(process, env)


def stop(process: subprocess.Popen[bytes], timeout: float = 60) -> int:
    """SIGTERM and wait; after ``timeout`` seconds kill serve's process group and the
    Prefect server it started (its own session), so nothing outlives the test."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
    for started, prefect_home in _STARTED:
        if started is process:
            _stop_prefect_server(prefect_home)
    return process.returncode


def reap_all() -> None:
    """Kill whatever a test's serves left running (see :data:`_STARTED`)."""
    while _STARTED:
        process, prefect_home = _STARTED.pop()
        if process.poll() is None:
            _kill_group(process.pid)
            process.wait()
        _stop_prefect_server(prefect_home)


def _kill_group(pid: int) -> None:
    """SIGKILL ``pid``'s process group if it leads one, else ``pid`` alone."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _stop_prefect_server(prefect_home: Path) -> None:
    from flows.service import stop_stale_server

    stop_stale_server(prefect_home, timeout=10)


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}; serve log tail:\n{tail}")
