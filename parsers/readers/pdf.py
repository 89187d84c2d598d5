"""PDF reader: pypdfium2 text plus line geometry -> logical paragraphs.

Why pypdfium2 and not pdfplumber: pdfplumber builds a Python object per character and is
~20x slower than pdfium's own text extraction. Here each page costs one ``get_text_range``
call plus two ``get_charbox`` calls per line (first and last character), which is enough
to know where every line starts, ends and sits vertically; paragraphs are then rebuilt
from that geometry (see :mod:`parsers.readers.pdf_layout`).
"""

from __future__ import annotations

import ctypes
import re
from typing import Any

from parsers.errors import EncryptedDocument, NeedsOCR, ParseError
from parsers.readers.base import Extracted, Table
from parsers.readers.pdf_guard import check_flate_bombs
from parsers.readers.pdf_layout import Line, build_paragraphs, numbering_length
from parsers.readers.pdf_tables import continued, page_tables, splice
from parsers.text import is_cjk_char

#: pdfium's FPDF_GetLastError codes.
_ERR_PASSWORD = 4
_ERR_FORMAT = 3
_ERR_SECURITY = 5

#: ``(cid:12)`` as left by some extractors, private-use glyphs and U+FFFD: text layers
#: made of these are unreadable and need OCR.
_GARBAGE = re.compile(r"\(cid:\d+\)|[\ue000-\uf8ff\ufffd]")
_VISIBLE = re.compile(r"\S")


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == _ERR_PASSWORD:
            raise EncryptedDocument("encrypted PDF: a password is required") from None
        if code == _ERR_SECURITY:
            raise EncryptedDocument("PDF uses an unsupported security handler") from None
        raise ParseError(f"corrupt or truncated PDF ({exc})") from None


def _page_lines(textpage: Any, page_no: int, text: str) -> list[Line]:
    """Split pdfium's page text on its generated line breaks and measure each line."""
    import pypdfium2.raw as raw

    lines: list[Line] = []
    raw_page = textpage.raw
    rect = raw.FS_RECTF()
    rect_p = ctypes.byref(rect)

    def box(i: int) -> tuple[float, float, float, float]:
        # Loose boxes span the glyph's advance and the font's ascent/descent, so a
        # full-width "（" starts where the pen was, not where its ink starts.
        raw.FPDFText_GetLooseCharBox(raw_page, i, rect_p)
        return rect.left, rect.bottom, rect.right, rect.top

    pos = 0
    for piece in text.split("\r\n"):
        start = pos
        pos += len(piece) + 2
        stripped = piece.strip()
        if not stripped:
            continue
        first = start + (len(piece) - len(piece.lstrip()))
        stripped = _drop_label_tab(stripped, first, raw_page)
        last = start + len(piece.rstrip()) - 1
        x0, y0, fx1, y1 = box(first)
        x1 = box(last)[2] if last != first else fx1
        lines.append(
            Line(
                text=stripped,
                page=page_no,
                x0=x0,
                x1=x1,
                bottom=y0,
                top=y1,
                em=fx1 - x0,
                cjk_start=is_cjk_char(stripped[0]),
                trailing_space=piece != piece.rstrip(),
                span=(first, last),
            )
        )
    return lines


def _drop_label_tab(text: str, first: int, raw_page: Any) -> str:
    """``一、 总体要求`` -> ``一、总体要求`` when the space is a tab's gap, not a character.

    Word's automatic numbering puts a tab between the number and the text; the PDF draws
    no character there, and pdfium fills the gap with a space it flags as generated.
    Only after a full-width label (``一、`` ``（一）`` ``（1）``), where nobody types a
    space: after ``1.`` a typed space is common, and LibreOffice does not draw the
    spaces of a justified line either, so a tab and a typed space look alike there
    (``1. 建设`` stays, as the DOCX reader prints it).
    """
    import pypdfium2.raw as raw

    n = numbering_length(text)
    if not n or n + 1 >= len(text) or text[n] != " ":
        return text
    if not (is_cjk_char(text[n - 1]) and is_cjk_char(text[n + 1])):
        return text
    if raw.FPDFText_IsGenerated(raw_page, first + n) != 1:
        return text
    return text[:n] + text[n + 1 :]


def read_pdf(data: bytes) -> Extracted:
    """Extract logical paragraphs from a PDF's text layer."""
    check_flate_bombs(data)
    doc = _open(data)
    try:
        n_pages = len(doc)
        if n_pages == 0:
            raise ParseError("PDF has no pages")
        pages: list[list[Line]] = []
        found: list[Table] = []
        visible = garbage = 0
        for i in range(n_pages):
            try:
                page = doc[i]
                textpage = page.get_textpage()
            except Exception as exc:  # pdfium raises PdfiumError on broken page trees
                raise ParseError(f"corrupt PDF: cannot load page {i + 1} ({exc})") from None
            text: str = textpage.get_text_range()
            lines = _page_lines(textpage, i, text)
            for line in lines:
                visible += len(_VISIBLE.findall(line.text))
                garbage += sum(len(m.group(0)) for m in _GARBAGE.finditer(line.text))
            tables = page_tables(page, textpage, text, lines)
            if tables:
                lines = splice(lines, [(box, list(t.paragraphs)) for box, t in tables])
                found.extend(t for _, t in tables)
            pages.append(lines)
            textpage.close()
            page.close()
    finally:
        doc.close()
    if visible == 0:
        raise NeedsOCR("no text layer: needs OCR")
    if garbage / visible > 0.3:
        raise NeedsOCR("no text layer: needs OCR (the text layer is unreadable glyph codes)")
    return Extracted(format="pdf", paragraphs=build_paragraphs(pages), tables=continued(found))
