"""Prefect tasks: each a few lines around a pure function of parsers/storage/alerts.

Granularity is one task per document (fetch, parse, store), never per paragraph: Prefect
costs 10–20 ms per task run. Only :func:`parse_document` is cached, keyed by the content
hash and the parser version, so re-reading the same bytes (a retried flow, a re-polled
attachment, an inbox file dropped twice) never parses twice; it takes bytes and returns a
:class:`ParsedDocument` — DB sessions never enter cached tasks. Tasks that touch the database
open their own sessions from settings (``storage.db.open_db``) and are never cached.
"""

from __future__ import annotations

from flows.prefect_env import ensure_prefect_env

ensure_prefect_env()

import hashlib  # noqa: E402
import re  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402
from urllib.parse import unquote, urlsplit  # noqa: E402

from flows.orchestrate import task  # noqa: E402
from parsers.schema import PARSER_VERSION, ParsedDocument  # noqa: E402
from storage.ingest import IngestResult  # noqa: E402

if TYPE_CHECKING:  # the fetch stack (requests, urllib3) loads for URLs only, not for files
    from flows.fetch import Fetcher, FetchResult
    from flows.fetch_state_db import DbFetchState

#: Content types (and leading bytes) that mean "an HTML page", which may be a cover note.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass
class SourceDoc:
    """One document's bytes and where they came from (what ``storage.ingest`` records)."""

    data: bytes
    filename: str
    source_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    published: str | None = None
    #: Metadata of the cover note this document was attached to, if any.
    cover: dict[str, Any] = field(default_factory=dict)


def make_fetcher(state: DbFetchState | None = None) -> Fetcher:
    """The poll's Fetcher, tuned by the ``RADAR_FETCH_*`` settings (politeness per host and
    the read timeout; see storage.settings)."""
    from flows.fetch import Fetcher, robots_cache
    from storage.settings import load_settings

    settings = load_settings()
    return Fetcher(
        state=state,
        robots=robots_cache(settings.home / "cache" / "robots"),
        per_host_interval=settings.fetch_interval,
        retries=settings.fetch_retries,
        backoff=settings.fetch_backoff,
        timeout=(min(5.0, settings.fetch_timeout), settings.fetch_timeout),
    )


def db_factory() -> Any:
    """The session factory for the configured database (opened, migrated, cached)."""
    from storage.db import open_db

    return open_db()[1]


def filename_for(url: str, content_type: str | None) -> str:
    """A file name for a fetched URL (the parser sniffs bytes; the name is only a hint)."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "index.html"
    if "." not in name and content_type in HTML_TYPES:
        name += ".html"
    return name


def is_html(result: FetchResult) -> bool:
    if result.content_type in HTML_TYPES:
        return True
    head = result.content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


@task(name="fetch", task_run_name="fetch {url}", no_cache=True)
def fetch_url(fetcher: Fetcher, url: str, conditional: bool = True) -> FetchResult | None:
    """One GET with conditional headers; None when the page is unchanged (304 or same hash:
    not a failure, so not raised through Prefect as one). Validators are remembered only
    after the document is stored (``remember=False``), so a crash in between never hides a
    document next time.

    Retries live in one layer, the Fetcher (``RADAR_FETCH_RETRIES`` with backoff and
    Retry-After, for timeouts, 5xx and 429 only): a task retry on top multiplied them."""
    from flows.fetch import NotModified

    try:
        return fetcher.get(url, conditional=conditional, remember=False)
    except NotModified:
        return None


def _parse_cache_key(_ctx: Any, params: dict[str, Any]) -> str:
    digest = hashlib.sha256(params["data"]).hexdigest()
    ext = Path(params.get("filename") or "").suffix.lower().lstrip(".")
    return f"radar-parse-{digest}-{ext}-{PARSER_VERSION}"


@task(
    name="parse",
    task_run_name="parse {filename}",
    cache_key_fn=_parse_cache_key,
    cache_expiration=timedelta(days=30),
    persist_result=True,
)
def parse_document(data: bytes, filename: str) -> ParsedDocument:
    """Parse untrusted bytes in the sandbox; cached by content + parser version.

    No ``timeout_seconds``: Prefect's task timeout cannot interrupt a thread and only
    warns. The real limit is the sandbox's (``parsers.sandbox.Limits``: the worker is killed
    after its wall-clock timeout, and RLIMIT_CPU/RLIMIT_AS bound it)."""
    from storage.ingest import parse_file_bytes

    return parse_file_bytes(data, filename)


@task(name="store", task_run_name="store {doc.filename}", no_cache=True)
def store_document(
    doc: SourceDoc, parsed: ParsedDocument, series: str | None = None
) -> tuple[IngestResult, dict[str, Any]]:
    """Identify, store, diff and queue alerts in ONE transaction (storage.ingest with the
    alert hook), so a change set never exists without its deliveries. Returns the result
    and what the hook did (deliveries queued, or held for the operator)."""
    from flows.health import AlertHook
    from storage.ingest import ingest

    hook = AlertHook()
    result = ingest(
        db_factory(),
        doc.data,
        parsed,
        filename=doc.filename,
        source_url=doc.source_url,
        series_key=series,
        etag=doc.etag,
        last_modified=doc.last_modified,
        published=doc.published,
        on_change_set=hook,
        on_held=hook.on_held,
    )
    info = hook.as_dict()
    if result.held:  # storage held them: the earlier version could not be re-parsed
        info["held"] = result.held
    return result, info


@task(name="send-alerts", no_cache=True)
def send_alerts() -> dict[str, Any]:
    """Deliver every due delivery (SMTP, or .eml files in the outbox)."""
    from alerts.dispatch import send_due

    return send_due(db_factory()).as_dict()


def merge_cover(
    attachment: ParsedDocument, cover: dict[str, Any], *, sole: bool = True
) -> ParsedDocument:
    """The attachment's content with the cover note's metadata (文号, date, issuer, published).

    A cover note (关于印发…的通知) carries the document's official number and date, which
    the attached PDF usually lacks. When it carries exactly one document (``sole``) its
    title is the document's title too (the DESIGN's "a 关于印发…的通知 that carries a plan
    gives the plan's tasks"): identity unwraps it to the plan's full name, where the PDF's
    own first line often drops the issuing city ("元宇宙产业发展行动方案").
    """
    update: dict[str, Any] = {}
    for key in ("doc_number", "date", "published"):
        if cover.get(key):
            update[key] = cover[key]
    if cover.get("issuers"):
        update["issuers"] = list(cover["issuers"])
    if cover.get("title") and (sole or not attachment.title):
        update["title"] = cover["title"]
    return attachment.model_copy(update=update) if update else attachment


def cover_metadata(result: FetchResult) -> dict[str, Any]:
    """Metadata of an HTML page parsed as a document (best effort: an unparsable cover
    still lets its attachment through)."""
    from parsers.errors import RadarError
    from storage.ingest import parse_file_bytes

    try:
        parsed = parse_file_bytes(result.content, filename_for(result.url, result.content_type))
    except RadarError:
        return {}
    return {
        "title": parsed.title,
        "doc_number": parsed.doc_number,
        "date": parsed.date,
        "published": parsed.published,
        "issuers": list(parsed.issuers),
        "task_count": len(parsed.tasks),
    }


def page_text(result: FetchResult, encoding: str | None = None) -> str:
    from flows.fetch import decode_html

    return decode_html(result.content, encoding or result.charset)


_CELL = re.compile(r"[|\n\r]+")


def _cell(value: Any) -> str:
    return _CELL.sub(" ", "" if value is None else str(value)).strip() or "—"


def changes_markdown(result: IngestResult, alert_info: dict[str, Any]) -> str:
    """The Prefect artifact: what this ingest stored and the change table."""
    title = result.series_title or result.series_key
    lines = [
        f"# {title} v{result.version_seq}",
        "",
        f"- series: `{result.series_key}`",
        f"- status: **{result.status}** ({result.match_reason})",
        f"- alerts queued: {alert_info.get('queued', 0)}",
    ]
    if alert_info.get("held"):
        lines.append(f"- **held for the operator**: {alert_info['held']}")
    lines.append("")
    if result.status == "new_series":
        lines.append("First version of this document: nothing to compare yet.")
    elif not result.changes:
        lines.append("No changes in tasks, targets or units.")
    else:
        lines += ["| severity | kind | task | summary |", "|---|---|---|---|"]
        for change in result.changes:
            summary = change.get("summary")
            if not summary and change.get("kind") == "units_changed":
                added = "、".join(change.get("added") or [])
                removed = "、".join(change.get("removed") or [])
                summary = f"+{added or '—'} / −{removed or '—'}"
            lines.append(
                f"| {_cell(change.get('severity'))} | {_cell(change.get('kind'))} "
                f"| {_cell(change.get('task'))} | {_cell(summary)} |"
            )
    return "\n".join(lines) + "\n"


def artifact_key(series_key: str) -> str | None:
    """Prefect artifact keys allow only lowercase letters, digits and dashes."""
    key = re.sub(r"[^a-z0-9-]+", "-", series_key.lower()).strip("-")
    return f"changes-{key}"[:100] if key else None
