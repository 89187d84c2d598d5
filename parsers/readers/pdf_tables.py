"""Ruled tables in PDFs: found cheaply, read with pdfplumber only on the pages that have them.

pdfium gives a table row as one text line with spaces where the cell gaps were, which
would be joined into the surrounding paragraph. pdfplumber knows the ruling lines and
returns cells, but costs ~30x pdfium per page, so it only runs on pages where the
text already looks tabular: several lines much wider than their characters (cells
spread across the page). Its rows replace the pdfium lines inside the table's box and
become one paragraph each, cells joined by a tab (like DOCX and HTML tables).
"""

from __future__ import annotations

import io
from dataclasses import replace

from parsers.readers.pdf_layout import Line, geometry
from parsers.text import join_wrapped, normalize_space

#: Lines wider than their characters by this many ems are "spread out" (cell gaps).
SPREAD_EMS = 4.0
#: A page needs this many spread lines before pdfplumber is asked about it.
MIN_SPREAD_LINES = 2


def _advance_ems(text: str) -> float:
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.5 for ch in text)


def is_spread(line: Line, em: float, right: float) -> bool:
    """True if the line is much wider than its text and not a justified prose line.

    Justified prose also stretches its spaces, but it ends at the right margin; a table
    row ends wherever its last cell's text ends.
    """
    if " " not in line.text or right - line.x1 < em:
        return False
    return (line.x1 - line.x0) - _advance_ems(line.text) * em > SPREAD_EMS * em


def candidate_pages(pages: list[list[Line]]) -> list[int]:
    """Pages with at least MIN_SPREAD_LINES spread-out lines."""
    geo = geometry(pages)
    return [
        i
        for i, lines in enumerate(pages)
        if sum(is_spread(ln, geo.em, geo.right) for ln in lines) >= MIN_SPREAD_LINES
    ]


def _cell(text: str | None) -> str:
    if not text:
        return ""
    out = ""
    for part in text.splitlines():
        out = join_wrapped(out, normalize_space(part))
    return out


def read_tables(
    data: bytes, page_numbers: list[int]
) -> dict[int, list[tuple[tuple[float, float, float, float], list[str]]]]:
    """Per page index: (x0, bottom, x1, top) in PDF coordinates and the rows as text."""
    import pdfplumber

    found: dict[int, list[tuple[tuple[float, float, float, float], list[str]]]] = {}
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
            except Exception:
                continue
            for table in tables:
                rows = []
                for row in table.extract():
                    cells = [_cell(c) for c in row]
                    text = "\t".join(c for c in cells if c)
                    if text:
                        rows.append(text)
                if len(rows) < 2:
                    continue
                x0, top, x1, bottom = table.bbox
                box = (float(x0), height - float(bottom), float(x1), height - float(top))
                found.setdefault(index, []).append((box, rows))
    return found


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
