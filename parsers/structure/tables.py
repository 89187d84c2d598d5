"""Task tables (重点任务分工表 / 责任清单 / 任务分解表) -> tasks.

Every reader fills the same table model (:class:`parsers.readers.base.Table`: a grid with
merged cells resolved), and text whose table was flattened one cell per paragraph is
rebuilt into that model (:mod:`parsers.structure.flat_tables`). This module reads the
model: it finds the header row, gives each column a kind from the header vocabulary
(``parsers/data/table_headers.toml``: 序号, category, task, unit columns with their
role, deadline, person, detail), and turns every body row into a task:

- title = the first clause of the task cell (its leading ``（1）`` is the number when the
  table has no 序号 column); when the task cell only continues a merged cell from the row
  above, the row's own first text cell gives the title and the merged text joins the path;
- path = the group rows above (a row with one text across the table: ``一、…``) and the
  category cells of the row (任务分类, 主要方向, 任务名称 before 任务内容);
- units = the names in the unit cells, each with its column's role (``*`` = lead);
- header rows repeated on later pages, group rows, and rows without Chinese text are not
  tasks. A table without both a task column and a unit column is not a task table
  (statistics, per-街镇 quotas): it stays in the paragraph flow as before.

The same table as DOCX, PDF, HTML, Markdown or flattened text gives the same tasks.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from parsers.readers.base import Extracted, Table
from parsers.schema import Task, Unit
from parsers.structure.outline import match_marker
from parsers.structure.units import is_agency, role_of, split_names, unit_vocab
from parsers.targets import extract_targets
from parsers.text import clean_paragraph, join_wrapped

_CJK = re.compile(r"[\u4e00-\u9fff]")
_YEAR = re.compile(r"(?:19|20)\d{2}\s*年")
_STAR = "*＊"


@dataclass(frozen=True)
class HeaderVocab:
    """Header word -> (column kind, role for unit columns), from table_headers.toml."""

    words: tuple[tuple[str, str, str | None], ...]  # longest first
    empty: frozenset[str]


@cache
def header_vocab() -> HeaderVocab:
    raw = tomllib.loads(
        resources.files("parsers").joinpath("data/table_headers.toml").read_text("utf-8")
    )
    words: list[tuple[str, str, str | None]] = []
    for kind in ("seq", "category", "task", "detail", "deadline", "person"):
        words.extend((w, kind, None) for w in raw[kind]["words"])
    for role in ("lead", "support", "responsible"):
        words.extend((w, "units", role) for w in raw["units"][role])
    words.sort(key=lambda x: -len(x[0]))
    return HeaderVocab(words=tuple(words), empty=frozenset(raw["units"]["empty"]))


def squeeze(text: str) -> str:
    """A header cell as compared: no spaces, no line breaks."""
    return re.sub(r"\s+", "", text)


def column_kind(header: str) -> tuple[str, str | None] | None:
    """(kind, role) of a header cell, or None when no header word is in it."""
    h = squeeze(header)
    if not h or len(h) > 16:
        return None
    for word, kind, role in header_vocab().words:
        if word in h:
            if kind == "task" and _YEAR.search(h):
                return "detail", None  # 2024年工作任务: a per-year column
            return kind, role
    return _unit_label(h)


_MEASURE = ("计量", "计算", "度量", "数量")


def _unit_label(h: str) -> tuple[str, str | None] | None:
    """A unit column the header list does not name: the open label grammar of the inline
    annotations (a role word or any verb + a head noun, ``units.toml`` [labels]), so the
    header vocabulary is not a closed list. 推进单位 (sh_ja 重点任务清单) and 负责部门
    (sc_suining 任务分解表) are responsible, 协助单位 (cn_yllc 任务分解表) support; a
    person head (责任领导) is a person column."""
    v = unit_vocab()
    if any(h.endswith(w) for w in v.person_heads):
        return "person", None
    head = next((w for w in v.heads if h.endswith(w)), None)
    # A bare head (单位) or 计量单位 is a measure column of an indicator table, not a unit column.
    if head is None or not 0 < len(h) - len(head) <= 6 or h.startswith(_MEASURE):
        return None
    return "units", role_of(h)


@dataclass
class Columns:
    """The header of a task table: where it is and what each column holds."""

    row: int  # index of the (last) header row
    kinds: list[tuple[str, str | None]]
    texts: list[str]  # squeezed header texts, to spot repeated header rows

    @property
    def task(self) -> int:
        """The task column: the last task-kind column left of the first unit column."""
        first_unit = min(i for i, (k, _) in enumerate(self.kinds) if k == "units")
        tasks = [i for i, (k, _) in enumerate(self.kinds) if k == "task"]
        left = [i for i in tasks if i < first_unit]
        return (left or tasks)[-1]


def find_header(grid: list[list[str]], limit: int = 4) -> Columns | None:
    """The header among the first rows: a row naming a task column and a unit column.

    A second header row under it (``责任单位`` spanning ``牵头 | 配合``) refines the
    columns it names.
    """
    for r, row in enumerate(grid[:limit]):
        kinds = [column_kind(c) for c in row]
        named = [k for k in kinds if k]
        if len(named) * 2 < len([c for c in row if c.strip()]):
            continue
        if not any(k and k[0] == "units" for k in kinds) or not any(
            k and k[0] == "task" for k in kinds
        ):
            continue
        full: list[tuple[str, str | None]] = [k or ("detail", None) for k in kinds]
        last = r
        if r + 1 < len(grid):
            sub = [column_kind(c) for c in grid[r + 1]]
            if sum(1 for k in sub if k) >= 2 and all(
                k is not None or not c.strip() or c == row[i]
                for i, (k, c) in enumerate(zip(sub, grid[r + 1], strict=True))
            ):
                full = [s or f for s, f in zip(sub, full, strict=True)]
                last = r + 1
        texts = [squeeze(c) for c in grid[last]]
        return Columns(row=last, kinds=full, texts=texts)
    return None


def first_clause(text: str) -> str:
    """A row's title: its text up to the first clause break outside brackets."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "（(《“【":
            depth += 1
        elif ch in "）)》”】":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in "。，；;！？：:\n" and i > 0:
            return text[:i].strip()
        elif depth == 0 and ch == "," and i > 0:
            if not (text[i - 1].isdigit() and text[i + 1 : i + 2].isdigit()):
                return text[:i].strip()
    return text.strip().rstrip("。")


def _name_lines(text: str) -> list[str]:
    """The lines of a unit cell, a name broken over two lines joined again.

    A PDF cell's lines are told apart by geometry, which cannot see a wrap one character
    short of the border (``区委组织`` / ``部、区民政局``, ``区委宣传部（区文明`` / ``办）``);
    a line with an open bracket, a line ending in 、, or a next line that starts with a
    closing bracket or 、 or is a lone character, is not a whole name.
    """
    lines = [x.strip() for x in text.split("\n") if x.strip()]
    out: list[str] = []
    for line in lines:
        prev = out[-1] if out else ""
        if prev and (
            sum(prev.count(o) for o in "（(") > sum(prev.count(c) for c in "）)")
            or prev.endswith(("、", "，", ","))
            or line.startswith(("）", ")", "、"))
            or len(re.split("[、，,；;]", line)[0]) == 1
        ):
            out[-1] = prev + line
        else:
            out.append(line)
    return out


def _break_at_names(text: str, wraps: tuple[int, ...]) -> str:
    """Turn a joined visual line break of a unit cell back into a line break when the
    first line ends a whole agency name and the second opens with a jurisdiction of
    its own (an agency name never goes on with a level after its ending).

    A PDF cell one name wide is filled to its edge by ``区绿化市容局``, so the geometry
    reads the next line ``区党政机关、公共机构`` as its continuation (sh_bs 2019-05-05, a
    unit cell in DOCX with two paragraphs). A name wrapped exactly at an inner agency
    boundary does not open with a level: ``市交通委`` / ``科技信息处`` (sh_jtw 2023's
    市交通委科技信息处) and ``区委`` / ``宣传部`` stay one name.
    """
    if not wraps:
        return text
    # The one-character levels of the name grammar (区, 市, 县, 镇…), 省 and 各.
    levels = unit_vocab().levels + "省各"
    out, last = "", 0
    for k in sorted(wraps):
        left, right = text[last:k], text[k:]
        left_name = re.split("[、，,；;\n]", left)[-1].strip(_STAR + " ")
        right_name = re.split("[、，,；;\n]", right)[0].strip(_STAR + " ")
        whole = (
            left_name.count("（") == left_name.count("）")
            and is_agency(left_name)
            and left_name.endswith(unit_vocab().suffixes)  # 各街 / 镇（园区） is one name
            and len(right_name) >= 2
            and right_name[:1] in levels
        )
        out += left + ("\n" if whole else "")
        last = k
    return out + text[last:]


def cell_units(text: str, role: str, wraps: tuple[int, ...] = ()) -> list[Unit]:
    """The unit names of one unit cell: each line split on 、，；, a trailing '*' = lead.

    A thin adapter over the unit-name splitter of :mod:`parsers.structure.units` (the same
    splitting rules as prose annotations: brackets keep 市交通委（科信处、宣传处） whole).
    ``wraps``: where the reader joined visual lines (``Table.wraps``).
    """
    empty = header_vocab().empty
    out: list[Unit] = []
    for line in _name_lines(_break_at_names(text, wraps)):
        if not line or line in empty:
            continue
        for name in split_names(line):
            name = name.strip(_STAR + " ")
            # The splitter may drop the star itself: look for it next to the name.
            starred = any(name + s in line or s + name in line for s in _STAR)
            if not name or name in empty or not _CJK.search(name):
                continue
            out.append(Unit(name=name, role="lead" if starred else role))  # type: ignore[arg-type]
    return out


def _is_group_row(texts: list[str]) -> bool:
    """One text across the row (a merged ``一、…`` row, or only its first cell filled)."""
    own = {t for t in texts if t.strip()}
    return len(own) == 1 and (texts[0].strip() != "" or len(set(texts)) == 1)


def _is_header_repeat(texts: list[str], cols: Columns) -> bool:
    filled = [(i, squeeze(t)) for i, t in enumerate(texts) if t.strip()]
    same = sum(1 for i, t in filled if i < len(cols.texts) and t == cols.texts[i])
    return bool(filled) and same * 2 > len(filled)


@dataclass
class _RowContext:
    group: list[str]


def _row_task(
    table_no: int,
    r: int,
    row: list[str],
    inherited: list[bool],
    cols: Columns,
    ctx: _RowContext,
    wraps: dict[str, tuple[int, ...]],
) -> Task | None:
    tc = cols.task
    path = list(ctx.group)
    number: str | None = None
    for c, (kind, _) in enumerate(cols.kinds):
        if kind == "seq" and row[c].strip() and not inherited[c]:
            number = row[c].strip()
        elif kind == "category" and c < tc and row[c].strip():
            path.append(" ".join(row[c].split()))
    task_text = row[tc].strip()
    details = [
        row[c].strip()
        for c, (kind, _) in enumerate(cols.kinds)
        if c != tc and kind in ("task", "detail") and row[c].strip() and not inherited[c]
    ]
    title_src = task_text
    if inherited[tc] and details:
        # The task cell is merged with the row above: the merged text groups the rows,
        # each row's own first text cell says what it is (sh_jtw_2024-12-25 内容 over
        # rows 2-3; sh_bs 任务名称 over its rows).
        path.append(task_text.split("\n")[0])
        title_src = details[0]
    elif not task_text and details:
        title_src = details[0]
    if not _CJK.search(title_src):
        return None
    marker = match_marker(clean_paragraph(title_src.split("\n")[0]))
    body = clean_paragraph(title_src.replace("\n", " "))
    if marker is not None:
        number = number or marker.label
        body = clean_paragraph(marker.rest + " " + " ".join(title_src.split("\n")[1:]))
    units: list[Unit] = []
    for c, (kind, role) in enumerate(cols.kinds):
        if kind != "units" or role is None:
            continue
        for u in cell_units(row[c], role, wraps.get(row[c], ())):
            if all(u.name != x.name or u.role != x.role for x in units):
                units.append(u)
    text_parts = [body, *(clean_paragraph(d.replace("\n", " ")) for d in details)]
    if title_src is not task_text and task_text:
        text_parts = [body, *(clean_paragraph(d.replace("\n", " ")) for d in details[1:])]
    return Task(
        id=f"tbl{table_no}.{r}",
        number=number,
        path=path,
        title=first_clause(body),
        text="\n".join(p for p in text_parts if p),
        units=units,
        targets=extract_targets(body),
    )


def _row_number(row: list[str], cols: Columns) -> bool:
    """True if the row starts a numbered row: a 序号 cell, or a marker in its task cell."""
    for c, (kind, _) in enumerate(cols.kinds):
        if kind == "seq":
            return bool(row[c].strip())
    return match_marker(clean_paragraph(row[cols.task])) is not None


def _join_page_breaks(table: Table, cols: Columns) -> None:
    """Resolve what a page break did to a table (PDF): a row that opens a page without a
    number while the row above has one is the rest of that row (its cells join the
    cells above); in a new row, an empty category or unit cell continues the cell
    above (a merged cell prints its text only before the break)."""
    for r in sorted(table.page_starts, reverse=True):
        if not 0 < r < len(table.grid):
            continue
        row, above = table.grid[r], table.grid[r - 1]
        if not _row_number(row, cols) and _row_number(above, cols):
            for c, (a, b) in enumerate(zip(above, row, strict=True)):
                if not b.strip() and cols.kinds[c][0] in ("category", "units") and a.strip():
                    # A merged cell that went on below the break printed nothing there:
                    # the rows merged with it take the text from above (sh_jtw
                    # 2024-12-31 客运处 over items 14-16, the page breaking after 14).
                    k = r + 1
                    while k < len(table.grid) and table.inherited[k][c]:
                        if table.grid[k][c].strip():
                            break
                        table.grid[k][c] = a
                        k += 1
                if not b or table.inherited[r][c]:
                    continue
                above[c] = join_wrapped(a, b)
                # Rows merged with this cell below the break copied the fragment.
                k = r + 1
                while k < len(table.grid) and table.inherited[k][c] and table.grid[k][c] == b:
                    table.grid[k][c] = above[c]
                    k += 1
            del table.grid[r], table.inherited[r]
            continue
        for c, (kind, _) in enumerate(cols.kinds):
            if kind in ("category", "units") and not row[c].strip() and above[c].strip():
                k = r
                while k < len(table.grid) and (k == r or table.inherited[k][c]):
                    if table.grid[k][c].strip():
                        break
                    table.grid[k][c] = above[c]
                    table.inherited[k][c] = True
                    k += 1


def table_tasks(table: Table, table_no: int) -> list[Task] | None:
    """The tasks of a task table, or None when the table is not one."""
    cols = find_header(table.grid)
    if cols is None:
        return None
    _join_page_breaks(table, cols)
    tasks: list[Task] = []
    ctx = _RowContext(group=[])
    for r in range(cols.row + 1, len(table.grid)):
        row, inherited = table.grid[r], table.inherited[r]
        if not any(t.strip() for t in row) or _is_header_repeat(row, cols):
            continue
        if _is_group_row(row):
            ctx.group = [" ".join(next(t for t in row if t.strip()).split())]
            continue
        task = _row_task(table_no, r, row, inherited, cols, ctx, table.wraps)
        if task is not None:
            tasks.append(task)
    return tasks


def _locate(paragraphs: list[str], wanted: list[str], start: int) -> list[int]:
    """Indices of ``wanted`` (a table's row paragraphs) in ``paragraphs``, in order, from
    ``start``; a row not found (a reader dropped it as a running header) is skipped."""
    keys = [clean_paragraph(p) for p in paragraphs]
    found: list[int] = []
    cursor = start
    for w in wanted:
        k = clean_paragraph(w)
        stop = len(keys) if not found else min(len(keys), cursor + 40)
        for i in range(cursor, stop):
            if keys[i] == k:
                found.append(i)
                cursor = i + 1
                break
    return found


def take_task_tables(extracted: Extracted) -> tuple[list[str], list[Task]]:
    """The paragraphs without the rows of task tables, and those tables' tasks.

    Tables the reader marked up come first; then tables flattened one cell per paragraph
    are rebuilt from what is left (:func:`parsers.structure.flat_tables.recover`).
    """
    from parsers.structure.flat_tables import recover

    paragraphs = list(extracted.paragraphs)
    drop: set[int] = set()
    tasks: list[Task] = []
    cursor = 0
    for n, table in enumerate(extracted.tables):
        found = _locate(paragraphs, table.paragraphs, cursor)
        if found:
            cursor = found[-1] + 1
        rows = table_tasks(table, n)
        if rows is None:
            continue
        tasks.extend(rows)
        drop.update(found)
    kept = [p for i, p in enumerate(paragraphs) if i not in drop]
    kept, flat = recover(kept)
    for k, table in enumerate(flat, start=len(extracted.tables)):
        tasks.extend(table_tasks(table, k) or [])
    return kept, tasks
