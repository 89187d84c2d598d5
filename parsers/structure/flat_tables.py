"""Tables flattened one cell per paragraph, rebuilt into the table model.

Web pages and Markdown conversions of Word files often keep a task table as a run of
paragraphs, one per cell (sh_bs 附件1, sh_jtw_2024-12-31 and sh_jtw_2024-12-25 in the
Shanghai Markdown corpus, zj_wz_longwan and hb_yunyang pages): the header cells (some
split over two paragraphs: ``牵头`` / ``部门``), then the rows. Merged cells print once,
so a row may print fewer cells than the header has columns; a cell with a line break
prints two paragraphs.

The rebuild: the header run gives the columns (vocabulary of
:mod:`parsers.structure.tables`); rows are found by their key, a 序号 counting 1, 2, 3…
or the task cell's own numbering ``（1）``, ``（2）``…; within a row, cells are placed
by what they look like: unit lists go to the unit columns (in order), a date to the
deadline column, short figures to the detail columns, text to the text columns (right
aligned, so a missing leading cell is the merged one from the row above). Cells left
of the key (category cells) are the text that follows the previous row's last unit
cell. A ``一、…`` paragraph between rows is a group row.
"""

from __future__ import annotations

import re

from parsers.readers.base import Table, TableCell
from parsers.structure.tables import column_kind, header_vocab, squeeze
from parsers.structure.units import is_agency
from parsers.structure.vocab import vocab

_BARE_MARKER = re.compile(r"^[（(]?[一二三四五六七八九十\d]{1,3}[）)、.．]?$")
_KEY_NUM = re.compile(r"^\d{1,3}$")
_TASK_KEY = re.compile(r"^[（(](\d{1,3})[）)]")
# A group row: 一、… or a named series 行动二：… / 专项三：… (sh_ja 重点任务清单).
_GROUP = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}、|[\u4e00-\u9fff]{1,4}[一二三四五六七八九十]{1,3}[：:])"
)
_DATE = re.compile(r"^(?:19|20)\d{2}年(?:\d{1,2}月)?(?:底|前|中旬|上旬|下旬|起)?$")
_FIGURE = re.compile(r"^[\d.,%/～~—\-万亿千百个元吨人项家条公里平方米辆座台处]+$")
_SENTENCE = re.compile(r"[。；;：:]")
_EXTRA_SUFFIXES = ("处", "处室", "单位", "机关", "机构", "协会", "企业", "街镇", "各区")


def _looks_like_units(text: str) -> bool:
    """A unit cell: every name in it has an agency ending or starts with 各 (or '—')."""
    t = text.strip()
    if t in header_vocab().empty:
        return True
    if not t or _SENTENCE.search(t) or len(t) > 80:
        return False
    parts = [p for p in re.split(r"[、，,；;]", t) if p.strip()]
    if not parts:
        return False
    suffixes = (*vocab().agency_suffixes, *_EXTRA_SUFFIXES)
    for part in parts:
        name = part.strip(" *＊")
        bare = re.sub(r"[（(][^）)]*[）)]?", "", name).strip()
        if not bare or len(bare) > 25:
            return False
        # The agency-name grammar of the unit annotations (units.toml [names]), so a cell
        # of 街道 / 集团 / 专班 names (sh_ja 重点任务清单) reads like the same names inline;
        # for short names only: a task cell can end with such a word (建设…监测平台,
        # sh_jtw_2024-12-25 row 11).
        grammar = len(bare) <= 10 and is_agency(name)
        if not (bare.startswith("各") or bare.endswith(suffixes) or grammar):
            return False
    return True


def _cell_type(text: str) -> str:
    if _looks_like_units(text):
        return "U"
    if _DATE.match(text):
        return "D"
    if len(text) <= 16 and _FIGURE.match(squeeze(text)):
        return "N"
    return "T"


def _header(paras: list[str], start: int) -> tuple[list[str], int] | None:
    """The header cells starting at ``start`` (split cells joined) and where rows begin."""
    cells: list[str] = []
    i = start
    while i < len(paras):
        p = squeeze(paras[i])
        if not p or len(p) > 16 or _BARE_MARKER.match(p) or _SENTENCE.search(p) or "，" in p:
            break
        nxt = squeeze(paras[i + 1]) if i + 1 < len(paras) else ""
        short = 0 < len(nxt) <= 4 and not _BARE_MARKER.match(nxt)
        joined = column_kind(p + nxt) if short and len(p + nxt) <= 16 else None
        exact = any(p + nxt == w for w, _, _ in header_vocab().words)
        if joined and (exact or column_kind(p) is None or column_kind(nxt) is None):
            cells.append(p + nxt)
            i += 2
            continue
        cells.append(p)
        i += 1
    kinds = [column_kind(c) for c in cells]
    if sum(1 for k in kinds if k) < 3 or sum(1 for k in kinds if k) * 2 < len(cells):
        return None
    if not any(k and k[0] == "units" for k in kinds) or not any(
        k and k[0] == "task" for k in kinds
    ):
        return None
    return cells, i


def _first_seq(paras: list[str], start: int, limit: int) -> int:
    """The number the 序号 column starts at: 1, or n when an excerpt or a continued table
    starts mid-way (heldout ah_nanling: rows 80, 81) — a bare n followed by n + 1."""
    for i in range(start, min(len(paras), start + limit)):
        p = paras[i].strip()
        if _KEY_NUM.match(p):
            n = int(p)
            if n == 1 or any(q.strip() == str(n + 1) for q in paras[i + 1 : i + 1 + limit]):
                return n
    return 1


def _keys(paras: list[str], start: int, by_seq: bool, limit: int) -> list[int]:
    """Paragraph indices of the row keys: 1, 2, 3… (序号) or （1）, （2）… (task cells)."""
    keys: list[int] = []
    expected = _first_seq(paras, start, limit) if by_seq else 1
    i = start
    while i < len(paras):
        p = paras[i].strip()
        if by_seq:
            hit = bool(_KEY_NUM.match(p)) and int(p) == expected
        else:
            m = _TASK_KEY.match(p)
            hit = m is not None and int(m.group(1)) == expected
        if hit:
            keys.append(i)
            expected += 1
        elif keys and i - keys[-1] > limit:
            break
        i += 1
    return keys


def _place(cells: list[str], kinds: list[str]) -> list[str | None]:
    """Cells of one row (after its key) into columns; None = not printed (merged above)."""
    out: list[str | None] = [None] * len(kinds)
    units = [i for i, k in enumerate(kinds) if k == "units"]
    typed = [(c, _cell_type(c)) for c in cells]
    # Unit paragraphs: a name list broken after 、 is one cell.
    merged: list[tuple[str, str]] = []
    for c, t in typed:
        if merged and merged[-1][1] == "U" and t == "U" and merged[-1][0].endswith("、"):
            merged[-1] = (merged[-1][0] + c, "U")
        else:
            merged.append((c, t))
    u_cells = [c for c, t in merged if t == "U"]
    first_u = next((k for k, (_, t) in enumerate(merged) if t == "U"), len(merged))
    before = [(c, t) for c, t in merged[:first_u]]
    after = [(c, t) for c, t in merged[first_u:] if t != "U"]
    if u_cells and units:
        if len(u_cells) <= len(units):
            for col, c in zip(units, u_cells, strict=False):
                out[col] = c
            for col in units[len(u_cells) :]:
                out[col] = ""
        else:  # more unit paragraphs than columns: extras join the second column
            extra = len(u_cells) - len(units) + 1
            out[units[0]] = u_cells[0]
            spill = units[1] if len(units) > 1 else units[0]
            out[spill] = "\n".join(u_cells[1 : 1 + extra])
            for col, c in zip(units[2:], u_cells[1 + extra :], strict=False):
                out[col] = c
    first_unit = units[0] if units else len(kinds)
    text_cols = [i for i in range(first_unit) if kinds[i] in ("category", "task")]
    detail_cols = [i for i, k in enumerate(kinds) if k == "detail"]
    texts = [c for c, t in before if t == "T"]
    figures = [c for c, t in before if t in ("N", "D")]
    if len(texts) > len(text_cols) and text_cols:
        keep = len(text_cols) - 1
        texts = [*texts[:keep], "\n".join(texts[keep:])]
    for col, c in zip(text_cols[len(text_cols) - len(texts) :], texts, strict=False):
        out[col] = c
    rest = figures + [c for c, t in after if t in ("T", "N")]
    for col, c in zip(detail_cols, rest, strict=False):
        out[col] = c
    if len(rest) > len(detail_cols) and detail_cols:
        out[detail_cols[-1]] = "\n".join(rest[len(detail_cols) - 1 :])
    deadline = next((i for i, k in enumerate(kinds) if k == "deadline"), None)
    for c, t in after:
        if t == "D" and deadline is not None:
            out[deadline] = c
    return out


def _build(header: list[str], rows: list[tuple[str | None, list[str | None]]]) -> Table:
    """Grid from placed rows; a None cell copies the cell above (a merged cell)."""
    grid = [list(header)]
    inherited = [[False] * len(header)]
    for group, row in rows:
        if group is not None:
            grid.append([group] * len(header))
            inherited.append([False] + [True] * (len(header) - 1))
        prev = grid[-1] if len(grid) > 1 and not (group is not None) else None
        prev = grid[-2] if group is not None and len(grid) > 2 else prev
        texts, flags = [], []
        for c, cell in enumerate(row):
            if cell is None:
                above = prev[c] if prev is not None and prev is not grid[0] else ""
                texts.append(above)
                flags.append(True)
            else:
                texts.append(cell)
                flags.append(False)
        grid.append(texts)
        inherited.append(flags)
    return Table(grid=grid, inherited=inherited)


def _rebuild(paras: list[str], h_start: int) -> tuple[Table, int] | None:
    """The table whose header starts at ``h_start`` and the index after its last cell."""
    found = _header(paras, h_start)
    if found is None:
        return None
    header, body = found
    kinds = [(column_kind(c) or ("detail", None))[0] for c in header]
    seq = kinds.index("seq") if "seq" in kinds else None
    task = max(
        (i for i, k in enumerate(kinds) if k == "task"),
        default=0,
        key=lambda i: (i < kinds.index("units"), i),
    )
    key_col = seq if seq is not None else task
    keys = _keys(paras, body, seq is not None, limit=3 * len(header) + 8)
    if len(keys) < 2:
        return None
    n_after = len(kinds) - key_col - 1
    ends = [*keys[1:], min(len(paras), keys[-1] + 1 + n_after + 2)]
    rows: list[tuple[str | None, list[str | None]]] = []
    pending_pre: list[str] = [p for p in paras[body : keys[0]]]
    for k, key in enumerate(keys):
        segment = paras[key + 1 : ends[k]]
        # A group row (一、… / 行动二：…) ends the row: what follows is the next row's.
        grp_at = next((i for i, c in enumerate(segment) if i and _GROUP.match(c)), None)
        if k + 1 < len(keys) and grp_at is not None and key_col > 0:
            pending_tail, segment = segment[grp_at:], segment[:grp_at]
        else:
            pending_tail = []
        # Cells after this row's last unit cell belong to the next row (its category
        # cells, left of the key) or are a group row (一、…).
        last_u = max((i for i, c in enumerate(segment) if _cell_type(c) == "U"), default=-1)
        tail: list[str] = []
        if k + 1 < len(keys) and last_u < 0 and key_col > 0:
            # No unit cell: the row continues a merged unit cell (sh_ja rows 5-8 under row
            # 4's 推进单位). Text past its own text cells is the next row's category cell.
            n_text = sum(1 for x in kinds[key_col + 1 : kinds.index("units")] if x == "task")
            texts = [i for i, c in enumerate(segment) if _cell_type(c) == "T"]
            if len(texts) > n_text:
                cut = texts[n_text]
                tail, segment = segment[cut:], segment[:cut]
        elif k + 1 < len(keys) and last_u >= 0:
            tail_start = last_u + 1
            after_units = kinds[kinds.index("units") :]
            if key_col > 0 and all(x in ("units", "deadline", "person") for x in after_units):
                tail = segment[tail_start:]
                segment = segment[:tail_start]
            elif key_col == 0:
                grp = next((i for i, c in enumerate(segment) if _GROUP.match(c)), None)
                if grp is not None and grp > last_u:
                    tail = segment[grp:]
                    segment = segment[:grp]
        tail = tail + pending_tail
        group = None
        pre = pending_pre
        if pre and key_col == 0 and _GROUP.match(pre[0]):
            group, pre = " ".join(pre), []
        if key_col == seq:
            row = [paras[key], *_place(segment, kinds[key_col + 1 :])]
        else:
            row = _place([paras[key], *segment], kinds[key_col:])
        left: list[str | None] = [None] * key_col
        if pre and key_col > 0:
            cats = pre[-key_col:] if len(pre) >= key_col else pre
            if len(pre) > key_col:
                cats[0] = "".join(pre[: len(pre) - key_col + 1])
            left[key_col - len(cats) :] = cats
        rows.append((group, left + row))
        pending_pre = tail
    return _build(header, rows), ends[-1]


# Stored copies of web pages mark table cells with bars: every cell followed by ' |'
# (heldout ah_nanling task table; dev replies sd_reply_tz50 and pages ah_other_gc67 info
# tables), or a line holding only '|' between cells (heldout sc_suining task table).
_BAR_END = re.compile(r"\s*\|+\s*$")


def _bare_cells(paragraphs: list[str]) -> list[tuple[int, str]]:
    """(index, text) of the paragraphs as table cells: bar marks removed, bar-only lines
    dropped. Elsewhere the paragraphs stay as written."""
    out: list[tuple[int, str]] = []
    for i, p in enumerate(paragraphs):
        text = _BAR_END.sub("", p)
        if text.strip():
            out.append((i, text))
    return out


_BAR_SPLIT = re.compile(r"\s+\|\s+")
_ROW_NUMBER = re.compile(r"^\d{1,3}[、.．]")


def _bar_row(line: str) -> list[str]:
    """The cells of a stored page's table row ``a | b | c |`` (no leading bar)."""
    return [c.strip() for c in _BAR_SPLIT.split(_BAR_END.sub("", line))]


def _unit_lines(cell: str) -> str:
    """A cell whose line breaks the page store turned into spaces: names apart again
    (cn_yllc ``市规划局 市建设局``), when every piece is an agency name."""
    pieces = cell.split()
    if len(pieces) > 1 and all(is_agency(p) for p in pieces):
        return "\n".join(pieces)
    return cell


def _bar_table(paragraphs: list[str], start: int) -> tuple[Table, int] | None:
    """A task table stored ROW PER LINE with ' | ' between cells (heldout cn_yllc): the
    header line names a task and a unit column; a row shorter than the header that the
    next line completes is a cell broken over two lines; a short row whose numbered cell
    (1、…) sits right of the first column continues the merged cells above it."""
    header = _bar_row(paragraphs[start])
    kinds = [column_kind(c) for c in header]
    if len(header) < 3 or not any(k and k[0] == "units" for k in kinds):
        return None
    if not any(k and k[0] == "task" for k in kinds):
        return None
    n = len(header)
    rows: list[list[str]] = []
    i = start + 1
    while i < len(paragraphs) and "|" in paragraphs[i]:
        cells = [c for c in _bar_row(paragraphs[i]) if c]
        if rows and len(rows[-1]) < n and cells and len(rows[-1]) + len(cells) - 1 <= n:
            rows[-1][-1] += "\n" + cells[0]
            rows[-1].extend(cells[1:])
        elif cells:
            rows.append(cells)
        i += 1
    if len(rows) < 2:
        return None
    num_col = next((c for c, x in enumerate(rows[0]) if _ROW_NUMBER.match(x)), 0)
    grid: list[list[TableCell]] = [[TableCell(h) for h in header]]
    for r, row in enumerate(rows):
        pad = 0
        if len(row) < n:
            at = next((c for c, x in enumerate(row) if _ROW_NUMBER.match(x)), None)
            if at is not None:
                pad = max(num_col - at, 0)
            elif r < len(rows) - 1:  # the last row of an excerpt may be cut, not merged
                pad = n - len(row)
        typed = [TableCell("", merge="up")] * pad + [TableCell(_unit_lines(c)) for c in row]
        grid.append(typed[:n])
    table = Table.from_rows(grid)
    return table, i


def recover(paragraphs: list[str]) -> tuple[list[str], list[Table]]:
    """Find flattened task tables; return the paragraphs without them, and the tables."""
    tables: list[Table] = []
    cells = _bare_cells(paragraphs)
    texts = [t for _, t in cells]
    used: set[int] = set()
    k = 0
    while k < len(paragraphs):
        found = _bar_table(paragraphs, k) if len(_BAR_SPLIT.findall(paragraphs[k])) >= 2 else None
        if found is None:
            k += 1
            continue
        table, end = found
        table.paragraphs = paragraphs[k:end]
        tables.append(table)
        used.update(range(k, end))
        k = end
    cells = [(j, t) for j, t in cells if j not in used]
    texts = [t for _, t in cells]
    i = 0
    while i < len(texts):
        kind = column_kind(texts[i]) if len(squeeze(texts[i])) <= 8 else None
        if kind is not None:
            rebuilt = _rebuild(texts, i)
            if rebuilt is not None:
                table, end = rebuilt
                first, last = cells[i][0], cells[end - 1][0]
                table.paragraphs = paragraphs[first : last + 1]
                tables.append(table)
                used.update(range(first, last + 1))
                i = end
                continue
        i += 1
    return [p for k, p in enumerate(paragraphs) if k not in used], tables
