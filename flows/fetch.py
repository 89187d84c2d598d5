"""The polite, safe HTTP client for government sites.

Government sites are slow, rate-limit aggressively (WAFs answer 403/429/5xx under load), often
send GBK pages without a charset, and rarely change: most polls should cost one request and no
parse. So :class:`Fetcher` keeps one ``requests.Session`` and adds, around each request:

- the address guard (:mod:`alerts.ssrf`): every hop checked, the connection pinned to the
  checked address;
- robots.txt (cached per host; an unreachable or erroring robots.txt means "allowed"), and its
  ``Crawl-delay`` raising the per-host interval;
- a per-host minimum interval and concurrency cap, shared by all threads;
- explicit connect/read timeouts and a hard deadline per response (``response_deadline``,
  headers and body: a watchdog shuts the socket down, so a server dripping one byte a second
  cannot hold a poll) and per poll (``deadline_at``, see :meth:`Fetcher.set_poll_deadline`);
- retries with exponential backoff on connection errors, timeouts, 408/429/5xx, honouring
  ``Retry-After`` (capped);
- a size limit enforced while streaming the (decoded) body, so a decompression bomb or an
  endless response is cut off;
- conditional GET from a :class:`FetchState` (``If-None-Match``/``If-Modified-Since``) plus a
  content hash, raising :class:`NotModified` when nothing changed.

Errors are narrow: :class:`SourceUnavailable` (retry later), :class:`FetchRefused` (never
retry), :class:`FetchFailed` (the server said no, e.g. 404), :class:`NotModified` (success,
nothing new).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import requests
import requests.structures
import urllib3.connection
import urllib3.connectionpool

from alerts.ssrf import (
    ALLOWED_SCHEMES,
    FetchRefused,
    PinnedAdapter,
    Resolver,
    SSRFGuard,
    UnresolvableHost,
)
from parsers.errors import RadarError

__all__ = [
    "CachedState",
    "DeadlineExceeded",
    "FetchFailed",
    "FetchRefused",
    "FetchResult",
    "FetchState",
    "Fetcher",
    "MemoryFetchState",
    "NotModified",
    "ResponseTooLarge",
    "SourceUnavailable",
    "decode_html",
]

MiB = 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
#: robots.txt is small; a huge one is a misconfiguration, not rules worth reading.
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TTL_SECONDS = 3600.0
#: Crawl-delay values above this are ignored (some sites write 86400).
CRAWL_DELAY_CAP = 10.0
#: One response (headers and body) may take at most this many read timeouts in total.
BODY_DEADLINE_FACTOR = 4
#: Error bodies are read only this far (they are logged, never parsed).
ERROR_BODY_BYTES = 64 * 1024


class SourceUnavailable(RadarError):
    """The site did not answer usefully (connection error, timeout, 5xx, 429): retry later."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class ResponseTooLarge(FetchRefused):
    """The body is over ``max_bytes`` (declared or while streaming); the download was cut."""


class FetchFailed(RadarError):
    """The server answered with a definite client error (404, 410, 403 …): retrying won't help.

    Kept apart from :class:`SourceUnavailable` so Prefect retry conditions don't hammer a
    page that is gone; the flows record it on the source's health instead.
    """

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass(frozen=True)
class CachedState:
    """What we remember about a URL to make the next request conditional."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


class NotModified(RadarError):
    """Not a failure: the server said 304, or the body hashes the same as last time."""

    def __init__(self, message: str, *, url: str, state: CachedState | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.state = state


class FetchState(Protocol):
    """Per-URL validators; the storage layer provides a DB-backed implementation."""

    def get(self, url: str) -> CachedState | None: ...

    def put(self, url: str, state: CachedState) -> None: ...


class MemoryFetchState:
    """A thread-safe in-memory :class:`FetchState` (tests, one-off runs)."""

    def __init__(self) -> None:
        self._data: dict[str, CachedState] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> CachedState | None:
        with self._lock:
            return self._data.get(url)

    def put(self, url: str, state: CachedState) -> None:
        with self._lock:
            self._data[url] = state


@dataclass(frozen=True)
class FetchResult:
    """One fetched resource. ``url`` is the final URL after redirects."""

    url: str
    status: int
    content: bytes
    content_type: str | None
    charset: str | None  # as declared in the Content-Type header, else None
    etag: str | None
    last_modified: str | None
    content_hash: str  # sha256 hex of content
    fetched_at: datetime
    from_cache: bool = False  # always False from Fetcher.get (unchanged -> NotModified);
    # for callers that rebuild a result from stored content
    requested_url: str = ""  # the URL passed to get() (the FetchState key)

    @property
    def state(self) -> CachedState:
        return CachedState(self.etag, self.last_modified, self.content_hash)


@dataclass
class _Response:
    url: str
    status: int
    headers: requests.structures.CaseInsensitiveDict[str]
    content: bytes


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass
class _HostSlot:
    semaphore: threading.BoundedSemaphore
    next_start: float = 0.0
    interval: float = 0.0


class HostThrottle:
    """Per-host minimum interval between request starts and a cap on concurrent requests."""

    def __init__(self, interval: float, concurrency: int) -> None:
        self.interval = interval
        self.concurrency = max(1, concurrency)
        self._lock = threading.Lock()
        self._slots: dict[str, _HostSlot] = {}
        #: A limit shared with other processes, taken after the local one (work-pool
        #: workers set :func:`flows.distributed.shared_host_wait`); None on one machine.
        self.shared: Callable[[str], None] | None = None

    def _slot(self, host: str) -> _HostSlot:
        with self._lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = _HostSlot(threading.BoundedSemaphore(self.concurrency), 0.0, self.interval)
                self._slots[host] = slot
            return slot

    def set_interval(self, host: str, seconds: float) -> None:
        slot = self._slot(host)
        with self._lock:
            slot.interval = max(self.interval, seconds)

    @contextmanager
    def hold(self, host: str) -> Iterator[None]:
        slot = self._slot(host)
        slot.semaphore.acquire()
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, slot.next_start)
                slot.next_start = start + slot.interval
            if start > now:
                time.sleep(start - now)
            if self.shared is not None:
                self.shared(host)
            yield
        finally:
            slot.semaphore.release()


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("policy-radar")
    except Exception:  # not installed (running from a source tree)
        return "0"


def _declared_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("'\"") or None
    return None


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class DeadlineExceeded(SourceUnavailable):
    """A response or a poll ran past its deadline (a slow-drip server): not retried."""


_watched = threading.local()


class _Watch:
    """The sockets one exchange uses, shut down by a timer when its deadline passes.

    The socket is registered when a request's response is awaited (``getresponse``), so the
    timer covers a server that drips its headers as well as one that drips its body; shutting
    a socket down makes the blocked ``recv`` in the fetching thread return at once.
    """

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.fired = False
        self._lock = threading.Lock()

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self.sockets.append(sock)
            fired = self.fired
        if fired:
            self._shut(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self.sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: nothing left to interrupt


def _register_socket(sock: socket.socket | None) -> None:
    watch: _Watch | None = getattr(_watched, "watch", None)
    if watch is not None:
        watch.add(sock)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def getresponse(self) -> urllib3.response.BaseHTTPResponse:  # type: ignore[override]
        _register_socket(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def getresponse(self) -> urllib3.response.BaseHTTPResponse:  # type: ignore[override]
        _register_socket(self.sock)
        return super().getresponse()


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


@contextmanager
def _deadline(seconds: float) -> Iterator[_Watch]:
    """Run the block with a watchdog that shuts its sockets down after ``seconds``."""
    watch = _Watch()
    timer = threading.Timer(max(0.0, seconds), watch.fire)
    timer.daemon = True
    _watched.watch = watch
    timer.start()
    try:
        yield watch
    finally:
        timer.cancel()
        _watched.watch = None


class Fetcher:
    """See the module docstring. One instance per poll cycle (or per process); thread-safe.

    ``retries`` counts retries after the first attempt (``retries=3`` -> up to 4 requests);
    the wait before retry *n* (0-based) is ``backoff * 2**n`` or the server's Retry-After,
    whichever is longer, capped at ``max_retry_after``. ``resolver``/``connect_map``/``verify``
    are for tests and special deployments (custom CA bundle).
    """

    def __init__(
        self,
        *,
        state: FetchState | None = None,
        allow_private: bool | None = None,
        user_agent: str | None = None,
        timeout: tuple[float, float] = (5, 30),
        max_bytes: int = 50 * MiB,
        max_redirects: int = 5,
        per_host_interval: float = 1.0,
        per_host_concurrency: int = 2,
        retries: int = 3,
        backoff: float = 0.5,
        respect_robots: bool = True,
        max_retry_after: float = 60.0,
        resolver: Resolver | None = None,
        connect_map: dict[str, str] | None = None,
        verify: bool | str = True,
        robots: RobotsCache | None = None,
        response_deadline: float | None = None,
    ) -> None:
        if allow_private is None or user_agent is None:
            from storage.settings import load_settings

            settings = load_settings()
            if allow_private is None:
                allow_private = settings.allow_private_networks
            if user_agent is None:
                user_agent = f"policy-radar/{_package_version()} (+{settings.base_url})"
        self.state: FetchState = state if state is not None else MemoryFetchState()
        self.user_agent = user_agent
        self.timeout = timeout
        #: Seconds one response (headers and body) may take, whatever the server drips.
        self.response_deadline = (
            response_deadline
            if response_deadline is not None
            else BODY_DEADLINE_FACTOR * timeout[1]
        )
        #: ``time.monotonic()`` after which no request starts or continues (one poll's budget).
        self.deadline_at: float | None = None
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.respect_robots = respect_robots
        self.guard = SSRFGuard(
            allow_private=allow_private, resolver=resolver, connect_map=connect_map
        )
        self.throttle = HostThrottle(per_host_interval, per_host_concurrency)
        self._session = requests.Session()
        # No environment proxies or .netrc: a proxy would bypass the address pinning.
        self._session.trust_env = False
        self._session.verify = verify
        adapter = PinnedAdapter(self.guard, pool_maxsize=max(2, per_host_concurrency))
        # Connections that register their socket with the exchange's deadline watchdog.
        adapter.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, adapter)
        self._session.headers.update(
            {
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,application/pdf,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
            }
        )
        #: robots.txt records, shared across Fetchers (see RobotsCache); parsed per Fetcher.
        self.robots_cache = robots if robots is not None else robots_cache()
        self._robots: dict[str, tuple[urllib.robotparser.RobotFileParser | None, float]] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._robots_guard = threading.Lock()

    # -- public ---------------------------------------------------------------------------

    def set_poll_deadline(self, seconds: float | None) -> None:
        """Give this Fetcher (one poll) ``seconds`` from now; None removes the limit."""
        self.deadline_at = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left of the poll's budget (None: unlimited)."""
        return None if self.deadline_at is None else self.deadline_at - time.monotonic()

    def get(self, url: str, *, conditional: bool = True, remember: bool = True) -> FetchResult:
        """Fetch ``url``; raise :class:`NotModified` if the stored validators or hash match.

        With ``remember=False`` the new validators are not stored: call :meth:`remember`
        once the caller has processed the result, so a crash in between does not make the
        next poll skip a document it never stored.
        """
        try:
            self.guard.check(url)  # fail fast, before robots.txt, with the caller's URL
        except UnresolvableHost:
            pass  # DNS may be back in a moment: the retry loop below decides
        if self.respect_robots and not self._robots_allows(url):
            raise FetchRefused(f"{url}: disallowed by robots.txt", url=url)
        cached = self.state.get(url) if conditional else None
        headers: dict[str, str] = {}
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = self._with_retries(url, headers, self.max_bytes)
        if response.status == 304:
            raise NotModified(f"{url}: not modified (HTTP 304)", url=url, state=cached)
        if response.status >= 300:
            raise FetchFailed(
                f"{url}: HTTP {response.status}", url=response.url, status=response.status
            )
        content_type = response.headers.get("Content-Type")
        result = FetchResult(
            url=response.url,
            status=response.status,
            content=response.content,
            content_type=content_type.split(";")[0].strip().lower() if content_type else None,
            charset=_declared_charset(content_type),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_hash=hashlib.sha256(response.content).hexdigest(),
            fetched_at=datetime.now(UTC),
            requested_url=url,
        )
        if cached is not None and cached.content_hash == result.content_hash:
            self.state.put(url, result.state)  # keep the fresher validators
            raise NotModified(f"{url}: content unchanged (same hash)", url=url, state=cached)
        if remember:
            self.state.put(url, result.state)
        return result

    def remember(self, result: FetchResult) -> None:
        """Store ``result``'s validators (after a ``get(..., remember=False)``)."""
        self.state.put(result.requested_url or result.url, result.state)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- retries and redirects -------------------------------------------------------------

    def _with_retries(self, url: str, headers: dict[str, str], max_bytes: int) -> _Response:
        attempts = self.retries + 1
        last: _Retryable | None = None
        for attempt in range(attempts):
            try:
                return self._exchange(url, headers, max_bytes)
            except _Retryable as exc:
                last = exc
                if attempt + 1 >= attempts:
                    break
                wait = self.backoff * (2**attempt)
                if exc.retry_after is not None:
                    wait = max(wait, exc.retry_after)
                wait = min(wait, self.max_retry_after)
                left = self.remaining()
                if left is not None and left <= wait:
                    break  # the poll's budget would be gone before the retry
                time.sleep(wait)
        assert last is not None
        raise SourceUnavailable(
            f"{url}: {last} (after {attempts} attempt{'s' if attempts > 1 else ''})",
            url=url,
            status=last.status,
        )

    def _exchange(self, url: str, headers: dict[str, str], max_bytes: int) -> _Response:
        """One attempt: follow redirects by hand (each hop guarded), read the body capped."""
        current = url
        for _hop in range(self.max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme.lower() not in ALLOWED_SCHEMES:
                raise FetchRefused(
                    f"{url}: redirect to {current} refused (only http and https)", url=url
                )
            budget = self._budget(url)
            with self.throttle.hold(parts.netloc.lower()), _deadline(budget) as watch:
                try:
                    response = self._session.get(
                        current,
                        headers=headers,
                        timeout=self.timeout,
                        stream=True,
                        allow_redirects=False,
                    )
                except UnresolvableHost as exc:
                    raise _Retryable(str(exc), None, None) from None
                except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
                    raise FetchRefused(f"{current}: {exc}", url=url) from None
                except requests.exceptions.SSLError as exc:
                    # A bad certificate stays bad for the next few seconds: no retries.
                    raise SourceUnavailable(
                        f"{current}: TLS error ({_short(exc)})", url=url
                    ) from None
                except requests.RequestException as exc:
                    self._check_fired(watch, url, budget)
                    raise _Retryable(_describe(exc), None, None) from None
                try:
                    status = response.status_code
                    location = response.headers.get("Location")
                    if status in REDIRECT_STATUSES and location:
                        current = urljoin(current, location.strip())
                        continue
                    if status in RETRY_STATUSES:
                        raise _Retryable(
                            f"HTTP {status}",
                            status,
                            _retry_after_seconds(response.headers.get("Retry-After")),
                        )
                    limit = max_bytes if status < 300 else min(max_bytes, ERROR_BODY_BYTES)
                    try:
                        content = self._read_capped(response, limit, url, truncate=status >= 300)
                    except _Retryable:
                        self._check_fired(watch, url, budget)
                        raise
                    self._check_fired(watch, url, budget)
                    return _Response(response.url or current, status, response.headers, content)
                finally:
                    response.close()
        raise FetchRefused(f"{url}: more than {self.max_redirects} redirects", url=url)

    def _budget(self, url: str) -> float:
        """Seconds the next exchange may take: the response deadline, within the poll's."""
        left = self.remaining()
        if left is not None and left <= 0:
            raise DeadlineExceeded(f"{url}: the poll's deadline has passed", url=url)
        return self.response_deadline if left is None else min(self.response_deadline, left)

    @staticmethod
    def _check_fired(watch: _Watch, url: str, budget: float) -> None:
        if watch.fired:
            raise DeadlineExceeded(
                f"{url}: no complete response within {budget:.0f} s (cut off)", url=url
            )

    def _read_capped(
        self, response: requests.Response, limit: int, url: str, *, truncate: bool
    ) -> bytes:
        length = response.headers.get("Content-Length", "")
        if not truncate and length.isdigit() and int(length) > limit:
            raise ResponseTooLarge(
                f"{url}: response is {int(length)} bytes, over the {limit}-byte limit", url=url
            )
        deadline = time.monotonic() + self.response_deadline
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > limit:
                    if truncate:
                        break
                    raise ResponseTooLarge(
                        f"{url}: response exceeds the {limit}-byte limit", url=url
                    )
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _Retryable("body download too slow", response.status_code, None)
        except requests.RequestException as exc:
            raise _Retryable(_describe(exc), response.status_code, None) from None
        return b"".join(chunks)

    # -- robots.txt ------------------------------------------------------------------------

    def _robots_allows(self, url: str) -> bool:
        parts = urlsplit(url)
        key = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        with self._robots_guard:
            lock = self._robots_locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._robots.get(key)
            if entry is None or time.monotonic() - entry[1] > ROBOTS_TTL_SECONDS:
                record = self.robots_cache.get(key)
                if record is None or record.stale():
                    record = self._load_robots(key, record)
                    self.robots_cache.put(key, record)
                entry = (self._robots_parser(key, record), time.monotonic())
                self._robots[key] = entry
        parser = entry[0]
        return parser is None or parser.can_fetch(self.user_agent, url)

    def _robots_parser(
        self, origin: str, record: RobotsRecord
    ) -> urllib.robotparser.RobotFileParser | None:
        if record.text is None:
            return None
        parser = urllib.robotparser.RobotFileParser(f"{origin}/robots.txt")
        parser.parse(record.text.splitlines())
        delay = parser.crawl_delay(self.user_agent)
        if delay:
            self.throttle.set_interval(
                urlsplit(origin).netloc.lower(), min(float(delay), CRAWL_DELAY_CAP)
            )
        return parser

    def _load_robots(self, origin: str, previous: RobotsRecord | None) -> RobotsRecord:
        """robots.txt now (conditional on ``previous``'s validators); text None when there
        is none we can read (= all allowed).

        Following RFC 9309 for 4xx, and the brief for 5xx/unreachable: a government WAF that
        errors on robots.txt must not silence a source. A refused robots.txt (unsafe address,
        too large, too many redirects) counts as none too: the page request itself goes
        through the same guard and is refused there. Only a TLS error propagates.
        """
        headers: dict[str, str] = {}
        if previous is not None and previous.text is not None:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        try:
            response = self._exchange(f"{origin}/robots.txt", headers, ROBOTS_MAX_BYTES)
        except (_Retryable, FetchRefused):
            return RobotsRecord(None)
        if response.status == 304 and previous is not None:
            return RobotsRecord(previous.text, previous.etag, previous.last_modified)
        if response.status != 200:
            return RobotsRecord(None)
        return RobotsRecord(
            response.content.decode("utf-8", errors="replace"),
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
        )


@dataclass(frozen=True)
class RobotsRecord:
    """One origin's robots.txt (``text`` None: none, all allowed), its validators and
    when it was checked (wall clock, so a record on disk ages across processes)."""

    text: str | None
    etag: str | None = None
    last_modified: str | None = None
    checked: float = field(default_factory=time.time)

    def stale(self, ttl: float = ROBOTS_TTL_SECONDS) -> bool:
        return time.time() - self.checked > ttl


class RobotsCache:
    """robots.txt per origin, shared by every Fetcher of a process — a poll makes one per
    document, and each fetched robots.txt again (4 of 9 requests in a changed poll) — and,
    with ``directory``, kept on disk with its validators, so the next poll's process
    revalidates with a conditional GET instead of downloading it again."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: dict[str, RobotsRecord] = {}
        self._lock = threading.Lock()

    def _path(self, origin: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / (hashlib.sha1(origin.encode()).hexdigest()[:20] + ".json")

    def get(self, origin: str) -> RobotsRecord | None:
        with self._lock:
            if origin in self._memory:
                return self._memory[origin]
        path = self._path(origin)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            record = RobotsRecord(**data)
        except (OSError, ValueError, TypeError):
            return None  # a damaged cache file is refetched
        with self._lock:
            self._memory[origin] = record
        return record

    def put(self, origin: str, record: RobotsRecord) -> None:
        with self._lock:
            self._memory[origin] = record
        path = self._path(origin)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(asdict(record), ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a cache: the next process fetches robots.txt again


_robots_caches: dict[Path | None, RobotsCache] = {}
_robots_caches_lock = threading.Lock()


def robots_cache(directory: Path | None = None) -> RobotsCache:
    """The process-wide robots.txt cache for ``directory`` (None: memory only)."""
    with _robots_caches_lock:
        cache = _robots_caches.get(directory)
        if cache is None:
            cache = _robots_caches[directory] = RobotsCache(directory)
        return cache


def _short(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("certificate verify failed", "Hostname mismatch", "doesn't match"):
        if marker in text:
            start = text.index(marker)
            return text[start : start + 120].split(")")[0]
    return text[:160]


def _describe(exc: requests.RequestException) -> str:
    """A short reason: 'read timeout', 'connection refused' … (not a 300-char urllib3 repr)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read timeout"
    text = str(exc)
    if "timed out" in text.lower():
        return "read timeout"
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection broken mid-body"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection error"
    return type(exc).__name__


# -- decoding --------------------------------------------------------------------------------

#: Declared charsets that servers send by default rather than by knowledge: a GBK page
#: served as ``text/html; charset=iso-8859-1`` is common, and iso-8859-1 decodes any byte, so
#: trusting it gives mojibake. Such a header counts as no declaration.
WEAK_CHARSETS = frozenset({"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252"})

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)


def normalize_charset(name: str | None) -> str | None:
    """Canonical codec name for a declared charset (GB family -> gb18030), or None if
    Python does not know it: :func:`parsers.text.canonical_charset`, the parser's own."""
    from parsers.text import canonical_charset

    return canonical_charset(name)


def decode_html(content: bytes, declared_charset: str | None) -> str:
    """Decode a fetched page with the parser's decoder (:func:`parsers.text.decode_text`:
    BOM, the declaration if it decodes strictly, UTF-8, GB18030, then detection), so links
    and the parsed document never disagree on a page's text.

    The declaration is the header's charset, unless it is a server default
    (:data:`WEAK_CHARSETS`) or absent; then the page's ``<meta charset>``.
    """
    from parsers.text import decode_text

    declared = declared_charset
    if not normalize_charset(declared) or (declared or "").strip().lower() in WEAK_CHARSETS:
        match = _META_CHARSET.search(content[:8192])
        declared = match.group(1).decode("ascii") if match else None
    return decode_text(content, declared)
