"""The ingest flow: one file or URL in, stored versions, queued alerts, an event out.

read (file, or URL through the polite :class:`flows.fetch.Fetcher`) → parse (sandboxed,
cached by content hash) → identify/store/diff/queue alerts (``storage.ingest``, one
transaction) → emit ``radar.document.changed`` → a Markdown artifact with the change table.

An article page whose body is a cover note (关于印发…的通知) and whose substance is an
attached PDF/DOCX is ONE document: the attachment's content with the cover's 文号, date and
issuer. A page with several attachments stores each attachment as its own document (with
the cover's metadata) and the page itself, whose ``attachments`` list links them.

With Prefect's embedded defaults (no ``PREFECT_API_URL``: no server, so no deployment
trigger) the flow delivers the alerts itself at the end, so a one-off ``radar ingest`` ends
with its emails sent (or in ``RADAR_HOME/outbox``).
"""

from __future__ import annotations

from flows.prefect_env import ensure_prefect_env, has_api_server

ensure_prefect_env()

from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from flows.distributed import check_rerun_limit  # noqa: E402
from flows.orchestrate import emit_event, flow, is_local, markdown_artifact, run_logger  # noqa: E402
from flows.tasks import (  # noqa: E402
    SourceDoc,
    artifact_key,
    changes_markdown,
    cover_metadata,
    db_factory,
    fetch_url,
    filename_for,
    is_html,
    make_fetcher,
    merge_cover,
    page_text,
    parse_document,
    send_alerts,
    store_document,
)
from parsers.errors import RadarError  # noqa: E402
from storage.ingest import IngestResult  # noqa: E402

if TYPE_CHECKING:  # the fetch stack (requests, urllib3) loads for URLs only, not for files
    from flows.fetch import Fetcher

EVENT_CHANGED = "radar.document.changed"


class IngestInputError(RadarError):
    """The path or URL given to ``radar ingest`` cannot be read."""


def _run_name() -> str:
    from prefect.runtime import flow_run

    target = str(flow_run.parameters.get("path_or_url", ""))
    short = target.rstrip("/").rsplit("/", 1)[-1] or target
    return f"ingest: {short}"


def _read_file(path: Path) -> list[SourceDoc]:
    if not path.is_file():
        raise IngestInputError(f"{path}: no such file")
    return [SourceDoc(data=path.read_bytes(), filename=path.name)]


@dataclass(frozen=True)
class Steps:
    """The fetch, parse and store steps of one ingest: Prefect task runs (each visible in
    the UI, the parse cached by content), or with :data:`PLAIN_STEPS` the same functions as
    plain calls — what a work-pool batch uses, where each task run cost ~4 requests to the
    Prefect server per step and the server, not radar, became the bound (BENCHMARKS)."""

    fetch: Callable[..., Any]
    parse: Callable[..., Any]
    store: Callable[..., Any]


TASK_STEPS = Steps(fetch_url, parse_document, store_document)
PLAIN_STEPS = Steps(fetch_url.fn, parse_document.fn, store_document.fn)


def _read_url(
    fetcher: Fetcher,
    url: str,
    *,
    conditional: bool,
    source: Any = None,
    published: str | None = None,
    steps: Steps = TASK_STEPS,
) -> tuple[list[SourceDoc], list[Any]]:
    """The documents behind ``url`` and the fetch results to remember once they are stored.

    Raises ``NotModified`` when the page is unchanged since the last fetch.
    """
    from flows.fetch import NotModified
    from flows.sources import SourceConfig, find_attachments

    page = steps.fetch(fetcher, url, conditional=conditional)
    if page is None:
        raise NotModified(f"{url}: not modified", url=url)
    fetched = [page]
    base = SourceDoc(
        data=page.content,
        filename=filename_for(page.url, page.content_type),
        source_url=url,
        etag=page.etag,
        last_modified=page.last_modified,
        published=published,
    )
    if not is_html(page):
        return [base], fetched
    config = source or SourceConfig(name="ingest", url=url)
    attachments = find_attachments(page_text(page, config.encoding), page.url, config)
    if not attachments:
        return [base], fetched
    cover = cover_metadata(page)
    if published and not cover.get("published"):
        cover["published"] = published
    docs: list[SourceDoc] = []
    for att_url, text in attachments:
        # The page changed, so its attachment is fetched whatever its validators say: a
        # re-issued notice may point at the same PDF, and storage settles "same bytes".
        result = steps.fetch(fetcher, att_url, conditional=False)
        assert result is not None  # unconditional GETs never answer "not modified"
        fetched.append(result)
        name = text if "." in text else filename_for(result.url, result.content_type)
        docs.append(
            SourceDoc(
                data=result.content,
                filename=name,
                source_url=att_url,
                etag=result.etag,
                last_modified=result.last_modified,
                published=cover.get("published") or published,
                cover=cover,
            )
        )
    if len(docs) == 1 and not cover.get("task_count"):
        # A cover note carrying one document: store the attachment, known by the page URL.
        docs[0].source_url = url
        return docs, fetched
    # Several attachments (or a page that is a document itself): each is its own document,
    # and the page is stored too, its attachments list linking them.
    return [base, *docs], fetched


def _rename_run(result: IngestResult) -> None:
    """Name the run after what it stored (``ingest: 成都市…行动方案 v2``); best effort."""
    if is_local():
        return
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    run_id = flow_run.id
    if not run_id:
        return
    name = f"ingest: {result.series_title or result.series_key} v{result.version_seq}"
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(run_id, name=name[:200])
    except Exception as exc:  # naming is cosmetic; never fail an ingest over it
        run_logger().debug("could not rename flow run: %s", exc)


def emit_changed(result: IngestResult, alert_info: dict[str, Any], source: str | None) -> None:
    """``radar.document.changed`` on resource ``radar.series.<key>``: ids and counts only."""
    alerts = sum(1 for c in result.changes if c.get("severity") == "alert")
    related = []
    if source:
        related.append(
            {"prefect.resource.id": f"radar.source.{source}", "prefect.resource.role": "source"}
        )
    emit_event(
        event=EVENT_CHANGED,
        resource={
            "prefect.resource.id": f"radar.series.{result.series_key}",
            "prefect.resource.name": (result.series_title or result.series_key)[:200],
        },
        related=related or None,
        payload={
            "series_key": result.series_key,
            "status": result.status,
            "version_id": result.version_id,
            "version_seq": result.version_seq,
            "change_set_id": result.change_set_id,
            "changes": len(result.changes),
            "alert_changes": alerts,
            "deliveries_queued": int(alert_info.get("queued") or 0),
            "held": bool(alert_info.get("held")),
        },
    )


def _store_one(
    doc: SourceDoc,
    series: str | None,
    source: str | None,
    *,
    sole: bool,
    steps: Steps = TASK_STEPS,
) -> IngestResult:
    parsed = steps.parse(doc.data, doc.filename)
    if doc.cover:
        parsed = merge_cover(parsed, doc.cover, sole=sole)
    result, alert_info = steps.store(doc, parsed, series)
    if result.change_set_id is not None:
        emit_changed(result, alert_info, source)
        markdown = changes_markdown(result, alert_info)
        markdown_artifact(
            markdown=markdown,
            key=artifact_key(result.series_key),
            description=f"{result.series_title or result.series_key} v{result.version_seq}",
        )
    return result


@flow(name="ingest-document", flow_run_name=_run_name, log_prints=False)
def ingest_document(
    path_or_url: str,
    series: str | None = None,
    deliver: bool | None = None,
    conditional: bool = False,
    source: str | None = None,
    sources_file: str | None = None,
    published: str | None = None,
) -> list[IngestResult]:
    """Ingest one file or URL; returns one result per stored document ([] if unchanged).

    ``deliver``: send due alerts at the end (default: only without a Prefect server, where
    no trigger would). ``conditional``: skip a URL unchanged since the last fetch (polls).
    ``source``/``sources_file``: the configured source this URL came from (its attachment
    types and allowed domains). ``published``: the date the listing gave.
    """
    check_rerun_limit()
    results = ingest_one(
        path_or_url,
        series,
        conditional=conditional,
        source=source,
        sources_file=sources_file,
        published=published,
    )
    changed = [r for r in results if r.change_set_id is not None]
    if changed:
        _rename_run(changed[-1])
    if deliver is None:
        deliver = not has_api_server()
    if deliver:
        send_alerts()
    return results


def ingest_one(
    path_or_url: str,
    series: str | None = None,
    *,
    conditional: bool = False,
    source: str | None = None,
    sources_file: str | None = None,
    published: str | None = None,
    steps: Steps = TASK_STEPS,
) -> list[IngestResult]:
    """The body of :func:`ingest_document` as a plain call, in whatever run calls it: a
    work-pool batch (``flows.poll_flow.ingest_links``) ingests its links through this, one
    process and one flow run for many documents instead of a subflow run per link, and
    with ``steps=PLAIN_STEPS`` no task runs per document either."""
    logger = run_logger()
    docs: list[SourceDoc]
    fetcher: Fetcher | None = None
    fetched: list[Any] = []
    if "://" in path_or_url:
        from flows.fetch import NotModified
        from flows.fetch_state_db import DbFetchState

        config = _source_config(source, sources_file) if source else None
        fetcher = make_fetcher(DbFetchState(db_factory()))
        try:
            docs, fetched = _read_url(
                fetcher,
                path_or_url,
                conditional=conditional,
                source=config,
                published=published,
                steps=steps,
            )
        except NotModified:
            logger.info("%s: not modified", path_or_url)
            fetcher.close()
            return []
    else:
        docs = _read_file(Path(path_or_url))
    try:
        results = []
        for doc in docs:
            result = _store_one(
                doc, series if len(docs) == 1 else None, source, sole=len(docs) == 1, steps=steps
            )
            logger.info(
                "%s -> %s v%s (%s)",
                doc.filename,
                result.series_key,
                result.version_seq,
                result.status,
            )
            results.append(result)
        if fetcher is not None:
            for page in fetched:
                fetcher.remember(page)
    finally:
        if fetcher is not None:
            fetcher.close()
    return results


def _source_config(name: str, sources_file: str | None) -> Any:
    from flows.poll_flow import find_source

    return find_source(name, sources_file)


def run_ingest(path_or_url: str, series: str | None = None) -> list[IngestResult]:
    """``radar ingest``: run the flow (ephemeral Prefect without a server), one result per
    stored document. Errors surface as the ``RadarError`` the flow raised."""
    return ingest_document(path_or_url, series)
