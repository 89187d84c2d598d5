"""``radar deploy``: the deployments on a Prefect work pool (see flows.deploy)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("deploy")
    def deploy_cmd(
        pool: str = typer.Option("radar-pool", "--pool", help="Work pool (type process)."),
        sources: Path | None = typer.Option(
            None,
            "--sources",
            help="Sources TOML (default: RADAR_HOME/sources.toml, read by each worker).",
        ),
        lost_after: int = typer.Option(
            90,
            "--lost-after",
            help="Seconds without a heartbeat before a run counts as lost (Crashed, then "
            "re-run); a run pending twice as long too. At least 60.",
        ),
    ) -> None:
        """Register the deployments (polls, dispatch, digest, ingest) with a work pool on
        the Prefect server at PREFECT_API_URL; then start `prefect worker start --pool`."""
        from flows.prefect_env import ensure_prefect_env

        ensure_prefect_env()
        from flows.deploy import deploy_to_pool

        report = deploy_to_pool(pool, sources, lost_after)
        created = " (created, type process)" if report.created_pool else ""
        sys.stdout.write(f"work pool {report.pool}{created}\n")
        for name in report.deployments:
            sys.stdout.write(f"  deployment {name}\n")
        for name in report.limits:
            sys.stdout.write(f"  rate limit {name}\n")
        for name in report.automations:
            sys.stdout.write(f"  automation {name}\n")
        sys.stdout.write(f"next: prefect worker start --pool {report.pool}  (on each worker)\n")
