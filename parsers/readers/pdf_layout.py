"""Rebuild logical paragraphs from positioned PDF lines.

A PDF only knows lines. A line continues the paragraph above it unless one of these
says otherwise (each is what a human reader uses too):

* the line above ended clearly short of the right margin (a paragraph's last line);
* this line is indented (first-line indent, centred titles, signatures);
* this line starts a numbered item (``一、`` ``（一）`` ``1.`` ``1、`` ``（1）`` ``①``, and
  ``一是`` after a sentence end);
* there is a vertical gap larger than the normal line pitch, or the font size changes;
* this line or the one above is short and set against the right margin (a signature,
  a date): it reaches the margin, so the first rule cannot end it.

The body's left edge is where wrapped lines start and the pitch is the distance between
wrapped lines, both measured so that a document of many short indented paragraphs with
space between them (the official layout) does not mistake the indent for the margin or
the paragraph spacing for the pitch. Lines spread one character at a time over the whole
width (expanded spacing, or a justified line before a manual break) lose pdfium's spaces.

Page numbers (``— 3 —``, ``- 3 -``, ``3``, ``第3页``, ``3/10``) and running headers or
footers (the same text at the same height on most pages) are removed first, so a
paragraph that crosses a page break is joined back together.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, replace

from parsers.text import clean_paragraphs, is_cjk_char, join_wrapped


@dataclass
class Line:
    """One visual line: its text and the box from its first to its last character."""

    text: str
    page: int
    x0: float
    x1: float
    bottom: float
    top: float
    em: float = 0.0  # width of the first character: the font size for CJK text
    trailing_space: bool = False
    cjk_start: bool = False  # first character is CJK, so ``height`` is the CJK font's
    table: bool = False  # a table row read by pdfplumber: a paragraph of its own
    slack: float = 0.0  # room left on a line stretched by justification (points)
    span: tuple[int, int] = (0, -1)  # first and last character index in pdfium's text page

    @property
    def height(self) -> float:
        return self.top - self.bottom


_DASH = "-—–－―‐‒"
_PAGE_NUMBER = re.compile(
    rf"^(?:[{_DASH}~～]\s*\d{{1,4}}\s*[{_DASH}~～]"
    r"|\d{1,4}"
    r"|第\s*\d{1,4}\s*页(?:\s*[，,/／]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*[/／]\s*\d{1,4}"
    r"|(?i:page)\s*\d{1,4}(?:\s*(?i:of)\s*\d{1,4})?)$"
)

#: A line that starts a numbered item. Wrapped lines rarely start like this; ``1.5倍``
#: is excluded by requiring a non-digit after ``1.``.
_NUMBERED = re.compile(
    r"^(?:[一二三四五六七八九十百零〇]+[、．.]"
    r"|[（(][一二三四五六七八九十百零〇]+[）)]"
    r"|\d{1,3}(?:[、]|[.．](?!\d))"
    r"|[（(]\d{1,3}[）)]"
    r"|[①-⑳㉑-㉟㊱-㊿⑴-⒇⒈-⒛]"
    r"|第[一二三四五六七八九十百零〇\d]+[章节条款部分])"
)
#: ``一是…二是…``: a new item only when the line above ended a sentence.
_ENUMERATED = re.compile(r"^[一二三四五六七八九十]+是")
_SENTENCE_END = tuple("。；;：:！!？?")


def numbering_length(text: str) -> int:
    """Length of the item number a line starts with (``（一）``, ``1.``, ``①``), else 0."""
    m = _NUMBERED.match(text)
    return m.end() if m else 0


#: Characters that may not start a line (closing punctuation) or end one (opening).
_NO_BREAK_BEFORE = frozenset("，。、；：？！）》」』】〕］｝〉”’%‰.,;:!?)]}·…—")
_NO_BREAK_AFTER = frozenset("（《「『【〔［｛〈“‘([{")
_QUOTES = frozenset("“”‘’\"'")


def _char_em(ch: str) -> float:
    """Rough advance of a character in ems: full width for CJK, ~half for ASCII."""
    return 0.55 if ord(ch) < 0x2E80 and ch not in "“”‘’…—·" else 1.0


def leading_run_em(text: str) -> float:
    """Width (in ems) of the unbreakable run a line starts with.

    If the line above had room for this run, the layout engine would have put it there;
    so a line above that ends short by *less* than this width was wrapped, not ended.
    Line-breaking rules glue closing punctuation to what precedes it, opening
    punctuation to what follows, quotation marks to both sides (ICU's QU class, which
    LibreOffice follows) and Latin letters/digits into words.
    """
    if not text:
        return 0.0
    width = _char_em(text[0])
    for prev, ch in itertools.pairwise(text):
        glued = (
            ch in _NO_BREAK_BEFORE
            or prev in _NO_BREAK_AFTER
            or ch in _QUOTES
            or prev in _QUOTES
            or (
                prev.isascii()
                and prev.isalnum()
                and ch.isascii()
                and (ch.isalnum() or ch in "-_/+")
            )
            or (prev in "-_/+" and ch.isascii() and ch.isalnum())
        )
        if not glued:
            break
        width += _char_em(ch)
    return width


def _is_page_number(text: str) -> bool:
    # Spaces only ever sit where the pattern allows \s*, so matching without them suffices.
    return bool(_PAGE_NUMBER.match(text.replace(" ", "")))


def _merge_same_baseline(lines: list[Line]) -> list[Line]:
    """pdfium sometimes splits one visual line in two (a far-right date, a font change)."""
    out: list[Line] = []
    for line in lines:
        if out:
            prev = out[-1]
            overlap = min(prev.top, line.top) - max(prev.bottom, line.bottom)
            if (
                overlap > 0.5 * min(prev.height, line.height)
                and line.x0 >= prev.x1 - 1.0
                and prev.page == line.page
            ):
                gap = line.x0 - prev.x1
                sep = " " if gap > 0.5 * max(prev.em, 1.0) else ""
                out[-1] = Line(
                    text=prev.text + sep + line.text,
                    page=prev.page,
                    x0=prev.x0,
                    x1=line.x1,
                    bottom=min(prev.bottom, line.bottom),
                    top=max(prev.top, line.top),
                    em=prev.em,
                    trailing_space=line.trailing_space,
                    cjk_start=prev.cjk_start,
                )
                continue
        out.append(line)
    return out


_PAGEISH = re.compile(r"页|[Pp]age|[—－-]\s*\d")


def _running_key(line: Line) -> tuple[str, int]:
    """Text and height; digits masked only when the line looks like it carries a page number."""
    text = line.text.replace(" ", "")
    if _PAGEISH.search(text):
        text = re.sub(r"\d+", "#", text)
    return text, round(line.bottom / 6)


def _separated(lines: list[Line], i: int, inward: int) -> bool:
    """Is line ``i`` set apart from the body (header/footer spacing, not line pitch)?"""
    j = i + inward
    if not 0 <= j < len(lines):
        return True
    line = lines[i]
    return abs(line.bottom - lines[j].bottom) > 1.8 * max(line.height, 1.0)


def remove_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Drop page numbers and running headers/footers at the top and bottom of each page.

    A running line is the same text at the same height on at least half the pages (digits
    masked when it looks like a page counter); it must also stand apart from the body by
    more than the line pitch, so a repeated body sentence is never taken for one.
    """
    n = len(pages)
    edge = 2  # how many lines at the top and bottom of a page may be furniture
    counts: Counter[tuple[str, int]] = Counter()
    if n >= 2:
        for lines in pages:
            counts.update({_running_key(ln) for ln in lines[:edge] + lines[-edge:]})
    threshold = max(2, (n + 1) // 2)

    def furniture(lines: list[Line], i: int, inward: int) -> bool:
        line = lines[i]
        if not _separated(lines, i, inward):
            return False
        if _is_page_number(line.text):
            return True
        return n >= 2 and counts[_running_key(line)] >= threshold

    out: list[list[Line]] = []
    for lines in pages:
        top = 0
        while top < min(edge, len(lines)) and furniture(lines, top, +1):
            top += 1
        bottom = len(lines)
        while bottom > max(top, len(lines) - edge) and furniture(lines, bottom - 1, -1):
            bottom -= 1
        out.append(lines[top:bottom])
    return out


@dataclass
class _Geometry:
    left: float
    right: float
    em: float
    pitch: float


def _shared(values: list[float], n_lines: int) -> list[float]:
    """Values (rounded to 2pt) that several lines share: a margin, not a one-off."""
    counts = Counter(round(v / 2) * 2 for v in values)
    return [float(v) for v, c in counts.items() if c >= max(2, n_lines // 20)]


def _line_pitch(pages: list[list[Line]], em: float) -> float:
    """The baseline distance between two lines of one paragraph.

    Not the median of all distances: documents laid out with space between paragraphs
    (LibreOffice's official-document templates) have more paragraph breaks than wrapped
    lines, so the median is the paragraph distance. The pitch is the smallest distance
    that body-size lines share; footnotes and captions in a smaller font are left out so
    they cannot pull it down.
    """
    heights = [ln.height for page in pages for ln in page if ln.cjk_start]
    body = statistics.median(heights) if heights else em
    deltas = []
    for page in pages:
        for a, b in itertools.pairwise(page):
            d = a.bottom - b.bottom
            same_size = all(
                not ln.cjk_start or abs(ln.height - body) < 0.15 * body for ln in (a, b)
            )
            if 0.5 * em < d < 3.0 * em and same_size:
                deltas.append(d)
    if not deltas:
        return 1.5 * em
    counts = Counter(round(d) for d in deltas)
    common = [d for d, c in counts.items() if c >= max(2, len(deltas) // 10)]
    if not common:
        return statistics.median(deltas)
    low = min(common)
    return statistics.median(d for d in deltas if abs(d - low) <= 1.0)


def geometry(pages: list[list[Line]]) -> _Geometry:
    lines = [ln for page in pages for ln in page if not ln.table]
    ems = [ln.em for ln in lines if ln.em > 1.0]
    em = statistics.median(ems) if ems else 12.0
    # The body's left edge is where wrapped lines start: the leftmost start that several
    # lines share. (Not the most common start: in a document of short paragraphs with a
    # first-line indent, most lines start at the indent.)
    starts = _shared([ln.x0 for ln in lines], len(lines))
    left = min(starts) if starts else min((ln.x0 for ln in lines), default=0.0)
    # The right margin is where full lines end: the furthest right x1 that several lines
    # share (a wide table row or a right-aligned page number alone does not count).
    ends = _shared([ln.x1 for ln in lines], len(lines))
    right = max(ends) if ends else max((ln.x1 for ln in lines), default=0.0)
    return _Geometry(left=left, right=right, em=em, pitch=_line_pitch(pages, em))


#: A line spelled out one character at a time: ``牵 头 单 位 ：`` (pdfium puts a space in
#: every gap wider than a fraction of the font size).
_LETTER_SPACED = re.compile(r"^\S(?: \S){3,}$")


def unstretch(line: Line, geo: _Geometry) -> Line:
    """Undo letter spacing on a line that reaches the right margin.

    Two layouts spread a line's characters apart: a run with expanded character spacing
    (gaps a fraction of an em), and a justified paragraph's line that ends in a manual
    line break (Word/LibreOffice stretch it to the margin: gaps of an em or more). Either
    way pdfium reports a space between every two characters that the text does not
    have. The second kind is really a short line, so the room it was stretched over is
    kept as ``slack``: the paragraph rule treats it like a line ending short of the margin.
    Lines that stop short of the margin (centred, typed ``复 函``-style titles) keep
    their spaces, as do lines with Latin words.
    """
    if line.table or geo.right - line.x1 > 1.0 * geo.em:
        return line
    # A Word list label (``（二）``) is drawn apart from the text it numbers.
    label = numbering_length(line.text)
    spaced = line.text[label:]
    if not _LETTER_SPACED.match(spaced):
        return line
    chars = spaced[::2]
    if not all(is_cjk_char(ch) or ch.isdigit() for ch in chars):
        return line
    text = line.text[:label] + chars
    natural = sum(_char_em(ch) for ch in text) * geo.em
    extra = (line.x1 - line.x0) - natural
    stretched = extra / (len(text) - 1) > 0.5 * geo.em
    return replace(line, text=text, slack=extra if stretched else 0.0)


def _right_aligned(line: Line, geo: _Geometry) -> bool:
    """A short line set against the right margin: a signature, a date, an issuer."""
    width = geo.right - geo.left
    return geo.right - line.x1 < 1.0 * geo.em and line.x0 - geo.left > max(4.0 * geo.em, width / 3)


def _starts_paragraph(prev: Line, cur: Line, geo: _Geometry, prev_is_first: bool) -> bool:
    if prev.table or cur.table:
        return True
    # A signature or date is a paragraph of its own; it reaches the right margin, so the
    # "ended short" rule below would not end it.
    if _right_aligned(prev, geo) or _right_aligned(cur, geo):
        return True
    em = geo.em
    if cur.page == prev.page:
        gap = prev.bottom - cur.bottom
        if gap > 1.25 * geo.pitch or gap < -0.5 * em:
            return True
    if prev.cjk_start and cur.cjk_start and abs(cur.height - prev.height) > 0.2 * prev.height:
        return True
    shortfall = max(geo.right - prev.x1, prev.slack)
    if shortfall > (leading_run_em(cur.text) + 1.0) * em:
        return True
    indent = cur.x0 - geo.left
    if indent > 0.8 * em:
        prev_full = prev.x0 - geo.left < 2.5 * em and shortfall < 2.5 * em
        # A centred paragraph wraps into centred lines under a (nearly) full one.
        centred = abs(indent - (geo.right - cur.x1)) < 1.0 * em
        # A block indented as a whole (a quotation) keeps wrapping at the same x.
        same_block = not prev_is_first and abs(cur.x0 - prev.x0) < 0.3 * em
        if not ((prev_full and centred) or same_block):
            return True
    if _NUMBERED.match(cur.text):
        return True
    return bool(_ENUMERATED.match(cur.text) and prev.text.endswith(_SENTENCE_END))


def build_paragraphs(pages: list[list[Line]]) -> list[str]:
    """Join lines into cleaned logical paragraphs in reading order."""
    pages = [_merge_same_baseline(p) for p in pages]
    pages = remove_furniture(pages)
    geo = geometry(pages)
    pages = [[unstretch(ln, geo) for ln in page] for page in pages]
    paragraphs: list[str] = []
    current = ""
    prev: Line | None = None
    prev_is_first = True
    for page in pages:
        for line in page:
            if prev is None or _starts_paragraph(prev, line, geo, prev_is_first):
                if current:
                    paragraphs.append(current)
                current = line.text
                prev_is_first = True
            else:
                current = join_wrapped(current, line.text, prev.trailing_space)
                prev_is_first = False
            prev = line
    if current:
        paragraphs.append(current)
    return clean_paragraphs(paragraphs)
