"""A small government website served on 127.0.0.1, for tests and ``radar demo``.

Real government sites cannot be reached from CI (nor should tests depend on them), but the
fetching code must be exercised against a real HTTP server: charset-less GBK pages, TRS-style
pagination, ETag/Last-Modified and 304s, robots.txt, pages that fail or hang. :class:`FixtureSite`
is that server, driven from Python (publish a page, make one fail, slow one down) and
recording every request so a test can assert "the article was not downloaded again".

:func:`build_demo_site` and :func:`publish_revision` fill it with the seed documents as a
typical district portal (``flows/data/demo_site/site.toml`` describes the pages; the HTML
comes from the Jinja templates next to it), so the demo and the integration tests poll the
same site.
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import ssl
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEMO_DIR = Path(__file__).parent / "data" / "demo_site"
DEFAULT_SEEDS_DIR = DEMO_DIR / "seeds"
DEFAULT_ROBOTS = "User-agent: *\nDisallow: /private/\n"

#: Last-Modified values come from a fake clock that advances one hour per publish, so two
#: versions published in the same second still get different, ordered validators.
_CLOCK_START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class Page:
    body: bytes
    content_type: str
    charset: str | None  # sent in the Content-Type header when not None
    etag: str | None
    last_modified: datetime | None
    send_length: bool = True
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RequestRecord:
    """One request the site received and the status it answered."""

    path: str  # path with query string, as requested
    method: str
    headers: dict[str, str]
    status: int
    #: ``time.time()`` when the request was answered (per-host rate limits are checked on it).
    at: float = field(default_factory=time.time)


@dataclass
class _Failure:
    status: int
    retry_after: str | None
    remaining: int | None  # None: fail forever


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    site: FixtureSite

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out on a slow page hang up; that is expected, not noise."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait
    # ~40 ms for a delayed ACK on every response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        site = self.server.site
        path = urlsplit(self.path).path
        status, headers, body = site._respond(path, self.headers)
        site._record(RequestRecord(self.path, self.command, dict(self.headers.items()), status))
        delay = site._delay(path)
        if delay and site._stopping.wait(delay):
            return
        page_length = headers.pop("_no_length", None) is None
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if page_length or head:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)


class FixtureSite:
    """A threaded HTTP server on 127.0.0.1 (a free port) with pages set from Python.

    Use as a context manager; ``base_url`` is ``http://127.0.0.1:<port>``. If ``root_dir``
    is given, every file under it is published at its relative path (content type guessed,
    HTML served as stored without a charset header). ``ssl_context`` (a server context with
    a certificate loaded) makes it an HTTPS site, for testing TLS with a pinned address.
    """

    def __init__(
        self,
        root_dir: Path | None = None,
        *,
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._pages: dict[str, Page] = {}
        self._redirects: dict[str, tuple[int, str]] = {}
        self._failures: dict[str, _Failure] = {}
        self._slow: dict[str, float] = {}
        self._requests: list[RequestRecord] = []
        self._publishes = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.publish("/robots.txt", DEFAULT_ROBOTS.encode(), "text/plain")
        if root_dir is not None:
            for file in sorted(Path(root_dir).rglob("*")):
                if file.is_file():
                    rel = "/" + file.relative_to(root_dir).as_posix()
                    guessed = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                    self.publish(rel, file.read_bytes(), guessed, charset_header=False)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FixtureSite:
        if self._server is None:
            server = _Server((self._host, 0), _Handler)
            if self._ssl_context is not None:
                server.socket = self._ssl_context.wrap_socket(server.socket, server_side=True)
            server.site = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FixtureSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FixtureSite is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this site."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- content ---------------------------------------------------------------------------

    def publish(
        self,
        path: str,
        body: bytes,
        content_type: str = "text/html",
        charset_header: bool = True,
        *,
        charset: str = "utf-8",
        validators: bool = True,
        send_length: bool = True,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve ``body`` at ``path`` (replacing what was there); returns the absolute URL.

        ``charset_header=False`` leaves the charset out of Content-Type (the GBK-without-a-
        clue case). ``validators=False`` sends neither ETag nor Last-Modified (sites where
        only the content hash can tell that nothing changed). ``send_length=False`` streams
        the body without Content-Length and closes the connection. ``headers`` are sent as
        given (e.g. ``Content-Encoding: gzip`` with a pre-compressed body).
        """
        extra = tuple(sorted((headers or {}).items()))
        with self._lock:
            old = self._pages.get(path)
            same = (
                old is not None
                and old.body == body
                and old.content_type == content_type
                and old.charset == (charset if charset_header else None)
                and (old.etag is not None) == validators
                and old.send_length == send_length
                and old.headers == extra
            )
            if same:  # re-publishing identical bytes keeps the validators, like a real CMS
                self._redirects.pop(path, None)
                return self.url(path) if self._server is not None else path
            self._publishes += 1
            stamp = _CLOCK_START + timedelta(hours=self._publishes)
            self._pages[path] = Page(
                body=body,
                content_type=content_type,
                charset=charset if charset_header else None,
                etag=f'"{hashlib.sha256(body).hexdigest()[:20]}"' if validators else None,
                last_modified=stamp if validators else None,
                send_length=send_length,
                headers=extra,
            )
            self._redirects.pop(path, None)
        return self.url(path) if self._server is not None else path

    def unpublish(self, path: str) -> None:
        with self._lock:
            self._pages.pop(path, None)
            self._redirects.pop(path, None)

    def page(self, path: str) -> Page | None:
        with self._lock:
            return self._pages.get(path)

    def set_redirect(self, path: str, location: str, status: int = 302) -> None:
        """Answer ``path`` with a redirect to ``location`` (absolute or relative)."""
        with self._lock:
            self._redirects[path] = (status, location)

    def set_failing(
        self,
        path: str,
        status: int = 500,
        *,
        retry_after: str | int | None = None,
        times: int | None = None,
    ) -> None:
        """Answer ``path`` with ``status`` (forever, or the next ``times`` requests)."""
        with self._lock:
            self._failures[path] = _Failure(
                status, None if retry_after is None else str(retry_after), times
            )

    def clear_failing(self, path: str) -> None:
        with self._lock:
            self._failures.pop(path, None)

    def set_slow(self, path: str, seconds: float) -> None:
        """Wait ``seconds`` before answering ``path`` (0 to clear)."""
        with self._lock:
            if seconds > 0:
                self._slow[path] = seconds
            else:
                self._slow.pop(path, None)

    # -- request log ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RequestRecord]:
        """Requests whose path (query ignored) is ``path``."""
        return [r for r in self.requests if urlsplit(r.path).path == path]

    def downloads(self, path: str) -> int:
        """How many times ``path`` was answered with a full body (status 200)."""
        return sum(1 for r in self.requests_for(path) if r.status == 200 and r.method == "GET")

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- serving (called by the handler threads) -----------------------------------------

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def _delay(self, path: str) -> float:
        with self._lock:
            return self._slow.get(path, 0.0)

    def _respond(self, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            failure = self._failures.get(path)
            if failure is not None:
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        del self._failures[path]
                extra = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                reason = HTTPStatus(failure.status).phrase.encode()
                return failure.status, {"Content-Type": "text/plain", **extra}, reason
            redirect = self._redirects.get(path)
            if redirect is not None:
                return redirect[0], {"Location": redirect[1]}, b""
            page = self._pages.get(path)
        if page is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        out: dict[str, str] = {
            "Content-Type": page.content_type
            + (f"; charset={page.charset}" if page.charset else "")
        }
        out.update(page.headers)
        if page.etag:
            out["ETag"] = page.etag
        if page.last_modified is not None:
            out["Last-Modified"] = email.utils.format_datetime(page.last_modified, usegmt=True)
        if not page.send_length:
            out["_no_length"] = "1"
        if _not_modified(page, headers):
            out.pop("_no_length", None)
            return 304, out, b""
        return 200, out, page.body


def _not_modified(page: Page, headers: Any) -> bool:
    """RFC 9110 precedence: If-None-Match decides when present, else If-Modified-Since."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        if page.etag is None:
            return False
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or page.etag in tags
    ims = headers.get("If-Modified-Since")
    if ims and page.last_modified is not None:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return page.last_modified <= since
    return False


# -- the demo site ---------------------------------------------------------------------------


@dataclass
class DemoSite:
    """Where things are on the demo site (absolute URLs)."""

    listing_url: str
    listing_pages: list[str]
    articles: dict[str, str] = field(default_factory=dict)  # key -> article URL
    attachments: dict[str, str] = field(default_factory=dict)  # key -> attachment URL


def _load_site_data() -> dict[str, Any]:
    with (DEMO_DIR / "site.toml").open("rb") as handle:
        return tomllib.load(handle)


def _templates() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(DEMO_DIR / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _publish_article(site: FixtureSite, env: Any, article: dict[str, Any], seeds: Path) -> str:
    attachments = []
    for attachment in article.get("attachments", []):
        data = (seeds / attachment["seed"]).read_bytes()
        site.publish(attachment["path"], data, attachment.get("content_type", "application/pdf"))
        attachments.append(
            {"href": attachment["path"].rsplit("/", 1)[1], "text": attachment["text"]}
        )
    body_text = article.get("body", "")
    if "seed" in article:
        body_text = (seeds / article["seed"]).read_text(encoding="utf-8")
    encoding = article.get("encoding", "utf-8")
    html = env.get_template(article.get("template", "article.html")).render(
        article=article,
        paragraphs=_paragraphs(body_text),
        attachments=attachments,
        meta_charset=article.get("meta_charset"),
        listing=article["listing_path"],
    )
    site.publish(
        article["path"],
        html.encode(encoding),
        "text/html",
        charset_header=article.get("charset_header", True),
        charset=encoding,
    )
    return site.url(article["path"])


def _publish_listing(
    site: FixtureSite, env: Any, data: dict[str, Any], revision: bool
) -> list[str]:
    listing = data["listing"]
    articles = [a for a in data["articles"] if revision or not a.get("revision", False)]
    pages = listing["pages"]
    urls = []
    for number in range(pages):
        items = [a for a in articles if a.get("page", 0) == number]
        items.sort(key=lambda a: a["published"], reverse=True)
        html = env.get_template("listing.html").render(
            listing=listing,
            items=[_listing_item(a, listing) for a in items],
            page_count=pages,
            page_index=number,
        )
        path = (
            listing["path"] if number == 0 else listing["path"].replace(".html", f"_{number}.html")
        )
        # GBK and no charset anywhere: the case that decode_html must get right.
        site.publish(path, html.encode("gb18030"), "text/html", charset_header=False)
        urls.append(site.url(path))
    return urls


def _listing_item(article: dict[str, Any], listing: dict[str, Any]) -> dict[str, str]:
    base = listing["path"].rsplit("/", 1)[0] + "/"
    title = article["title"]
    limit = int(listing.get("title_chars", 24))
    shown = title if len(title) <= limit else title[: limit - 1] + "…"
    date = article["published"]
    if article.get("page", 0) > 0:  # the second page writes dates the other common way
        y, m, d = (int(x) for x in date.split("-"))
        date = f"{y}年{m}月{d}日"
    return {
        "href": "./" + article["path"].removeprefix(base),
        "title": title,
        "shown": shown,
        "date": date,
    }


def _publish_all(site: FixtureSite, seeds_dir: Path | None, revision: bool) -> DemoSite:
    seeds = Path(seeds_dir) if seeds_dir is not None else DEFAULT_SEEDS_DIR
    data = _load_site_data()
    env = _templates()
    listing_path = data["listing"]["path"]
    info = DemoSite(listing_url=site.url(listing_path), listing_pages=[])
    for article in data["articles"]:
        if article.get("revision", False) and not revision:
            continue
        article = {**article, "listing_path": listing_path}
        info.articles[article["key"]] = _publish_article(site, env, article, seeds)
        for attachment in article.get("attachments", []):
            info.attachments[article["key"]] = site.url(attachment["path"])
    info.listing_pages = _publish_listing(site, env, data, revision)
    return info


def build_demo_site(site: FixtureSite, seeds_dir: Path | None = None) -> DemoSite:
    """Publish the demo portal: a 2-page GBK listing and the articles for seeds 001-004.

    ``seeds_dir`` holds the seed texts (``tests/fixtures/seeds`` in tests); by default the
    copies bundled under ``flows/data/demo_site/seeds``. Call again to restore the original.
    """
    return _publish_all(site, seeds_dir, revision=False)


def publish_revision(site: FixtureSite, seeds_dir: Path | None = None) -> DemoSite:
    """Add the revised 成都 plan: a cover-note page with the v2 PDF attached, listed first.

    Pages that did not change are re-published with identical bytes, so their ETags stay
    and a re-poll gets 304s for them.
    """
    return _publish_all(site, seeds_dir, revision=True)


#: Responsible units of the synthetic plans (:func:`build_plan_site`), one per document in turn.
PLAN_UNITS = ("区数据局", "区科技局", "区商务委", "区教委", "区财政局")


def plan_text(source: str, number: int, *, revised: bool = False) -> str:
    """A small synthetic 实施方案: a goal, and two tasks with targets and 责任单位; the
    revision raises the first task's target (an ``alert`` change for its unit)."""
    unit = PLAN_UNITS[number % len(PLAN_UNITS)]
    target = 10 + number + (5 if revised else 0)
    return (
        f"{source}示例区数字经济{number}号实施方案\n"
        "为推进数字经济工作，制定本方案。\n一、工作目标\n"
        f"到2025年，全区数字经济项目达到{40 + number}个。\n二、重点任务\n"
        f"1. 建设数字经济平台。到2025年建成{target}个数字经济示范点。（责任单位：{unit}）\n"
        "2. 完善数字经济工作机制。加强统筹协调，定期调度。（责任单位：区发展改革委）\n"
    )


def build_plan_site(
    site: FixtureSite, source: str, count: int, *, revised: frozenset[int] = frozenset()
) -> DemoSite:
    """Publish ``count`` synthetic plans of ``source`` on one listing page (scale tests and
    the backfill benchmark); plans whose number is in ``revised`` carry the revision."""
    env = _templates()
    listing: dict[str, Any] = {
        "path": "/plans/index.html",
        "title": "政策文件",
        "pages": 1,
        "title_chars": 40,
    }
    info = DemoSite(listing_url=site.url(listing["path"]), listing_pages=[])
    articles = []
    for number in range(count):
        article = {
            "key": f"{source}-{number}",
            "path": f"/plans/t{number:05d}.html",
            "title": f"{source}示例区数字经济{number}号实施方案",
            "issuer": "示例区人民政府",
            "doc_number": f"示府发〔2024〕{number + 1}号",
            "date": "2024-03-01",
            # A revision is re-listed with its new date: a listing answering 304 is not
            # looked into (one request per unchanged poll), as on the real portals.
            "published": "2024-04-01" if number in revised else f"2024-03-{1 + number % 28:02d}",
            "index_number": f"{source}/2024-{number:05d}",
            "category": "政策文件",
            "body": plan_text(source, number, revised=number in revised),
        }
        info.articles[article["key"]] = _publish_article(
            site, env, {**article, "listing_path": listing["path"]}, DEFAULT_SEEDS_DIR
        )
        articles.append(article)
    info.listing_pages = _publish_listing(
        site, env, {"listing": listing, "articles": articles}, False
    )
    return info
