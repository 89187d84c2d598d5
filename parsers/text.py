"""Text helpers shared by every reader: decoding, whitespace, CJK/Latin spacing.

All readers pass their paragraphs through :func:`clean_paragraph` so that the same
content gives the same string whatever the container (TXT, DOCX, PDF, HTML): that is
what lets the diff say "no change" between a PDF and a DOCX of one document.
"""

from __future__ import annotations

import codecs
import logging
import re

logger = logging.getLogger(__name__)

#: "A few bad bytes": at most this many, and at most one per ``BAD_BYTE_SPAN`` bytes. A GBK
#: page with a stray byte (a truncated character, a byte from a copy-paste) keeps its text
#: with U+FFFD in that place; a file in another encoding has far more and is not forced.
MAX_BAD_BYTES = 16
BAD_BYTE_SPAN = 200

#: Charset names (lower-case) that all mean "some subset of GB18030". Government pages
#: declare gb2312 but use GBK/GB18030 characters, so we always decode with the superset.
GB_FAMILY = frozenset(
    {
        "gb2312",
        "gbk",
        "gb18030",
        "x-gbk",
        "cp936",
        "ms936",
        "windows-936",
        "euc-cn",
        "csgb2312",
        "gb_2312-80",
        "gb_2312",
        "x-euc-cn",
        "chinese",
        "iso-ir-58",
    }
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """The encoding a byte-order mark announces and the BOM's length, or None."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            # A UTF-32-LE BOM starts with the UTF-16-LE one; UTF-32 is listed first, but
            # only trust it when the length is a multiple of 4.
            if name.startswith("utf-32") and (len(data) - len(bom)) % 4:
                continue
            return name, len(bom)
    return None


def canonical_charset(name: str | None) -> str | None:
    """Map a declared charset to the codec we decode it with (GB family -> gb18030)."""
    if not name:
        return None
    n = name.strip().strip("\"'").lower()
    if not n:
        return None
    if n in GB_FAMILY:
        return "gb18030"
    try:
        codecs.lookup(n)
    except LookupError:
        return None
    return n


def decode_lenient(data: bytes, encoding: str) -> tuple[str, int] | None:
    """``data`` decoded with each undecodable byte sequence as U+FFFD, and how many there
    were; None when there are more than a few (see ``MAX_BAD_BYTES``)."""
    limit = min(MAX_BAD_BYTES, max(1, len(data) // BAD_BYTE_SPAN))
    parts: list[str] = []
    pos, bad = 0, 0
    while True:
        try:
            parts.append(data[pos:].decode(encoding))
            return "".join(parts), bad
        except UnicodeDecodeError as exc:
            bad += 1
            if bad > limit:
                return None
            parts.append(data[pos : pos + exc.start].decode(encoding))
            parts.append("\ufffd")
            pos += max(exc.end, exc.start + 1)


def _lenient(data: bytes, names: tuple[str, ...]) -> str | None:
    for name in names:
        decoded = decode_lenient(data, name)
        if decoded is not None:
            text, bad = decoded
            logger.warning(
                "%d undecodable byte sequence(s) in %s text replaced with U+FFFD", bad, name
            )
            return text
    return None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode document bytes: BOM, declared charset, strict UTF-8, strict GB18030, the same
    with a few bad bytes replaced (logged as a warning), detection.

    charset-normalizer is the last resort only: on short GBK pages it often guesses a
    Cyrillic or Big5 code page, whereas a GB18030 decode that succeeds (bar a stray byte or
    two) is almost always right for Chinese government text.
    """
    bom = bom_encoding(data)
    if bom is not None:
        name, skip = bom
        return data[skip:].decode(name, errors="replace")
    charset = canonical_charset(declared)
    if charset is not None:
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            pass
    for name in ("utf-8", "gb18030"):
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    # A declared GB/UTF-8 charset first: a GBK page with one stray byte is still GBK.
    order = tuple(dict.fromkeys(n for n in (charset, "utf-8", "gb18030") if n in _LENIENT))
    text = _lenient(data, order)
    if text is not None:
        return text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        enc = canonical_charset(best.encoding) or "utf-8"
        return data.decode(enc, errors="replace")
    return data.decode("utf-8", errors="replace")


#: Encodings decoded leniently: the ones Chinese government text comes in.
_LENIENT = frozenset({"utf-8", "gb18030"})


# Whitespace -----------------------------------------------------------------------------

#: Characters deleted outright: zero-width spaces/joiners, word joiner, BOM, soft hyphen.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))
#: Horizontal spaces other than tab: NBSP, en/em/thin spaces, ideographic space, etc.
_SPACE_RUN = re.compile(r"[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\r\n\v\f\x85\u2028\u2029]+")
_TAB_RUN = re.compile(r" ?\t[\t ]*")


def normalize_space(s: str) -> str:
    """Collapse every run of (Unicode) spaces to one ASCII space and strip.

    Tabs survive (collapsed to one, without surrounding spaces) because readers use a tab
    to separate table cells in a row; zero-width characters are removed.
    """
    s = s.translate(_ZERO_WIDTH)
    s = _SPACE_RUN.sub(" ", s)
    if "\t" in s:
        s = _TAB_RUN.sub("\t", s)
    return s.strip(" \t")


# CJK / Latin spacing ---------------------------------------------------------------------

#: CJK ideographs, CJK punctuation, full-width forms, bopomofo/kana are "CJK side".
_CJK = (
    r"\u2e80-\u2eff\u2f00-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31c0-\u31ef"
    r"\u3200-\u32ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    r"\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"
)
#: Half-width characters that glue to CJK text without a space in print.
_LATIN = r"0-9A-Za-z%‰℃°"
_CJK_THEN_LATIN = re.compile(rf"(?<=[{_CJK}]) +(?=[{_LATIN}])")
_LATIN_THEN_CJK = re.compile(rf"(?<=[{_LATIN}]) +(?=[{_CJK}])")


def fix_cjk_digit_spaces(s: str) -> str:
    """Drop the spaces PDF extraction puts between CJK text and digits/Latin letters.

    ``第 343 号`` -> ``第343号``, ``2022 年 1 月`` -> ``2022年1月``, ``Web3.0 技术`` ->
    ``Web3.0技术``; a space between two Latin words (``Meta Sports``) is kept, and so is
    a space between two CJK characters (``复 函`` is how the letterhead spells it).
    """
    if " " not in s:
        return s
    s = _CJK_THEN_LATIN.sub("", s)
    return _LATIN_THEN_CJK.sub("", s)


def clean_paragraph(s: str) -> str:
    """The one normalization every reader applies to every paragraph it emits."""
    return fix_cjk_digit_spaces(normalize_space(s))


def clean_paragraphs(items: list[str]) -> list[str]:
    """Clean each paragraph and drop the ones left empty."""
    out = []
    for item in items:
        c = clean_paragraph(item)
        if c:
            out.append(c)
    return out


_CJK_CHAR = re.compile(rf"[{_CJK}]")


def is_cjk_char(ch: str) -> bool:
    """True for a CJK ideograph or CJK/full-width punctuation character."""
    return bool(_CJK_CHAR.match(ch))


def join_wrapped(prev: str, nxt: str, prev_had_trailing_space: bool = False) -> str:
    """Join a hard-wrapped line to the text before it.

    No space between CJK characters (Chinese has none); a space between two Latin words
    when the source line ended with a space or both sides are letters (``Meta`` +
    ``Sports``). A hyphen at the end (``2023-`` + ``2025``) joins tight.
    """
    if not prev:
        return nxt
    if not nxt:
        return prev
    a, b = prev[-1], nxt[0]
    if is_cjk_char(a) or is_cjk_char(b) or a == "-":
        return prev + nxt
    if prev_had_trailing_space or (a.isalpha() and b.isalpha()):
        return prev + " " + nxt
    return prev + nxt
