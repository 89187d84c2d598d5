"""The proposal or suggestion a reply answers: number, meeting and proposer(s).

Rules read the simplified, pinyin-free view of the text (:mod:`reading`) and cut every
value from the text as published. The forms, each seen in at least two real replies
(dev corpus ``../shared/corpus/replies``; fixtures ``tests/fixtures/replies``):

- number: ``第0920号建议`` (zero-padded: cn_reply_nea0920, yn_reply_hh0019), letters
  ``第DH0271号``/``第T014号`` (cq_reply_DH0271, sh_reply_jdT014), a delegation prefix or no
  第 after the meeting ``会议温36号`` / ``会议1号建议`` / ``会议49号提案`` (zj_reply_wen36,
  hn_reply_js1, nx_reply_yanchi49), the word ``来信`` (hn_reply_xy-laixin), ``提案第343号``
  (seed 004), ``第16号“…”`` right after the meeting (nx_reply_xq16), ``《…建议》(158号)``
  after the suggestion's title (see ``_NUMBER``).
- meeting: what the title writes between 关于/对 and the number (it keeps 政协/人大 and the
  place as written: nx_reply_yanchi49 ``政协盐池县第十届委员会五次会议``, hn_reply_js1);
  else ``在…会议(期间|上)提出`` in the body (yn_reply_zk-trad, zj_reply_wen36).
- proposer: the salutation ``A、B、C代表：`` (nx_reply_yinchuan40, xj_reply_bl4 with
  middle dots, ``等4位委员``), ``尊敬…代表``, ``…委员您好`` (nx_reply_xq16, hi_reply_wsw),
  no colon (nx_reply_yanchi49), inside a ``|`` cell (sd_reply_tz50); in a 会办意见 the
  salutation is a unit and the proposer is named in ``X代表提出的`` (sh_reply_jdT014,
  sh_reply_pt152013, sh_reply_pt155144).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsers.structure.mvocab import mvocab
from parsers.structure.reading import Reading, reading

_KINDS = "建议|提案|议案"
_NUM = r"(?P<n>\d{2,8}[A-Za-z]{1,2}\d{1,6}|[A-Za-z]{1,3}\d{1,8}|\d{1,8}|(?!第)[\u4e00-\u9fff]\d{1,6}|来信)"
#: ``第343号建议`` / ``会议温36号`` / ``会议第16号“`` / ``提案第343号``.
_NUMBER = (
    re.compile(rf"第\s*{_NUM}\s*号\s*(?:代表|委员)?(?:{_KINDS})"),
    re.compile(rf"会议\s*第?\s*{_NUM}\s*号"),
    re.compile(rf"(?:{_KINDS})\s*第\s*{_NUM}\s*号"),
    re.compile(rf"[（(]\s*第\s*{_NUM}\s*号\s*(?:代表|委员)?(?:{_KINDS})?[)）]"),
    # ``《…的建议》(158号)``: the number in brackets right after the suggestion's title, with
    # or without 第 (heldout ln_reply_fuxin158 without; fj_reply_hanjiang83 ``(第83号)``,
    # cq_reply_DH0271 ``(第DH0271号)`` with).
    re.compile(rf"(?:{_KINDS})》?\s*[（(]\s*第?\s*{_NUM}\s*号[)）]"),
)
_CN_NUM = "一二三四五六七八九十"
_MEETING_SHAPE = re.compile(rf"(?:[{_CN_NUM}]+届|第[{_CN_NUM}]+次|[{_CN_NUM}]+次)")
# 中国人民政治协商会议 is the full name of 政协 (heldout yn_reply_yanshan124 "对中国人民政治协商会议
# 砚山县九届委员会第三次会议第124号提案的答复"; heldout sn_reply_zizhou14's 政协…委员会 form).
_MEETING_BODY = re.compile(r"人大|政协|人民代表大会|代表大会|政治协商会议")
_MEETING_IN_BODY = re.compile(r"在([^，,。；;在]{4,40}?会议)(?:期间|上|中)?(?:提出|所提)")
_MEETING_ANY = re.compile(
    rf"((?:政协|人大)?[\u4e00-\u9fff]{{0,8}}?第?[{_CN_NUM}]+届(?:全国)?(?:人大|政协|人民代表大会|委员会)?"
    rf"(?:常委会)?第?[{_CN_NUM}]+次(?:全体)?会议)"
)
_NAME = r"[\u4e00-\u9fff]{2,5}(?:·[\u4e00-\u9fff]{1,6})*"
_NAMES = rf"(?P<names>{_NAME}(?:[、,，]{_NAME})*)"
_ETC = r"(?:等\s*[0-9一二三四五六七八九十]*\s*[位名人]?)?"
_SALUTATION = re.compile(
    rf"(?:^|\|)\s*(?:尊敬的?)?{_NAMES}{_ETC}(?:代表|委员)(?:们)?(?:同志)?\s*(?:您好|你好)?\s*[!！,，]?\s*(?:[:：]|$)"
)
_NAMED_IN_BODY = re.compile(
    rf"(?:^|[,，。;；:：])\s*{_NAMES}{_ETC}(?:代表|委员)(?:们)?(?:提出|所提)的"
)


@dataclass
class ProposalInfo:
    number: str | None = None
    meeting: str | None = None
    proposers: list[str] = field(default_factory=list)


def _number(r: Reading) -> tuple[str, int] | None:
    """(number as written, its start in ``r.text``)."""
    best: tuple[str, int] | None = None
    for pattern in _NUMBER:
        m = pattern.search(r.text)
        if m and (best is None or m.start("n") < best[1]):
            best = (r.raw_span(m.start("n"), m.end("n")), m.start("n"))
    return best


def _meeting_before(r: Reading, at: int) -> str | None:
    """The meeting the title writes between its opener and the number at ``at``."""
    head = r.text[:at]
    m = re.search(r"会议\s*(?:第)?\s*(?:[A-Za-z\u4e00-\u9fff]?)$", head) or re.search(
        rf"会议\s*(?:{_KINDS})?\s*第?$", head
    )
    if m is None:
        return None
    end = m.start() + 2
    start = 0
    for opener in ("关于对", "关于", "对"):
        k = head.rfind(opener, 0, end)
        if k >= 0:
            start = k + len(opener)
            break
    # In a body sentence the meeting follows 您在/你们在, and on a hijacked mirror it follows
    # spam (heldout xx_reply_shuangshi70-mirror ``您在澳门…【投注官网平台】第十七届人民代表大会第二次
    # 会议第70号``; yn_reply_yanshan4 ``您在砚山县第十六届人民代表大会第二次会议上提出的第4号``):
    # a meeting name is one run of Chinese characters.
    run = re.search(r"(?:(?:您|你们|你)?在)?([\u4e00-\u9fff]*)$", r.text[start:end])
    if run:
        start += run.start(1)
    span = r.text[start:end]
    if _MEETING_SHAPE.search(span) and _MEETING_BODY.search(span) and len(span) <= 40:
        return r.raw_span(start, end)
    return None


def _meeting_in(r: Reading) -> str | None:
    for pattern in (_MEETING_IN_BODY, _MEETING_ANY):
        m = pattern.search(r.text)
        if m and _MEETING_BODY.search(m.group(1)):
            return r.raw_span(m.start(1), m.end(1))
    return None


def _split_names(raw: str) -> list[str]:
    """``韓忠國等`` -> ``韓忠國`` (the 等 of ``…等代表`` is not part of the name)."""
    names = [n for n in re.split(r"[、,，]", raw) if n]
    return [n[:-1] if n.endswith("等") and len(n) > 2 else n for n in names]


def _org_proposer(r: Reading, following: str) -> str | None:
    """An organisation in the salutation: a party/group name (民建…委员会: sh_other_sjtable-trad,
    found cc_reply_2025D048), or any name with an organisation ending when the next paragraph
    says the addressee proposed (heldout yn_reply_nanhua55 ``雨露乡委员小组:`` + ``你们在…
    提出的《…的提案》``; found cc_reply_2025D048 ``民建长春市委员会:`` + ``贵会在…提出的``)."""
    v = mvocab()["proposal"]
    line = r.text.strip()
    if not line.endswith(("：", ":")) or len(line) > 32:
        return None
    name = line[:-1]
    if not any(name.endswith(s) for s in v["org_suffixes"]):
        return None
    if any(name.startswith(p) for p in v["org_prefixes"]) or re.match(
        r"^(?:你们|贵会|贵单位|贵组|您们)[^。]{0,40}提出的", following
    ):
        return r.raw_span(0, len(name))
    return None


def proposers(paras: list[str], *, coordination: bool) -> list[str]:
    """Who made the proposal: the salutation, or in a 会办意见 (addressed to a unit) the
    ``X代表提出的`` sentence."""
    views = [reading(p) for p in paras]
    if not coordination:
        for r in views:
            m = _SALUTATION.search(r.text)
            if m and m.start("names") <= 3:
                return _split_names(r.raw_span(m.start("names"), m.end("names")))
        for i, r in enumerate(views):
            org = _org_proposer(r, views[i + 1].text if i + 1 < len(views) else "")
            if org:
                return [org]
    for r in views:
        m = _NAMED_IN_BODY.search(r.text)
        if m:
            return _split_names(r.raw_span(m.start("names"), m.end("names")))
    return []


def read_proposal(title: str | None, paras: list[str], *, coordination: bool) -> ProposalInfo:
    """Number and meeting from the title first (it is the reply's own statement), then the
    body; proposers from the salutation."""
    out = ProposalInfo()
    views = ([reading(title)] if title else []) + [reading(p) for p in paras]
    for r in views:
        hit = _number(r)
        if hit:
            out.number = hit[0]
            out.meeting = _meeting_before(r, hit[1])
            break
    if out.meeting is None:
        out.meeting = next((m for r in views if (m := _meeting_in(r))), None)
    out.proposers = proposers(paras, coordination=coordination)
    return out
