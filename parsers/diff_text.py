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

#: Unit clauses like "（责任单位：市经信局、市科技局）" at the end of a task body. Units are
#: compared as sets on their own, so the clause must not also count as a wording edit.
_UNIT_CLAUSE_RE = re.compile(
    r"[(（]?\s*(?:责任|牵头|配合|协办|主办|参与)?(?:单位|部门)\s*[:：][^()（）\n]*[)）]?"
)


def nfkc(text: str) -> str:
    """Width-normalize (full-width letters, digits, brackets, ％ become half-width)."""
    return unicodedata.normalize("NFKC", text)


def clean(text: str) -> str:
    """NFKC, punctuation twins unified, all whitespace removed (CJK text has no word spaces)."""
    return _SPACE_RE.sub("", nfkc(text).translate(_PUNCT_MAP))


def strip_number(text: str) -> str:
    """Drop a leading outline number ("1." "（一）" "一、"), repeatedly ("三、（一）")."""
    previous = None
    while previous != text:
        previous = text
        text = _LEADING_NUMBER_RE.sub("", text, count=1)
    return text


def strip_unit_clause(text: str) -> str:
    """Remove "（责任单位：…）"-style clauses; units are compared separately as sets."""
    return _UNIT_CLAUSE_RE.sub("", text)


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
    return _NON_WORD_RE.sub("", strip_unit_clause(strip_number(clean(text))))


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
    """Sorted unique character-bigram codes of a key, as integers (for sparse matrices).

    The same grams as :func:`bigrams`, but computed in numpy: the diff of two 300-task
    versions builds these for every task, and Python sets of strings cost most of the time.
    """
    import numpy as np

    if not text:
        return np.zeros(0, dtype=np.int64)
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    if len(chars) == 1:
        return chars
    return np.unique(chars[:-1] * 0x110000 + chars[1:])


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two gram sets; 1.0 when both are empty (nothing to tell apart)."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))
