"""A throw-away scale-out installation on this machine (tests/scale, bench/bench_workpool.py).

One PostgreSQL server (tests/pg_server.py) with two databases — ``prefect`` for a real
``prefect server`` and ``radar_test`` for radar — a process work pool registered by
``radar deploy`` and N ``prefect worker start`` processes, all sharing one ``RADAR_HOME``
(the raw files; README "Several hosts"). Each worker has its own ``PREFECT_HOME``, as on
separate hosts. Everything is driven through subprocesses and the server's REST API, so the
test process never imports Prefect with another server's settings.

Start-up overlaps where it can (the Prefect server imports and migrates while radar's
database is set up; ``radar deploy`` and the workers start together), and every process
started here — server, workers and the flow-run processes the workers spawned, which sit in
sessions of their own — is killed on the way out, whatever failed.
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
from concurrent.futures import ThreadPoolExecutor
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


def descendants(pid: int) -> list[int]:
    """``pid``'s child processes, their children, … (from /proc; [] once it is gone)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def _kill_tree(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM ``process``'s group and its descendants (flow runs start sessions of their
    own), wait, then SIGKILL whatever is left."""
    pids = [process.pid, *descendants(process.pid)]
    for pid in pids:
        _signal(pid, signal.SIGTERM, group=pid == process.pid)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    for pid in [*pids, *descendants(process.pid)]:
        _signal(pid, signal.SIGKILL, group=pid == process.pid)
    process.wait(timeout=10)


def _signal(pid: int, sig: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _die_with_parent() -> None:
    """In a child before exec: SIGKILL it when the test process dies (even by SIGKILL),
    so no server or worker outlives a killed pytest (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def _spawn(argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]

    def children(self) -> list[int]:
        """The worker's child processes (its flow runs)."""
        return descendants(self.process.pid)

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
    #: flow run id -> the workers seen running it, sampled from their children (see
    #: :meth:`sample`; a lost run re-run elsewhere has two).
    placed: dict[str, set[str]] = field(default_factory=dict)

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

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        """Run ``code`` in a Python process with the cluster's environment (one process
        for what would be many CLI calls: each costs ~2 s of imports on a loaded host)."""
        return subprocess.run(
            [sys.executable, "-c", code],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )

    def start_worker(self, name: str, limit: int | None = None) -> Worker:
        """``prefect worker start`` (``limit``: flow runs at once, like a host's capacity)."""
        env = {**self.env, "PREFECT_HOME": str(self.base / f"prefect-{name}")}
        process = _spawn(
            [str(BIN / "prefect"), "worker", "start", "--pool", "radar-pool", "--name", name]
            + (["--limit", str(limit)] if limit else []),
            env,
            self.base / f"{name}.log",
            self.base,  # not the checkout: the code comes from the installed package
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
                        run = entry.split(b"=", 1)[1].decode()
                        self.placed.setdefault(run, set()).add(worker.name)

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

    # -- life cycle ---------------------------------------------------------------------

    def stop(self) -> None:
        """Workers (with their flow runs), then the server; nothing is left running."""
        for worker in self.workers:
            _kill_tree(worker.process)
        if self.server is not None:
            _kill_tree(self.server)


def _settled(run: dict[str, Any]) -> bool:
    """Done: final but not Crashed (``radar deploy``'s automation re-runs a crashed run),
    or a future run the scheduler made (the schedules' next runs never finish)."""
    return run["state_type"] in FINAL - {"CRASHED"} or bool(
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


def launch_prefect_server(base: Path, env: dict[str, str], pg_port: int, port: int) -> Any:
    """``prefect server start`` on the ``prefect`` database; returns at once (it imports
    and migrates meanwhile: :func:`wait_prefect_server`)."""
    server_env = {
        **env,
        "PREFECT_HOME": str(base / "prefect-server"),
        "PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://"
        + _create_database(pg_port, "prefect"),
        "PREFECT_UI_ENABLED": "false",
    }
    server_env.pop("PREFECT_API_URL", None)
    argv = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    return _spawn(argv, server_env, base / "prefect-server.log", base)


def wait_prefect_server(process: Any, api_url: str, log: Path, timeout: float = 240) -> None:
    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"prefect server exited; see {log}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for("the Prefect server", up, timeout, interval=0.2)


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
    setup: Callable[[Cluster], None] | None = None,
    deploy_args: tuple[str, ...] = (),
) -> Iterator[Cluster]:
    """PostgreSQL, the Prefect server, ``radar deploy`` and ``workers`` workers, stopped
    and removed afterwards; ``sites`` maps source names to listing URLs. ``setup`` (radar
    commands needing no Prefect, e.g. subscriptions) runs while the server starts;
    ``deploy_args`` go to ``radar deploy``."""
    from flows.service import free_port
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
        port = free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        env = radar_env(base, radar_db, api_url, RADAR_FETCH_INTERVAL=str(fetch_interval))
        cluster = Cluster(base=base, env=env, api_url=api_url)
        cluster.server = launch_prefect_server(base, env, pg_port, port)
        write_sources(cluster.home, sites, poll_deadline)
        if setup is not None:
            setup(cluster)
        wait_prefect_server(cluster.server, api_url, base / "prefect-server.log")
        with ThreadPoolExecutor(max_workers=1) as pool:
            deploy = pool.submit(cluster.radar, "deploy", "--pool", "radar-pool", *deploy_args)
            for number in range(workers):
                cluster.start_worker(f"w{number + 1}", worker_limit)
            deploy.result()
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop()
        if data is not None:
            pg_server.stop(bin_dir, data, user)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(pg_base, ignore_errors=True)
