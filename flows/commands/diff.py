"""``radar diff OLD NEW [--json]``: the structural diff of two files or two stored versions.

OLD and NEW are each a file path (a document, or a saved ``radar parse --json`` output), a
stored version (``SERIES@N``, or a numeric version id), or a series key alone (its latest
version). Files are parsed in the resource-limited
worker like ``radar parse``; stored versions are loaded from the database (SQLAlchemy is
imported only then). Prefect is never imported on this path.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from parsers.errors import RadarError

if TYPE_CHECKING:  # pydantic and the schema load on first parse, not for ``radar --help``
    from parsers.schema import ParsedDocument

_VERSION_REF = re.compile(r"^(?P<series>.+)@(?P<seq>\d+)$")


class DiffInputError(RadarError):
    """An OLD/NEW argument that is neither a readable file nor a stored version."""


def _parse_file(path: Path) -> ParsedDocument:
    from flows.commands.parse import parse_files

    ((_, result),) = parse_files([path])
    if isinstance(result, RadarError):
        raise DiffInputError(str(result))
    return result


def _load_stored(ref: str) -> ParsedDocument:
    from storage.db import open_db
    from storage.errors import StorageError
    from storage.repo import load_parsed_version, load_version

    _, factory = open_db()
    with factory() as session:
        try:
            m = _VERSION_REF.match(ref)
            if m:
                return load_version(session, m["series"], int(m["seq"]))[1]
            if ref.isdigit():
                return load_parsed_version(session, int(ref))
            return load_version(session, ref, None)[1]
        except StorageError as exc:
            raise DiffInputError(f"{ref}: no such file, and {exc}") from None


def _load_json(path: Path) -> ParsedDocument | None:
    """A saved ``radar parse --json`` output, or None when the file is something else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != "radar.document/1":
        return None
    try:
        from parsers.schema import ParsedDocument

        return ParsedDocument.from_json_dict(data)
    except ValueError as exc:
        raise DiffInputError(f"{path}: not a valid radar.document/1 object ({exc})") from None


def load_document(ref: str) -> ParsedDocument:
    """A file path if one exists under that name, else a stored version reference."""
    path = Path(ref)
    if path.exists():
        if path.is_dir():
            raise DiffInputError(f"{ref}: is a directory")
        if path.suffix.lower() == ".json":
            doc = _load_json(path)
            if doc is not None:
                return doc
        return _parse_file(path)
    if not (_VERSION_REF.match(ref) or ref.isdigit()) and (
        "/" in ref or "\\" in ref or path.suffix
    ):
        raise DiffInputError(f"{ref}: no such file")
    return _load_stored(ref)


def _change_cell(change: dict[str, Any]) -> str:
    if change["kind"] == "units_changed":
        return " ".join(
            [f"+{n}" for n in change.get("added", [])]
            + [f"−{n}" for n in change.get("removed", [])]
        )
    return str(change.get("summary", ""))


def print_table(changes: list[dict[str, Any]], old: str, new: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not changes:
        console.print(f"No changes between {old} and {new}.")
        return
    alerts = sum(1 for c in changes if c["severity"] == "alert")
    table = Table(title=f"{old} → {new}: {alerts} alert(s), {len(changes) - alerts} info")
    table.add_column("kind", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("task", overflow="fold", max_width=28)
    table.add_column("change", overflow="fold", max_width=70)
    for c in changes:
        style = "bold red" if c["severity"] == "alert" else "dim"
        table.add_row(c["kind"], c["severity"], c.get("task") or "—", _change_cell(c), style=style)
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff_cmd(
        old: str = typer.Argument(
            ..., help="Old version: a file, SERIES@N, a version id or a series key."
        ),
        new: str = typer.Argument(
            ..., help="New version: a file, SERIES@N, a version id or a series key."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the radar.changes/1 JSON."),
    ) -> None:
        """Structural diff: goals, responsible units and tasks that changed between versions."""
        from parsers.diff import diff_documents

        changes = diff_documents(load_document(old), load_document(new)).to_json_dict()
        if as_json:
            sys.stdout.write(json.dumps(changes, ensure_ascii=False, indent=2) + "\n")
        else:
            print_table(changes["changes"], old, new)
