"""``radar ingest FILE``, ``radar history SERIES``, ``radar show SERIES [--version N]``.

Thin wrappers: ``ingest`` runs :func:`flows.ingest_flow.run_ingest` (the Prefect flow),
``history``/``show`` the queries in :mod:`storage.repo`. Prefect and SQLAlchemy are
imported inside the command bodies so other commands stay light.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parsers.errors import RadarError

if TYPE_CHECKING:
    import typer


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
    """What one stored document came to. Plain lines when stdout is not a terminal and
    there is no change table (most ingests): rich and its console cost ~0.03 s of CPU, a
    twentieth of a one-file ``radar ingest``, for styling a pipe does not show."""
    changes = result.changes if result.status == "new_version" else []
    if changes or sys.stdout.isatty():
        _print_ingest_rich(result)
        return
    lines = [
        f"{result.series_title or '(no title)'}  series {result.series_key}"
        f"  version {result.version_seq}",
        f"  {_status_line(result)}",
    ]
    if result.related_to is not None:
        lines.append(f"  related to stored version id {result.related_to}")
    if result.status == "new_series":
        lines.append("  first version: no earlier version to compare")
    elif result.status == "new_version":
        lines.append("  no changes in tasks, targets or units")
    sys.stdout.write("".join(line + "\n" for line in lines))


def _status_line(result: Any) -> str:
    status = _STATUS_TEXT.get(result.status, result.status)
    generic = {"new series", "same bytes", "same content"}
    reason = "" if result.match_reason in generic else f" — {result.match_reason}"
    return f"{status}{reason}"


def _print_ingest_rich(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{result.series_title or '(no title)'}[/bold]  series [cyan]{result.series_key}[/cyan]"
        f"  version [cyan]{result.version_seq}[/cyan]"
    )
    console.print(f"  {_status_line(result)}")
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


def _changes_cell(v: Any) -> str:
    """The history table's change column; a held or discarded version says so, because its
    alerts did not (or not yet) reach subscribers."""
    text = "new document" if v.is_new_document else f"{v.alert_count} alert, {v.info_count} info"
    if v.hold_status == "held":
        return f"{text} — HELD, not sent"
    if v.hold_status in {"released", "discarded"}:
        return f"{text} — {v.hold_status} after a hold"
    return text


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


@contextmanager
def quiet_prefect() -> Iterator[None]:
    """Keep Prefect's own console logging (server start/stop, run states, tracebacks of
    failed runs) out of a one-shot command's output: the command prints its result and
    errors are one line. ``--debug`` keeps them.

    The environment variable covers Prefect's logging set-up on first import; the logger
    level covers a process where Prefect is already imported. Both are restored after."""
    from flows.cli import debug_enabled

    if debug_enabled():
        yield
        return
    previous = os.environ.get("PREFECT_LOGGING_LEVEL")
    os.environ["PREFECT_LOGGING_LEVEL"] = "CRITICAL"
    logger = logging.getLogger("prefect")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
        if previous is None:
            os.environ.pop("PREFECT_LOGGING_LEVEL", None)
        else:
            os.environ["PREFECT_LOGGING_LEVEL"] = previous


def _print_deliveries() -> None:
    """Where the alerts went: the outbox folder with the embedded defaults, else SMTP."""
    from alerts.dispatch import status_counts
    from storage.db import open_db
    from storage.settings import load_settings

    settings = load_settings()
    _, factory = open_db()
    with factory() as session:
        counts = status_counts(session)
    where = "SMTP" if settings.smtp_url else str(settings.outbox_dir)
    pending = counts.get("queued", 0) + counts.get("retrying", 0)
    print(
        f"alerts so far: {counts.get('sent', 0)} sent ({where}), {pending} waiting, "
        f"{counts.get('digest_pending', 0)} for digests, {counts.get('dead', 0)} dead"
    )


def _check_targets(targets: list[str], series: str | None) -> None:
    """Usage problems before any work: missing files, directories, --series with several."""
    if series and len(targets) > 1:
        raise StoreCliError("--series names one series: give one file or URL with it")
    for target in targets:
        if "://" in target:
            continue
        path = Path(target)
        if not path.exists():
            raise StoreCliError(f"{target}: no such file")
        if path.is_dir():
            raise StoreCliError(
                f"{target}: is a directory (drop files into RADAR_HOME/inbox/ instead)"
            )


def _named(target: str, exc: BaseException) -> str:
    text = str(exc)
    return text if text.startswith(target) else f"{target}: {text}"


def _ingest_all(targets: list[str], series: str | None) -> list[tuple[str, Any]]:
    """Run the ingest flow on each target; (target, results or the RadarError it raised).

    Several targets get a progress bar on a terminal; a failing one does not stop the rest.
    """
    with quiet_prefect():
        from flows.ingest_flow import run_ingest

        outcomes: list[tuple[str, Any]] = []
        progress = None
        if len(targets) > 1 and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            progress = Progress(console=Console(stderr=True), transient=True)
        bar = progress.add_task("ingesting", total=len(targets)) if progress else None
        if progress:
            progress.start()
        try:
            for target in targets:
                try:
                    outcomes.append((target, run_ingest(target, series)))
                except RadarError as exc:
                    if len(targets) == 1:
                        raise
                    outcomes.append((target, exc))
                if progress is not None and bar is not None:
                    progress.advance(bar)
        finally:
            if progress:
                progress.stop()
    return outcomes


def run_ingest(targets: list[str], series: str | None, as_json: bool) -> int:
    """Ingest ``targets`` and print the results; the exit code (a single target's error
    is raised, as the one-line convention wants)."""
    _check_targets(targets, series)
    from flows.commands.runs import prepare_runs

    if prepare_runs() is not None:
        # Through a Prefect API: Prefect's threads would make the parse worker a fork
        # server importing the parser again (~0.3 s CPU); forked now, it starts warm.
        from parsers.sandbox import prestart

        prestart()
    outcomes = _ingest_all(targets, series)
    failed = [(t, e) for t, e in outcomes if isinstance(e, BaseException)]
    if as_json:
        data = [r.to_json_dict() for _, rs in outcomes if isinstance(rs, list) for r in rs]
        _print_json(data[0] if len(data) == 1 and len(targets) == 1 else data)
    else:
        for target, results in outcomes:
            if isinstance(results, BaseException):
                continue
            if not results:
                print(f"{target}: not modified since the last fetch; nothing stored")
            for result in results:
                _print_ingest(result)
        _print_deliveries()
    if not failed:
        return 0
    if len(targets) == 1:
        raise failed[0][1]
    for target, exc in failed:
        sys.stderr.write(f"radar: {_named(target, exc)}\n")
    return 1


def register(app: typer.Typer) -> None:
    import typer

    @app.command("ingest")
    def ingest_cmd(
        targets: list[str] = typer.Argument(
            ..., metavar="FILE|URL", help="Local files (PDF, DOCX, HTML, TXT) or http(s) URLs."
        ),
        series: str | None = typer.Option(
            None, "--series", help="Store as a version of this series key (one target only)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    ) -> None:
        """Ingest files or URLs: parse, store as a version of their series, diff, alert.

        Runs the ``ingest-document`` flow: through Prefect when PREFECT_API_URL is set or a
        ``radar serve`` of this RADAR_HOME runs (the runs show in its UI), else in this
        process. With the embedded defaults it ends with the instant alerts for its
        changes delivered (SMTP, or .eml files in RADAR_HOME/outbox/).
        """
        code = run_ingest(targets, series, as_json)
        if code:
            raise typer.Exit(code)

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
            changes = _changes_cell(v)
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
        console = Console()
        console.print(table)
        for v in versions:
            if v.hold_status == "held":
                console.print(
                    f"v{v.seq} is held ({v.hold_reason}): see `radar held list`", markup=False
                )

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
        if info.hold_status == "held":
            typer.echo(
                f"held: this version looks broken ({info.hold_reason}); its alerts wait for "
                f"`radar held release {info.id}` or `radar held discard {info.id}`"
            )
        elif info.hold_status == "discarded":
            typer.echo("discarded: this version was held and the operator discarded it")
