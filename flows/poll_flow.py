"""Polling configured sources: listing pages → new or changed links → ``ingest_document``.

One poll of a source costs one conditional request when nothing changed (the first listing
page answers 304 or hashes the same). When the listing changed, every link is fetched
conditionally, so only new or changed articles are downloaded and parsed.

A link that fails (after the fetcher's and the task's retries) is recorded in its fetch
state and reported; the other links go on. The listing's validators are remembered only
when every link was handled, so the next poll retries the failed one.

Bounds (issue 12): a source's links per poll are capped (``max_links``; the overflow is
reported and logged), a poll has a deadline (``poll_deadline``: requests in flight are cut
off, links not reached are reported as ``deferred`` for the next poll), and ``poll_sources``
polls different hosts concurrently (``POLL_WORKERS``), one source per host at a time.
"""

from __future__ import annotations

from flows.prefect_env import ensure_prefect_env, has_api_server

ensure_prefect_env()

import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from flows.distributed import (  # noqa: E402
    DEFAULT_BATCH,
    DEFAULT_FANOUT,
    check_rerun_limit,
    fan_out,
    is_distributed,
)
from flows.fetch import Fetcher  # noqa: E402
from flows.fetch_state_db import DbFetchState  # noqa: E402
from flows.health import check_listing  # noqa: E402
from flows.ingest_flow import PLAIN_STEPS, ingest_document, ingest_one  # noqa: E402
from flows.orchestrate import flow, run_logger, task  # noqa: E402
from flows.sources import ListingCrawl, SourceConfig, SourcesError, crawl_listing, load_sources  # noqa: E402
from flows.tasks import db_factory, make_fetcher, send_alerts  # noqa: E402
from parsers.errors import RadarError  # noqa: E402


def sources_path(sources_file: str | None) -> Path:
    """``--sources FILE``, else ``RADAR_HOME/sources.toml``."""
    if sources_file:
        return Path(sources_file)
    from storage.settings import load_settings

    return load_settings().sources_file


def find_source(name: str, sources_file: str | None = None) -> SourceConfig:
    path = sources_path(sources_file)
    for config in load_sources(path):
        if config.name == name:
            return config
    raise SourcesError(f"{path}: no source named {name!r}")


@task(name="crawl-listing", task_run_name="crawl {config.name}", no_cache=True)
def crawl_source(
    fetcher: Fetcher, config: SourceConfig, state: DbFetchState | None = None
) -> ListingCrawl:
    """The listing's links; past ``max_links``, links ``state`` has never fetched go first."""
    known = None if state is None else (lambda url: state.get(url) is not None)
    return crawl_listing(fetcher, config, conditional=True, remember=False, known=known)


@flow(name="poll-source", flow_run_name="poll: {name}")
def poll_source(
    name: str,
    sources_file: str | None = None,
    deliver: bool | None = None,
    fanout: int = DEFAULT_FANOUT,
    batch: int = DEFAULT_BATCH,
) -> dict[str, Any]:
    """One poll of one source; returns a JSON-able report (links, ingested, failed, health).

    On a work pool (``flows.distributed``) the links are ingested by ``ingest-links`` flow
    runs of at most ``batch`` links each, ``fanout`` runs at a time; elsewhere in this
    process, one after another."""
    check_rerun_limit()
    logger = run_logger()
    config = find_source(name, sources_file)
    sources = str(sources_path(sources_file))
    factory = db_factory()
    state = DbFetchState(factory)
    report: dict[str, Any] = {
        "source": name,
        "listing_not_modified": False,
        "links": 0,
        "ingested": [],
        "unchanged": 0,
        "failed": [],
        "health": None,
        "overflow": 0,
        "deferred": 0,
    }
    with make_fetcher(state) as fetcher:
        fetcher.set_poll_deadline(config.poll_deadline)
        crawl = crawl_source(fetcher, config, state)
        report["listing_not_modified"] = crawl.not_modified
        report["links"] = len(crawl.items)
        report["overflow"] = crawl.overflow
        report["listing_truncated"] = crawl.truncated
        if crawl.overflow or crawl.truncated:
            logger.warning(
                "%s: %d more links than max_links=%d were not queued this poll%s",
                name,
                crawl.overflow,
                config.max_links,
                " (the listing page was too long and was read only in part)"
                if crawl.truncated
                else "",
            )
        if not crawl.not_modified:
            report["health"] = check_listing(state, factory, name, config.url, len(crawl.items))
            if report["health"]:
                logger.warning(report["health"])
        if is_distributed():
            _fan_out_items(crawl, config, sources_file, fanout, batch, report, fetcher.deadline_at)
        else:
            ingest_links_here(
                [(item.url, item.title, item.date) for item in crawl.items],
                state,
                report,
                remaining=fetcher.remaining,
                ingest=lambda url, date: ingest_document(
                    url,
                    deliver=False,
                    conditional=True,
                    source=name,
                    sources_file=sources,
                    published=date,
                ),
            )
            if report["deferred"]:
                logger.warning(
                    "%s: poll deadline (%d s) reached; %d links left for the next poll",
                    name,
                    config.poll_deadline,
                    report["deferred"],
                )
        complete = not (report["deferred"] or crawl.overflow or crawl.truncated)
        if not report["failed"] and complete:
            # Only a listing handled in full is "seen": otherwise the next poll must see it again.
            for page in crawl.pages:
                fetcher.remember(page)
    if deliver is None:
        # On a pool the poll sends what its batches queued once they are all stored: the
        # coalesced on-change trigger run that would send it may be cancelled while the
        # previous one is finishing its last round (CANCEL_NEW), which left those alerts
        # to the 10-minute safety net. Leases keep the two senders from doubling a mail.
        deliver = not has_api_server() or bool(report.get("completed"))
    if deliver:
        report["dispatch"] = send_alerts()
    return report


#: A link to ingest: (url, title, date the listing gave).
Link = tuple[str, str, str | None]


def ingest_links_here(
    links: list[Link],
    state: DbFetchState,
    report: dict[str, Any],
    *,
    remaining: Callable[[], float | None],
    ingest: Callable[[str, str | None], list[Any]],
) -> None:
    """Ingest ``links`` one after another in this process, filling ``report`` (``ingested``,
    ``unchanged``, ``failed``; ``deferred`` when ``remaining()`` runs out). A failing link
    is recorded in its fetch state and reported, and the others go on."""
    logger = run_logger()
    for done, (url, title, date) in enumerate(links):
        left = remaining()
        if left is not None and left <= 0:
            report["deferred"] = len(links) - done
            return
        try:
            results = ingest(url, date)
        except Exception as exc:  # recorded, reported, and the other links go on
            message = f"{type(exc).__name__}: {exc}"
            state.record_failure(url, type(exc).__name__)
            logger.warning("%s failed: %s", url, message)
            report["failed"].append({"url": url, "title": title, "error": message})
            continue
        if not results:
            report["unchanged"] += 1
        for result in results:
            report["ingested"].append(
                {
                    "url": url,
                    "series_key": result.series_key,
                    "title": result.series_title,
                    "version": result.version_seq,
                    "status": result.status,
                    "change_set_id": result.change_set_id,
                    "changes": result.changes,
                }
            )


class LinksFailed(RadarError):
    """Some links of a work-pool batch failed (each is named in the message)."""


def _batch_run_name() -> str:
    from prefect.runtime import flow_run

    params = flow_run.parameters
    links = params.get("links") or [[""]]
    first = str(links[0][0]).rstrip("/").rsplit("/", 1)[-1]
    return f"ingest {params.get('source')}: {len(links)} links from {first}"


@flow(name="ingest-links", flow_run_name=_batch_run_name)
def ingest_links(
    source: str,
    links: list[Link],
    sources_file: str | None = None,
) -> dict[str, Any]:
    """One batch of a poll's links on a work pool (``flows.distributed.fan_out``): every
    link ingested in this one process and flow run — a process per document cost ~3 CPU-s
    of start-up against ~0.1 s of parsing — as plain calls (``PLAIN_STEPS``: no task runs
    per document, whose API traffic made the Prefect server the bound). Fails, naming them, when any link failed (the
    poll then keeps its listing unseen, so the next poll tries them again)."""
    check_rerun_limit()
    config = find_source(source, sources_file)
    sources = str(sources_path(sources_file))
    report: dict[str, Any] = {
        "source": source,
        "ingested": [],
        "unchanged": 0,
        "failed": [],
        "deferred": 0,
    }
    deadline = time.monotonic() + config.poll_deadline
    ingest_links_here(
        [(str(url), str(title), date) for url, title, date in links],
        DbFetchState(db_factory()),
        report,
        remaining=lambda: deadline - time.monotonic(),
        ingest=lambda url, date: ingest_one(
            url,
            conditional=True,
            source=source,
            sources_file=sources,
            published=date,
            steps=PLAIN_STEPS,
        ),
    )
    problems = [f"{f['url']} ({f['error']})" for f in report["failed"]]
    if report["deferred"]:
        problems.append(f"{report['deferred']} links not reached by the poll deadline")
    if problems:
        raise LinksFailed(f"{len(problems)} of {len(links)} links: " + "; ".join(problems))
    run_logger().info(
        "%s: %d stored, %d unchanged", source, len(report["ingested"]), report["unchanged"]
    )
    return report


def _fan_out_items(
    crawl: ListingCrawl,
    config: SourceConfig,
    sources_file: str | None,
    fanout: int,
    batch: int,
    report: dict[str, Any],
    deadline: float | None,
) -> None:
    """The work-pool path: the links in ``ingest-links`` flow runs; fills ``report``
    (``dispatched`` links and ``runs``, ``completed`` links; ``failed``, and ``deferred``
    for links whose run was not final by the poll's deadline, so the listing is not
    remembered and the next poll retries them)."""
    links: list[Link] = [(item.url, item.title, item.date) for item in crawl.items]
    outcome = fan_out(
        config.name, links, sources_file, fanout=fanout, batch=batch, deadline=deadline
    )
    report["dispatched"] = len(links)
    report["runs"] = outcome.runs
    report["completed"] = outcome.completed
    report["failed"].extend(outcome.failed)
    report["deferred"] = len(outcome.unfinished)


#: Sources polled at once (different hosts); the sources of one host run one after another.
POLL_WORKERS = 4


def poll_concurrently(
    configs: list[SourceConfig],
    poll: Callable[[SourceConfig], dict[str, Any]],
    *,
    on_error: Callable[[SourceConfig, Exception], None] | None = None,
    workers: int = POLL_WORKERS,
) -> list[dict[str, Any]]:
    """Run ``poll`` for every source, ``workers`` hosts at a time and one source per host at
    a time (a slow site stalls only its own host's queue); reports in ``configs`` order."""
    groups: dict[str, list[int]] = {}
    for index, config in enumerate(configs):
        host = (urlsplit(config.url).hostname or "").lower()
        groups.setdefault(host, []).append(index)
    reports: list[dict[str, Any]] = [{} for _ in configs]

    def run_group(indexes: list[int]) -> None:
        for index in indexes:
            config = configs[index]
            try:
                reports[index] = poll(config)
            except Exception as exc:  # a failing source is reported; the others go on
                if on_error is not None:
                    on_error(config, exc)
                reports[index] = {"source": config.name, "error": f"{type(exc).__name__}: {exc}"}

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(groups) or 1))) as pool:
        for future in [pool.submit(run_group, g) for g in groups.values()]:
            future.result()
    return reports


@flow(name="poll-sources", flow_run_name="poll sources")
def poll_sources(
    sources_file: str | None = None, source: str | None = None, deliver: bool | None = None
) -> list[dict[str, Any]]:
    """One poll cycle of every configured source (or just ``source``); a failing source is
    reported and the others still run."""
    logger = run_logger()
    configs = load_sources(sources_path(sources_file))
    if source is not None:
        configs = [c for c in configs if c.name == source]
        if not configs:
            raise SourcesError(f"{sources_path(sources_file)}: no source named {source!r}")
    reports = poll_concurrently(
        configs,
        lambda config: poll_source(config.name, sources_file, deliver=False),
        on_error=lambda config, exc: logger.warning("source %s failed: %s", config.name, exc),
    )
    if deliver is None:
        deliver = not has_api_server()
    if deliver:
        dispatch = send_alerts()
        for report in reports:
            report.setdefault("dispatch", dispatch)
    return reports
