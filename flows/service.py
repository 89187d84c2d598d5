"""``radar serve``: the long-running service on one server.

What runs, all in one process tree:

* a Prefect server (``prefect server start`` on 127.0.0.1, the fixed port
  ``RADAR_PREFECT_PORT`` (4200), ``PREFECT_HOME`` under ``RADAR_HOME``, its UI told where
  its API is through ``PREFECT_UI_API_URL``) when ``PREFECT_API_URL`` is not set: Prefect's
  ephemeral server runs no scheduler and no triggers, so schedules need a real one;
* the deployments, served by ``prefect.serve`` in the main thread: one ``poll-source`` per
  configured source on its cron (``schedule`` in sources.toml, else every 6 hours),
  ``dispatch-alerts`` triggered by ``radar.document.changed`` plus a 10-minute safety-net
  schedule, the morning digest run, and ``ingest-document`` (no schedule: the operator's
  manual trigger from the Prefect UI, with parameters);
* the inbox watcher thread: a file dropped into ``RADAR_HOME/inbox/`` is ingested, then
  moved to ``inbox/done/`` or to ``inbox/failed/`` next to a ``.error.txt`` saying why;
* the web endpoints (``alerts.web.create_app`` under uvicorn) in a thread.

Once the Prefect API (so its UI) and the web pages answer, ``serve`` prints the URLs and
records them with its process id in ``RADAR_HOME/serve.json`` — "ready"; the deployments
(Prefect's import in this process, their registration) and the inbox start right after. A
new ``PREFECT_HOME`` starts from a kept migrated database (:mod:`flows.prefect_template`).
With ``serve.json`` there, ``radar ingest``/``poll`` run through its Prefect server (their
runs show in its UI) and ``radar status`` reports it. The file is removed on exit.

SIGTERM (or Ctrl-C) ends ``serve`` (with ``pause_on_shutdown=False``, so the schedules stay
active for the next start), then the threads and the Prefect server are stopped in turn.

Prefect is imported only after the server's URL is in the environment: Prefect reads its
settings at import time.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from parsers.errors import RadarError

log = logging.getLogger("radar.serve")

#: Default poll schedule for a source without ``schedule`` (every 6 hours, at minute 7:
#: not on the hour, when every crawler in the country hits the same sites).
DEFAULT_POLL_CRON = "7 */6 * * *"
#: The daily digest run (08:00 in the digest time zone of alerts.matching).
DIGEST_CRON = "0 8 * * *"
DIGEST_TIMEZONE = "Asia/Shanghai"
#: The safety-net dispatch schedule: retries whose backoff expired, events that were missed.
DISPATCH_INTERVAL_SECONDS = 600
INBOX_POLL_SECONDS = 1.0


class ServeError(RadarError):
    """The service could not start (Prefect server did not come up, port in use …)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class PrefectServer:
    """A ``prefect server start`` child process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    api_url: str
    log_path: Path

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait for ``/api/health``; stop the server and raise :class:`ServeError` if it
        exits or does not answer within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(
                    f"prefect server exited with code {self.process.returncode} "
                    f"(see {self.log_path})"
                )
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        from flows.prefect_template import mark_migrated

                        mark_migrated(self.log_path.parent)  # it migrated at start
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ServeError(
            f"prefect server did not answer {self.api_url}/health within {timeout:.0f}s"
        )

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds, to the server's process group
        (its own session: whatever it started goes with it)."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log_path.with_name(SERVER_PID_FILE).unlink(missing_ok=True)


#: Written next to the server's log: the pid of the Prefect server a serve started, so a
#: serve killed without its cleanup (SIGKILL, the OOM killer) leaves no server behind for
#: long — the next serve of the home, or a test's teardown, stops it.
SERVER_PID_FILE = "server.pid"


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def _is_prefect_server(pid: int) -> bool:
    """Whether ``pid`` runs ``prefect server start`` (a pid file may outlive its process and
    the number be reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"prefect" in b" ".join(cmdline) and b"server" in cmdline and b"start" in cmdline


def stop_stale_server(prefect_home: Path, timeout: float = 15.0) -> bool:
    """Stop the Prefect server recorded in ``prefect_home`` if it still runs; True if one did.

    Only a serve that died without its cleanup leaves one (a live serve of the home is
    refused before this is called); it holds the port and the database."""
    pid_file = prefect_home / SERVER_PID_FILE
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return False
    found = _is_prefect_server(pid)
    if found:
        log.warning("stopping the Prefect server a previous serve left running (pid %d)", pid)
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _is_prefect_server(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _is_prefect_server(pid):
            _signal_group(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return found


def check_port_free(port: int, what: str, setting: str, host: str = "127.0.0.1") -> None:
    """One clear line when a fixed port is taken (another serve, another program).

    ``SO_REUSEADDR`` as uvicorn binds: a listener still refuses the bind, but the
    TIME_WAIT connections a serve that just stopped leaves behind do not (without it a
    restart within a minute failed with "port in use")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ServeError(
                f"{what} port {port} on {host} is in use ({exc.strerror}); "
                f"stop what uses it or set {setting}"
            ) from None


def launch_prefect_server(prefect_home: Path, *, port: int | None = None) -> PrefectServer:
    """Start a Prefect server with its state in ``prefect_home`` on ``port`` (default: a
    free one); returns at once (see :meth:`PrefectServer.wait_ready`), so the caller can
    do its own start-up work while the server imports and migrates.

    ``PREFECT_UI_API_URL`` tells the UI (running in the browser) where the API is; unset,
    the UI shows "Can't connect to Server API". An operator behind a reverse proxy sets it
    to the public URL; otherwise it is the local address."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    stop_stale_server(prefect_home)
    if port is None:
        port = free_port()
    else:
        check_port_free(port, "Prefect", "RADAR_PREFECT_PORT")
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
        "PREFECT_UI_API_URL": os.environ.get("PREFECT_UI_API_URL") or api_url,
    }
    env.pop("PREFECT_API_URL", None)
    from flows.prefect_template import migrated_already

    if migrated_already(prefect_home):
        env.setdefault("PREFECT_SERVER_DATABASE_MIGRATE_ON_START", "false")
    log_path = prefect_home / "server.log"
    prefect_bin = Path(sys.executable).with_name("prefect")
    cmd = [str(prefect_bin)] if prefect_bin.exists() else [sys.executable, "-m", "prefect"]
    cmd += ["server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as out:
        process = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    (prefect_home / SERVER_PID_FILE).write_text(f"{process.pid}\n", encoding="utf-8")
    return PrefectServer(process, api_url, log_path)


def start_prefect_server(
    prefect_home: Path, *, port: int | None = None, timeout: float = 120.0
) -> PrefectServer:
    """:func:`launch_prefect_server` and wait until it answers."""
    server = launch_prefect_server(prefect_home, port=port)
    server.wait_ready(timeout)
    return server


# -- inbox ---------------------------------------------------------------------------------


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    stem, suffix = target.stem, target.suffix
    for n in range(2, 10_000):
        candidate = target.with_name(f"{stem}.{n}{suffix}")
        if not candidate.exists():
            return candidate
    raise ServeError(f"{target}: too many files with this name")


@dataclass
class InboxWatcher:
    """Ingest files dropped into ``inbox`` (polling: no inotify dependency, works on NFS).

    A file is taken once its size and mtime are stable across two scans (a copy in progress
    is left alone), and names starting with ``.`` or ending ``.part``/``.tmp`` are ignored.
    """

    inbox: Path
    interval: float = INBOX_POLL_SECONDS
    processed: list[tuple[str, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _seen: dict[Path, tuple[int, float]] = field(default_factory=dict)

    def start(self) -> InboxWatcher:
        for sub in ("", "done", "failed"):
            (self.inbox / sub).mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="radar-inbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:  # the watcher must outlive any one bad file
                log.exception("inbox scan failed")
            self._stop.wait(self.interval)

    def _ready(self) -> list[Path]:
        ready = []
        current: dict[Path, tuple[int, float]] = {}
        for path in sorted(self.inbox.iterdir()):
            name = path.name
            if not path.is_file() or name.startswith(".") or name.endswith((".part", ".tmp")):
                continue
            stat = path.stat()
            current[path] = (stat.st_size, stat.st_mtime)
            if self._seen.get(path) == current[path]:
                ready.append(path)
        self._seen = current
        return ready

    def scan(self) -> None:
        for path in self._ready():
            if self._stop.is_set():
                return
            self.ingest(path)

    def ingest(self, path: Path) -> None:
        from flows.ingest_flow import ingest_document

        try:
            results = ingest_document(str(path))
        except Exception as exc:
            target = _unique(self.inbox / "failed" / path.name)
            shutil.move(str(path), target)
            detail = f"{type(exc).__name__}: {exc}\n"
            if not isinstance(exc, RadarError):
                detail += "\n" + traceback.format_exc()
            target.with_name(target.name + ".error.txt").write_text(detail, encoding="utf-8")
            log.warning("inbox: %s failed: %s", path.name, exc)
            self.processed.append((path.name, "failed"))
        else:
            target = _unique(self.inbox / "done" / path.name)
            shutil.move(str(path), target)
            summary = ", ".join(f"{r.series_key} v{r.version_seq} {r.status}" for r in results)
            log.info("inbox: %s ingested (%s)", path.name, summary)
            self.processed.append((path.name, "done"))
        self._seen.pop(path, None)


# -- web -------------------------------------------------------------------------------------


@dataclass
class WebServer:
    """``alerts.web`` under uvicorn in a thread (skipped when alerts.web is absent)."""

    server: Any
    thread: threading.Thread

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until uvicorn listens (``started``); raise :class:`ServeError` if its thread
        ends first (the port taken after all, the app failing at start-up) or it takes
        longer than ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise ServeError("the web server stopped while starting (see the log above)")
            if time.monotonic() > deadline:
                raise ServeError(f"the web server did not start within {timeout:.0f}s")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout)


def start_web(host: str, port: int, sources_file: Path | None = None) -> WebServer | None:
    try:
        from alerts.web import create_app
    except ModuleNotFoundError as exc:
        if exc.name != "alerts.web":
            raise
        return None
    import uvicorn

    from flows.web_operator import operator_for

    app = create_app(operator_hooks=operator_for(sources_file, can_poll=True))
    # proxy_headers off: X-Forwarded-For is believed only from RADAR_TRUSTED_PROXIES.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    # uvicorn installs signal handlers only in the main thread: signals stay with serve().
    thread = threading.Thread(target=server.run, name="radar-web", daemon=True)
    thread.start()
    return WebServer(server, thread)


# -- deployments -------------------------------------------------------------------------------


def build_deployments(sources_file: Path | None, *, pool: str | None = None) -> list[Any]:
    """The deployments ``radar serve`` serves, or with ``pool`` the same ones for a work
    pool (``radar deploy``, :mod:`flows.deploy`): entrypoints by module path (the workers
    import the installed package, wherever it is checked out), ``RADAR_DISTRIBUTED=1`` in
    their job environment (and heartbeats every 30 s), the ``radar-pool`` tag, and
    ``ingest-links/poll-batch`` for the polls' fan-out."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.events import DeploymentEventTrigger

    from flows.distributed import (
        BATCH_DEPLOYMENT,
        DISPATCH_QUEUE,
        DISTRIBUTED_ENV,
        HEARTBEAT_SECONDS,
        POOL_TAG,
    )

    opts: dict[str, Any] = {}
    dispatch_opts: dict[str, Any] = {}
    if pool is not None:
        env = {DISTRIBUTED_ENV: "1", "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS)}
        opts = {
            "work_pool_name": pool,
            "entrypoint_type": EntrypointType.MODULE_PATH,
            "job_variables": {"env": env},
            "tags": [POOL_TAG],  # what the crash automations match (flows.distributed)
        }
        dispatch_opts = {**opts, "work_queue_name": DISPATCH_QUEUE}

    from flows.dispatch_flow import dispatch_alerts
    from flows.ingest_flow import EVENT_CHANGED, ingest_document
    from flows.poll_flow import poll_source, sources_path
    from flows.sources import load_sources

    deployments = [
        dispatch_alerts.to_deployment(
            name="on-change",
            triggers=[
                DeploymentEventTrigger(
                    name="radar document changed",
                    expect={EVENT_CHANGED},
                    match={"prefect.resource.id": "radar.series.*"},
                )
            ],
            interval=DISPATCH_INTERVAL_SECONDS,
            # One run at a time; one triggered meanwhile is cancelled, and the running one
            # sends until nothing is due (flows.dispatch_flow): runs are coalesced. Leases keep
            # concurrent senders correct anyway; this keeps them from piling up on a slow relay.
            concurrency_limit=ConcurrencyLimitConfig(
                limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
            ),
            description="Deliver due alerts when a document changes; every 10 min as a net.",
            **dispatch_opts,
        ),
        dispatch_alerts.to_deployment(
            name="daily-digest",
            cron=DIGEST_CRON,
            description="Send the daily digests in the morning.",
            **dispatch_opts,
        ),
        ingest_document.to_deployment(
            name="manual",
            description="Ingest one file path (on this server) or URL; optional series key.",
            **opts,
        ),
    ]
    if pool is not None:
        from flows.poll_flow import ingest_links

        deployments.append(
            ingest_links.to_deployment(
                name=BATCH_DEPLOYMENT.split("/", 1)[1],
                description="A batch of a poll's links, started by poll-source (the fan-out).",
                **opts,
            )
        )
    path = sources_path(str(sources_file) if sources_file else None)
    if path.is_file():
        for config in load_sources(path):
            deployments.append(
                poll_source.to_deployment(
                    name=config.name,
                    cron=config.schedule or DEFAULT_POLL_CRON,
                    parameters=_poll_parameters(config.name, path, sources_file, pool),
                    description=f"Poll {config.url}",
                    **opts,
                )
            )
    else:
        log.warning("no sources file at %s: no poll schedules", path)
    return deployments


def _poll_parameters(
    name: str, path: Path, sources_file: Path | None, pool: str | None
) -> dict[str, Any]:
    """On a pool, the workers read their own ``RADAR_HOME/sources.toml`` unless the operator
    named a file (which must then be at that path on every worker)."""
    if pool is not None and sources_file is None:
        return {"name": name}
    return {"name": name, "sources_file": str(path)}


@dataclass
class ServeInfo:
    """What ``radar serve`` prints and records in ``RADAR_HOME/serve.json``."""

    api_url: str
    ui_url: str | None
    web_url: str | None
    inbox: str
    ready_seconds: float
    #: The Prefect server serve started (its own process group): what to stop if serve
    #: itself is killed without its cleanup.
    prefect_pid: int | None = None

    def write(self, path: Path) -> None:
        data = {"pid": os.getpid(), "started": time.time(), **self.__dict__}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(path)

    def lines(self) -> list[str]:
        out = [f"radar serve ready in {self.ready_seconds:.1f} s"]
        if self.ui_url:
            out.append(f"  Prefect UI:  {self.ui_url}")
        out.append(f"  Prefect API: {self.api_url}")
        if self.web_url:
            out.append(f"  web pages:   {self.web_url}/")
        out.append(f"  inbox:       {self.inbox}")
        return out


def serve_forever(
    *,
    sources_file: Path | None = None,
    web: bool = True,
    web_port: int | None = None,
    prefect_port: int | None = None,
    ready_file: Path | None = None,
    echo: Any = None,
) -> None:
    """Run the service until SIGTERM/SIGINT (see the module docstring)."""
    from flows.prefect_env import ensure_prefect_env
    from storage.settings import ensure_home, load_settings

    started = time.monotonic()

    def _terminate(_signum: int, _frame: Any) -> None:
        # SIGTERM is how serve is stopped: a clean stop exits 0 whether it comes before the
        # runner has installed its own handler (still registering deployments, which is slow
        # under load, while the inbox is already working) or after it.
        arm_stop_watchdog()
        raise SystemExit(0)

    # Until Prefect's serve() installs its own handler, SIGTERM must still run the cleanup
    # below (the Prefect server is in its own session and would outlive us).
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    settings = load_settings()
    ensure_home(settings)
    _refuse_second_serve(settings.serve_file)
    base = urlsplit(settings.base_url)
    port = web_port or settings.web_port or base.port or 8765
    if web:
        check_port_free(port, "web", "RADAR_WEB_PORT or --web-port")
    _check_sources(sources_file or settings.sources_file)
    prefect_home = ensure_prefect_env()
    server: PrefectServer | None = None
    fresh = False
    if not os.environ.get("PREFECT_API_URL"):
        from flows import prefect_template

        # A new home starts from the kept migrated database (~5 s of CPU less); launched
        # first, the server's start-up (imports) overlaps ours below.
        fresh = not prefect_template.seed_home(prefect_home) and prefect_template.is_fresh(
            prefect_home
        )
        server = launch_prefect_server(prefect_home, port=prefect_port or settings.prefect_port)
        _stopping["server"] = server
        os.environ["PREFECT_API_URL"] = server.api_url
    if "prefect" in sys.modules and server is not None:  # pragma: no cover - guard
        log.warning("prefect was imported before its API URL was set")
    watcher: InboxWatcher | None = None
    web_server: WebServer | None = None
    try:
        from storage.db import open_db

        open_db()  # migrate before anything runs
        for sub in ("", "done", "failed"):
            (settings.inbox_dir / sub).mkdir(parents=True, exist_ok=True)
        if web:
            web_server = start_web("127.0.0.1", port, sources_file)
        if server is not None:
            server.wait_ready()
            log.info("prefect server on %s (log: %s)", server.api_url, server.log_path)
            if fresh:
                from flows import prefect_template

                prefect_template.save_template(prefect_home)
        if web_server is not None:
            web_server.wait_ready()
        # Ready: the UI's API and the web pages answer. The deployments (Prefect's import in
        # this process, their registration) and the inbox come right after, not before.
        api_url = os.environ["PREFECT_API_URL"]
        info = ServeInfo(
            api_url=api_url,
            ui_url=(
                os.environ.get("PREFECT_UI_URL") or api_url.removesuffix("/api")
                if server is not None
                else os.environ.get("PREFECT_UI_URL")
            ),
            web_url=f"http://127.0.0.1:{port}" if web_server is not None else None,
            inbox=str(settings.inbox_dir),
            ready_seconds=time.monotonic() - started,
            prefect_pid=server.process.pid if server is not None else None,
        )
        info.write(settings.serve_file)
        for line in info.lines():
            (echo or log.info)(line)
        if ready_file is not None:
            ready_file.write_text(api_url, encoding="utf-8")
        deployments = build_deployments(sources_file)
        watcher = InboxWatcher(settings.inbox_dir).start()
        _serve(deployments)
    finally:
        arm_stop_watchdog()
        settings.serve_file.unlink(missing_ok=True)
        _stop_all(watcher, web_server, server)
        disarm_stop_watchdog()  # stopped: the caller decides how the process ends


def _check_sources(path: Path) -> None:
    """A malformed sources.toml is one line before anything starts (the deployments that
    read it are built after serve is ready)."""
    if path.is_file():
        from flows.sources import load_sources

        load_sources(path)


#: How long stopping may take in all: ``systemctl stop`` (90 s by default) and the tests
#: wait for it. Each step gets what is left; an inbox file still being ingested is left
#: in the inbox (the next start takes it again) rather than holding the stop.
STOP_SECONDS = 40.0


_stopping: dict[str, Any] = {"server": None, "timer": None}


def arm_stop_watchdog(grace: float = STOP_SECONDS + 20) -> None:
    """Make sure a stop that has begun ends: after ``grace`` seconds the Prefect server is
    stopped and the process exits, naming the threads still running in the log.

    The ordered stop (:func:`_stop_all`) is bounded, but the steps before it are Prefect's
    and asyncio's: the runner's event loop waits on its cancelled tasks and its executor
    threads without a limit, and under heavy load that wait outlasted a 60 s stop. An
    operator's ``systemctl stop`` must finish, and must not leave the server behind."""
    if _stopping["timer"] is not None:
        return

    def expire() -> None:
        running = sorted(
            t.name for t in threading.enumerate() if t is not threading.current_thread()
        )
        log.warning(
            "serve did not stop within %.0f s (threads still running: %s); "
            "stopping the prefect server and exiting",
            grace,
            ", ".join(running),
        )
        server = _stopping["server"]
        if server is not None:
            server.stop(5)
        logging.shutdown()
        os._exit(0)

    timer = threading.Timer(grace, expire)
    timer.name, timer.daemon = "radar-stop-watchdog", True
    _stopping["timer"] = timer
    timer.start()


def disarm_stop_watchdog() -> None:
    """Cancel the watchdog of :func:`arm_stop_watchdog` (the stop has finished)."""
    timer = _stopping["timer"]
    if timer is not None:
        timer.cancel()
    _stopping["timer"] = None
    _stopping["server"] = None


def _stop_all(
    watcher: InboxWatcher | None, web_server: WebServer | None, server: PrefectServer | None
) -> None:
    """Stop the inbox, the web pages, Prefect's senders and the Prefect server, in that
    order, within :data:`STOP_SECONDS` together (each step's time is logged)."""
    deadline = time.monotonic() + STOP_SECONDS

    def left(most: float) -> float:
        return max(0.5, min(most, deadline - time.monotonic()))

    log.info("stopping: inbox watcher, web, prefect server")
    steps: list[tuple[str, Any]] = [
        ("inbox watcher", watcher and (lambda: watcher.stop(left(20)))),
        ("web", web_server and (lambda: web_server.stop(left(10)))),
        ("prefect senders", lambda: _drain_prefect_workers(left(5))),
        ("prefect server", server and (lambda: server.stop(left(15)))),
    ]
    for name, step in steps:
        if step:
            began = time.monotonic()
            step()
            log.info("stopped %s in %.1f s", name, time.monotonic() - began)
    log.info("stopped")


def _refuse_second_serve(serve_file: Path) -> None:
    from flows.prefect_env import read_serve_file

    info = read_serve_file(serve_file)
    if info is not None:
        raise ServeError(
            f"radar serve is already running for this RADAR_HOME (pid {info['pid']}, {serve_file})"
        )


def _drain_prefect_workers(timeout: float = 10.0) -> None:
    """Flush Prefect's background log/event senders while their server is still up (else
    they retry against a closed port at interpreter exit)."""
    if "prefect" not in sys.modules:
        return
    try:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=timeout)
        EventsWorker.drain_all(timeout=timeout)
    except Exception as exc:  # best effort at shutdown
        log.debug("draining prefect workers: %s", exc)


def _serve(deployments: list[Any]) -> None:
    """``prefect.serve`` with ``pause_on_shutdown=False``, except that SIGTERM takes the
    Ctrl-C path: Prefect 3.8's own SIGTERM handler calls ``sys.exit`` inside the event loop
    and the loop's shutdown can then hang; KeyboardInterrupt unwinds the runner cleanly."""
    import asyncio

    from prefect.runner import Runner

    class _Runner(Runner):
        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            self._logger.info("SIGTERM received, shutting down")
            arm_stop_watchdog()
            raise KeyboardInterrupt

    runner = _Runner(pause_on_shutdown=False)
    for deployment in deployments:
        runner.add_deployment(deployment)
    log.info("serving %d deployments: %s", len(deployments), ", ".join(d.name for d in deployments))
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        log.info("runner stopped")
