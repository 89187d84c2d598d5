"""``radar deploy``: register radar's deployments with a Prefect work pool.

The scale-out path (README, "Several hosts"): a PostgreSQL-backed Prefect server, radar's
database on PostgreSQL, and ``prefect worker start --pool radar-pool`` on each worker host.
This builds the deployments from the same code as ``radar serve``
(:func:`flows.service.build_deployments`), so the two never drift, with entrypoints given
by module path (``flows.poll_flow.poll_source``): a worker imports them from its installed
policy-radar, wherever that is; nothing refers to the deploying machine's checkout.

It also creates the work pool (type ``process``) when missing, one global rate limit per
configured host (``flows.distributed``), so the politeness interval holds across workers,
and the automations that re-run a flow run whose worker died (a run without heartbeats or
stuck pending is set Crashed; a Crashed run is scheduled again). Running it again updates
everything in place (schedules, limits, automations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from parsers.errors import RadarError


class DeployError(RadarError):
    """The deployments could not be registered (no Prefect server, pool of another type)."""


@dataclass
class DeployReport:
    pool: str
    created_pool: bool
    deployments: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)
    automations: list[str] = field(default_factory=list)


def ensure_process_pool(name: str) -> bool:
    """Create the work pool ``name`` (type ``process``) unless it exists; True if created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            pool = client.read_work_pool(name)
        except ObjectNotFound:
            try:
                client.create_work_pool(WorkPoolCreate(name=name, type="process"))
                return True
            except ObjectAlreadyExists:  # a worker starting meanwhile created it
                pool = client.read_work_pool(name)
    if pool.type != "process":
        raise DeployError(f"work pool {name!r} has type {pool.type!r}; radar needs 'process'")
    return False


def deploy_to_pool(
    pool: str, sources_file: Path | None = None, lost_after: int | None = None
) -> DeployReport:
    """Create the pool if needed, register every deployment to it, create the host limits
    and the crash automations (``lost_after``: seconds without a heartbeat before a run
    counts as lost; at least two heartbeats)."""
    from flows.distributed import (
        HEARTBEAT_SECONDS,
        SILENT_AFTER,
        ensure_crash_automations,
        ensure_dispatch_queue,
        ensure_host_limits,
    )

    lost_after = SILENT_AFTER if lost_after is None else lost_after
    if lost_after < 2 * HEARTBEAT_SECONDS:
        raise DeployError(
            f"--lost-after {lost_after}: runs send a heartbeat every {HEARTBEAT_SECONDS} s; "
            f"give at least {2 * HEARTBEAT_SECONDS}"
        )
    from flows.poll_flow import sources_path
    from flows.prefect_env import has_api_server
    from flows.service import build_deployments
    from flows.sources import load_sources
    from storage.settings import load_settings

    if not has_api_server():
        raise DeployError("PREFECT_API_URL is not set: radar deploy needs the Prefect server")
    report = DeployReport(pool=pool, created_pool=ensure_process_pool(pool))
    ensure_dispatch_queue(pool)
    for deployment in build_deployments(sources_file, pool=pool):
        deployment.apply(work_pool_name=pool)
        report.deployments.append(f"{deployment.flow_name}/{deployment.name}")
    path = sources_path(str(sources_file) if sources_file else None)
    if path.is_file():
        hosts = [urlsplit(c.url).netloc.lower() for c in load_sources(path)]
        report.limits = ensure_host_limits(hosts, load_settings().fetch_interval)
    report.automations = ensure_crash_automations(lost_after=lost_after)
    return report
