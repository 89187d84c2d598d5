"""HTML ``<table>`` into the shared table model (parsers.readers.base.Table).

A task table published on a web page is an HTML table: ``rowspan``/``colspan`` merge the
cells of a group or of a shared unit, and ``<br>``/``<p>`` inside a cell separate its
paragraphs (two unit names on two lines). The grid is resolved here as the DOCX and PDF
readers resolve theirs, so the structure stage reads the same rows whatever the format.
Pages that use a table for layout (one column, a cell holding the whole article, tables
nested in cells) are left to the ordinary block walk.
"""

from __future__ import annotations

from collections.abc import Callable

from bs4 import Tag

from parsers.readers.base import Table, TableCell, row_paragraph

#: Spans beyond these are typing errors (``colspan="9999"``), not layout.
_MAX_COLSPAN = 64
_MAX_ROWSPAN = 1000
#: A cell longer than this holds an article, not a table cell: a layout table.
_MAX_CELL_CHARS = 3000


def _span(cell: Tag, name: str, limit: int) -> int:
    raw = str(cell.get(name) or "1").strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    return min(max(int(digits), 1), limit) if digits else 1


def _own_rows(table: Tag) -> list[Tag]:
    """The ``<tr>`` of this table (in ``thead``/``tbody``/``tfoot`` too), not of a table
    nested in one of its cells."""
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _resolve(rows: list[list[tuple[str, int, int]]]) -> list[list[TableCell]]:
    """(text, colspan, rowspan) per written cell -> cells of the model, where a position
    covered by a ``rowspan`` from above is a ``merge="up"`` cell."""
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    out: list[list[TableCell]] = []
    for written in rows:
        row: list[TableCell] = []
        col = 0
        cells = iter(written)
        while True:
            if pending.get(col, 0) > 0:
                row.append(TableCell("", merge="up"))
                pending[col] -= 1
                col += 1
                continue
            nxt = next(cells, None)
            if nxt is None:
                break
            text, colspan, rowspan = nxt
            row.append(TableCell(text, colspan=colspan))
            for k in range(colspan):
                if rowspan > 1:
                    pending[col + k] = rowspan - 1
            col += colspan
        last = max((c for c, n in pending.items() if n > 0), default=-1)
        while col <= last:
            if pending.get(col, 0) > 0:
                row.append(TableCell("", merge="up"))
                pending[col] -= 1
            else:
                row.append(TableCell(""))
            col += 1
        out.append(row)
    return out


def read_table(table: Tag, cell_lines: Callable[[Tag], list[str]]) -> Table | None:
    """The table as a grid with its rows rendered as paragraphs, or None for a layout
    table (nested tables, fewer than two rows or columns, an article in a cell).

    ``cell_lines`` gives a cell's paragraphs (the reader's block walk: ``<br>``, ``<p>``
    and ``<div>`` end one); they are kept apart by ``"\\n"`` in the cell's text.
    """
    if table.find("table") is not None:
        return None
    rows: list[list[tuple[str, int, int]]] = []
    for tr in _own_rows(table):
        written = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            text = "\n".join(cell_lines(cell))
            if len(text) > _MAX_CELL_CHARS:
                return None
            colspan = _span(cell, "colspan", _MAX_COLSPAN)
            written.append((text, colspan, _span(cell, "rowspan", _MAX_ROWSPAN)))
        if written:
            rows.append(written)
    grid = Table.from_rows(_resolve(rows))
    if len(grid.grid) < 2 or len(grid.grid[0]) < 2:
        return None
    for texts, flags in zip(grid.grid, grid.inherited, strict=True):
        para = row_paragraph([t for t, f in zip(texts, flags, strict=True) if not f])
        if para:
            grid.paragraphs.append(para)
    return grid
