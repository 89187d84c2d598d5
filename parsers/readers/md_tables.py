"""Markdown pipe tables (GFM) in text input, read into the shared table model.

Corpora of policy texts are distributed as Markdown, and a task table written there is a
pipe table. A table is a run of lines starting with ``|`` whose second line is the
delimiter row (``|---|:--:|``). Inside a cell ``<br>`` is a line break (the cell's
paragraphs); the merge markers of the rendered corpus (``^^`` = continues the cell above,
``<<`` = continues the cell to the left) are resolved into the grid.
"""

from __future__ import annotations

import re

from parsers.readers.base import Table, TableCell, row_paragraph

_DELIMITER = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
MERGE_MARKERS = {"^^": "up", "<<": "left"}


def split_row(line: str) -> list[str]:
    """The cells of one ``| a | b |`` line (``\\|`` is a literal bar)."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [c.replace("\\|", "|").strip() for c in cells]


def _cell(raw: str) -> TableCell:
    merge = MERGE_MARKERS.get(raw)
    if merge:
        return TableCell("", merge=merge)
    lines = [x.strip() for x in _BR.split(raw)]
    return TableCell("\n".join(x for x in lines if x))


def read_pipe_tables(lines: list[str]) -> tuple[list[str], list[Table]]:
    """Replace each pipe table in ``lines`` by one paragraph per row; return the lines and
    the tables (each with the paragraphs it contributed)."""
    out: list[str] = []
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if (
            line.lstrip().startswith("|")
            and i + 1 < len(lines)
            and _DELIMITER.match(lines[i + 1].strip())
        ):
            rows = [split_row(line)]
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                rows.append(split_row(lines[j]))
                j += 1
            table = Table.from_rows([[_cell(c) for c in row] for row in rows])
            for texts, flags in zip(table.grid, table.inherited, strict=True):
                para = row_paragraph([t for t, f in zip(texts, flags, strict=True) if not f])
                if para:
                    table.paragraphs.append(para)
                    out.append(para)
            tables.append(table)
            i = j
            continue
        out.append(line)
        i += 1
    return out, tables
