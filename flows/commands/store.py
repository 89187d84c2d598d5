"""``radar ingest FILE``, ``radar history SERIES``, ``radar show SERIES [--version N]``.

Thin wrappers: the work is :func:`storage.ingest.ingest_file` and the queries in
:mod:`storage.repo`, so the Prefect flow (flows helper) can call the same functions.
SQLAlchemy is imported inside the command bodies so other commands stay light.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from parsers.errors import RadarError


class StoreCliError(RadarError):
    """A usage problem with ingest/history/show arguments."""


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


_STATUS_TEXT = {
    "new_series": "new series",
    "new_version": "new version",
    "same_content": "same content as a stored version (nothing new)",
    "same_bytes": "already stored (same bytes)",
}


def _print_ingest(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{result.series_title or '(no title)'}[/bold]  series [cyan]{result.series_key}[/cyan]"
        f"  version [cyan]{result.version_seq}[/cyan]"
    )
    status = _STATUS_TEXT.get(result.status, result.status)
    generic = {"new series", "same bytes", "same content"}
    reason = "" if result.match_reason in generic else f" — {result.match_reason}"
    console.print(f"  {status}{reason}")
    if result.related_to is not None:
        console.print(f"  related to stored version id {result.related_to}")
    if result.status == "new_series":
        console.print("  first version: no earlier version to compare")
        return
    if result.status != "new_version":
        return
    if not result.changes:
        console.print("  no changes in tasks, targets or units")
        return
    alerts = sum(1 for c in result.changes if c.get("severity") == "alert")
    table = Table(title=f"{len(result.changes)} changes ({alerts} alert)")
    table.add_column("severity", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("task", overflow="fold", max_width=30)
    table.add_column("summary", overflow="fold", max_width=60)
    for change in result.changes:
        style = "bold red" if change.get("severity") == "alert" else "dim"
        table.add_row(
            f"[{style}]{change.get('severity')}[/{style}]",
            str(change.get("kind")),
            change.get("task") or "—",
            change.get("summary") or "",
        )
    console.print(table)


def _print_series_list(factory: Any, as_json: bool) -> None:
    from dataclasses import asdict

    from storage.repo import list_series

    with factory() as session:
        rows = list_series(session)
    if as_json:
        _print_json([asdict(r) for r in rows])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} series")
    for col in ("key", "title", "kind", "issuer", "versions"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.key, r.title or "", r.kind or "", r.issuer or "", str(r.version_count))
    Console().print(table)


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        target: str = typer.Argument(..., help="A local file (PDF, DOCX, HTML, TXT)."),
        series: str | None = typer.Option(
            None, "--series", help="Store as a version of this series key."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Parse one file, store it as a version of its series and show what changed."""
        if "://" in target:
            raise StoreCliError(
                f"{target}: URLs are not ingested by this command yet; download the file "
                "and pass its path (or use `radar poll` for configured sources)"
            )
        from storage.ingest import ingest_file

        result = ingest_file(target, series_key=series)
        if as_json:
            _print_json(result.to_json_dict())
        else:
            _print_ingest(result)

    @app.command("history")
    def history_cmd(
        series: str | None = typer.Argument(
            None, help="Series key (or title); omit it to list every series."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the versions as JSON."),
    ) -> None:
        """List the stored versions of a series with their task/target and change counts."""
        from storage.db import open_db
        from storage.repo import series_history

        _, factory = open_db()
        if series is None:
            _print_series_list(factory, as_json)
            return
        with factory() as session:
            versions = series_history(session, series)
        if as_json:
            _print_json([v.to_json_dict() for v in versions])
            return
        from rich.console import Console
        from rich.table import Table

        first = versions[0]
        table = Table(title=f"{first.series_title or '(no title)'}  [{first.series_key}]")
        for col in ("seq", "date", "doc number", "title", "fetched", "tasks", "targets"):
            table.add_column(col, overflow="fold")
        table.add_column("changes", overflow="fold")
        for v in versions:
            changes = (
                "new document"
                if v.is_new_document
                else f"{v.alert_count} alert, {v.info_count} info"
            )
            table.add_row(
                str(v.seq),
                v.date or "",
                v.doc_number or "",
                v.title or "",
                v.fetched_at.strftime("%Y-%m-%d %H:%M"),
                str(v.task_count),
                str(v.target_count),
                changes,
            )
        Console().print(table)

    @app.command("show")
    def show_cmd(
        series: str = typer.Argument(..., help="Series key (or title)."),
        version: int | None = typer.Option(
            None, "--version", help="Version number (default: latest)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the contract JSON."),
    ) -> None:
        """Show the parsed document of one stored version."""
        from storage.db import open_db
        from storage.repo import load_version

        _, factory = open_db()
        with factory() as session:
            info, doc = load_version(session, series, version)
        if as_json:
            _print_json(doc.to_json_dict())
            return
        from flows.commands.parse import print_summary

        print_summary(
            doc, f"{info.series_key} v{info.seq} ({info.filename or info.source_url or ''})"
        )
