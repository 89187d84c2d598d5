"""A throw-away scale-out installation on this machine (tests/scale, bench/bench_workpool.py).

One PostgreSQL server (tests/pg_server.py) with two databases — ``prefect`` for a real
``prefect server`` and ``radar_test`` for radar — a process work pool registered by
``radar deploy`` and N ``prefect worker start`` processes, all sharing one ``RADAR_HOME``
(the raw files; README "Several hosts"). Each worker has its own ``PREFECT_HOME``, as on
separate hosts. Everything is driven through subprocesses and the server's REST API, so the
test process never imports Prefect with another server's settings.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]

    def children(self) -> list[int]:
        """The worker's child processes (its flow runs)."""
        out = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            try:
                out += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
        return out

    def kill_hard(self) -> list[int]:
        """``kill -9`` the worker and its flow-run processes (a lost host); their pids."""
        pids = [self.process.pid, *self.children()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)
        return pids


@dataclass
class Cluster:
    base: Path
    env: dict[str, str]
    api_url: str
    workers: list[Worker] = field(default_factory=list)
    server: subprocess.Popen[bytes] | None = None
    #: flow run id -> worker name, sampled from the workers' children (see :meth:`sample`).
    placed: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return Path(self.env["RADAR_HOME"])

    def radar(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "radar"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def start_worker(self, name: str, limit: int | None = None) -> Worker:
        """``prefect worker start`` (``limit``: flow runs at once, like a host's capacity)."""
        env = {**self.env, "PREFECT_HOME": str(self.base / f"prefect-{name}")}
        log = (self.base / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", "radar-pool", "--name", name]
            + (["--limit", str(limit)] if limit else []),
            env=env,
            cwd=self.base,  # not the checkout: the code comes from the installed package
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = Worker(name, process)
        self.workers.append(worker)
        return worker

    # -- the REST API -------------------------------------------------------------------

    def api(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.api_url}{path}",
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def flow_runs(self, deployment: str | None = None) -> list[dict[str, Any]]:
        """All flow runs (or one deployment's, ``flow/name``)."""
        body: dict[str, Any] = {"limit": 200, "offset": 0}
        if deployment is not None:
            dep = self.api(f"/deployments/name/{deployment}")
            body["deployments"] = {"id": {"any_": [dep["id"]]}}
        runs: list[dict[str, Any]] = []
        while True:
            page = self.api("/flow_runs/filter", body)
            runs += page
            if len(page) < body["limit"]:
                return runs
            body["offset"] += body["limit"]

    def run_deployment(self, name: str, parameters: dict[str, Any] | None = None) -> str:
        dep = self.api(f"/deployments/name/{name}")
        run = self.api(
            f"/deployments/{dep['id']}/create_flow_run", {"parameters": parameters or {}}
        )
        return str(run["id"])

    def state_of(self, run_id: str) -> str:
        return str(self.api(f"/flow_runs/{run_id}")["state_type"])

    def sample(self) -> None:
        """Record which worker runs which flow run (the child's PREFECT__FLOW_RUN_ID)."""
        for worker in self.workers:
            if worker.process.poll() is not None:
                continue
            for pid in worker.children():
                try:
                    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                except OSError:
                    continue
                for entry in environ:
                    if entry.startswith(b"PREFECT__FLOW_RUN_ID="):
                        self.placed[entry.split(b"=", 1)[1].decode()] = worker.name

    def wait_runs(self, run_ids: list[str], timeout: float) -> None:
        """Wait until every run in ``run_ids`` and every run they started is final,
        sampling placements meanwhile; on timeout, the unfinished runs and log tails."""

        def done() -> bool:
            self.sample()
            runs = self.flow_runs()
            return all(_settled(r) for r in runs) and all(
                self.state_of(i) in FINAL for i in run_ids
            )

        try:
            wait_for("the flow runs to finish", done, timeout, interval=0.3)
        except AssertionError:
            raise AssertionError(self.diagnosis()) from None

    def diagnosis(self) -> str:
        runs = [r for r in self.flow_runs() if not _settled(r)]
        lines = [
            f"unfinished: {r['name']} {r['state_type']} {r.get('infrastructure_pid')}" for r in runs
        ]
        for log in sorted(self.base.glob("*.log")):
            lines.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-2500:])
        return "\n".join(lines)

    def crash_orphans(self, dead_pids: set[int], grace: float = 20.0) -> list[str]:
        """Mark the runs of a lost worker Crashed, as Prefect's zombie-run automation does
        once their heartbeats stop (README, "What to monitor"): RUNNING/PENDING runs whose
        process is dead, and PENDING runs no live worker started within ``grace`` s."""
        crashed = []
        deadline = time.monotonic() + grace
        while True:
            self.sample()
            for run in self.flow_runs():
                if run["state_type"] not in {"RUNNING", "PENDING"}:
                    continue
                if self._orphaned(run, dead_pids, final=time.monotonic() > deadline):
                    self.api(
                        f"/flow_runs/{run['id']}/set_state",
                        {
                            "state": {
                                "type": "CRASHED",
                                "name": "Crashed",
                                "message": "worker lost (kill -9)",
                            },
                            "force": True,
                        },
                    )
                    crashed.append(str(run["id"]))
            if time.monotonic() > deadline:
                return crashed
            time.sleep(1.0)

    def _orphaned(self, run: dict[str, Any], dead_pids: set[int], *, final: bool) -> bool:
        pid_text = str(run.get("infrastructure_pid") or "").rsplit(":", 1)[-1]
        if pid_text.isdigit():
            pid = int(pid_text)
            return pid in dead_pids or not Path(f"/proc/{pid}").exists()
        return final and run["state_type"] == "PENDING"

    # -- life cycle ---------------------------------------------------------------------

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.process.pid, signal.SIGKILL)
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)


def _settled(run: dict[str, Any]) -> bool:
    """Final, or a future run the scheduler made (the schedules' next runs never finish)."""
    return run["state_type"] in FINAL or bool(
        run["state_type"] == "SCHEDULED" and run.get("auto_scheduled")
    )


def _create_database(port: int, name: str) -> str:
    import psycopg

    from tests.pg_server import DB_USER

    with psycopg.connect(
        host="127.0.0.1", port=port, user=DB_USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{DB_USER}@127.0.0.1:{port}/{name}"


def start_prefect_server(base: Path, env: dict[str, str], pg_port: int) -> tuple[Any, str]:
    from flows.service import free_port

    port = free_port()
    server_env = {
        **env,
        "PREFECT_HOME": str(base / "prefect-server"),
        "PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://"
        + _create_database(pg_port, "prefect"),
        "PREFECT_UI_ENABLED": "false",
    }
    server_env.pop("PREFECT_API_URL", None)
    log = (base / "prefect-server.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api_url = f"http://127.0.0.1:{port}/api"

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"prefect server exited; see {base / 'prefect-server.log'}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for("the Prefect server", up, 180)
    return process, api_url


def radar_env(base: Path, radar_db: str, api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RADAR_"))}
    env.update(
        RADAR_HOME=str(base / "home"),
        RADAR_DATABASE_URL=radar_db,
        RADAR_ALLOW_PRIVATE_NETWORKS="1",
        RADAR_FETCH_RETRIES="1",
        RADAR_FETCH_BACKOFF="0.1",
        PREFECT_API_URL=api_url,
        PREFECT_HOME=str(base / "prefect-client"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_LOGGING_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def new_base() -> Path:
    return Path(tempfile.mkdtemp(prefix="radar-scale-"))


def write_sources(home: Path, sites: dict[str, str], poll_deadline: int) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "sources.toml"
    path.write_text(
        "".join(
            f'[[sources]]\nname = "{name}"\nurl = "{url}"\npoll_deadline = {poll_deadline}\n'
            for name, url in sites.items()
        ),
        encoding="utf-8",
    )
    return path


@contextmanager
def running_cluster(
    sites: dict[str, str],
    *,
    workers: int,
    fetch_interval: float,
    poll_deadline: int,
    worker_limit: int | None = None,
) -> Iterator[Cluster]:
    """PostgreSQL, the Prefect server, ``radar deploy`` and ``workers`` workers, stopped
    and removed afterwards; ``sites`` maps source names to listing URLs."""
    from tests import pg_server

    base = new_base()
    pg_base = Path(tempfile.mkdtemp(prefix="radar-scale-pg-"))  # chowned to postgres as root
    bin_dir = pg_server.ensure_binaries()
    user = pg_server.server_user()
    data: Path | None = None
    cluster: Cluster | None = None
    try:
        pg_port, data = pg_server.start(bin_dir, pg_base, user)
        radar_db = pg_server.create_database(pg_port)
        server, api_url = start_prefect_server(base, dict(os.environ), pg_port)
        env = radar_env(base, radar_db, api_url, RADAR_FETCH_INTERVAL=str(fetch_interval))
        cluster = Cluster(base=base, env=env, api_url=api_url, server=server)
        write_sources(cluster.home, sites, poll_deadline)
        cluster.radar("deploy", "--pool", "radar-pool")
        for number in range(workers):
            cluster.start_worker(f"w{number + 1}", worker_limit)
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop()
        if data is not None:
            pg_server.stop(bin_dir, data, user)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(pg_base, ignore_errors=True)
