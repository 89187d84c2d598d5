"""A reading view of a paragraph: what the metadata and reply rules match against.

Mirror sites re-publish mainland documents in traditional characters and some insert the
pinyin of a character after it (``鎮(zhèn)康縣``, ``關(guān)于``: jl_reply_yj37-trad and
yn_reply_zk-trad of the dev corpus). Rules are written once, for simplified text; this
module gives them a simplified, pinyin-free view **for reading only**, with a map back
to the paragraph as published, so that every value the parser outputs is cut from the
original text (traditional characters stay traditional).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import opencc

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
#: ``(zhèn)`` right after a CJK character: a pinyin gloss a mirror inserted. A tone mark is
#: required, so ``面积(m)`` or ``(a)`` in a real document is never taken for one.
_PINYIN = re.compile(rf"(?<=[\u4e00-\u9fff])\((?=[a-zü{_TONED}]*[{_TONED}])[a-zü{_TONED}]{{1,7}}\)")


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def strip_pinyin(text: str) -> str:
    """The text without inserted pinyin glosses (a published value, cleaned of crawler damage)."""
    return _PINYIN.sub("", text)


def to_simplified(text: str) -> str:
    """Simplified characters, one output character per input character (so positions map)."""
    out = _converter().convert(text)
    if len(out) == len(text):
        return out
    chars = [_converter().convert(c) for c in text]
    return "".join(c if len(c) == 1 else o for c, o in zip(chars, text, strict=True))


@dataclass(frozen=True)
class Reading:
    """``text`` is the simplified, pinyin-free view of ``raw``; ``pos[i]`` is the index in
    ``raw`` of ``text[i]`` (plus one final entry for the end)."""

    raw: str
    text: str
    pos: tuple[int, ...]

    def raw_span(self, start: int, end: int) -> str:
        """The published text behind ``text[start:end]``, without pinyin glosses."""
        return strip_pinyin(self.raw[self.pos[start] : self.pos[end]])


def reading(raw: str) -> Reading:
    keep: list[int] = []
    last = 0
    for m in _PINYIN.finditer(raw):
        keep.extend(range(last, m.start()))
        last = m.end()
    keep.extend(range(last, len(raw)))
    text = to_simplified("".join(raw[i] for i in keep))
    return Reading(raw, text, (*keep, len(raw)))
