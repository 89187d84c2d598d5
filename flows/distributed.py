"""Running on a Prefect work pool: several workers on several hosts (issue 13).

``radar deploy`` (:mod:`flows.deploy`) registers the deployments with
``RADAR_DISTRIBUTED=1`` in their job environment. A flow run started by a worker then:

* fans a poll out: ``poll_source`` crawls the listing and hands its links to
  ``ingest-links/poll-batch`` flow runs (:func:`fan_out`, :func:`batches`: ``fanout``
  runs in flight per source, at most ``batch`` links each), so the documents of one big
  source spread over every worker instead of holding one for the whole backfill, and a
  process start (~3 CPU-s) is paid per batch, not per document;
* shares the per-host politeness: before each request to a host, the Fetcher takes a
  slot of the Prefect global concurrency limit ``radar-host-<host>`` (a rate limit:
  one slot, decaying after ``RADAR_FETCH_INTERVAL`` seconds), which the Prefect server
  grants to one worker at a time — the in-process throttle alone would let three workers
  hit one site three times as often.

``radar serve`` and the local CLI keep ingesting in-process (one machine, one throttle).

A worker killed mid-run (``kill -9``, a host lost) loses nothing: documents are stored in
one transaction and their fetch state is remembered only afterwards, and the listing is
remembered only when every batch completed. The automations ``radar deploy`` sets up
(:func:`ensure_crash_automations`) mark the lost runs Crashed (no heartbeat, or stuck
Pending) and schedule them again on a live worker; a re-run fetches conditionally, so it
stores exactly what was not stored.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from parsers.errors import RadarError

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

#: The job environment flag ``radar deploy`` puts on the work-pool deployments.
DISTRIBUTED_ENV = "RADAR_DISTRIBUTED"
#: The deployment a poll's links run as, in batches (flow ``ingest-links``).
BATCH_DEPLOYMENT = "ingest-links/poll-batch"
#: Batch runs of one source's poll in flight at once (a parameter of poll-source).
DEFAULT_FANOUT = 4
#: Most links in one batch run (a parameter of poll-source): a flow run is a process
#: (~3 CPU-s to start), so a backfill batches; a crash re-runs at most this many links.
DEFAULT_BATCH = 20
#: How often the poll looks at its children's states.
WAIT_POLL_SECONDS = 1.0


#: The pool's work queue of the dispatch deployments, polled after the default queue:
#: each document's event may start a dispatch run, and taken first-come they held worker
#: slots while a backfill's batches waited (the poll itself sends once its batches end).
DISPATCH_QUEUE = "radar-dispatch"
DISPATCH_QUEUE_PRIORITY = 100


def ensure_dispatch_queue(pool: str) -> None:
    """Create ``DISPATCH_QUEUE`` in ``pool`` (or reset its priority) behind ``default``."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            queue = client.read_work_queue_by_name(DISPATCH_QUEUE, work_pool_name=pool)
        except ObjectNotFound:
            client.create_work_queue(
                DISPATCH_QUEUE,
                description="radar's alert dispatch runs, after the polls (radar deploy)",
                priority=DISPATCH_QUEUE_PRIORITY,
                work_pool_name=pool,
            )
        else:
            if queue.priority != DISPATCH_QUEUE_PRIORITY:
                client.update_work_queue(queue.id, priority=DISPATCH_QUEUE_PRIORITY)


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
    """What the batches of one poll did (their results stay in radar's database)."""

    runs: int = 0
    completed: int = 0  # links in completed runs
    failed: list[dict[str, str]] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)


def batches(links: list[Any], *, fanout: int, batch: int) -> list[list[Any]]:
    """``links`` split into runs: ``fanout`` of them when that keeps each within ``batch``
    links (a 10-link poll on 4 workers: 4 runs of 3, 3, 2, 2), else runs of ``batch``."""
    if not links:
        return []
    runs = max(max(1, fanout), -(-len(links) // max(1, batch)))
    runs = min(runs, len(links))
    size, extra = divmod(len(links), runs)
    out, start = [], 0
    for number in range(runs):
        end = start + size + (1 if number < extra else 0)
        out.append(links[start:end])
        start = end
    return out


def fan_out(
    source: str,
    links: list[Any],
    sources_file: str | None,
    *,
    fanout: int,
    batch: int,
    deadline: float | None,
) -> FanOutReport:
    """Start ``BATCH_DEPLOYMENT`` for ``links`` in :func:`batches`, ``fanout`` runs in
    flight at a time, and wait for them; runs not final by ``deadline``
    (``time.monotonic()``) are reported as unfinished and left to the next poll. A run
    whose worker died is Crashed, then re-run by the automation ``radar deploy`` sets up
    (:func:`ensure_crash_automations`); this poll reports it failed and does not wait. The
    batches are keyed by this poll run (:func:`_batch_key`), so a re-run poll waits for
    the batches its lost attempt started rather than running them twice."""
    from prefect.deployments import run_deployment

    report = FanOutReport()
    pending = batches(links, fanout=fanout, batch=batch)
    report.runs = len(pending)
    running: dict[Any, list[Any]] = {}
    while pending or running:
        while pending and len(running) < max(1, fanout):
            part = pending.pop(0)
            parameters = {"source": source, "links": part, "sources_file": sources_file}
            run = cast(
                "FlowRun",
                run_deployment(
                    BATCH_DEPLOYMENT,
                    parameters=parameters,
                    timeout=0,
                    as_subflow=True,
                    idempotency_key=_batch_key(part),
                ),
            )
            running[run.id] = part
        for run_id, state in _final_states(list(running)):
            part = running.pop(run_id)
            if state.is_completed():
                report.completed += len(part)
            else:
                more = f" (+{len(part) - 1} links in the same run)" if len(part) > 1 else ""
                report.failed.append(
                    {"url": f"{part[0][0]}{more}", "error": f"{state.name}: {state.message}"}
                )
        if deadline is not None and time.monotonic() > deadline:
            report.unfinished = [
                str(link[0]) for part in [*running.values(), *pending] for link in part
            ]
            break
        if running:
            time.sleep(WAIT_POLL_SECONDS)
    return report


def _batch_key(part: list[Any]) -> str | None:
    """This poll run's key for one batch: a poll re-run after its worker died gets back the
    batch runs its first attempt started (done, running, or being re-run themselves)
    instead of starting every batch again; a changed batch gets a new key."""
    import hashlib
    import json

    from prefect.runtime import flow_run

    if not flow_run.id:
        return None
    digest = hashlib.sha256(json.dumps(part, ensure_ascii=False).encode()).hexdigest()[:16]
    return f"radar-batch/{flow_run.id}/{digest}"


def _final_states(run_ids: list[Any]) -> Iterator[tuple[Any, Any]]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for run_id in run_ids:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                yield run_id, state


# -- runs whose worker died ----------------------------------------------------------------

#: Tag on the runs of every work-pool deployment: the automations below match runs by it
#: (heartbeat events name a run's tags and deployment, not its work pool).
POOL_TAG = "radar-pool"
#: Seconds between a pool run's heartbeats (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` in the
#: deployments' job environment; Prefect's minimum is 30).
HEARTBEAT_SECONDS = 30
#: A running run with no heartbeat for this long lost its process (three missed beats;
#: ``radar deploy --lost-after``). A run still Pending for twice as long never started
#: (its worker died between taking it and starting its process): generous, as on a loaded
#: host starting the process and importing Prefect takes tens of seconds.
SILENT_AFTER = 90
#: A run is started at most this often (the first run and two re-runs after crashes): a
#: run that kills its process every time fails instead of looping.
MAX_RUNS = 3
#: The automations :func:`ensure_crash_automations` keeps (names are how they are found).
CRASH_SILENT = "radar: crash runs without heartbeat"
CRASH_PENDING = "radar: crash runs stuck pending"
RERUN_CRASHED = "radar: re-run crashed runs"


class RerunLimit(RadarError):
    """A work-pool run crashed and was re-run ``MAX_RUNS`` times; it is failed instead."""


def check_rerun_limit() -> None:
    """Fail (not crash) the run when this is more than its ``MAX_RUNS``-th start, so the
    re-run automation stops; a no-op outside a work pool."""
    if not is_distributed():
        return
    from prefect.runtime import flow_run

    count = int(flow_run.run_count or 0)
    if count > MAX_RUNS:
        raise RerunLimit(
            f"flow run {flow_run.name} was started {count} times (crashed each time): "
            "not again; see its logs and the worker's"
        )


def crash_automations(tag: str = POOL_TAG, lost_after: int = SILENT_AFTER) -> list[Any]:
    """The three automations that replace a lost worker's runs (Prefect's recipe "detect
    zombie flows", plus the re-run): a silent or stuck run is set Crashed, and a Crashed
    run of these deployments is set Scheduled again (``AwaitingRetry``: same id and
    parameters, ``run_count`` + 1), for any live worker to take."""
    from datetime import timedelta

    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    runs = ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"})
    ours = ResourceSpecification({"prefect.resource.id": f"prefect.tag.{tag}"})
    ends = {f"prefect.flow-run.{s}" for s in ("Completed", "Failed", "Cancelled", "Crashed")}

    def crash_when_silent(after: str, expect: set[str], seconds: int, why: str) -> Any:
        return EventTrigger(
            after={after},
            expect=expect | ends,
            match=runs,
            match_related=ours,
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=seconds),
        ), [ChangeFlowRunState(name="Crashed", state=StateType.CRASHED, message=why, force=False)]

    specs = {
        CRASH_SILENT: crash_when_silent(
            "prefect.flow-run.heartbeat",
            {"prefect.flow-run.heartbeat"},
            lost_after,
            f"no heartbeat for {lost_after} s: its process or worker was lost",
        ),
        CRASH_PENDING: crash_when_silent(
            "prefect.flow-run.Pending",
            {"prefect.flow-run.Running"},
            2 * lost_after,
            f"pending for {2 * lost_after} s: its worker was lost before starting it",
        ),
        RERUN_CRASHED: (
            # At most one re-run per run and hour: a run that cannot even start (its
            # run_count, and so check_rerun_limit, never moves) does not loop.
            EventTrigger(
                expect={"prefect.flow-run.Crashed"},
                match=runs,
                match_related=ours,
                for_each={"prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(hours=1),
            ),
            [
                ChangeFlowRunState(
                    state=StateType.SCHEDULED,
                    name="AwaitingRetry",
                    message="re-run after a crash (radar deploy's automation)",
                    force=False,
                )
            ],
        ),
    }
    return [
        Automation(name=name, description=_AUTOMATION_DOC, trigger=trigger, actions=actions)
        for name, (trigger, actions) in specs.items()
    ]


_AUTOMATION_DOC = "Set up by `radar deploy` (flows/distributed.py); re-running it updates this."


def ensure_crash_automations(tag: str = POOL_TAG, lost_after: int = SILENT_AFTER) -> list[str]:
    """Create or update :func:`crash_automations` on the server; returns their names."""
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    names = []
    with get_client(sync_client=True) as client:
        for automation in crash_automations(tag, lost_after):
            core = AutomationCore(**automation.model_dump(exclude={"id"}))
            existing = client.read_automations_by_name(automation.name)
            if existing:
                client.update_automation(existing[0].id, core)
                for extra in existing[1:]:  # two deploys at once: keep one
                    client.delete_automation(extra.id)
            else:
                client.create_automation(core)
            names.append(automation.name)
    return names
