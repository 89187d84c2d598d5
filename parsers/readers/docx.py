"""DOCX reader: body paragraphs and table rows in document order, list numbers included.

We read the package with ``zipfile`` + lxml rather than through ``docx.Document``
because (1) the zip must be checked for decompression bombs *before* anything is
inflated, (2) python-docx refuses .docm/.dotx content types that are otherwise
ordinary Word bodies, and (3) we need the raw XML anyway (document order of
paragraphs and tables, tracked changes, ``numPr``). The XML parser resolves no
entities and loads nothing from the network.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass

from lxml import etree

from parsers.errors import EncryptedDocument, ParseError, ResourceLimitExceeded
from parsers.readers.base import Extracted, Table, TableCell
from parsers.readers.docx_numbering import Numbering, w
from parsers.text import clean_paragraphs, normalize_space

MAIN_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"


@dataclass(frozen=True)
class ZipLimits:
    """Bounds on a DOCX package, checked from the zip directory before inflating."""

    max_entries: int = 5000
    max_entry_bytes: int = 256 * 1024 * 1024
    max_total_bytes: int = 512 * 1024 * 1024
    #: Real XML compresses 5-30x; a bomb of zeros ~1000x. Only judged above 1 MiB.
    max_ratio: float = 200.0


DEFAULT_ZIP_LIMITS = ZipLimits()

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
)


def check_zip(zf: zipfile.ZipFile, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> None:
    """Refuse zip bombs and encrypted packages before reading any entry."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise ResourceLimitExceeded(f"zip bomb: {len(infos)} entries (limit {limits.max_entries})")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise EncryptedDocument("encrypted DOCX: the zip entries are password-protected")
        if info.file_size > limits.max_entry_bytes:
            raise ResourceLimitExceeded(
                f"zip bomb: {info.filename} inflates to {info.file_size} bytes"
            )
        total += info.file_size
        if info.file_size > 1024 * 1024:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise ResourceLimitExceeded(
                    f"zip bomb: {info.filename} has a compression ratio of {ratio:.0f}:1"
                )
    if total > limits.max_total_bytes:
        raise ResourceLimitExceeded(f"zip bomb: entries inflate to {total} bytes in total")


def _read_xml(zf: zipfile.ZipFile, name: str) -> etree._Element | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    try:
        with zf.open(info) as fh:
            raw = fh.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise ParseError(f"corrupt DOCX: cannot read {name} ({exc})") from None
    if len(raw) > info.file_size:
        raise ResourceLimitExceeded(f"zip bomb: {name} inflates past its declared size")
    try:
        return etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"corrupt DOCX: {name} is not well-formed XML ({exc})") from None


def _main_part(zf: zipfile.ZipFile) -> str:
    """The main document part named by the package relationships (usually word/document.xml)."""
    rels = _read_xml(zf, "_rels/.rels")
    if rels is not None:
        for rel in rels.iter(f"{PKG_RELS}Relationship"):
            if rel.get("Type") == MAIN_REL and rel.get("Target"):
                target = rel.get("Target", "").lstrip("/")
                if target in zf.NameToInfo:
                    return target
    return "word/document.xml"


def _part_rels(zf: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship type suffix -> target part name, for one part."""
    folder, name = posixpath.split(part)
    rels = _read_xml(zf, posixpath.join(folder, "_rels", name + ".rels"))
    out: dict[str, str] = {}
    if rels is None:
        return out
    for rel in rels.iter(f"{PKG_RELS}Relationship"):
        rtype = (rel.get("Type") or "").rsplit("/", 1)[-1]
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External" or not target:
            continue
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        out.setdefault(rtype, path)
    return out


# Text of one paragraph ------------------------------------------------------------------

#: Elements whose whole subtree is not printed text: deleted/moved-away revisions,
#: field instructions, drawings and VML (their text boxes are separate stories; their
#: AlternateContent fallbacks would duplicate text), footnote marks, the paragraph's
#: properties (which hold a deleted paragraph mark's run properties).
_SKIP = frozenset(
    {
        w("del"),
        w("moveFrom"),
        w("instrText"),
        w("delText"),
        w("delInstrText"),
        w("drawing"),
        w("pict"),
        w("object"),
        w("pPr"),
        w("rPr"),
        w("footnoteReference"),
        w("endnoteReference"),
        w("commentReference"),
        MC + "AlternateContent",
    }
)
_BREAK = object()


def _hidden(run: etree._Element) -> bool:
    rpr = run.find(w("rPr"))
    if rpr is None:
        return False
    vanish = rpr.find(w("vanish"))
    return vanish is not None and vanish.get(w("val"), "true") not in ("0", "false", "off")


def _collect(el: etree._Element, out: list[object]) -> None:
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == w("t"):
            out.append(child.text or "")
        elif tag == w("tab") or tag == w("ptab"):
            out.append(" ")
        elif tag == w("br") or tag == w("cr"):
            out.append(_BREAK)
        elif tag == w("noBreakHyphen"):
            out.append("-")
        elif tag == w("sym"):
            code = child.get(w("char")) or ""
            try:
                ch = chr(int(code, 16))
            except ValueError:
                continue
            if not ("\ue000" <= ch <= "\uf8ff"):
                out.append(ch)
        elif tag == w("r"):
            if not _hidden(child):
                _collect(child, out)
        else:  # hyperlink, ins, moveTo, smartTag, sdt/sdtContent, fldSimple, customXml...
            _collect(child, out)


def paragraph_lines(p: etree._Element) -> list[str]:
    """The printed text of ``p``, split at manual line breaks (<w:br/>)."""
    pieces: list[object] = []
    _collect(p, pieces)
    lines: list[str] = []
    cur: list[str] = []
    for piece in pieces:
        if piece is _BREAK:
            lines.append("".join(cur))
            cur = []
        else:
            cur.append(piece)  # type: ignore[arg-type]
    lines.append("".join(cur))
    return lines


# Body walk -------------------------------------------------------------------------------


class _Body:
    def __init__(self, numbering: Numbering) -> None:
        self.numbering = numbering
        self.paragraphs: list[str] = []
        self.tables: list[Table] = []

    def paragraph_text(self, p: etree._Element) -> list[str]:
        lines = paragraph_lines(p)
        label = self.numbering.label(p)
        if label and any(line.strip() for line in lines):
            first = next(i for i, line in enumerate(lines) if line.strip())
            lines[first] = label + lines[first].lstrip()
        return lines

    def block(self, el: etree._Element) -> None:
        for child in el:
            tag = child.tag
            if tag == w("p"):
                self.paragraphs.extend(self.paragraph_text(child))
            elif tag == w("tbl"):
                self.table(child)
            elif tag in (w("sdt"), w("sdtContent"), w("customXml"), w("ins"), w("moveTo")):
                self.block(child)
            elif tag == MC + "AlternateContent":
                choice = child.find(MC + "Choice")
                if choice is not None:
                    self.block(choice)

    def cell_lines(self, tc: etree._Element) -> list[str]:
        """The paragraphs of a table cell (a nested table's rows flattened to lines)."""
        parts: list[str] = []
        for child in tc:
            if child.tag == w("p"):
                parts.extend(self.paragraph_text(child))
            elif child.tag == w("tbl"):
                for row in child.iter(w("tr")):
                    parts.append(" ".join(self.cell_text(c) for c in row.iter(w("tc"))))
            elif child.tag in (w("sdt"), w("sdtContent"), w("customXml")):
                parts.extend(self.cell_lines(child))
        return [x for x in (normalize_space(x) for x in parts) if x]

    def cell_text(self, tc: etree._Element) -> str:
        return " ".join(self.cell_lines(tc))

    def table(self, tbl: etree._Element) -> None:
        """Each row as one paragraph (cells joined by a tab), and the table as a grid
        (``gridSpan`` = columns a cell covers, ``vMerge`` continue = the cell above)."""
        rows: list[list[TableCell]] = []
        emitted: list[str] = []
        for tr in tbl.iter(w("tr")):
            parent = tr.getparent()
            if parent is not tbl and parent is not None and parent.tag != w("sdtContent"):
                continue  # a nested table's row: read with its cell (sdt-wrapped rows are ours)
            cells: list[list[str]] = []
            grid_row = [TableCell("", colspan=_grid_skip(tr, "gridBefore"))]
            for tc in tr:
                if tc.tag == w("sdt"):
                    tcs = list(tc.iter(w("tc")))
                elif tc.tag == w("tc"):
                    tcs = [tc]
                else:
                    continue
                for cell in tcs:
                    span = cell.find(f"{w('tcPr')}/{w('gridSpan')}")
                    colspan = int(span.get(w("val"), "1")) if span is not None else 1
                    vmerge = cell.find(f"{w('tcPr')}/{w('vMerge')}")
                    if vmerge is not None and vmerge.get(w("val"), "continue") == "continue":
                        grid_row.append(TableCell("", colspan=colspan, merge="up"))
                        continue  # the merged cell's text is in the row that starts it
                    lines = self.cell_lines(cell)
                    cells.append(lines)
                    grid_row.append(TableCell("\n".join(lines), colspan=colspan))
            rows.append([c for c in grid_row if c.colspan > 0])
            filled = [c for c in cells if c]
            if len(filled) == 1 and len(filled[0]) > 1:
                # A one-cell layout table (a framed body, a form box): its paragraphs are
                # the document's paragraphs, not one table row.
                self.paragraphs.extend(filled[0])
                emitted.extend(filled[0])
                continue
            row = "\t".join(" ".join(c) for c in filled)
            if row:
                self.paragraphs.append(row)
                emitted.append(row)
        table = Table.from_rows(rows)
        table.paragraphs = emitted
        self.tables.append(table)


def _grid_skip(tr: etree._Element, name: str) -> int:
    """Grid columns a row leaves out before its first cell (``w:gridBefore``)."""
    el = tr.find(f"{w('trPr')}/{w(name)}")
    try:
        return int(el.get(w("val"), "0")) if el is not None else 0
    except ValueError:
        return 0


def read_docx(data: bytes) -> Extracted:
    """Paragraphs (with list numbers) and table rows of a DOCX, in document order."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ParseError(f"corrupt DOCX: not a readable zip archive ({exc})") from None
    with zf:
        check_zip(zf)
        main = _main_part(zf)
        root = _read_xml(zf, main)
        if root is None:
            raise ParseError("corrupt DOCX: no word/document.xml")
        rels = _part_rels(zf, main)
        numbering_xml = _read_xml(zf, rels["numbering"]) if "numbering" in rels else None
        styles_xml = _read_xml(zf, rels["styles"]) if "styles" in rels else None
    body = root.find(w("body"))
    if body is None:
        raise ParseError("corrupt DOCX: the document has no body")
    walker = _Body(Numbering(numbering_xml, styles_xml))
    walker.block(body)
    return Extracted(
        format="docx", paragraphs=clean_paragraphs(walker.paragraphs), tables=walker.tables
    )
