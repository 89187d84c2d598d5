"""``radar poll``, ``radar serve``, ``radar demo``: the Prefect-backed commands.

Prefect is imported inside the command bodies (after ``flows.prefect_env`` has set its
environment), so ``radar parse``/``radar diff`` never pay for it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer


def _print_poll(reports: list[dict[str, Any]]) -> None:
    for report in reports:
        if "error" in report:
            sys.stdout.write(f"{report['source']}: FAILED {report['error']}\n")
            continue
        state = (
            "listing unchanged" if report["listing_not_modified"] else f"{report['links']} links"
        )
        sys.stdout.write(
            f"{report['source']}: {state}, {len(report['ingested'])} stored, "
            f"{report['unchanged']} unchanged, {len(report['failed'])} failed\n"
        )
        for item in report["ingested"]:
            alerts = sum(1 for c in item["changes"] if c.get("severity") == "alert")
            sys.stdout.write(
                f"  {item['status']:<12} {item['series_key']} v{item['version']} "
                f"{item['title'] or ''} ({alerts} alert changes)\n"
            )
        for failure in report["failed"]:
            sys.stdout.write(f"  failed: {failure['url']}: {failure['error']}\n")
        if report.get("health"):
            sys.stdout.write(f"  health: {report['health']}\n")


def register(app: typer.Typer) -> None:
    @app.command("poll")
    def poll_cmd(
        sources: Path | None = typer.Option(
            None, "--sources", help="Sources TOML (default: RADAR_HOME/sources.toml)."
        ),
        source: str | None = typer.Option(None, "--source", help="Poll only this source."),
        as_json: bool = typer.Option(False, "--json", help="Print the poll reports as JSON."),
    ) -> None:
        """One poll cycle of the configured sites now (new and changed documents).

        Through Prefect when PREFECT_API_URL is set or ``radar serve`` runs, else in this
        process (no temporary Prefect server)."""
        from flows.commands.runs import prepare_runs
        from flows.sources import load_sources
        from storage.settings import load_settings

        # A malformed sources file is one line before anything starts.
        load_sources(sources or load_settings().sources_file)
        prepare_runs()
        from flows.poll_flow import poll_sources

        reports = poll_sources(str(sources) if sources else None, source)
        if as_json:
            sys.stdout.write(json.dumps(reports, ensure_ascii=False, indent=2, default=str) + "\n")
        else:
            _print_poll(reports)
        if any("error" in r or r.get("failed") for r in reports):
            raise typer.Exit(3)

    @app.command("serve")
    def serve_cmd(
        sources: Path | None = typer.Option(
            None, "--sources", help="Sources TOML (default: RADAR_HOME/sources.toml)."
        ),
        web: bool = typer.Option(True, "--web/--no-web", help="Serve the web endpoints."),
        web_port: int | None = typer.Option(
            None,
            "--web-port",
            help="Port of the web pages (default: RADAR_WEB_PORT, else RADAR_BASE_URL's port).",
        ),
        prefect_port: int | None = typer.Option(
            None,
            "--prefect-port",
            help="Port of the Prefect server and UI (default: RADAR_PREFECT_PORT, 4200).",
        ),
    ) -> None:
        """The long-running service: schedules, alert trigger, inbox watcher, web; stops on SIGTERM."""
        import logging

        from flows.service import serve_forever

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        # One line per HTTP request (Prefect's client polls its API every few seconds)
        # would bury what matters in the serve log.
        for noisy in ("httpx", "httpcore", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

        def echo(line: str) -> None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

        serve_forever(
            sources_file=sources,
            web=web,
            web_port=web_port,
            prefect_port=prefect_port,
            echo=echo,
        )
        # Everything was stopped in order; don't let Prefect's leftover background threads
        # (which may retry against the server we just stopped) delay or fail the exit.
        import os

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    @app.command("demo")
    def demo_cmd() -> None:
        """The whole path offline: a bundled portal on 127.0.0.1, two polls, the alert emails."""
        from flows.demo import run_demo
        from storage.settings import load_settings

        settings = load_settings()

        def echo(line: str) -> None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

        result = run_demo(settings.home, echo=echo)
        if not result.emails and not settings.smtp_url:
            sys.stdout.write("no alert emails were written (unexpected)\n")
            raise typer.Exit(1)
