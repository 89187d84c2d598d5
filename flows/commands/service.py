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

from parsers.errors import RadarError


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


def gather_status() -> dict[str, Any]:
    """What runs where: the serve process and its URLs, where a CLI run would go, each
    source's last poll, the alert queue and the inbox."""
    import os

    from flows.prefect_env import api_is_up, read_serve_file
    from storage.settings import load_settings

    settings = load_settings()
    serve = read_serve_file(settings.serve_file)
    if serve is not None:
        serve["api_up"] = api_is_up(str(serve.get("api_url", "")))
    if os.environ.get("PREFECT_API_URL"):
        runs = f"through PREFECT_API_URL={os.environ['PREFECT_API_URL']}"
    elif serve is not None and serve["api_up"]:
        runs = f"through radar serve (pid {serve['pid']}) at {serve['api_url']}"
    else:
        runs = "in this process (no Prefect server: nothing shows in a UI)"
    status: dict[str, Any] = {
        "home": str(settings.home),
        "database": settings.database_url.split("@")[-1],
        "serve": serve,
        "cli_runs": runs,
        "mail": "SMTP " + settings.smtp_url.split("@")[-1]
        if settings.smtp_url
        else f"files in {settings.outbox_dir}",
        "sources": _sources_status(settings),
        "deliveries": {},
        "inbox": {
            sub or "waiting": _count_files(settings.inbox_dir / sub)
            for sub in ("", "failed", "done")
        },
    }
    if settings.database_url.startswith("sqlite") and not (settings.home / "radar.db").exists():
        return status  # nothing stored yet; don't create a database to say so
    from alerts.dispatch import status_counts
    from storage.db import open_db

    _, factory = open_db()
    with factory() as session:
        status["deliveries"] = status_counts(session)
    return status


def _count_files(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.iterdir() if p.is_file() and not p.name.endswith(".error.txt"))


def _sources_status(settings: Any) -> list[dict[str, Any]]:
    """Each configured source with its listing's last check (from the fetch state)."""
    from flows.sources import SourcesError, load_sources

    if not settings.sources_file.is_file():
        return []
    try:
        configs = load_sources(settings.sources_file)
    except SourcesError as exc:
        return [{"error": str(exc)}]
    if not configs:
        return []
    from storage.db import open_db
    from storage.repo import get_fetch_state

    _, factory = open_db()
    out = []
    with factory() as session:
        for config in configs:
            row = get_fetch_state(session, config.url)
            out.append(
                {
                    "name": config.name,
                    "url": config.url,
                    "last_checked": row.last_checked_at.isoformat(timespec="seconds")
                    if row is not None and row.last_checked_at
                    else None,
                    "last_status": row.last_status if row is not None else None,
                    "failures": row.failures if row is not None else 0,
                }
            )
    return out


def _print_status(status: dict[str, Any]) -> None:
    out = sys.stdout.write
    out(f"RADAR_HOME   {status['home']}\n")
    out(f"database     {status['database']}\n")
    serve = status["serve"]
    if serve is None:
        out("serve        not running\n")
    else:
        up = "" if serve["api_up"] else " (its Prefect API does not answer)"
        out(f"serve        running, pid {serve['pid']}{up}\n")
        if serve.get("ui_url"):
            out(f"  Prefect UI {serve['ui_url']}\n")
        if serve.get("web_url"):
            out(f"  web pages  {serve['web_url']}/\n")
    out(f"CLI runs     {status['cli_runs']}\n")
    out(f"mail         {status['mail']}\n")
    for source in status["sources"] or [{"error": "no sources configured"}]:
        if "error" in source:
            out(f"sources      {source['error']}\n")
            continue
        when = source["last_checked"] or "never polled"
        fails = f", {source['failures']} failures" if source["failures"] else ""
        out(f"source       {source['name']}: last poll {when} ({source['last_status']}{fails})\n")
    d = status["deliveries"]
    if d:
        waiting = d.get("queued", 0) + d.get("retrying", 0)
        out(
            f"alerts       {d.get('sent', 0)} sent, {waiting} waiting, "
            f"{d.get('digest_pending', 0)} for digests, {d.get('dead', 0)} dead\n"
        )
    inbox = status["inbox"]
    out(
        f"inbox        {inbox['waiting']} waiting, {inbox['failed']} failed, {inbox['done']} done\n"
    )


def _serve_until_stopped(
    sources: Path | None, web: bool, web_port: int | None, prefect_port: int | None, echo: Any
) -> int:
    """Run serve; the exit code: 0 for a stop by SIGTERM/Ctrl-C at any stage, 1 (one line
    on stderr) when it could not start."""
    from flows.cli import debug_enabled
    from flows.service import serve_forever

    try:
        serve_forever(
            sources_file=sources,
            web=web,
            web_port=web_port,
            prefect_port=prefect_port,
            echo=echo,
        )
    except SystemExit as exc:  # the SIGTERM handler before the runner's own
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 0
    except RadarError as exc:
        if debug_enabled():
            raise
        sys.stderr.write(f"radar: {exc}\n")
        return 1
    return 0


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status_cmd(
        as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
    ) -> None:
        """What runs where: serve and its URLs, each source's last poll, queues."""
        status = gather_status()
        if as_json:
            sys.stdout.write(json.dumps(status, ensure_ascii=False, indent=2, default=str) + "\n")
        else:
            _print_status(status)

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

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        # One line per HTTP request (Prefect's client polls its API every few seconds)
        # would bury what matters in the serve log.
        for noisy in ("httpx", "httpcore", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

        def echo(line: str) -> None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

        code = _serve_until_stopped(sources, web, web_port, prefect_port, echo)
        # Everything was stopped in order; don't let Prefect's leftover background threads
        # (which may retry against the server we just stopped) delay or fail the exit —
        # also when SIGTERM came before the runner took over, or start-up failed.
        import os

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

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
