"""Paragraph clean-up before structure: artefacts out, width and spaces normalized.

Readers already give logical paragraphs; this stage makes the text comparable across
formats (full-width ASCII letters/digits to half-width, odd spaces out) while keeping CJK
punctuation as written, and drops conversion artefacts (``[bookmark: _GoBack]``) and
publishing boilerplate listed in ``structure.toml``.
"""

from __future__ import annotations

import re

from parsers.structure.vocab import vocab

# Full-width ASCII letters, digits and a few symbols -> half-width; CJK punctuation stays.
_WIDTH: dict[int, int | None] = {cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}  # ０-９
_WIDTH.update({cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_WIDTH.update({cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_WIDTH.update({0xFF05: ord("%"), 0xFF0E: ord("."), 0xFF0B: ord("+"), 0x3000: ord(" ")})
_WIDTH.update({0x00A0: ord(" "), 0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None})

_SPACE_RUN = re.compile(r"[ \t\r\f\v]+")
_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’"
# A space is meaningful only between two Latin/digit tokens ("Meta Sports"); next to CJK
# characters or CJK punctuation it is layout (PDF justification, "复  函", "1、 基本情况").
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}]) +| +(?=[{_CJK}])")
_ARTEFACT_INLINE = re.compile(r"\[bookmark: [^\]]*\]")


def normalize_width(text: str) -> str:
    """Full-width ASCII to half-width and odd spaces to plain ones; CJK punctuation kept."""
    return text.translate(_WIDTH)


def clean_paragraph(text: str) -> str:
    """One paragraph as structure sees it: width-normalized, layout spaces removed."""
    text = _ARTEFACT_INLINE.sub("", normalize_width(text))
    text = _SPACE_RUN.sub(" ", text).strip()
    return _SPACE_NEAR_CJK.sub("", text)


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """Clean every paragraph and drop the empty ones and the boilerplate lines."""
    drops = vocab().drop_patterns
    out: list[str] = []
    for raw in paragraphs:
        text = clean_paragraph(raw)
        if not text or any(p.search(text) for p in drops):
            continue
        out.append(text)
    return out
