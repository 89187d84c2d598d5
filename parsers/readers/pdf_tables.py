"""Ruled tables in PDFs: found cheaply, read with pdfplumber only on the pages that have them.

pdfium gives a table row as one text line with spaces where the cell gaps were, which
would be joined into the surrounding paragraph. pdfplumber knows the ruling lines and
returns cells, but costs ~30x pdfium per page, so it only runs on pages that draw
ruling lines (:func:`ruled_pages`). Its rows replace the pdfium lines inside the
table's box and become one paragraph each, cells joined by a tab (like DOCX and HTML
tables), and each table is also returned in the shared model (merged cells resolved,
paragraphs inside a cell kept apart by their geometry).
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from parsers.readers.base import Table, TableCell, row_paragraph
from parsers.readers.pdf_layout import Line
from parsers.text import join_wrapped, normalize_space

#: Path segments (ruling lines, cell rectangles) a page needs before pdfplumber is asked
#: about it. A 2x2 ruled grid has 12 (six lines, a move and a line each); a page border
#: or the red line under a 红头 has 2-5.
MIN_RULE_SEGMENTS = 12


def is_ruled(page: Any) -> bool:
    """True if a pypdfium2 page draws enough line art to hold a ruled table.

    Counting path segments is a walk over the page's object list in pdfium (well under
    a millisecond a page); pdfplumber, which finds the cells, costs ~30x the pdfium text
    path, so it only runs on these pages and the fast path stays for every other page.
    """
    import pypdfium2.raw as raw

    segments = 0
    for k in range(raw.FPDFPage_CountObjects(page.raw)):
        obj = raw.FPDFPage_GetObject(page.raw, k)
        if raw.FPDFPageObj_GetType(obj) == raw.FPDF_PAGEOBJ_PATH:
            segments += max(raw.FPDFPath_CountSegments(obj), 0)
            if segments >= MIN_RULE_SEGMENTS:
                return True
    return False


def _cell_text(chars: list[dict[str, Any]], box: tuple[float, float, float, float]) -> str:
    """The text of one cell from its characters: wrapped lines joined, paragraph ends kept.

    A line that stops short of the cell's right edge ends a paragraph of the cell
    (``综合规划`` / ``处`` is one name wrapped, ``设施运行处`` / ``设施养护处`` two); the
    text layer alone cannot tell them apart, the geometry can.
    """
    x0, top, x1, bottom = box
    inside = [
        c
        for c in chars
        if x0 <= (c["x0"] + c["x1"]) / 2 <= x1 and top <= (c["top"] + c["bottom"]) / 2 <= bottom
    ]
    if not inside:
        return ""
    inside.sort(key=lambda c: (round(c["top"]), c["x0"]))
    lines: list[list[dict[str, Any]]] = []
    for c in inside:
        if lines and abs(c["top"] - lines[-1][0]["top"]) <= c["size"] * 0.5:
            lines[-1].append(c)
        else:
            lines.append([c])
    size = sorted(c["size"] for c in inside)[len(inside) // 2]
    # Word and LibreOffice pad a cell the same on both sides: the text area ends as far
    # from the right border as the leftmost line starts from the left one.
    pad = min(min(c["x0"] for c in line) for line in lines) - x0
    right = x1 - max(pad, 0.0)
    out = ""
    for line in lines:
        line.sort(key=lambda c: c["x0"])
        text = normalize_space("".join(c["text"] for c in line))
        out = join_wrapped(out, text) if out and not out.endswith("\n") else out + text
        if right - max(c["x1"] for c in line) > 1.2 * size:
            out += "\n"
    return out.strip()


def _grid(table: Any, chars: list[dict[str, Any]]) -> Table:
    """pdfplumber's table as the shared model: a position no cell starts at continues the
    cell that covers it, from above or from the left."""
    cells = [tuple(float(v) for v in c) for c in table.cells]
    rows: list[list[TableCell]] = []
    for row in table.rows:
        out: list[TableCell] = []
        for c, box in enumerate(row.cells):
            if box is not None:
                x0, top, x1, bottom = (float(v) for v in box)
                out.append(TableCell(_cell_text(chars, (x0, top, x1, bottom))))
                continue
            col = table.columns[c].bbox if c < len(table.columns) else None
            cy = (row.bbox[1] + row.bbox[3]) / 2
            cx = (col[0] + col[2]) / 2 if col else 0.0
            cover = next((b for b in cells if b[0] <= cx <= b[2] and b[1] <= cy <= b[3]), None)
            if cover is not None and cover[1] < row.bbox[1] - 1:
                out.append(TableCell("", merge="up"))
            elif cover is not None:
                out.append(TableCell("", merge="left"))
            else:
                out.append(TableCell(""))
        rows.append(out)
    return Table.from_rows(rows)


PageTables = dict[int, list[tuple[tuple[float, float, float, float], Table]]]


def read_tables(data: bytes, page_numbers: list[int]) -> PageTables:
    """Per page index: (x0, bottom, x1, top) in PDF coordinates and the table, its rows
    rendered as paragraphs (``Table.paragraphs``)."""
    import pdfplumber

    found: PageTables = {}
    try:
        pdf = pdfplumber.open(io.BytesIO(data), pages=[n + 1 for n in page_numbers])
    except Exception:  # pdfminer cannot read what pdfium could: keep the plain lines
        return found
    with pdf:
        for page in pdf.pages:
            index = page.page_number - 1
            height = float(page.height)
            try:
                tables = page.find_tables()
                chars = page.chars
            except Exception:
                continue
            for table in tables:
                grid = _grid(table, chars)
                for texts, flags in zip(grid.grid, grid.inherited, strict=True):
                    own = [t for t, f in zip(texts, flags, strict=True) if not f]
                    para = row_paragraph([join_lines(t) for t in own])
                    if para:
                        grid.paragraphs.append(para)
                if len(grid.paragraphs) < 2:
                    continue
                x0, top, x1, bottom = table.bbox
                box = (float(x0), height - float(bottom), float(x1), height - float(top))
                found.setdefault(index, []).append((box, grid))
    return found


def join_lines(text: str) -> str:
    return " ".join(text.split("\n"))


def continued(tables: list[Table]) -> list[Table]:
    """Join a table that goes on over a page break (same number of columns): the header
    row printed again on the new page is dropped, and the rows that open each new page
    are listed in ``Table.page_starts`` (a row split by the break, or a cell merged
    across it, is the structure stage's to resolve: it knows the columns)."""
    out: list[Table] = []
    for t in tables:
        prev = out[-1] if out else None
        if prev is None or not t.grid or len(t.grid[0]) != len(prev.grid[0]):
            out.append(t)
            continue
        grid, inherited = t.grid, t.inherited
        if grid[0] == prev.grid[0]:
            grid, inherited = grid[1:], inherited[1:]
        prev.page_starts.append(len(prev.grid))
        prev.grid.extend(grid)
        prev.inherited.extend(inherited)
        prev.paragraphs.extend(t.paragraphs)
    return out


def splice(
    lines: list[Line], tables: list[tuple[tuple[float, float, float, float], list[str]]]
) -> list[Line]:
    """Replace the lines inside each table box by the table's rows (in reading order)."""
    out: list[Line] = []
    pending = sorted(tables, key=lambda t: -t[0][3])  # top of page first
    for line in lines:
        mid = (line.bottom + line.top) / 2
        inside = None
        for table in pending:
            (x0, bottom, x1, top), _ = table
            if bottom <= mid <= top and line.x0 < x1 and line.x1 > x0:
                inside = table
                break
        if inside is None:
            out.append(line)
            continue
        if not inside[1]:
            continue  # rows already emitted
        (x0, bottom, x1, top), rows = inside
        step = (top - bottom) / max(len(rows), 1)
        for k, row in enumerate(rows):
            y = top - (k + 1) * step
            out.append(replace(line, text=row, x0=x0, x1=x1, bottom=y, top=y + step, table=True))
        inside[1].clear()
    return out
