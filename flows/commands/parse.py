"""``radar parse FILE... [--json]``: parse files and print the schema.

Files are parsed in a resource-limited worker (``parsers.sandbox``) so a hostile file
cannot take the command down; one failing file is reported on one line and the others
are still parsed (exit code 1 if any failed). No Prefect import on this path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from parsers.errors import RadarError

if TYPE_CHECKING:  # pydantic and the schema load on first parse, not for ``radar --help``
    import typer

    from parsers.schema import ParsedDocument


def _fmt_target(t: dict) -> str:
    value = t["value"] if t["value_max"] is None else f"{t['value']}-{t['value_max']}"
    cmp = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "", None: ""}[t["comparator"]]
    year = f"{t['year']}年 " if t["year"] else ""
    return f"{year}{t['metric'] or ''} {cmp}{value}{t['unit'] or ''}".strip()


def print_summary(doc: ParsedDocument, name: str) -> None:
    """A readable summary: metadata, tasks with units and targets, document goals."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    d = doc.to_json_dict()
    console.rule(f"[bold]{name}")
    console.print(f"[bold]{d['title'] or '(no title)'}[/bold]  [dim]{d['kind']}[/dim]")
    facts = [
        ("文号", d["doc_number"]),
        ("发文机关", "、".join(d["issuers"])),
        ("主送", "、".join(d["recipients"])),
        ("成文日期", d["date"]),
        ("发布日期", d["published"]),
    ]
    if d["proposal"]:
        p = d["proposal"]
        facts.append(("提案/建议", f"第{p['number']}号 {p['proposer'] or ''} {p['meeting'] or ''}"))
    for label, value in facts:
        if value:
            console.print(f"  {label}: {value}")
    if d["goals"]:
        goals = Table(title=f"目标 ({len(d['goals'])})", show_lines=False)
        goals.add_column("target")
        goals.add_column("sentence", overflow="fold", max_width=70)
        for g in d["goals"]:
            goals.add_row(_fmt_target(g), g["text"])
        console.print(goals)
    tasks = Table(title=f"任务 ({len(d['tasks'])})")
    tasks.add_column("#", no_wrap=True)
    tasks.add_column("task", overflow="fold", max_width=30)
    tasks.add_column("units", overflow="fold", max_width=40)
    tasks.add_column("targets", overflow="fold", max_width=36)
    for t in d["tasks"]:
        units = "、".join(
            u["name"] + ("" if u["role"] == "responsible" else f"({u['role']})") for u in t["units"]
        )
        tasks.add_row(
            t["number"] or "", t["title"], units, "\n".join(_fmt_target(x) for x in t["targets"])
        )
    console.print(tasks)


def parse_files(paths: list[Path]) -> list[tuple[Path, ParsedDocument | RadarError]]:
    """Parse each file in the process-wide sandbox worker (started once, reused for every
    file and by later calls such as ``radar diff``'s second document)."""
    from parsers.sandbox import parse_untrusted

    results: list[tuple[Path, ParsedDocument | RadarError]] = []
    for path in paths:
        try:
            results.append((path, parse_untrusted(_read(path), str(path))))
        except RadarError as exc:
            results.append((path, exc))
    return results


class InputError(RadarError):
    """A file argument that cannot be read."""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None


def run_parse(files: list[Path], as_json: bool) -> int:
    """Parse ``files`` and print each (JSON, or the summary); 1 if any failed, else 0."""
    failed = 0
    for path, result in parse_files(files):
        if isinstance(result, RadarError):
            failed += 1
            sys.stderr.write(f"radar: {result}\n")
            continue
        if as_json:
            obj = result.to_json_dict()
            if len(files) == 1:
                sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")
            else:
                sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            print_summary(result, str(path))
    return 1 if failed else 0


def register(app: typer.Typer) -> None:
    import typer

    @app.command("parse")
    def parse_cmd(
        files: list[Path] = typer.Argument(
            ..., metavar="FILE", help="PDF, DOCX, HTML, TXT (or .doc/.wps with LibreOffice)."
        ),
        as_json: bool = typer.Option(
            False, "--json", help="Print the radar.document/1 JSON (JSON Lines for several files)."
        ),
    ) -> None:
        """Parse files into the common task/target schema."""
        code = run_parse(files, as_json)
        if code:
            raise typer.Exit(code)
