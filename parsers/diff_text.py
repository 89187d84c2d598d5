"""Text normalization for comparing two versions of a document.

Two versions of the same content may differ in file format, line wrapping, full- vs
half-width punctuation, spaces and numbering style. None of that is a change, so every
comparison in the diff goes through these functions instead of comparing raw strings.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Punctuation NFKC leaves alone but that has a width/style twin; mapped so that keys built
#: from either form are equal.
_PUNCT_MAP = str.maketrans(
    {
        "〔": "(",
        "〕": ")",
        "【": "(",
        "】": ")",
        "［": "(",
        "］": ")",
        "[": "(",
        "]": ")",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "。": ".",
        "、": ",",
        "—": "-",
        "–": "-",
        "－": "-",
        "～": "~",
        "·": ".",
        "•": ".",
    }
)

_SPACE_RE = re.compile(r"\s+")
#: Everything that is not a letter or digit (after NFKC): punctuation never carries meaning
#: for change detection, so "key" strings drop it entirely.
_NON_WORD_RE = re.compile(r"[^0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff%]+")

#: Leading outline numbers: 一、 （一） (1) 1. 1、 1． ① 第一条 — stripped from titles and bodies
#: because the same task is numbered differently in another version or by Word autonumbering.
_CN_NUM = "一二三四五六七八九十百零〇两"
_LEADING_NUMBER_RE = re.compile(
    rf"""^\s*(?:
        [(（]\s*[0-9{_CN_NUM}]+\s*[)）]\s*[、.．,，]?   # （一） (1)
      | [0-9]+(?:\s*[.．]\s*[0-9]+)*\s*[.．、,，)）](?![0-9])  # 1. 1、 1.2. 1)
      | [{_CN_NUM}]+\s*[、.．,，]                       # 一、
      | 第[0-9{_CN_NUM}]+[条项章节部分]\s*[、.．,，:：]?     # 第一条
      | [\u2460-\u2473\u2776-\u277f]                    # ① ❶
    )\s*""",
    re.VERBOSE,
)

_NUMBER_STARTS = (
    frozenset("0123456789(（第" + _CN_NUM)
    | {chr(c) for c in range(0x2460, 0x2474)}
    | {chr(c) for c in range(0x2776, 0x2780)}
)

#: Unit clauses like "（责任单位：市经信局、市科技局）" at the end of a task body. Units are
#: compared as sets on their own, so the clause must not also count as a wording edit.
_UNIT_CLAUSE_RE = re.compile(r"[(（]?\s*(?:责任|牵头|配合|协办|主办|参与)?(?:单位|部门)\s*[:：]")
_UNIT_CLAUSE_END_RE = re.compile(r"[^()（）\n]*[)）]?")
_UNIT_KEYWORD_RE = re.compile(r"(?:单位|部门)\s*[:：]")


#: Full-width ASCII (！ to ～) and the ideographic space, as NFKC maps them, then the
#: punctuation twins: one ``str.translate`` does what NFKC would do for almost every
#: character of a Chinese government document, and NFKC itself (25 µs for a paragraph,
#: most of a diff's time) only runs when something else is left to normalize.
_FAST_MAP = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_FAST_MAP[0x3000] = " "
_FAST_MAP = {cp: str(v).translate(_PUNCT_MAP) for cp, v in _FAST_MAP.items()}
_FAST_MAP.update(_PUNCT_MAP)


_FAST_TABLE = {chr(cp): v for cp, v in _FAST_MAP.items()}
#: The characters of _FAST_MAP as one class (full-width block as a range). Finding which of
#: them occur and replacing each is ~3x faster than ``str.translate`` on CJK text.
_FAST_RE = re.compile(
    "[\uff01-\uff5e"
    + "".join(re.escape(c) for c in _FAST_TABLE if not 0xFF01 <= ord(c) <= 0xFF5E)
    + "]"
)


def _width(text: str) -> str:
    for ch in set(_FAST_RE.findall(text)):
        text = text.replace(ch, _FAST_TABLE[ch])
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text).translate(_PUNCT_MAP)
    return text


def clean(text: str) -> str:
    """NFKC, punctuation twins unified, all whitespace removed (CJK text has no word spaces)."""
    return _SPACE_RE.sub("", _width(text))


def strip_number(text: str) -> str:
    """Drop a leading outline number ("1." "（一）" "一、"), repeatedly ("三、（一）")."""
    if not text or text.lstrip()[:1] not in _NUMBER_STARTS:
        return text
    previous = None
    while previous != text:
        previous = text
        text = _LEADING_NUMBER_RE.sub("", text, count=1)
    return text


def strip_unit_clause(text: str) -> str:
    """Remove "（责任单位：…）"-style clauses; units are compared separately as sets.

    The pattern is only tried where a 单位/部门 keyword occurs: with its optional prefix it
    would otherwise be attempted at every character of every body.
    """
    if "单位" not in text and "部门" not in text:
        return text
    out: list[str] = []
    pos = 0
    for m in _UNIT_KEYWORD_RE.finditer(text):
        start = max(m.start() - 4, pos)  # room for "（责任" before "单位"
        clause = _UNIT_CLAUSE_RE.search(text, start, m.end())
        if clause is None:
            continue
        end = _UNIT_CLAUSE_END_RE.match(text, clause.end()).end()  # type: ignore[union-attr]
        out.append(text[pos : clause.start()])
        pos = end
    out.append(text[pos:])
    return "".join(out)


@lru_cache(maxsize=8192)
def key(text: str | None) -> str:
    """Comparison key: no numbering, no punctuation, no spaces, width-normalized."""
    if not text:
        return ""
    return _NON_WORD_RE.sub("", strip_number(clean(text)))


def body_key(text: str | None) -> str:
    """Key of a task body for wording comparison: :func:`key` without unit clauses."""
    if not text:
        return ""
    # no whitespace removal first: _NON_WORD_RE drops it with the punctuation
    return _NON_WORD_RE.sub("", strip_unit_clause(strip_number(_width(text))))


def number_key(number: str | None) -> str:
    """ "1." / "1、" / "（1）" / "(1)" all compare equal; None stays empty."""
    if not number:
        return ""
    return _NON_WORD_RE.sub("", clean(number))


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of a key (a single character counts as its own gram)."""
    if len(text) < 2:
        return frozenset((text,)) if text else frozenset()
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def gram_codes(text: str) -> npt.NDArray[np.int64]:
    """Character-bigram codes of a key as integers, duplicates kept (for sparse matrices).

    The same grams as :func:`bigrams`, computed in numpy: the diff of two 300-task versions
    builds them for every task, and Python sets of strings would cost most of the time.
    Deduplication happens once for all tasks in ``diff_align._dice_matrix``.
    """
    import numpy as np

    if not text:
        return np.zeros(0, dtype=np.int64)
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    if len(chars) == 1:
        return chars
    return chars[:-1] * 0x110000 + chars[1:]


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two gram sets; 1.0 when both are empty (nothing to tell apart)."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))
