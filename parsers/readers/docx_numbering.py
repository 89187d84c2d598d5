"""Word automatic numbering: rebuild the list labels Word prints but does not store.

In a DOCX, ``（一）`` or ``1.`` in front of an auto-numbered paragraph lives in
``numbering.xml`` (an abstract list definition per level: start value, number format,
label pattern such as ``（%1）``) and is computed at render time from a counter. The
structure stage needs those numbers as text, so :class:`Numbering` replays the
counters in document order, the way Word and LibreOffice do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W}}}"


def w(tag: str) -> str:
    return _W + tag


def _val(el: etree._Element | None, default: str | None = None) -> str | None:
    if el is None:
        return default
    return el.get(w("val"), default)


def _int(el: etree._Element | None, default: int) -> int:
    v = _val(el)
    try:
        return int(v) if v is not None else default
    except ValueError:
        return default


# Number formats ---------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def _chinese(n: int, digits: str = _CN_DIGITS, units: str = "十百千") -> str:
    """1 -> 一, 10 -> 十, 11 -> 十一, 21 -> 二十一, 105 -> 一百零五 (how Word counts)."""
    if n <= 0:
        return digits[0]
    if n >= 10000:
        return str(n)
    parts: list[str] = []
    s = str(n)
    zero = False
    for i, ch in enumerate(s):
        d = int(ch)
        pos = len(s) - 1 - i
        if d == 0:
            zero = bool(parts)
            continue
        if zero:
            parts.append(digits[0])
            zero = False
        unit = "" if pos == 0 else units[pos - 1]
        parts.append(digits[d] + unit)
    out = "".join(parts)
    if 10 <= n < 20 and out.startswith(digits[1] + units[0]):
        out = out[1:]  # 十一, not 一十一
    return out


def _letters(n: int, upper: bool) -> str:
    """Word repeats the letter: A..Z, AA..ZZ, AAA..."""
    if n <= 0:
        return ""
    letter = chr(ord("A" if upper else "a") + (n - 1) % 26)
    return letter * ((n - 1) // 26 + 1)


def _roman(n: int, upper: bool) -> str:
    if n <= 0 or n >= 4000:
        return str(n)
    table = [
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ]  # fmt: skip
    out = []
    for value, sym in table:
        while n >= value:
            out.append(sym)
            n -= value
    s = "".join(out)
    return s if upper else s.lower()


def _enclosed(n: int, first: int, count: int) -> str:
    return chr(first + n - 1) if 1 <= n <= count else str(n)


def _circled(n: int) -> str:
    if 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if 21 <= n <= 35:
        return chr(0x3251 + n - 21)
    if 36 <= n <= 50:
        return chr(0x32B1 + n - 36)
    return str(n)


_GAN = "甲乙丙丁戊己庚辛壬癸"
_ZHI = "子丑寅卯辰巳午未申酉戌亥"

FORMATTERS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "upperLetter": lambda n: _letters(n, True),
    "lowerLetter": lambda n: _letters(n, False),
    "upperRoman": lambda n: _roman(n, True),
    "lowerRoman": lambda n: _roman(n, False),
    "chineseCounting": _chinese,
    "chineseCountingThousand": _chinese,
    "japaneseCounting": _chinese,
    "taiwaneseCounting": _chinese,
    "taiwaneseCountingThousand": _chinese,
    "ideographDigital": lambda n: "".join(_CN_DIGITS[int(c)] for c in str(n)),
    "chineseLegalSimplified": lambda n: _chinese(n, _CN_LEGAL_DIGITS, "拾佰仟"),
    "ideographLegalTraditional": lambda n: _chinese(n, _CN_LEGAL_DIGITS, "拾佰仟"),
    "ideographTraditional": lambda n: _GAN[(n - 1) % 10] if n > 0 else str(n),
    "ideographZodiac": lambda n: _ZHI[(n - 1) % 12] if n > 0 else str(n),
    "decimalEnclosedCircle": _circled,
    "decimalEnclosedCircleChinese": _circled,
    "ideographEnclosedCircle": lambda n: _enclosed(n, 0x3280, 10),
    "decimalEnclosedParen": lambda n: _enclosed(n, 0x2474, 20),
    "decimalEnclosedFullstop": lambda n: _enclosed(n, 0x2488, 20),
    "decimalFullWidth": lambda n: "".join(chr(0xFF10 + int(c)) for c in str(n)),
    "decimalFullWidth2": lambda n: "".join(chr(0xFF10 + int(c)) for c in str(n)),
    "decimalHalfWidth": str,
    "ordinal": lambda n: f"{n}.",
    "cardinalText": str,
    "ordinalText": str,
    "none": lambda n: "",
}


def format_number(n: int, fmt: str) -> str:
    """Render counter ``n`` in Word number format ``fmt`` (unknown formats: decimal)."""
    return FORMATTERS.get(fmt, str)(n)


# Definitions ------------------------------------------------------------------------


@dataclass
class Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = ""  # lvlText, e.g. "（%1）"
    restart: int | None = None  # lvlRestart: restart after this (1-based) level; 0 = never
    suffix: str = "tab"  # w:suff: tab | space | nothing
    legal: bool = False  # w:isLgl: show all levels as decimal


def _parse_level(el: etree._Element) -> Level:
    restart_el = el.find(w("lvlRestart"))
    legal_el = el.find(w("isLgl"))
    return Level(
        start=_int(el.find(w("start")), 1),
        fmt=_val(el.find(w("numFmt")), "decimal") or "decimal",
        text=_val(el.find(w("lvlText")), "") or "",
        restart=_int(restart_el, 0) if restart_el is not None else None,
        suffix=_val(el.find(w("suff")), "tab") or "tab",
        legal=legal_el is not None and _val(legal_el, "1") not in ("0", "false"),
    )


@dataclass
class NumDef:
    levels: dict[int, Level] = field(default_factory=dict)
    start_overrides: dict[int, int] = field(default_factory=dict)


def _ilvl(el: etree._Element) -> int:
    try:
        return int(el.get(w("ilvl"), "0"))
    except ValueError:
        return 0


class Numbering:
    """numbering.xml + styles.xml, and the running counters of one document."""

    def __init__(
        self, numbering_xml: etree._Element | None, styles_xml: etree._Element | None
    ) -> None:
        self._nums: dict[str, NumDef] = {}
        self._style_num: dict[str, tuple[str | None, int | None]] = {}
        self._style_based: dict[str, str] = {}
        self._counters: dict[str, dict[int, int]] = {}
        if styles_xml is not None:
            self._load_styles(styles_xml)
        if numbering_xml is not None:
            self._load_numbering(numbering_xml)

    def _load_styles(self, root: etree._Element) -> None:
        for style in root.iter(w("style")):
            sid = style.get(w("styleId"))
            if not sid:
                continue
            based = style.find(w("basedOn"))
            if based is not None and _val(based):
                self._style_based[sid] = _val(based) or ""
            num_pr = style.find(f"{w('pPr')}/{w('numPr')}")
            if num_pr is not None:
                num_id = _val(num_pr.find(w("numId")))
                ilvl_el = num_pr.find(w("ilvl"))
                self._style_num[sid] = (num_id, _int(ilvl_el, 0) if ilvl_el is not None else None)

    def _load_numbering(self, root: etree._Element) -> None:
        abstract: dict[str, etree._Element] = {}
        for an in root.iter(w("abstractNum")):
            aid = an.get(w("abstractNumId"))
            if aid is not None:
                abstract[aid] = an
        for num in root.iter(w("num")):
            num_id = num.get(w("numId"))
            aid = _val(num.find(w("abstractNumId")))
            if num_id is None or aid is None or aid not in abstract:
                continue
            an = self._follow_style_link(abstract[aid], abstract, root)
            nd = NumDef(levels={_ilvl(lv): _parse_level(lv) for lv in an.iter(w("lvl"))})
            for ov in num.iter(w("lvlOverride")):
                ilvl = _ilvl(ov)
                so = ov.find(w("startOverride"))
                if so is not None:
                    nd.start_overrides[ilvl] = _int(so, 1)
                lv = ov.find(w("lvl"))
                if lv is not None:
                    nd.levels[ilvl] = _parse_level(lv)
            self._nums[num_id] = nd

    def _follow_style_link(
        self, an: etree._Element, abstract: dict[str, etree._Element], root: etree._Element
    ) -> etree._Element:
        """An abstractNum with numStyleLink takes its levels from a numbering style's list."""
        link = _val(an.find(w("numStyleLink")))
        if not link or link not in self._style_num:
            return an
        num_id = self._style_num[link][0]
        for num in root.iter(w("num")):
            if num.get(w("numId")) == num_id:
                target = abstract.get(_val(num.find(w("abstractNumId"))) or "")
                if target is not None and target is not an:
                    return target
        return an

    def _from_style(self, style_id: str | None) -> tuple[str | None, int | None]:
        seen: set[str] = set()
        while style_id and style_id not in seen:
            seen.add(style_id)
            if style_id in self._style_num:
                return self._style_num[style_id]
            style_id = self._style_based.get(style_id)
        return None, None

    def label(self, p: etree._Element) -> str:
        """The list label Word prints before paragraph ``p`` (advancing the counters)."""
        if not self._nums:
            return ""
        ppr = p.find(w("pPr"))
        num_id: str | None = None
        ilvl: int | None = None
        style_id = None
        if ppr is not None:
            style_id = _val(ppr.find(w("pStyle")))
            num_pr = ppr.find(w("numPr"))
            if num_pr is not None:
                num_id = _val(num_pr.find(w("numId")))
                ilvl_el = num_pr.find(w("ilvl"))
                if ilvl_el is not None:
                    ilvl = _int(ilvl_el, 0)
        if num_id is None or ilvl is None:
            s_num, s_ilvl = self._from_style(style_id)
            num_id = num_id if num_id is not None else s_num
            ilvl = ilvl if ilvl is not None else s_ilvl
        if num_id is None or num_id == "0" or num_id not in self._nums:
            return ""
        return self._advance(num_id, ilvl or 0)

    def _advance(self, num_id: str, ilvl: int) -> str:
        nd = self._nums[num_id]
        level = nd.levels.get(ilvl)
        if level is None:
            return ""
        counters = self._counters.setdefault(num_id, {})

        def start_of(i: int) -> int:
            lv = nd.levels.get(i)
            return nd.start_overrides.get(i, lv.start if lv else 1)

        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start_of(ilvl)
        for deeper in [k for k in counters if k > ilvl]:
            lv = nd.levels.get(deeper)
            # Default: a level restarts whenever a shallower one advances. lvlRestart="N"
            # (1-based) restarts it only when level N or a shallower one advances; "0" never.
            restart = None if lv is None else lv.restart
            if restart is None or ilvl < restart:
                del counters[deeper]
        if level.fmt == "bullet" or not level.text:
            return ""
        out = level.text
        for i in range(9):
            token = f"%{i + 1}"
            if token not in out:
                continue
            n = counters.get(i, start_of(i))
            lv = nd.levels.get(i)
            fmt = "decimal" if level.legal else (lv.fmt if lv else "decimal")
            out = out.replace(token, format_number(n, fmt))
        if level.suffix == "nothing" or not out:
            return out
        # Word separates the label by a tab or space; what people type is "1. 做…"
        # but "（一）做…" / "一、做…" / "①做…" (no space after a non-ASCII label).
        return out if not out[-1].isascii() else out + " "
