"""Decimal-safe parsing of the numbers written in Chinese government documents.

Only a *single* number string is ever converted here: the caller (``parsers.targets``) decides
where a quantity starts and ends. Running a numeral converter over whole text corrupts words
such as 一批, 一体化, 统一, 一站式 and 万物, so nothing in this module scans running text.

Multipliers written next to a unit (``1500亿元``, ``3万人``) stay in the unit: ``parse_number``
does not accept ``"3万"``. A pure Chinese numeral is a different matter: ``三万五千`` is one number
and :func:`cn_to_decimal` gives 35000.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["CN_DIGITS", "CN_NUMERAL_CHARS", "cn_to_decimal", "parse_number", "to_halfwidth"]

#: Digit characters, including the financial (大写) forms used in contracts and budgets.
CN_DIGITS: dict[str, int] = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "貳": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "叁": 3,
    "參": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "陸": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}

#: Place values below 万; they multiply the digit before them within one section.
_SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
#: Section values: they multiply everything accumulated since the last larger section.
_BIG_UNITS: dict[str, int] = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}

CN_NUMERAL_CHARS = "".join([*CN_DIGITS, *_SMALL_UNITS, *_BIG_UNITS])

# Full-width digits, Latin letters and the few symbols that matter for numbers, mapped 1:1 so
# positions in the text do not move.
_HALFWIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "％": "%",
        "﹪": "%",
        "＋": "+",
        "／": "/",
    }
)

_ARABIC_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_PERCENT_WORD = "百分之"


def to_halfwidth(s: str) -> str:
    """Map full-width digits/letters/％ to ASCII without changing the string's length."""
    return s.translate(_HALFWIDTH)


def _cn_integer(s: str) -> int | None:
    """Integer value of a Chinese numeral without a decimal point, or None if malformed."""
    if not s:
        return None
    # Positional digit strings: 二〇二五 -> 2025 (no place-value characters at all).
    if all(ch in CN_DIGITS for ch in s):
        if len(s) == 1:
            return CN_DIGITS[s]
        if any(ch in "两兩" for ch in s):  # 两 is never used positionally
            return None
        return int("".join(str(CN_DIGITS[ch]) for ch in s))

    total = 0  # completed 亿 sections
    section = 0  # completed 万 part inside the current 亿 section
    current = 0  # value below 万 being built
    digit: int | None = None
    last_small = 10**9  # place values inside one section must decrease: 三千五百, not 五百三千
    last_big = 10**12
    for ch in s:
        if ch in CN_DIGITS:
            if digit is not None and CN_DIGITS[ch] != 0 and digit != 0:
                return None  # two digits in a row inside a place-value numeral: 三五百
            digit = CN_DIGITS[ch]
        elif ch in _SMALL_UNITS:
            place = _SMALL_UNITS[ch]
            if place >= last_small:
                return None
            if digit is None or digit == 0:
                # A bare 十 starts a number (十五) or follows 零 (一千零十); a bare 百/千 does not.
                if place != 10 or (current and digit is None):
                    return None
                digit = 1
            current += digit * place
            digit = None
            last_small = place
        elif ch in _BIG_UNITS:
            big = _BIG_UNITS[ch]
            value = current + (digit or 0)
            if value == 0 and section == 0 and total == 0:
                return None  # 万 or 亿 with nothing before it
            if big == 100_000_000:
                if last_big <= big and total:
                    return None
                total = (total + section + value) * big
                section = 0
            else:
                if last_big <= big:
                    return None
                section = value * big
            last_big = big
            current = 0
            digit = None
            last_small = 10**9
        else:
            return None
    return total + section + current + (digit or 0)


def cn_to_decimal(s: str) -> Decimal | None:
    """Value of a Chinese numeral: 十五 -> 15, 两千 -> 2000, 三千五百 -> 3500, 壹佰 -> 100.

    Also 二〇二五 -> 2025 (positional digits) and 一点五 -> 1.5. Anything else, including
    Arabic digits or stray characters, gives None: callers use None as "not a number".
    """
    s = s.strip()
    if not s:
        return None
    whole, sep, frac = s.partition("点")
    integer = _cn_integer(whole)
    if integer is None:
        return None
    if not sep:
        return Decimal(integer)
    if not frac or not all(ch in CN_DIGITS and ch not in "两兩" for ch in frac):
        return None
    return Decimal(f"{integer}.{''.join(str(CN_DIGITS[ch]) for ch in frac)}")


def parse_number(s: str) -> Decimal | None:
    """Parse one number as written: "1500", "1,500", "1.5", "十五", "两千", "百分之五十" -> 50.

    Thousands separators must be well placed ("1,500" yes, "15,00" no). A multiplier glued to
    Arabic digits ("3万") is not accepted: multipliers belong to the unit (``3`` + ``万人``).
    Returns None for anything that is not exactly one number.
    """
    s = to_halfwidth(s.strip())
    if s.startswith(_PERCENT_WORD):
        s = s[len(_PERCENT_WORD) :]
        if not s:
            return None
    if _ARABIC_RE.fullmatch(s):
        try:
            return Decimal(s.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
            return None
    return cn_to_decimal(s)
