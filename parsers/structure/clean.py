"""Paragraph clean-up before structure: artefacts out, width and spaces normalized.

Readers already give logical paragraphs; this stage makes the text comparable across
formats (full-width ASCII letters/digits to half-width, odd spaces out) while keeping CJK
punctuation as written, and drops conversion artefacts (``[bookmark: _GoBack]``) and
publishing boilerplate listed in ``structure.toml``.
"""

from __future__ import annotations

import re

from parsers.numbers import to_halfwidth
from parsers.structure.vocab import vocab
from parsers.text import normalize_space

_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’"
# A space is meaningful only between two Latin/digit tokens ("Meta Sports"); next to CJK
# characters or CJK punctuation it is layout (PDF justification, "复  函", "1、 基本情况").
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}]) +| +(?=[{_CJK}])")
_ARTEFACT_INLINE = re.compile(r"\[bookmark: [^\]]*\]")


def clean_paragraph(text: str) -> str:
    """One paragraph as structure sees it: width-normalized (the readers' and the target
    extractor's shared helpers), table-cell tabs as spaces, layout spaces removed."""
    text = to_halfwidth(_ARTEFACT_INLINE.sub("", text)).replace("．", ".")
    text = normalize_space(text).replace("\t", " ")
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
