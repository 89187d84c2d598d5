"""The reader protocol and the intermediate representation shared by all formats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Extracted:
    """What a reader hands to the structure stage.

    ``paragraphs`` are logical paragraphs in reading order: hard wraps joined, page
    numbers and running headers removed, automatic list numbers materialised as text
    (``"1. 做强算力赛道。…"``), table rows rendered as one paragraph each with cells
    joined by a tab. ``meta`` carries what the container itself says (an HTML page's
    ArticleTitle/PubDate/info table, attachment links), keyed as in ``META_KEYS``.
    """

    format: str
    paragraphs: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    #: The tables the format marks up (DOCX ``w:tbl``, HTML ``<table>``, Markdown pipe
    #: tables, ruled PDF tables), in document order. Their rows are also in
    #: ``paragraphs`` (as ``Table.paragraphs``), so a reader that knows nothing of task
    #: tables still gives the text; the structure stage takes task tables out of the
    #: paragraph flow and reads them row by row (parsers.structure.tables).
    tables: list[Table] = field(default_factory=list)


@dataclass
class Table:
    """One table with merged cells resolved to a rectangular grid.

    ``grid[r][c]`` is the printed text of the cell covering row r, column c: a merged
    cell (DOCX ``gridSpan``/``vMerge``, HTML ``rowspan``/``colspan``, Markdown ``^^``/``<<``,
    a PDF cell spanning several rulings) repeats its text in every position it covers,
    and ``inherited[r][c]`` is True where the text came from such a merge rather than
    from a cell that starts there. Paragraphs inside a cell are joined by ``"\n"``
    (``设施运行处\n设施养护处`` is two lines of one unit cell). ``paragraphs`` are the
    strings the reader put into ``Extracted.paragraphs`` for this table, in order: the
    table's position in the paragraph flow.
    """

    grid: list[list[str]]
    inherited: list[list[bool]]
    paragraphs: list[str] = field(default_factory=list)
    #: Rows that open a new page of a table continued over a page break (PDF): a cell
    #: merged across the break prints its text only above it, so an empty cell there
    #: may continue the cell above.
    page_starts: list[int] = field(default_factory=list)
    #: Where a reader joined two visual lines of a cell because the geometry said the
    #: first was wrapped (PDF): the cell's text -> offsets in it. A line that fills the
    #: cell to its edge may also have ended a paragraph (``区绿化市容局`` / ``区党政机关``
    #: in a unit cell one name wide); the structure stage, which knows unit names,
    #: decides.
    wraps: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: list[list[TableCell]]) -> Table:
        """Resolve spans: each ``TableCell`` covers ``colspan`` columns; ``up``/``left``
        cells repeat the text of the cell above / to the left (a continued merge)."""
        grid: list[list[str]] = []
        inherited: list[list[bool]] = []
        for r, row in enumerate(rows):
            texts: list[str] = []
            flags: list[bool] = []
            for cell in row:
                for k in range(max(cell.colspan, 1)):
                    c = len(texts)
                    if cell.merge == "up":
                        above = grid[r - 1][c] if r and c < len(grid[r - 1]) else ""
                        texts.append(above)
                        flags.append(True)
                    elif cell.merge == "left" or k:
                        texts.append(texts[-1] if texts else "")
                        flags.append(True)
                    else:
                        texts.append(cell.text)
                        flags.append(False)
            grid.append(texts)
            inherited.append(flags)
        width = max((len(r) for r in grid), default=0)
        for texts, flags in zip(grid, inherited, strict=True):
            texts.extend([""] * (width - len(texts)))
            flags.extend([False] * (width - len(flags)))
        return cls(grid=grid, inherited=inherited)


@dataclass(frozen=True)
class TableCell:
    """A cell as a format writes it: its text, how many grid columns it spans, and whether
    it only continues a merged cell (``"up"``: vertically, ``"left"``: horizontally)."""

    text: str
    colspan: int = 1
    merge: str | None = None


def row_paragraph(cells: list[str]) -> str:
    """How a table row reads as one paragraph: its non-empty cells joined by a tab."""
    return "\t".join(" ".join(c.split("\n")) for c in cells if c)


#: Keys a reader may put in ``Extracted.meta``.
META_KEYS = (
    "title",  # str: the page's own title (ArticleTitle meta, info table 标题)
    "published",  # str ISO date: web publish date (PubDate)
    "date",  # str ISO date: 成文日期 from an info table
    "doc_number",  # str: 发文字号/文件编号 from an info table
    "issuers",  # list[str]: 发布机构 / ContentSource
    "index_no",  # str: 索引号
    "attachments",  # list[dict(url, name, ext)]
    "headings",  # list[str]: paragraphs the source marks as section headings (Markdown ##)
)


class Reader(Protocol):
    def __call__(self, data: bytes) -> Extracted: ...
