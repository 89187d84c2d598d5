"""Parse untrusted files in a resource-limited worker process.

Files come from the internet: a PDF whose content stream inflates to gigabytes, a zip
bomb posing as a DOCX, HTML nested 100k deep, or simply a file that makes pdfium
abort. None of that may take the service down, so parsing runs in a separate process
with an address-space limit (``RLIMIT_AS``) and a CPU-time limit (``RLIMIT_CPU``), and
the parent waits with a wall-clock timeout. A worker is long-lived and reused (starting
one and importing pdfium/lxml/pydantic costs far more than parsing a typical file) and
is replaced when it dies or overruns.

Results cross the process boundary as the contract JSON dict and are validated back
into a :class:`ParsedDocument`; errors cross as ``(class name, message)`` and are
re-raised as the same named class from :mod:`parsers.errors`.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from parsers import errors
from parsers.errors import ParseError, RadarError, ResourceLimitExceeded
from parsers.schema import ParsedDocument

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one file may cost: input size, wall-clock seconds, worker address space."""

    max_bytes: int = 64 * MiB
    timeout_s: float = 30.0
    memory_bytes: int = 1024 * MiB


DEFAULT_LIMITS = Limits()

#: A worker is replaced after this many files, so heap fragmentation cannot accumulate.
MAX_JOBS_PER_WORKER = 500
#: How long a new worker may take to start and import the parser before it says "ready".
#: Separate from ``Limits.timeout_s``: a file's clock starts when a warm worker has it, so a
#: worker starting slowly on a loaded machine is never charged to the file.
STARTUP_TIMEOUT_S = 120.0


# Worker side --------------------------------------------------------------------------

_warm = {"done": False}


def warm_up() -> None:
    """Parse :data:`WARM_UP` once in this process (its forked workers inherit the result).

    Done in the parent before a fork rather than in each child: a child forked from a
    big process (a ``radar ingest`` that imported SQLAlchemy) and allocating right away
    runs the garbage collector over the whole inherited heap, copying its pages — that made
    a child-side warm-up cost ~0.1 s of a one-file ingest instead of ~0.03 s."""
    if not _warm["done"]:
        from parsers.pipeline import parse_bytes

        parse_bytes(WARM_UP.encode("utf-8"), filename="warm-up.txt")
        _warm["done"] = True


#: Parsed by every new worker before it says "ready": the parser loads its vocabularies
#: (TOML) and compiles the patterns built from them on its first document (~0.1–0.2 s of
#: CPU), which would otherwise be charged to the first file's time limit.
WARM_UP = (
    "关于印发某市数字经济发展行动方案的通知\n各区人民政府，市政府各部门：\n"
    "一、总体要求\n（一）到2025年，数字经济核心产业增加值达到1000亿元以上。"
    "（责任单位：市发展改革委、市经济信息化委）\n"
)


def _set_limits(limits: Limits) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))


def _arm_cpu_limit(timeout_s: float) -> None:
    """Let this job use ``timeout_s`` more CPU seconds (plus slack) before SIGXCPU.

    RLIMIT_CPU counts the process's whole life, so for a reused worker the soft limit
    is moved forward before each job; the hard limit stays unlimited so we may.
    """
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = int(used + timeout_s) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))


def _worker_main(conn: Connection, limits: Limits) -> None:
    """Receive ``(data, filename)``, say ``("started",)`` once the file's reader is
    imported, then send back ``("ok", dict)`` or ``("err", cls, msg)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _set_limits(limits)
    from parsers.pipeline import parse_bytes
    from parsers.readers.registry import load_reader

    warm_up()  # inherited warm from a forking parent; a fork server's worker does it here
    conn.send(("ready",))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        data, filename = job
        reply: tuple[Any, ...] | None = None
        try:
            load_reader(data)
        except ImportError as exc:  # a broken install: the file cannot be read here
            reply = ("err", "ParseError", f"cannot load its reader: {exc}")
        _arm_cpu_limit(limits.timeout_s)
        conn.send(("started",))
        if reply is None:
            reply = _parse_job(parse_bytes, data, filename, limits)
        del data
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("err", "ResourceLimitExceeded", "result exceeded the memory limit"))


def _parse_job(
    parse_bytes: Any, data: bytes, filename: str | None, limits: Limits
) -> tuple[Any, ...]:
    """One file's reply: the contract dict, or the error's class name and message."""
    try:
        doc = parse_bytes(data, filename=filename)
        return ("ok", doc.to_json_dict())
    except RadarError as exc:
        return ("err", type(exc).__name__, str(exc))
    except MemoryError:
        return (
            "err",
            "ResourceLimitExceeded",
            f"parsing exceeded the memory limit ({limits.memory_bytes // MiB} MiB)",
        )
    except RecursionError:
        return ("err", "ResourceLimitExceeded", "document is nested too deeply to parse")
    except Exception as exc:  # a reader bug must not kill the worker
        return ("err", "ParseError", f"unexpected {type(exc).__name__}: {exc}")


# Parent side --------------------------------------------------------------------------


def _error_class(name: str) -> type[RadarError]:
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, RadarError):
        return cls
    return ParseError


def _label(filename: str | None) -> str:
    return f"{filename}: " if filename else ""


def _already_named(message: str, filename: str | None) -> str:
    """Readers already put the file name in front; do not repeat it."""
    if filename and message.startswith(f"{filename}:"):
        return message
    return _label(filename) + message


class ParserPool:
    """One long-lived, resource-limited parser process (context manager).

    ``parse`` is thread-safe (calls are serialized). A worker that times out, dies or is
    killed by the kernel is replaced on the next call.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS, start_method: str | None = None) -> None:
        self.limits = limits
        self._method = start_method
        self._proc: Any = None
        self._conn: Connection | None = None
        self._jobs = 0
        self._lock = threading.Lock()

    # lifecycle
    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _context(self) -> Any:
        """How to start a worker without importing the parser again.

        A single-threaded process (``radar parse``, a local ``radar ingest``) imports the
        parser once itself and forks: the worker starts warm in milliseconds, where a fork
        server would be a second interpreter importing everything again (most of a one-file
        command's cost). A threaded process (``radar serve``, Prefect) must not fork — a
        thread may hold a lock the child would inherit — so it uses a fork server that
        imported the parser once; every later worker forks from it warm.
        """
        methods = mp.get_all_start_methods()
        method = self._method
        if method is None:
            method = "fork" if threading.active_count() == 1 else "forkserver"
        if method not in methods:
            method = "spawn"
        ctx = mp.get_context(method)
        if method == "fork":
            warm_up()  # the parser imported and warmed here once, inherited by every worker
        elif method == "forkserver":
            ctx.set_forkserver_preload(["parsers.pipeline"])
        return ctx

    def _start(self) -> None:
        ctx = self._context()
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(
            target=_worker_main, args=(child, self.limits), name="radar-parser", daemon=True
        )
        proc.start()
        child.close()
        self._proc, self._conn, self._jobs = proc, parent, 0
        try:
            ready = parent.poll(STARTUP_TIMEOUT_S) and parent.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            code = self._kill()
            raise ParseError(
                f"the parser worker did not start within {STARTUP_TIMEOUT_S:g} s (exit code {code})"
            )

    def _kill(self) -> int | None:
        """Stop the worker now; return its exit code (negative: the signal that killed it)."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is None:
            return None
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        code = proc.exitcode
        proc.close()
        return code

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._proc is not None and self._proc.is_alive():
                try:
                    self._conn.send(None)
                    self._proc.join(2)
                except (OSError, ValueError):
                    pass
            self._kill()

    def start(self) -> None:
        """Start the worker now if none runs (else on the first ``parse``)."""
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self._kill()
                self._start()

    @property
    def pid(self) -> int | None:
        """The worker's process id (None when no worker is running)."""
        return self._proc.pid if self._proc is not None else None

    # work
    def parse(self, data: bytes, filename: str | None = None) -> ParsedDocument:
        """Parse ``data`` in the worker, with the pool's limits."""
        limits = self.limits
        if len(data) > limits.max_bytes:
            raise ResourceLimitExceeded(
                f"{_label(filename)}file is {len(data)} bytes, over the "
                f"{limits.max_bytes // MiB} MiB limit"
            )
        with self._lock:
            reply = self._roundtrip(data, filename)
        if reply[0] == "ok":
            return ParsedDocument.from_json_dict(reply[1])
        _, name, message = reply
        raise _error_class(name)(_already_named(message, filename))

    def _roundtrip(self, data: bytes, filename: str | None) -> tuple[Any, ...]:
        if self._proc is None or not self._proc.is_alive() or self._jobs >= MAX_JOBS_PER_WORKER:
            self._kill()
            self._start()
        assert self._conn is not None
        conn = self._conn
        try:
            conn.send((data, filename))
        except (BrokenPipeError, ConnectionResetError, OSError):
            return self._dead(filename)
        self._jobs += 1
        try:
            started = conn.poll(STARTUP_TIMEOUT_S) and conn.recv() == ("started",)
        except (EOFError, ConnectionResetError, OSError):
            return self._dead(filename)
        if not started:
            self._kill()
            raise ParseError(
                f"{_label(filename)}the parser worker did not take the file within "
                f"{STARTUP_TIMEOUT_S:g} s"
            )
        if not conn.poll(self.limits.timeout_s):
            self._kill()
            raise ResourceLimitExceeded(
                f"{_label(filename)}parsing took longer than {self.limits.timeout_s:g} s"
            )
        try:
            return conn.recv()  # type: ignore[no-any-return]
        except (EOFError, ConnectionResetError, OSError):
            return self._dead(filename)

    def _dead(self, filename: str | None) -> tuple[Any, ...]:
        code = self._kill()
        limit = f"{self.limits.memory_bytes // MiB} MiB"
        if code == -signal.SIGXCPU:
            msg = f"parsing took longer than {self.limits.timeout_s:g} s (CPU limit)"
        elif code == -signal.SIGKILL:
            msg = f"parsing exceeded the memory limit ({limit}): the parser was killed"
        else:
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            msg = f"the parser crashed ({how}); it probably exceeded the memory limit ({limit})"
        raise ResourceLimitExceeded(_label(filename) + msg)


# One shared pool per Limits, for callers that just want parse_untrusted() --------------

_pools: dict[Limits, ParserPool] = {}
_pools_lock = threading.Lock()
_owner_pid = os.getpid()


def _shared_pool(limits: Limits) -> ParserPool:
    global _owner_pid
    with _pools_lock:
        if os.getpid() != _owner_pid:  # forked: the parent's workers are not ours
            _pools.clear()
            _owner_pid = os.getpid()
        pool = _pools.get(limits)
        if pool is None:
            pool = _pools[limits] = ParserPool(limits)
        return pool


def parse_untrusted(
    data: bytes, filename: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> ParsedDocument:
    """Parse bytes from the outside world under ``limits`` in a reused worker process."""
    return _shared_pool(limits).parse(data, filename)


def prestart(limits: Limits = DEFAULT_LIMITS) -> None:
    """Start the shared worker now, before this process imports more (a one-shot command
    about to import the storage stack or Prefect): it forks from a small, single-threaded
    process, and its start overlaps the imports that follow."""
    _shared_pool(limits).start()


@atexit.register
def _close_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()
