"""Quantified targets in one paragraph: "到2025年…产业规模达到1500亿元" -> 1500 亿元 2025 >=.

How it works, and why:

* One precompiled regular expression finds every *number + measure unit* in the paragraph
  (units from ``data/target_vocab.toml``, longest first). A number without a unit is never a
  target, which by itself rules out years (2025年), dates (5月23日), phone numbers, 文号 and
  versions (5G, Web3.0, IPv6). Chinese numerals count only when a unit follows directly, so
  一体化/统一/一站式/万物 are never touched; a lone 一 is an article (一批, 一个), not a count.
* Ordinals (第六版, 第十二次, 十六届二次会议), estimates (数千名), book titles 《…》 and short
  quoted slogans (“11个1”, “五大行动、十五项重点任务”) are excluded by table-driven checks.
* Each quantity is then read in its *clause* (the text between ，：, inside the sentence) for the
  comparator and the metric, and in its *sentence* (up to 。；) for the due year and for
  ``forward_only``; ``Target.text`` is that sentence.
* The metric is taken from words only, never from the number, so a revision that changes
  1500亿元 to 2000亿元 keeps the same metric and the diff can align the two targets.

Metric rule (documented for the diff and for reviewers): when a noun follows the unit
(引进培育10家具有…的“链主企业”) the metric is that noun, cut at the last 的 and at a following
quotation or bracket (20万平方米产业载体“重庆元宇宙中心” -> 产业载体); otherwise (and first for
ratios such as %) it is the words before the number after the last goal verb, modal word or
year expression (2022年将引进元宇宙相关企业50家以上 -> 元宇宙相关企业). Quotation marks are
removed (“元宇宙”相关产业规模 -> 元宇宙相关产业规模), modifiers up to 的/赛道/领域/方面 are
dropped, and metrics longer than ``max_len`` keep their tail (the head noun).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from parsers.numbers import CN_NUMERAL_CHARS, parse_number, to_halfwidth
from parsers.schema import Comparator, Target, number

__all__ = ["VOCAB_PATH", "extract_targets", "is_threshold_heading"]

VOCAB_PATH = Path(__file__).parent / "data" / "target_vocab.toml"

_SENTENCE_RE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?]*")
# Clause separators; an ASCII comma between digits is a thousands separator (1,200家).
_CLAUSE_SEPS = "，：:,"
# PDF/Word text sometimes has spaces between CJK and digits ("2022 年 50家"); numbers must be
# whole for matching, and the sentence reads better without them.
_SPACE_RE = re.compile(r"[ \t\u3000\xa0]+")
_FULLWIDTH_RE = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a％﹪＋／．]")
_FULLWIDTH_POINT_RE = re.compile(r"(?<=[0-9])．(?=[0-9])")
_MONTH_RE = re.compile(r"[0-9]{1,2}月")
# The base of a comparison inside a metric: 同比2022年, 较2020年, 比上年.
_COMPARISON_RE = re.compile(r"(?:同比|较|比)(?:[0-9]{4}年(?:度)?|上年|去年)")
_LEAD_MONTH_RE = re.compile(
    r"^(?:[0-9]{1,2}月(?:[0-9]{1,2}日)?(?:底|末|上旬|中旬|下旬)?(?:前|以前|之前)?)"
)
_CJK_SPACE_RE = re.compile(r"(?<=[^\x00-\x7f])[ \t\u3000]+|[ \t\u3000]+(?=[^\x00-\x7f])")
_LEADING_DASHES = "——－-—–·•● \t\u3000"
_ASCII_RE = re.compile(r"[A-Za-z]")
# Words that join two listed quantities: 5个园区、3个基地; 5个大棚和1个混音棚.
_CONNECTORS = "、和及与"


def _trie(words: list[str]) -> str:
    """Regex for literal words factored by common prefix: 个(?:百分点|工作日|…)?.

    Equivalent to a longest-first alternation, but the engine looks at each character once
    instead of trying every word in turn; the unit list is tried at every candidate number.
    """
    tree: dict[str, Any] = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a word may end here; try the longer words first
            return f"(?:{body})?"
        return body

    return emit(tree)


def _alternation(words: list[str] | set[str], *, ci_ascii: bool = False) -> str:
    """Regex matching any of the literal words, the longest possible (个百分点 over 个).

    Words with Latin letters must not run into more letters (GB is not the start of GBK);
    with ``ci_ascii`` they match in any case.
    """
    unique = sorted(set(w for w in words if w))
    cjk = [w for w in unique if not _ASCII_RE.search(w)]
    parts = [_trie(cjk)] if cjk else []
    for w in sorted((w for w in unique if _ASCII_RE.search(w)), key=lambda w: (-len(w), w)):
        esc = re.escape(w)
        parts.append(f"(?i:{esc})(?![A-Za-z])" if ci_ascii else f"{esc}(?![A-Za-z])")
    return "|".join(parts)


#: "N以下的X" / "N(含)以下的X" names a class of X by an upper bound (eligibility), not a number to
#: reach: "辖区范围内6亩以下(不含6亩)的土地使用转让手续" (yn_km_guandu_2016), "在職職工總數30人(含)
#: 以下的企業暫免征收" (heldout gd_dongguan_2021). ("N以上的X" is often the count itself: 建成230座
#: 以上的公园, sh_fx; 将70%以上的源头实效比例分解到…, sh_bs.)
_BELOW_OF = re.compile(r"(?:[（(][^）)]{0,8}[）)])?及?(?:以下|以内)(?:[（(][^）)]{0,8}[）)])?的")
_BRACKET_OF = re.compile(r"(?:[（(][^）)]{0,8}[）)])?的")

#: Count words of items (项, 条, 个…), as opposed to measures (亿元, 平方公里).
_ITEM_UNITS = frozenset({"项", "条", "个", "件", "类", "大"})


@dataclass(frozen=True)
class _Vocab:
    """The TOML tables, compiled once per process."""

    quantity: re.Pattern[str]
    multipliers: dict[str, Decimal]
    blocked: frozenset[str]
    cn_start: frozenset[str]
    lone_articles: frozenset[str]
    fixed_words: tuple[str, ...]
    reject_after: tuple[str, ...]
    threshold_before: tuple[str, ...]
    floor_words: tuple[str, ...]
    threshold_headings: tuple[str, ...]
    cn_reject_after: tuple[str, ...]
    approx_infix: dict[str, Comparator]
    slogans_after_unit: tuple[re.Pattern[str], ...]
    not_followed_by: dict[str, tuple[str, ...]]
    excluded_spans: re.Pattern[str]
    prefix_cmp: tuple[tuple[str, Comparator], ...]
    suffix_cmp: dict[str, Comparator]
    goal_verbs: re.Pattern[str]
    range_default: Comparator
    year: re.Pattern[str]
    year_prefix_forward: frozenset[str]
    bare_reject_before: tuple[str, ...]
    bare_reject_after: tuple[str, ...]
    year_bounds: tuple[int, int]
    forward: re.Pattern[str]
    forward_nouns: re.Pattern[str] | None
    past_nouns: re.Pattern[str] | None
    past: re.Pattern[str]
    cut_after: re.Pattern[str]
    drop_words: re.Pattern[str]
    strip_through: tuple[str, ...]
    strip_chars: dict[int, None]
    trim_chars: str
    max_len: int
    prefer_before: frozenset[str]
    noun_words: re.Pattern[str] | None
    adjective_when_compared: frozenset[str]
    trailing_modals: tuple[str, ...]
    structure_nouns: tuple[str, ...]
    deadline_skip_lead: tuple[str, ...]
    deadline_scope: tuple[str, ...]


def _load_vocab(path: Path = VOCAB_PATH) -> _Vocab:
    with path.open("rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    units, nums, cmp_, yr, fwd, met = (
        data["units"],
        data["numbers"],
        data["comparators"],
        data["year"],
        data["forward"],
        data["metric"],
    )
    ci = bool(units.get("ascii_case_insensitive", True))
    bases = _alternation([*units["scalable"], *units["plain"], *units["blocked"]], ci_ascii=ci)
    mults = _alternation(list(units["multipliers"]))
    approx = _alternation(list(nums["approx_infix"]))
    seps = _alternation(nums["range_separators"])
    suffixes = _alternation(list(cmp_["suffix"]))
    cn_chars = "".join(ch for ch in CN_NUMERAL_CHARS if ch not in "万萬亿億")
    # Bounded repetitions: a long run of digits or numerals that is not followed by a unit
    # would otherwise be retried at every length from every start (quadratic or worse).
    cn_num = f"[{cn_chars}]{{1,12}}(?:[万亿][{cn_chars}]{{1,8}}){{0,2}}"
    # No look-behind here: a pattern that starts with a character class lets the regex engine
    # skip ahead quickly. "Preceded by a letter or digit" (IPv6, Web3.0) is checked afterwards.
    arabic = r"(?:[0-9]{1,3}(?:,[0-9]{3}){1,5}(?![0-9])|[0-9]{1,15})(?:\.[0-9]{1,8})?"
    num = f"(?:{arabic}|{cn_num})"
    # Characters that may follow a number in a quantity (a unit, multiplier, approximation,
    # range separator or space): checked with one lookahead so that the many numerals that are
    # not quantities (统一, 一体化) fail at once instead of trying every unit.
    words = [*units["scalable"], *units["plain"], *units["blocked"], *units["multipliers"]]
    words += [*nums["approx_infix"], *nums["range_separators"], " ", "\t"]
    first = {w[0] for w in words if w}
    if ci:
        first |= {c.swapcase() for c in first if c.isascii()}
    follow = "".join(re.escape(c) for c in sorted(first))
    quantity = re.compile(
        "(?:"
        f"(?P<pct>百分之)(?P<pn>{num})"
        "|"
        f"(?P<n1>{num})(?=[{follow}])"
        f"(?:(?P<u1m>{mults})?(?P<u1b>{bases})?[ \t]*(?P<sep>{seps})[ \t]*(?P<n2>{num}))?"
        f"(?P<approx0>{approx})?(?P<mult>{mults})?(?P<approx>{approx})?(?P<base>{bases})"
        ")"
        f"(?P<suffix>{suffixes})?"
    )
    spans = []
    for spec in nums["excluded_spans"]:
        op, cl, mx = re.escape(spec["open"]), re.escape(spec["close"]), int(spec.get("max", 0))
        body = f"[^{op}{cl}\n]{{0,{mx}}}" if mx else f"[^{op}{cl}]*"
        spans.append(f"{op}{body}{cl}")
    prefix_cmp = tuple(sorted(cmp_["prefix"].items(), key=lambda kv: -len(kv[0])))
    year_pre = _alternation(yr["prefixes"])
    year_post = _alternation(yr["suffixes"])
    year = re.compile(f"(?P<pre>{year_pre})?(?<![0-9])(?P<y>[0-9]{{4}})年(?P<post>{year_post})?")
    past_parts = [_alternation(fwd["past_markers"]), *fwd.get("past_patterns", [])]
    return _Vocab(
        quantity=quantity,
        multipliers={k: Decimal(v) for k, v in units["multipliers"].items()},
        blocked=frozenset(units["blocked"]),
        cn_start=frozenset(nums["cn_start"]),
        lone_articles=frozenset(nums["lone_articles"]),
        fixed_words=tuple(sorted(nums.get("fixed_words", []), key=len, reverse=True)),
        reject_after=tuple(nums["reject_after"]),
        threshold_before=tuple(nums.get("threshold_before", [])),
        floor_words=tuple(nums.get("floor_in_brackets", [])),
        threshold_headings=tuple(data["sections"]["threshold_headings"]),
        cn_reject_after=tuple(nums.get("cn_reject_after", [])),
        approx_infix=dict(nums["approx_infix"]),
        slogans_after_unit=tuple(re.compile(p) for p in nums["slogans_after_unit"]),
        not_followed_by={k: tuple(w) for k, w in nums.get("not_followed_by", {}).items()},
        excluded_spans=re.compile("|".join(spans)),
        prefix_cmp=prefix_cmp,
        suffix_cmp=dict(cmp_["suffix"]),
        goal_verbs=re.compile(_alternation(cmp_["goal_verbs"])),
        range_default=cmp_["range_default"],
        year=year,
        year_prefix_forward=frozenset(p for p in yr["prefixes"] if not p.startswith("截")),
        bare_reject_before=tuple(yr["bare_reject_before"]),
        bare_reject_after=tuple(yr["bare_reject_after"]),
        year_bounds=(int(yr["earliest"]), int(yr["latest"])),
        forward=re.compile(_alternation(fwd["markers"])),
        forward_nouns=re.compile(_alternation(fwd["forward_nouns"]))
        if fwd.get("forward_nouns")
        else None,
        past_nouns=re.compile(_alternation(fwd["past_nouns"])) if fwd.get("past_nouns") else None,
        past=re.compile("|".join(f"(?:{p})" for p in past_parts)),
        cut_after=re.compile(
            f"{_alternation(met['cut_after'])}|[0-9]{{4}}年(?:度|{year_post})?|[0-9]{{1,2}}月(?:底|末)?"
        ),
        drop_words=re.compile(
            f"{_alternation(met['drop_words'])}|(?:{year_pre})?[0-9]{{4}}年(?:度|{year_post})?"
        ),
        strip_through=tuple(met["strip_through"]),
        strip_chars=dict.fromkeys(map(ord, met["strip_chars"])),
        trim_chars=met["trim_chars"],
        max_len=int(met["max_len"]),
        prefer_before=frozenset(met["prefer_before"]),
        noun_words=re.compile(_alternation(met["noun_words"])) if met.get("noun_words") else None,
        adjective_when_compared=frozenset(met.get("adjective_when_compared", [])),
        trailing_modals=tuple(sorted(met.get("trailing_modals", []), key=len, reverse=True)),
        structure_nouns=tuple(met.get("structure_nouns", [])),
        deadline_skip_lead=tuple(met["drop_words"]),
        deadline_scope=tuple(data["deadline"]["scope_starts"]),
    )


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    return _load_vocab()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _drop_space(m: re.Match[str]) -> str:
    """Remove a space between CJK and a digit ("2022 年 50家"), keep it anywhere else."""
    text, a, b = m.string, m.start(), m.end()
    left = text[a - 1] if a else ""
    right = text[b] if b < len(text) else ""
    if (_is_cjk(left) and right.isascii() and right.isdigit()) or (
        ((left.isascii() and left.isdigit()) or left == "%") and _is_cjk(right)
    ):
        return ""
    return m.group()


def _normalize(text: str) -> str:
    """Width-normalize digits/letters/％ and join numbers split from their CJK neighbours.

    Each step is skipped when it has nothing to do: this runs on every task of every document.
    """
    if _FULLWIDTH_RE.search(text):
        text = _FULLWIDTH_POINT_RE.sub(".", to_halfwidth(text))
    if _SPACE_RE.search(text):
        text = _SPACE_RE.sub(_drop_space, text)
    return text


@dataclass(frozen=True)
class _Year:
    pos: int
    end: int
    year: int
    strong: bool
    forward: bool


def _years(
    v: _Vocab, text: str, start: int, end: int, excluded: list[tuple[int, int]]
) -> list[_Year]:
    """Year markers of one sentence; ranges (2023-2025年), dates and 自…以来 are skipped."""
    out: list[_Year] = []
    lo, hi = v.year_bounds
    for m in v.year.finditer(text, start, end):
        y = int(m["y"])
        ys = m.start("y")
        if not lo <= y <= hi or _inside(excluded, ys):
            continue
        pre, post = m["pre"], m["post"]
        before = text[max(start, ys - 2) : ys]
        if not pre and before[-1:] and before[-1] in "-－–—~～〜" and before[:1].isdigit():
            continue  # second year of a range: 2023-2025年
        after = text[m.end("y") + 1 : m.end("y") + 4]
        strong = bool(pre or post)
        if not strong:
            if _MONTH_RE.match(text, m.end("y") + 1):
                continue  # a date: 2022年4月
            if text[max(start, ys - 1) : ys].endswith(v.bare_reject_before) or after.startswith(
                v.bare_reject_after
            ):
                continue
        forward = bool((pre and pre in v.year_prefix_forward) or (post and not pre))
        out.append(_Year(m.start(), m.end(), y, strong, forward))
    return out


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    i = bisect.bisect_right(spans, (pos, 1 << 60)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def _is_clause_sep(text: str, i: int, excluded: list[tuple[int, int]]) -> bool:
    """A ，：, that ends a clause: not a thousands comma (1,200家), not inside 《看门狗：军团》."""
    if (
        text[i] == ","
        and text[i - 1 : i].isdigit()
        and re.match(r"[0-9]{3}(?![0-9])", text[i + 1 : i + 5])
    ):
        return False
    return not _inside(excluded, i)


def _clause_start(text: str, lo: int, pos: int, excluded: list[tuple[int, int]]) -> int:
    """Start of the clause holding ``pos``: just after the last separator in [lo, pos)."""
    hi = pos
    while True:
        i = max(text.rfind(ch, lo, hi) for ch in _CLAUSE_SEPS)
        if i < 0:
            return lo
        if _is_clause_sep(text, i, excluded):
            return i + 1
        hi = i


def _clause_end(text: str, pos: int, hi: int, excluded: list[tuple[int, int]]) -> int:
    """End of the clause holding ``pos``: the first separator in [pos, hi)."""
    lo = pos
    while True:
        found = [i for i in (text.find(ch, lo, hi) for ch in _CLAUSE_SEPS) if i >= 0]
        if not found:
            return hi
        i = min(found)
        if _is_clause_sep(text, i, excluded):
            return i
        lo = i + 1


def _excluded_spans(v: _Vocab, text: str) -> list[tuple[int, int]]:
    """Sorted, merged spans of 《titles》 and “slogans” (a quote may sit inside a title)."""
    spans = [m.span() for m in v.excluded_spans.finditer(text)]
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _unit_multiplier(v: _Vocab, mult: str | None) -> Decimal:
    return v.multipliers.get(mult or "", Decimal(1))


def _comparator(v: _Vocab, m: re.Match[str], before: str, is_range: bool, past: bool) -> Comparator:
    if m["suffix"]:
        return v.suffix_cmp[m["suffix"]]
    approx = m["approx"] or m["approx0"]
    if approx:
        return v.approx_infix[approx]
    tail = before.rstrip()
    for word, cmp_ in v.prefix_cmp:
        if tail.endswith(word):
            return cmp_
    if is_range:
        return v.range_default
    if not past and v.goal_verbs.search(before):
        return ">="
    return "="


def _strip_through(v: _Vocab, s: str) -> str:
    """Drop modifiers up to the last 的/赛道/…; keep the text when nothing would be left
    (占全市企业总数的11.4% -> 占全市企业总数)."""
    s = s.strip(v.trim_chars)
    while s.endswith(v.strip_through):
        s = s[: -len(next(w for w in v.strip_through if s.endswith(w)))]
    cut = max((s.rfind(w) + len(w) if w in s else 0) for w in v.strip_through)
    return s[cut:] if s[cut:].strip(v.trim_chars) else s


def _finish_metric(v: _Vocab, s: str) -> str:
    if " " in s or "\u3000" in s or "\t" in s:  # PDF artefacts: 产业 规模 -> 产业规模
        s = _CJK_SPACE_RE.sub("", s)
    s = _strip_through(v, s.translate(v.strip_chars)).strip(v.trim_chars)
    if len(s) > v.max_len:
        s = s[-v.max_len :].strip(v.trim_chars)
    return s


def _metric_after(v: _Vocab, after: str, next_follows: bool) -> str:
    """The noun counted when it follows the unit: 10家具有…的“链主企业” -> 链主企业.

    ``next_follows``: the next quantity needs these words as its own metric (企业20家); they
    stay here anyway when a connector ends them (5个园区、3个基地; 5个大棚和1个混音棚).
    Words that start with a connector (人才1000名、技能人才1万名) are never this one's.
    """
    if (
        not after
        or after[0] in _CONNECTORS
        or (next_follows and not after.rstrip().endswith(tuple(_CONNECTORS)))
    ):
        return ""
    s = after.lstrip(v.trim_chars)
    if not s or v.cut_after.match(s):
        return ""  # nothing, or a verb phrase (投资100亿元建设…): the words before name it
    s = _strip_through(v, s).lstrip(v.trim_chars)
    if s and s[0] in '“‘「『"':
        close = {"“": "”", "‘": "’", "「": "」", "『": "』", '"': '"'}[s[0]]
        j = s.find(close, 1)
        s = s[1:j] if j > 0 else s[1:]
    else:
        cut = min((i for i in (s.find(c) for c in '“‘「『"（(《') if i >= 0), default=len(s))
        s = s[:cut]
    return _finish_metric(v, s)


def _strip_comparator(v: _Vocab, s: str) -> tuple[str, bool]:
    """Drop comparator and modal words before the number (力争达到, 原则上不低于, 控制在);
    also say whether an explicit comparator was there."""
    compared = False
    changed = True
    while changed:
        changed = False
        for word, _ in v.prefix_cmp:
            if s.endswith(word):
                s = s[: -len(word)].rstrip()
                changed = compared = True
                break
        for word in v.trailing_modals:
            if s.endswith(word) and len(s) > len(word):
                s = s[: -len(word)].rstrip()
                changed = True
                break
    return s, compared


def _last_cut(v: _Vocab, s: str, compared: bool) -> re.Match[str] | None:
    """The last verb/modal/year to cut the metric at, skipping words inside nouns (建成区) and,
    after an explicit comparator, verbs used as adjectives (新建平房仓…达到50%)."""
    inside = [m.span() for m in v.noun_words.finditer(s)] if v.noun_words else []
    last = None
    for m in v.cut_after.finditer(s):
        if any(a <= m.start() < b for a, b in inside):
            continue
        if s[max(0, m.start() - 1) : m.start()] in v.bare_reject_before and m.group()[:1].isdigit():
            continue  # 同比2022年增长: a comparison base, removed below, not the metric's start
        if compared and m.group() in v.adjective_when_compared:
            continue
        last = m
    return last


def _metric_before(v: _Vocab, before: str) -> str:
    """The subject before the number: “元宇宙”相关产业规模达到1500亿元 -> 元宇宙相关产业规模."""
    s, compared = _strip_comparator(v, before.rstrip())
    last = _last_cut(v, s, compared)
    rest = s[last.end() :] if last else s
    rest = _COMPARISON_RE.sub("", rest)  # 使用量同比2022年增长 -> 使用量增长
    metric = _finish_metric(v, rest)
    if metric:
        return metric
    return _finish_metric(v, v.drop_words.sub("", s))


def _accept_number(v: _Vocab, text: str, start: int, raw: str) -> bool:
    """Reject ordinals, estimates and articles: 第六版, 数千名, 一批, 百家争鸣."""
    if text[max(0, start - 2) : start].endswith(v.reject_after):
        return False
    if text[max(0, start - 6) : start].rstrip().endswith(v.threshold_before):
        return False
    if text.startswith(v.fixed_words, start):
        return False
    prev = text[start - 1] if start else ""
    if prev.isascii() and (prev.isalnum() or prev == "."):
        return False  # IPv6, Web3.0, H5, 3.5.1
    if raw[0] in CN_NUMERAL_CHARS:
        if start > 0 and text[start - 1] in CN_NUMERAL_CHARS:
            return False
        if text[max(0, start - 2) : start].endswith(v.cn_reject_after):
            return False
        if raw[0] not in v.cn_start:
            return False
        if raw in v.lone_articles and not _after_comparator(v, text, start):
            return False  # 一批, 一个 are articles; 不少于一场 (sh_bs_2019-05-05) is a count
    return True


def _after_comparator(v: _Vocab, text: str, start: int) -> bool:
    before = text[max(0, start - 4) : start].rstrip()
    return any(before.endswith(word) for word, _ in v.prefix_cmp)


def _quantity(v: _Vocab, text: str, m: re.Match[str]) -> tuple[Decimal, Decimal | None, str] | None:
    """(value, value_max, unit) of one regex match, or None when it is not a count at all."""
    raw = m["pn"] or m["n1"]
    if not _accept_number(v, text, m.start(), raw):
        return None
    base = m["base"]
    if base in v.blocked or (m["u1b"] and m["u1b"] in v.blocked):
        return None
    if base and (
        any(p.match(text, m.end("base")) for p in v.slogans_after_unit)
        or text.startswith(v.not_followed_by.get(base, ()), m.end("base"))
    ):
        return None
    value = parse_number(raw)
    if value is None:
        return None
    unit = "%" if m["pct"] else f"{m['mult'] or ''}{base}"
    if not m["n2"]:
        return value, None, unit
    hi = parse_number(m["n2"])
    if hi is None:
        return None
    if m["u1b"]:  # both ends carry a unit: 5000个-1万个 -> 5000..10000 个
        if m["u1b"] != base:
            return None  # 5个-10家: two different things, not a range
        hi = hi * _unit_multiplier(v, m["mult"]) / _unit_multiplier(v, m["u1m"])
        unit = f"{m['u1m'] or ''}{base}"
    return value, hi, unit


def extract_targets(
    text: str,
    *,
    default_year: int | None = None,
    forward_only: bool = False,
    deadlines: bool = True,
) -> list[Target]:
    """All targets in one paragraph, in reading order.

    ``default_year`` is used when a sentence names no due year (pass the year of the
    document's own 到2025年 goal, or of the stage heading above: 二、建设阶段（2025年年底前）).
    ``forward_only`` keeps only targets in sentences that look ahead (到2025年, 力争, 将, 计划,
    …): use it for news and replies, not for plans. A clause that reports the past (已有4569家,
    设立了2亿元基金, 截至目前) is never a target, in any document. With ``deadlines``, a sentence
    that commits to a written year without any number (到2030年，公共机构屋顶光伏应装尽装) is a
    target with that ``year`` and no value, so moving the deadline is a goal change.
    """
    if not text or not text.strip():
        return []
    v = _vocab()
    norm = _normalize(text)
    matches = list(v.quantity.finditer(norm))
    if not matches and not (deadlines and "年" in norm):
        return []
    excluded = _excluded_spans(v, norm)
    sentences = [m.span() for m in _SENTENCE_RE.finditer(norm)]
    ctx = _Context(v, norm, excluded, sentences)
    found = _quantities(ctx, matches)
    out: list[tuple[int, Target]] = []
    kept_ends: dict[int, int] = {}
    for q in found:
        target = _target(ctx, q, found, kept_ends, default_year, forward_only)
        if target is not None:
            out.append((q.match.start(), target))
    if deadlines:
        with_numbers = {ctx.sentence_of(pos) for pos, _ in out}
        out.extend(_deadlines(ctx, with_numbers, forward_only))
        out.sort(key=lambda pt: pt[0])
    return [t for _, t in out]


@dataclass(frozen=True)
class _Quantity:
    match: re.Match[str]
    value: Decimal
    value_max: Decimal | None
    unit: str
    sentence: int
    c_start: int
    c_end: int
    qualifier: bool  # a threshold naming what the next quantity counts: 1000亩以上…林地5个


class _Context:
    """One paragraph being read: text, excluded spans, sentences, per-sentence facts."""

    def __init__(
        self,
        v: _Vocab,
        norm: str,
        excluded: list[tuple[int, int]],
        sentences: list[tuple[int, int]],
    ) -> None:
        self.v, self.norm, self.excluded, self.sentences = v, norm, excluded, sentences
        self.starts = [a for a, _ in sentences]
        self._info: dict[int, _Sentence] = {}

    def sentence_of(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def info(self, si: int) -> _Sentence:
        if si not in self._info:
            a, b = self.sentences[si]
            self._info[si] = _sentence_info(self.v, self.norm, a, b, self.excluded)
        return self._info[si]

    def lead_year(self, si: int) -> int | None:
        """The year that opens the full sentence (up to 。) holding sentence ``si``:
        "2023年，为…提供靠泊服务的码头泊位实现全覆盖；集装箱码头泊位岸电覆盖率达到90%以上"
        gives 2023 to the part after the ； (sh_jtw_2023-04-17; 到2025年底，…；… in sh_pt)."""
        j = si
        while j > 0 and self.norm[self.sentences[j - 1][1] - 1 : self.sentences[j - 1][1]] in "；;":
            j -= 1
        if j == si:
            return None
        years = self.info(j).years
        a = self.sentences[j][0]
        first = years[0] if years else None
        if first and first.strong and self.norm[a : first.pos].strip(_LEADING_DASHES) == "":
            return first.year
        if (
            first
            and not first.strong
            and first.pos == a
            and self.norm[first.end : first.end + 1] in "，,"
        ):
            return first.year
        return None


def _quantities(ctx: _Context, matches: list[re.Match[str]]) -> list[_Quantity]:
    """Every accepted quantity with its clause; thresholds that qualify the noun a later
    quantity of the same clause counts are marked (年营收超10亿元企业20家: 10亿元 qualifies
    企业; 建成1000亩以上开放休闲林地5个 in sh_fx_2021-12-03; the held-out 政府工作报告 lists'
    "年产值超亿元企业10家")."""
    v, norm, excluded = ctx.v, ctx.norm, ctx.excluded
    out: list[_Quantity] = []
    for m in matches:
        if _inside(excluded, m.start()) and not _floor_in_brackets(v, norm, m):
            continue
        quantity = _quantity(v, norm, m)
        if quantity is None:
            continue
        si = ctx.sentence_of(m.start())
        if si < 0:
            continue
        s_start, s_end = ctx.sentences[si]
        c_start = _clause_start(norm, s_start, m.start(), excluded)
        c_end = _clause_end(norm, m.end(), s_end, excluded)
        out.append(_Quantity(m, *quantity, si, c_start, c_end, False))
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if b.c_start != a.c_start:
            continue
        between = norm[a.match.end() : b.match.start()]
        tail = norm[b.match.end() : b.c_end].strip(v.trim_chars)
        if between.strip() and not tail and not any(c in between for c in _CONNECTORS):
            out[i] = dataclasses.replace(a, qualifier=True)
    return out


def _floor_in_brackets(v: _Vocab, norm: str, m: re.Match[str]) -> bool:
    """A bracket that states a floor is a target, not a detail: "（各单位全年不少于一场）"
    (sh_bs_2019-05-05). Definitions in brackets use 超过 (车货总高度…超过4.5米), not floors."""
    open_at = max(norm.rfind("（", 0, m.start()), norm.rfind("(", 0, m.start()))
    if open_at < 0 or _inside_quote_or_title(norm, open_at):
        return False
    before = norm[open_at + 1 : m.start()].rstrip()
    return before.endswith(v.floor_words)


def _inside_quote_or_title(norm: str, pos: int) -> bool:
    return norm.rfind("《", 0, pos) > norm.rfind("》", 0, pos)


def _target(
    ctx: _Context,
    q: _Quantity,
    found: list[_Quantity],
    kept_ends: dict[int, int],
    default_year: int | None,
    forward_only: bool,
) -> Target | None:
    v, norm, m = ctx.v, ctx.norm, q.match
    below = m.group(0).endswith(("以下", "以内")) and _BRACKET_OF.match(norm, m.end())
    if q.qualifier or below or _BELOW_OF.match(norm, m.end()):
        return None
    info = ctx.info(q.sentence)
    past = _is_past(info, q.c_start, q.c_end)
    if past or (forward_only and not info.forward_at):
        return None
    idx = found.index(q)
    kept_ends[idx] = m.end()
    prev_end = max((e for i, e in kept_ends.items() if i < idx), default=0)
    nxt = found[idx + 1].match.start() if idx + 1 < len(found) else len(norm)
    before = norm[max(q.c_start, prev_end) : m.start()]
    after = norm[m.end() : min(q.c_end, nxt)]
    comparator = _comparator(v, m, norm[q.c_start : m.start()], bool(m["n2"]), past)

    # Words between this quantity and the next one name the next one only when the next has
    # no noun of its own after it (企业20家，园区5个 -> 企业 is counted by 20家).
    next_follows = False
    if nxt < q.c_end:
        stop = found[idx + 2].match.start() if idx + 2 < len(found) else len(norm)
        next_follows = not norm[found[idx + 1].match.end() : min(q.c_end, stop)].strip(v.trim_chars)
    metric = ""
    if q.unit not in v.prefer_before:
        metric = _metric_after(v, after, next_follows)
    if not metric:
        metric = _metric_before(v, before)
    if not metric and q.unit in v.prefer_before:
        metric = _metric_after(v, after, next_follows)

    if q.unit in _ITEM_UNITS and metric and metric.endswith(v.structure_nouns):
        # Counts the plan's own items (22项任务) or names a policy (十五条硬措施); a measured
        # 任务 is a quota and stays (10.6亿元投资任务, 25平方公里…盘活处置任务).
        return None
    year = _pick_year(info.years, m.start(), None)
    if year is None:
        year = ctx.lead_year(q.sentence) or default_year
    s_start, s_end = ctx.sentences[q.sentence]
    return Target(
        text=_sentence_text(norm, s_start, s_end),
        metric=metric or None,
        value=number(q.value),
        value_max=number(q.value_max),
        unit=q.unit,
        year=year,
        comparator=comparator,
    )


def _sentence_text(norm: str, start: int, end: int) -> str:
    return norm[start:end].strip().lstrip(_LEADING_DASHES).strip()


def _deadlines(
    ctx: _Context, with_numbers: set[int], forward_only: bool
) -> list[tuple[int, Target]]:
    """Dated commitments without a number: 到2030年，公共机构屋顶光伏应装尽装 -> year 2030.

    Only a written due year counts (到/至…年, …年底前, …年前): a bare year or a date
    (2022年4月召开) is not a deadline, nor a sentence that reports the past.
    """
    out: list[tuple[int, Target]] = []
    for si, (a, b) in enumerate(ctx.sentences):
        if si in with_numbers or "年" not in ctx.norm[a:b]:
            continue
        info = ctx.info(si)
        due = [
            y
            for y in info.years
            if y.strong
            and y.forward
            and not ctx.norm[max(a, y.pos - 1) : y.pos].endswith(ctx.v.bare_reject_before)
        ]
        if not due or info.past_starts:
            continue
        y = due[-1]
        metric = _deadline_metric(ctx.v, ctx.norm, y.end, b)
        if not metric:
            continue
        out.append(
            (
                y.pos,
                Target(
                    text=_sentence_text(ctx.norm, a, b),
                    metric=metric,
                    year=y.year,
                ),
            )
        )
    return out


def _deadline_metric(v: _Vocab, norm: str, start: int, end: int) -> str:
    """What is due: the words after the year up to the end of the sentence (its first clause
    that has any words), e.g. "公共机构屋顶光伏应装尽装"."""
    for part in re.split(r"[，,：:]", norm[start:end]):
        s = _CJK_SPACE_RE.sub("", part).translate(v.strip_chars).strip(v.trim_chars + "。；;！？!?")
        s = v.drop_words.sub("", s) if s.startswith(v.deadline_skip_lead) else s
        s = _LEAD_MONTH_RE.sub("", s)  # 到2019年12月底，… : the month is part of the date
        if len(s) < 2 or s.startswith(v.deadline_scope):
            continue  # 在工业、交通…等领域 says where, not what
        return s if len(s) <= v.max_len else s[: v.max_len]
    return ""


def _forward_positions(v: _Vocab, text: str, start: int, end: int, years: list[_Year]) -> list[int]:
    """End offsets of the forward-looking words of one sentence (将, 力争, 到2025年, ...)."""
    nouns = (
        [m.span() for m in v.forward_nouns.finditer(text, start, end)] if v.forward_nouns else []
    )
    found = [
        m.end()
        for m in v.forward.finditer(text, start, end)
        if not any(a <= m.start() < b for a, b in nouns)
    ]
    found.extend(y.end for y in years if y.forward)
    return sorted(found)


@dataclass(frozen=True)
class _Sentence:
    """What one sentence says about time, computed once for all its quantities."""

    years: list[_Year]
    forward_at: list[int]  # end offsets of forward-looking words (将, 力争, 到2025年)
    past_starts: list[int]  # offsets of past markers (已, 先后, 设立了)
    past_ends: list[int]


def _sentence_info(
    v: _Vocab, text: str, start: int, end: int, excluded: list[tuple[int, int]]
) -> _Sentence:
    years = _years(v, text, start, end, excluded)
    nouns = [m.span() for m in v.past_nouns.finditer(text, start, end)] if v.past_nouns else []
    past = [
        m.span()
        for m in v.past.finditer(text, start, end)
        if not any(a <= m.start() < b for a, b in nouns)
    ]
    return _Sentence(
        years=years,
        forward_at=_forward_positions(v, text, start, end, years),
        past_starts=[a for a, _ in past],
        past_ends=[b for _, b in past],
    )


def _is_past(info: _Sentence, c_start: int, c_end: int) -> bool:
    """Does the clause report the past? A past marker in the clause itself, or earlier in the
    sentence with no forward word after it (先后引进…445家，从业人员达1.9万人)."""
    i = bisect.bisect_left(info.past_starts, c_start)
    if i < len(info.past_starts) and info.past_ends[i] <= c_end:
        return True
    j = bisect.bisect_right(info.past_ends, c_start) - 1
    if j < 0:
        return False
    k = bisect.bisect_left(info.forward_at, info.past_ends[j])
    return not (k < len(info.forward_at) and info.forward_at[k] <= c_end)


def _pick_year(years: list[_Year], pos: int, default: int | None) -> int | None:
    """Nearest strong marker before the quantity, then any strong one in the sentence, then
    the nearest bare year before it, then the document default."""
    strong_before = [y for y in years if y.strong and y.end <= pos]
    if strong_before:
        return strong_before[-1].year
    strong = [y for y in years if y.strong]
    if strong:
        return strong[0].year
    bare_before = [y for y in years if y.end <= pos]
    if bare_before:
        return bare_before[-1].year
    return default


def is_threshold_heading(title: str) -> bool:
    """A heading of conditions, types or scope (三、项目实施条件): its numbers are no goals."""
    return any(w in title for w in _vocab().threshold_headings)
