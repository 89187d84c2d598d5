"""Ruled tables in PDFs: cells from pdfium's ruling lines, text from pdfium's characters.

pdfium gives a table row as one text line with spaces where the cell gaps were, which
would be joined into the surrounding paragraph. The ruling lines say where the cells are:
pdfium reports them as path objects, and pdfplumber's table finder (the lines strategy:
edges snapped and joined, their intersections, the cells between them, cells grouped
into tables) turns them into cells. Only that pure geometric part of pdfplumber runs:
opening a page through pdfplumber re-parses its content stream in Python (pdfminer) and
cost ~20x the whole pdfium parse on table-heavy documents (BENCHMARKS.md, Parsing). The
characters come from pdfium's text page (one box call per character, only on pages with
a table), so a table page costs a few milliseconds. Each table's rows replace the pdfium
lines inside the table's box and become one paragraph each, cells joined by a tab (like
DOCX and HTML tables), and each table is also returned in the shared model (merged cells
resolved, paragraphs inside a cell kept apart by their geometry).
"""

from __future__ import annotations

import ctypes
import re
from bisect import bisect_left, bisect_right
from dataclasses import replace
from itertools import pairwise
from typing import Any

from parsers.readers.base import Table, TableCell, row_paragraph
from parsers.readers.pdf_layout import Line
from parsers.text import join_wrapped, normalize_space

#: Path segments (ruling lines, cell rectangles) a page needs before its tables are
#: looked for. A 2x2 ruled grid has 12 (six lines, a move and a line each); a page border
#: or the red line under a 红头 has 2-5.
MIN_RULE_SEGMENTS = 12
#: pdfplumber's default table settings (lines strategy): snap, join and intersection
#: tolerances and the shortest edge kept, in points.
_SNAP = _JOIN = _INTERSECT = 3.0
_EDGE_MIN_LENGTH = 3.0
#: How far from exactly level or upright a segment may be and still be a ruling line
#: (float noise of the transformation matrix, not a slanted line).
_AXIS_EPS = 0.01
#: Below the baseline, in ems: a CJK font's descent (pdfminer puts a character's box
#: from its font's descent to one em above it).
_DESCENT = 0.12
_SPACE = re.compile(r"\s")
#: Forms (XObjects) nested deeper than this are not searched for ruling lines.
_MAX_FORM_DEPTH = 4

Box = tuple[float, float, float, float]
Edge = dict[str, Any]
Char = dict[str, Any]


def is_ruled(page: Any) -> bool:
    """True if a pypdfium2 page draws enough line art to hold a ruled table.

    Counting path segments is a walk over the page's object list in pdfium (well under
    a millisecond a page), so pages without line art skip the table search entirely.
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


def _matrix(obj: Any) -> tuple[float, float, float, float, float, float]:
    import pypdfium2.raw as raw

    m = raw.FS_MATRIX()
    if not raw.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(
    inner: tuple[float, ...], outer: tuple[float, ...]
) -> tuple[float, float, float, float, float, float]:
    """The matrix applying ``inner`` first, then ``outer`` (PDF row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    )


def _path_points(obj: Any, m: tuple[float, ...]) -> list[list[tuple[float, float]]]:
    """The subpaths of a path object as point lists in page space (a closed subpath
    repeats its first point at the end, as the rectangle's fourth side)."""
    import pypdfium2.raw as raw

    a, b, c, d, e, f = m
    x, y = ctypes.c_float(), ctypes.c_float()
    xp, yp = ctypes.byref(x), ctypes.byref(y)
    get_segment, get_point = raw.FPDFPath_GetPathSegment, raw.FPDFPathSegment_GetPoint
    get_type, moveto = raw.FPDFPathSegment_GetType, raw.FPDF_SEGMENT_MOVETO
    segments: list[tuple[Any, bool, tuple[float, float]]] = []
    for k in range(raw.FPDFPath_CountSegments(obj)):
        seg = get_segment(obj, k)
        if seg and get_point(seg, xp, yp):
            point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
            segments.append((seg, get_type(seg) == moveto, point))
    subpaths: list[list[tuple[float, float]]] = []
    for k, (seg, starts, point) in enumerate(segments):
        if starts or not subpaths:
            subpaths.append([point])
        else:
            subpaths[-1].append(point)
        # Only a subpath's last segment can close it (h): ask pdfium about that one.
        ends = k + 1 == len(segments) or segments[k + 1][1]
        if ends and len(subpaths[-1]) > 1 and raw.FPDFPathSegment_GetClose(seg):
            subpaths[-1].append(subpaths[-1][0])
    return subpaths


def _edge(p: tuple[float, float], q: tuple[float, float], height: float) -> Edge | None:
    """A level or upright segment as a pdfplumber edge (top-down coordinates)."""
    x0, x1 = sorted((p[0], q[0]))
    top, bottom = sorted((height - p[1], height - q[1]))
    if x1 - x0 <= _AXIS_EPS:
        orientation, x1 = "v", x0
    elif bottom - top <= _AXIS_EPS:
        orientation, bottom = "h", top
    else:
        return None
    return {
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
        "object_type": "line",
    }


def page_edges(page: Any) -> list[Edge]:
    """Every level or upright segment the page's paths draw (inside forms too)."""
    import pypdfium2.raw as raw

    height = float(page.get_height())
    edges: list[Edge] = []
    identity = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack: list[tuple[Any, int, tuple[float, ...]]] = []
    count = raw.FPDFPage_CountObjects(page.raw)
    stack.extend((raw.FPDFPage_GetObject(page.raw, k), 0, identity) for k in range(count))
    while stack:
        obj, depth, outer = stack.pop()
        kind = raw.FPDFPageObj_GetType(obj)
        if kind == raw.FPDF_PAGEOBJ_PATH:
            for points in _path_points(obj, _compose(_matrix(obj), outer)):
                for p, q in pairwise(points):
                    edge = _edge(p, q, height)
                    if edge is not None:
                        edges.append(edge)
        elif kind == raw.FPDF_PAGEOBJ_FORM and depth < _MAX_FORM_DEPTH:
            m = _compose(_matrix(obj), outer)
            n = raw.FPDFFormObj_CountObjects(obj)
            stack.extend((raw.FPDFFormObj_GetObject(obj, k), depth + 1, m) for k in range(n))
    return edges


def find_cells(edges: list[Edge]) -> list[list[Box]]:
    """pdfplumber's lines strategy on our own edges: the cells of each table found.

    Edges are snapped and joined by pdfplumber's own ``merge_edges``; the intersections
    and the smallest cell at each of them are found as ``edges_to_intersections`` and
    ``intersections_to_cells`` do, with edges named by their index (pdfplumber rebuilds
    a set of edge boxes for every pair of points it compares, most of a page's time).
    """
    edges = [e for e in edges if e["width" if e["orientation"] == "h" else "height"] >= 1]
    if not _may_hold_a_cell(edges):
        return []
    from pdfplumber.table import cells_to_tables, merge_edges
    from pdfplumber.utils import filter_edges

    merged = merge_edges(edges, _SNAP, _SNAP, _JOIN, _JOIN)
    kept = filter_edges(merged, min_length=_EDGE_MIN_LENGTH)
    return [list(group) for group in cells_to_tables(_cells(_intersections(kept)))]


def _may_hold_a_cell(edges: list[Edge]) -> bool:
    """Whether the edges could bound one cell: its corners lie on two vertical edges (two
    x positions) and two horizontal ones, and merging edges never adds any. Checked
    before pdfplumber is imported, which pages with underlines or one rule never need."""
    upright = sum(1 for e in edges if e["orientation"] == "v")
    return upright >= 2 and len(edges) - upright >= 2


Point = tuple[float, float]


def _intersections(edges: list[Edge]) -> dict[Point, tuple[set[int], set[int]]]:
    """Each point where a vertical and a horizontal edge meet (within the tolerance):
    the ids of the vertical and of the horizontal edges through it."""
    tol = _INTERSECT
    vs = sorted((e for e in edges if e["orientation"] == "v"), key=lambda e: (e["x0"], e["top"]))
    hs = sorted((e for e in edges if e["orientation"] == "h"), key=lambda e: (e["top"], e["x0"]))
    points: dict[Point, tuple[set[int], set[int]]] = {}
    for i, v in enumerate(vs):
        for j, h in enumerate(hs):
            if (
                v["top"] <= h["top"] + tol
                and v["bottom"] >= h["top"] - tol
                and h["x0"] - tol <= v["x0"] <= h["x1"] + tol
            ):
                ids = points.setdefault((v["x0"], h["top"]), (set(), set()))
                ids[0].add(i)
                ids[1].add(j)
    return points


def _cells(points: dict[Point, tuple[set[int], set[int]]]) -> list[Box]:
    """The smallest cell whose top-left corner is each point, as pdfplumber finds it."""

    def connects(p: Point, q: Point) -> bool:
        return bool(
            (p[0] == q[0] and points[p][0] & points[q][0])
            or (p[1] == q[1] and points[p][1] & points[q][1])
        )

    ordered = sorted(points)
    by_x: dict[float, list[Point]] = {}
    by_y: dict[float, list[Point]] = {}
    for p in ordered:
        by_x.setdefault(p[0], []).append(p)  # by y within one x
        by_y.setdefault(p[1], []).append(p)  # by x within one y
    cells: list[Box] = []
    for pt in ordered:
        column, row = by_x[pt[0]], by_y[pt[1]]
        below = (q for q in column[column.index(pt) + 1 :] if connects(pt, q))
        rest = row[row.index(pt) + 1 :]
        reach: dict[Point, bool] = {}  # connects(pt, r), asked only as far as needed

        def reaches(r: Point, pt: Point = pt, reach: dict[Point, bool] = reach) -> bool:
            if r not in reach:
                reach[r] = connects(pt, r)
            return reach[r]

        cell = next(
            (
                (pt[0], pt[1], r[0], b[1])
                for b in below
                for r in rest
                if reaches(r)
                and (r[0], b[1]) in points
                and connects((r[0], b[1]), r)
                and connects((r[0], b[1]), b)
            ),
            None,
        )
        if cell is not None:
            cells.append(cell)
    return cells


def _char(text: str, x0: float, x1: float, top: float, bottom: float, size: float) -> Char:
    return {
        "text": text,
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "size": size,
        "cx": (x0 + x1) / 2,
    }


class _CharReader:
    """pdfium's per-character facts through its raw API, with reused out-parameters."""

    def __init__(self, textpage: Any, height: float) -> None:
        import pypdfium2.raw as raw

        self.raw, self.tp, self.height = raw, textpage, height
        self.rect = raw.FS_RECTF()
        self.rect_p = ctypes.byref(self.rect)
        self.x, self.y = ctypes.c_double(), ctypes.c_double()
        self.xy_p = (ctypes.byref(self.x), ctypes.byref(self.y))

    def box(self, i: int) -> tuple[float, float, float, float]:
        """The loose box (the glyph's advance and the font's height), PDF coordinates."""
        self.raw.FPDFText_GetLooseCharBox(self.tp, i, self.rect_p)
        r = self.rect
        return r.left, r.bottom, r.right, r.top

    def vertical(self, i: int) -> tuple[float, float, float]:
        """top, bottom (top-down coordinates) and font size, from the baseline."""
        self.raw.FPDFText_GetCharOrigin(self.tp, i, *self.xy_p)
        size = float(self.raw.FPDFText_GetFontSize(self.tp, i)) or 10.0
        bottom = self.height - self.y.value + _DESCENT * size
        return bottom - size, bottom, size

    def generated(self, i: int) -> bool:
        return bool(self.raw.FPDFText_IsGenerated(self.tp, i) == 1)

    def runs(self, text: str, first: int, last: int) -> list[tuple[int, int]]:
        """The line's stretches between the spaces pdfium generated (the gaps between
        cells, or around a Latin word), as (first, last) character indices."""
        out: list[tuple[int, int]] = []
        start = first
        for m in _SPACE.finditer(text, first, last + 1):
            i = m.start()
            if self.generated(i):
                if start < i:
                    out.append((start, i - 1))
                start = i + 1
        if start <= last:
            out.append((start, last))
        return out


class Chars:
    """A page's characters sorted by their vertical middle, so that a cell finds its own
    with two bisections instead of a pass over the page."""

    def __init__(self, chars: list[Char]) -> None:
        self.chars = sorted(chars, key=lambda c: (c["top"] + c["bottom"]) / 2)
        self.mids = [(c["top"] + c["bottom"]) / 2 for c in self.chars]

    def between(self, top: float, bottom: float) -> list[Char]:
        return self.chars[bisect_left(self.mids, top) : bisect_right(self.mids, bottom)]


def page_chars(
    textpage: Any,
    height: float,
    text: str,
    lines: list[Line],
    tables: list[tuple[Box, list[float]]],
) -> Chars:
    """The text pdfium drew inside the given tables (top-down coordinates), as
    pdfplumber-like char dicts: text, x0/x1 (advance), top/bottom, font size.

    The page's lines as the reader measured them (pdfium's own line breaks, the loose
    boxes of their first and last characters) are split where pdfium generated a space
    (the gap between two cells, or around a Latin word); a run that crosses no ruling
    of its table lies in one cell and becomes one piece, only a run over a ruling is
    read character by character. The vertical box spans from the baseline and the font
    size, as pdfminer computes it: a punctuation mark from a fallback font has other
    ascent/descent values, and its loose box would sit off the line.
    """
    import pypdfium2.raw as raw

    tp = textpage.raw
    n = raw.FPDFText_CountChars(tp)
    if len(text) != n:  # a character outside the BMP: pdfium's text is UTF-16 units
        text = "".join(chr(raw.FPDFText_GetUnicode(tp, i) or 0x20) for i in range(n))
    reader = _CharReader(tp, height)
    chars: list[Char] = []
    for line in lines:
        first, last = line.span
        if last < first or line.table:
            continue
        mid = height - (line.bottom + line.top) / 2
        table = next(
            (
                t
                for t in tables
                if t[0][1] <= mid <= t[0][3] and line.x0 < t[0][2] and line.x1 > t[0][0]
            ),
            None,
        )
        if table is None:
            continue
        runs = reader.runs(text, first, last)
        known = (line.x0, line.x1) if runs == [(first, last)] else None
        for a, b in runs:
            chars.extend(_run_chars(reader, text, (a, b), known, table, tables))
    return Chars(chars)


def _run_chars(
    reader: _CharReader,
    text: str,
    run: tuple[int, int],
    known: tuple[float, float] | None,
    table: tuple[Box, list[float]],
    tables: list[tuple[Box, list[float]]],
) -> list[Char]:
    """One run of a line (no generated space inside) as one piece when it lies inside one
    cell of its table, else character by character (a run over a ruling). ``known``:
    the run's x0 and x1 when the reader measured them already (the whole line)."""
    a, b = run
    x0, x1 = known or (reader.box(a)[0], reader.box(b)[2])
    (bx0, _, bx1, _), rules = table
    top, bottom, size = reader.vertical(a)  # a pdfium line may join rows of two heights
    if x0 >= bx0 and x1 <= bx1 and not any(x0 + 1 < r < x1 - 1 for r in rules):
        return [_char(text[a : b + 1], x0, x1, top, bottom, size)]
    out: list[Char] = []
    for i in range(a, b + 1):
        c0, _, c1, _ = reader.box(i)
        t, bt, sz = reader.vertical(i)
        cx, cy = (c0 + c1) / 2, (t + bt) / 2
        if any(q[0] <= cx <= q[2] and q[1] <= cy <= q[3] for q, _ in tables):
            out.append(_char(text[i], c0, c1, t, bt, sz))
    return out


def _cell_text(chars: Chars, box: Box) -> tuple[str, tuple[int, ...]]:
    """The text of one cell from its characters: wrapped lines joined, paragraph ends kept.

    A line that stops short of the cell's right edge ends a paragraph of the cell
    (``综合规划`` / ``处`` is one name wrapped, ``设施运行处`` / ``设施养护处`` two); the
    text layer alone cannot tell them apart, the geometry can. Also returned: the offsets
    in the text where two lines were joined as wrapped (``Table.wraps``).
    """
    x0, top, x1, bottom = box
    inside = [c for c in chars.between(top, bottom) if x0 <= c["cx"] <= x1]
    if not inside:
        return "", ()
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
    wraps: list[int] = []
    for line in lines:
        line.sort(key=lambda c: c["x0"])
        text = normalize_space("".join(c["text"] for c in line))
        if out and not out.endswith("\n"):
            out = join_wrapped(out, text)
            wraps.append(len(out) - len(text))
        else:
            out += text
        if right - max(c["x1"] for c in line) > 1.2 * size:
            out += "\n"
    lead = len(out) - len(out.lstrip())
    stripped = out.strip()
    return stripped, tuple(k - lead for k in wraps if 0 < k - lead < len(stripped))


def _grid(table: Any, chars: Chars) -> Table:
    """pdfplumber's table as the shared model: a position no cell starts at continues the
    cell that covers it, from above or from the left."""
    cells = [tuple(float(v) for v in c) for c in table.cells]
    columns = table.columns  # a property that regroups every cell on each access
    rows: list[list[TableCell]] = []
    wraps: dict[str, tuple[int, ...]] = {}
    for row in table.rows:
        out: list[TableCell] = []
        for c, box in enumerate(row.cells):
            if box is not None:
                x0, top, x1, bottom = (float(v) for v in box)
                text, at = _cell_text(chars, (x0, top, x1, bottom))
                if at:
                    wraps[text] = at
                out.append(TableCell(text))
                continue
            col = columns[c].bbox if c < len(columns) else None
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
    grid = Table.from_rows(rows)
    grid.wraps = wraps
    return grid


def _bbox(table: Any) -> Box:
    x0, top, x1, bottom = (float(v) for v in table.bbox)
    return (x0, top, x1, bottom)


def _rules(table: Any) -> list[float]:
    """The x of every vertical ruling inside the table (its cells' sides)."""
    x0, _, x1, _ = _bbox(table)
    return sorted({float(v) for c in table.cells for v in (c[0], c[2])} - {x0, x1})


def page_tables(page: Any, textpage: Any, text: str, lines: list[Line]) -> list[tuple[Box, Table]]:
    """The ruled tables of one page: (x0, bottom, x1, top) in PDF coordinates and the
    table, its rows rendered as paragraphs (``Table.paragraphs``). ``text`` and
    ``lines``: the page's text and the lines the reader measured in it.

    pdfplumber is imported only once a page has cells: its package import (pdfminer,
    cryptography, charset_normalizer: ~0.09 s CPU) was a fifth of a one-file
    ``radar parse`` of a PDF with no ruled table at all."""
    if not is_ruled(page):
        return []
    groups = find_cells(page_edges(page))
    if not groups:
        return []
    from pdfplumber.table import Table as Found

    height = float(page.get_height())
    # pdfplumber's Table groups the cells into rows and columns; its page is only read
    # by ``extract``, which is not used (the text comes from pdfium).
    no_page: Any = None
    found = [Found(no_page, cells) for cells in groups]
    chars = page_chars(textpage, height, text, lines, [(_bbox(t), _rules(t)) for t in found])
    out: list[tuple[Box, Table]] = []
    for table in found:
        grid = _grid(table, chars)
        for texts, flags in zip(grid.grid, grid.inherited, strict=True):
            own = [t for t, f in zip(texts, flags, strict=True) if not f]
            para = row_paragraph([join_lines(t) for t in own])
            if para:
                grid.paragraphs.append(para)
        if len(grid.paragraphs) < 2:
            continue
        x0, top, x1, bottom = (float(v) for v in table.bbox)
        out.append(((x0, height - bottom, x1, height - top), grid))
    return out


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
        prev.wraps.update(t.wraps)
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
