"""Running on a Prefect work pool: several workers on several hosts (issue 13).

``radar deploy`` (:mod:`flows.deploy`) registers the deployments with
``RADAR_DISTRIBUTED=1`` in their job environment. A flow run started by a worker then:

* fans a poll out: ``poll_source`` crawls the listing and starts one ``ingest-document/
  poll-item`` flow run per link (:func:`fan_out`), at most ``fanout`` at a time per
  source, so the documents of one big source spread over every worker instead of holding
  one for the whole backfill;
* shares the per-host politeness: before each request to a host, the Fetcher takes a
  slot of the Prefect global concurrency limit ``radar-host-<host>`` (a rate limit:
  one slot, decaying after ``RADAR_FETCH_INTERVAL`` seconds), which the Prefect server
  grants to one worker at a time — the in-process throttle alone would let three workers
  hit one site three times as often.

``radar serve`` and the local CLI keep ingesting in-process (one machine, one throttle).

A worker killed mid-run (``kill -9``, a host lost) loses nothing: documents are stored in
one transaction and their fetch state is remembered only afterwards, and the listing is
remembered only when every child run completed — so the next poll of that source fetches
again exactly what was not stored.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

#: The job environment flag ``radar deploy`` puts on the work-pool deployments.
DISTRIBUTED_ENV = "RADAR_DISTRIBUTED"
#: The deployment each fanned-out document runs as (flow ``ingest-document``).
ITEM_DEPLOYMENT = "ingest-document/poll-item"
#: Child runs of one source's poll in flight at once (a deployment parameter of poll-source).
DEFAULT_FANOUT = 4
#: How often the poll looks at its children's states.
WAIT_POLL_SECONDS = 1.0


def is_distributed() -> bool:
    """True in a flow run started by a work-pool worker from a ``radar deploy`` deployment."""
    return os.environ.get(DISTRIBUTED_ENV, "").strip().lower() in {"1", "true", "yes"}


def _limit_suffix(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text.lower()).strip("-") or "none"


def host_limit_name(netloc: str) -> str:
    """The global rate limit of one host (``radar-host-www.gov.cn``; port kept, ``:``→``-``)."""
    return f"radar-host-{_limit_suffix(netloc)}"


def shared_host_wait(netloc: str) -> None:
    """Block until this host's global rate limit grants a request (no-op when the limit is
    missing: Prefect's ``strict=False``; ``radar deploy`` creates it per configured host)."""
    from prefect.concurrency.sync import rate_limit

    rate_limit(host_limit_name(netloc), occupy=1, strict=False)


def ensure_host_limits(netlocs: Iterable[str], interval: float) -> list[str]:
    """Create or update ``radar-host-<host>`` for each host: one request per ``interval``
    seconds across all workers. Returns the limit names."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectNotFound

    decay = 1.0 / interval if interval > 0 else 1000.0
    names = []
    with get_client(sync_client=True) as client:
        for netloc in sorted(set(netlocs)):
            name = host_limit_name(netloc)
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1, slot_decay_per_second=decay)
                )
            else:
                client.update_global_concurrency_limit(
                    name,
                    GlobalConcurrencyLimitUpdate(limit=1, slot_decay_per_second=decay, active=True),
                )
            names.append(name)
    return names


@dataclass
class FanOutReport:
    """What the children of one poll did (their results stay in radar's database)."""

    completed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)


def fan_out(items: list[dict[str, Any]], *, fanout: int, deadline: float | None) -> FanOutReport:
    """Start ``ITEM_DEPLOYMENT`` once per item (``parameters``), ``fanout`` in flight at a
    time, and wait for them; runs not final by ``deadline`` (``time.monotonic()``) are
    reported as unfinished (a worker may have died under them) and left to the next poll."""
    from prefect.deployments import run_deployment

    report = FanOutReport()
    pending = list(items)
    running: dict[Any, dict[str, Any]] = {}
    while pending or running:
        while pending and len(running) < max(1, fanout):
            item = pending.pop(0)
            run = cast(
                "FlowRun",
                run_deployment(ITEM_DEPLOYMENT, parameters=item, timeout=0, as_subflow=True),
            )
            running[run.id] = item
        for run_id, state in _final_states(list(running)):
            item = running.pop(run_id)
            if state.is_completed():
                report.completed += 1
            else:
                report.failed.append(
                    {"url": str(item["path_or_url"]), "error": f"{state.name}: {state.message}"}
                )
        if deadline is not None and time.monotonic() > deadline:
            report.unfinished = [str(i["path_or_url"]) for i in [*running.values(), *pending]]
            break
        if running:
            time.sleep(WAIT_POLL_SECONDS)
    return report


def _final_states(run_ids: list[Any]) -> Iterator[tuple[Any, Any]]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for run_id in run_ids:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                yield run_id, state
