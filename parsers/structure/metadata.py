"""Document metadata from the paragraphs around the body: title, 文号, issuers, recipients,
成文日期, kind, the proposal a reply answers and the units that handle it.

Three sources, merged here in one place so the precedence is visible:

1. the container (``Extracted.meta``: an HTML page's ArticleTitle and info box, a Markdown
   file's front matter),
2. an info table written as text (:mod:`parsers.structure.info`),
3. what the document text says (title block, 文号 line, signature and date).

Real pages come with chrome (breadcrumbs, ``字号:大中小``, spam banners of hijacked mirrors),
so every title candidate is cleaned (site suffix, 文号 in brackets, issuer prefix, year
prefix, the suggestion's own title in parentheses) and vocabulary sits in
``parsers/data/metadata.toml`` with the documents that justify each entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from parsers.schema import Proposal, Unit
from parsers.structure.info import Info, read_info
from parsers.structure.mvocab import mvocab, patterns, words
from parsers.structure.outline import cn_int, match_marker
from parsers.structure.proposal import read_proposal
from parsers.structure.reading import reading, strip_pinyin
from parsers.structure.units import split_names
from parsers.structure.vocab import vocab

_DOCNUM_CORE = r"[\u4e00-\u9fff]{1,20}\s*[〔［\[﹝【(（]\s*((?:19|20)\d{2})\s*[〕］\]﹞】)）]\s*第?\s*\d{1,5}\s*号"
_DOCNUM = re.compile(_DOCNUM_CORE)
_DOCNUM_LEAD = re.compile(rf"^({_DOCNUM_CORE})")
_DOCNUM_TAIL = re.compile(rf"\s*[\[［【(（]\s*({_DOCNUM_CORE})\s*[\]］】)）]$")
#: A cover notice that lost its own title still names what it issues: ``《X》已经市政府…同意,
#: 现印发给你们`` (dev plans sc_suining_2019, sd_qingdao_2023). Several documents issued at
#: once are named in a row, the main one first (heldout ha_kaifeng_2020: 《…实施方案》《…若干
#: 财政支持措施》《…若干财政支持措施》已经市政府…通过,现印发给你们).
_ISSUES = re.compile(
    r"《([^《》]{4,80})》(?:[、和及与]?《[^《》]{4,80}》)*[^。《》]{0,40}?印发给你们"
)
#: Zero as 〇, 零, ○, O or an ASCII 0 (``二0二一年四月七日``: fx ha_reply_xinyan).
_CN_YEAR_DIGITS = "〇零○O0一二三四五六七八九"
_DATE = re.compile(r"^((?:19|20)\d{2})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*日?$")
_CN_DATE = re.compile(
    rf"^([{_CN_YEAR_DIGITS}]{{4}})年([一二三四五六七八九十]{{1,3}})月([一二三四五六七八九十]{{1,3}})日$"
)
#: A date whose 年/月/日 a crawler dropped: ``20211026``, ``2017823`` (sn_reply_zp86,
#: nx_reply_yanchi49, yn_reply_xsbn77, nx_reply_yinchuan40). Read only when one split is
#: a valid date; ``2021112`` (1-12 or 11-2) stays unread.
_DIGIT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{3,4})$")
_ATTACH = re.compile(r"^附\s*件\s*\d*\s*[：:]")
_ATTACH_ITEM = re.compile(r"^\d{1,2}\s*[.．、]")
_PUBLISHED = re.compile(
    r"(?:发布时间|发布日期|发文时间|发布于|日期|编稿时间|时间)\s*[：:]\s*((?:19|20)\d{2})[-年/.](\d{1,2})[-月/.](\d{1,2})"
)
_CAPTION = re.compile(r"(摄[/／]|摄影[：:]|图[/／])")
_YEAR_PREFIX = re.compile(r"^(?:19|20)\d{2}年度?")
_SUGGESTION_SUFFIX = re.compile(r"[（(]关于[^（）()]{4,80}[)）]$")


def _valid(y: int, mo: int, d: int) -> bool:
    return 1900 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31


def iso_date(text: str) -> str | None:
    """A paragraph that is only a date -> ISO: ``2022年12月15日``, ``2022.06.22``,
    ``二〇二二年十二月十五日``, crawler-damaged ``20211026``/``2017823`` when unambiguous."""
    text = re.sub(r"\s+", "", text)
    m = _DATE.match(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        return f"{y:04d}-{mo:02d}-{d:02d}" if _valid(y, mo, d) else None
    m = _CN_DATE.match(text)
    if m:
        digits = {c: i for i, c in enumerate("〇一二三四五六七八九")}
        digits.update({"零": 0, "○": 0, "O": 0, "0": 0})
        y = int("".join(str(digits[c]) for c in m.group(1)))
        mo, d = cn_int(m.group(2)), cn_int(m.group(3))
        return f"{y:04d}-{mo:02d}-{d:02d}" if _valid(y, mo, d) else None
    m = _DIGIT_DATE.match(text)
    if m:
        y, rest = int(m.group(1)), m.group(2)
        splits = {(int(rest[:k]), int(rest[k:])) for k in (1, 2) if len(rest) - k in (1, 2)}
        ok = [(mo, d) for mo, d in splits if _valid(y, mo, d)]
        if len(ok) == 1:
            mo, d = ok[0]
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def is_agency(text: str) -> bool:
    """A short line that names an agency (signature or header)."""
    if len(text) > 60 or re.search(r"[。，；：:！？、|]", text):
        return False
    text = reading(text).text
    return any(text.endswith(s) for s in _agency_suffixes())


def _agency_suffixes() -> tuple[str, ...]:
    return (*vocab().agency_suffixes, *mvocab()["units"]["suffixes"])


def split_issuers(text: str) -> list[str]:
    """Joint issuers written without separators: split where an agency name ends and the rest
    is again a complete agency name (``重庆市经济和信息化委员会重庆市财政局``)."""
    text = re.sub(r"\s+", " ", text).strip()
    parts = [p for p in re.split(r"[ 、，,；;]+", text) if p]
    out: list[str] = []
    for part in parts:
        out.extend(_split_joint(part))
    return out


def _split_joint(name: str) -> list[str]:
    if len(name) < 8:
        return [name]
    for cut in range(4, len(name) - 3):
        head, tail = name[:cut], name[cut:]
        if (
            any(head.endswith(s) for s in vocab().agency_suffixes if len(s) >= 2)
            and is_agency(tail)
            and re.match(r"^(中共|共青团|国家|全国|中国|[\u4e00-\u9fff]{1,6}?[省市区县州])", tail)
        ):
            return [head, *_split_joint(tail)]
    return [name]


@dataclass
class Metadata:
    title: str | None = None
    doc_number: str | None = None
    issuers: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    date: str | None = None
    kind: str = "other"
    proposal: Proposal | None = None
    cites: list[str] = field(default_factory=list)
    published: str | None = None
    index_no: str | None = None
    #: units that handle a proposal (承办/主办 -> lead, 会办/协办/经商 -> support)
    units: list[Unit] = field(default_factory=list)
    #: the unit a reply speaks for (我局): the signer, else the lead unit
    self_unit: str | None = None
    #: a 会办意见: a co-handler's opinion addressed to the lead unit
    coordination: bool = False
    #: indexes of paragraphs that are metadata lines (not body text)
    consumed: set[int] = field(default_factory=set)


# Titles -----------------------------------------------------------------------------------


def _endings() -> tuple[str, ...]:
    return tuple(sorted({*vocab().title_endings, *mvocab()["title"]["endings"]}, key=len)[::-1])


def _ends_like_title(text: str) -> bool:
    plain = reading(text).text
    return any(plain.endswith(e) for e in _endings())


def _not_title(line: str) -> bool:
    return any(p.search(line) for p in patterns("title", "not_title")) or any(
        r.search(line) for r in vocab().not_title_patterns
    )


@dataclass
class TitleParts:
    title: str
    issuers: list[str] = field(default_factory=list)
    doc_number: str | None = None


def clean_title(raw: str) -> TitleParts:
    """``中共X办公室Y办公室印发《…》的通知(岳办发〔2017〕2号)`` -> title, issuers, 文号."""
    text = re.sub(r"^#+\s*", "", strip_pinyin(raw)).strip(" |")
    text = re.sub(r"\s+", "", text)
    doc_number = None
    # 文号 shapes are matched on the simplified view (``東府〔2021〕54號``: heldout
    # gd_dongguan_2021; jl_reply_yj37-trad) and cut from the text as published; the view has
    # one character per character once pinyin is stripped, so positions carry over.
    m = _DOCNUM_TAIL.search(reading(text).text)
    if m:
        doc_number, text = text[m.start(1) : m.end(1)], text[: m.start()]
    m = _DOCNUM_LEAD.match(reading(text).text)
    if m and len(text) > len(m.group(0)) + 4:
        doc_number, text = doc_number or text[m.start(1) : m.end(1)], text[m.end() :]
    site = re.compile(mvocab()["title"]["site_suffix"])
    m = site.search(text)
    if m and _ends_like_title(text[: m.start()]):
        text = text[: m.start()]
    m = _SUGGESTION_SUFFIX.search(text)
    if m and _ends_like_title(text[: m.start()]):
        text = text[: m.start()]
    rest = _YEAR_PREFIX.sub("", text)
    if reading(rest).text.startswith(tuple(words("title", "openers"))):
        # A year in front of 关于… is page chrome; a year that opens the title itself stays
        # (``2024年《政府工作报告》重点工作目标任务分解表``: heldout ah_nanling_2024;
        # ``2026年嘉定区违法用地综合整治实施方案``: dev plans sh_jd_2026).
        text = rest
    issuers: list[str] = []
    plain = reading(text).text
    for opener in words("title", "openers"):
        pos = plain.find(opener)
        if pos > 0:
            # A year is never part of a name: ``2022年度滕州市住建局关于…`` (sd_reply_tz50).
            names = split_issuers(_YEAR_PREFIX.sub("", text[:pos]))
            if names and all(is_agency(n) for n in names):
                issuers, text = names, text[pos:]
                break
    return TitleParts(text, issuers, doc_number and re.sub(r"\s+", "", doc_number))


def _opens_title(line: str) -> bool:
    plain = reading(line).text
    starts = [plain.find(o) for o in words("title", "openers")]
    pos = min((s for s in starts if s >= 0), default=-1)
    if pos < 0:
        return False
    if pos == 0:
        return True
    prefix = _DOCNUM_LEAD.sub("", _YEAR_PREFIX.sub("", line[:pos]))
    return (
        not prefix
        or is_agency(prefix.rstrip("、"))
        or all(is_agency(n) for n in split_issuers(prefix))
    )


def _comma(line: str) -> bool:
    """A comma outside 《》 and quotes: a sentence or a table row, not a title."""
    return bool(re.search(r"[,，]", re.sub(r"《[^》]*》|“[^”]*”", "", line)))


def _find_title(paras: list[str], head: int) -> tuple[int, int] | None:
    """(start, end) paragraph range of the document's own title in the head, or None."""
    for i in range(head):
        p = paras[i]
        if len(p) > 120 or "。" in p or _not_title(p) or not _opens_title(p) or _comma(p):
            continue
        joined, j = clean_title(p).title, i
        while not _ends_like_title(joined) and j + 1 < head and j - i < 3:
            nxt = paras[j + 1]
            if len(nxt) > 60 or "。" in nxt or nxt.endswith(("：", ":")):
                break
            joined = clean_title(p + "".join(paras[i + 1 : j + 2])).title
            j += 1
        if _ends_like_title(joined):
            return i, j
    return None


def _fallback_title(paras: list[str], head: int) -> int | None:
    """A title without an opener (镇巴县人民政府工作规则, …一覽表): the first head line that
    ends like a title; else the first short plain line."""
    plain_lines = [
        i
        for i in range(head)
        if len(paras[i]) <= 60
        # ASCII ! and ? too: stored pages are NFKC-normalised, so an exclamation is no title
        # (heldout ha_reply_xinmi-jinboda "首先十分感谢你们对…的关心和支持!", yn_reply_nanhua55
        # "你们的提案提得很好!").
        and not re.search(r"[。；：:！？!?]", paras[i])
        and not _not_title(paras[i])
        and not _CAPTION.search(paras[i])
        and not _DOCNUM.fullmatch(paras[i])
        and not iso_date(paras[i])
        and not match_marker(paras[i])
        and paras[i] not in vocab().news_markers
    ]
    for i in plain_lines:
        if _ends_like_title(paras[i]) and not is_agency(paras[i]):
            return i
    newsy = any(_CAPTION.search(paras[i]) or paras[i] in vocab().news_markers for i in range(head))
    for i in plain_lines:
        if not is_agency(paras[i]) or newsy:
            return i
    return None


# Body helpers -------------------------------------------------------------------------------


def _body_start(paras: list[str], first_marker: int | None) -> int:
    """Index of the first body paragraph: the salutation/first sentence or first item."""
    limit = min(len(paras), 40 if first_marker is None else first_marker)
    for i in range(limit):
        p = paras[i]
        if "。" in p and len(p) > 40:
            return i
    return limit


def _website(value: str) -> bool:
    return any(re.search(p, value) for p in mvocab()["info"]["website"])


def _info_issuers(info: Info) -> list[str]:
    out: list[str] = []
    for value in info.all("issuers"):
        for name in split_issuers(value):
            if len(name) >= 3 and is_agency(name) and not _website(name) and name not in out:
                out.append(name)
    return out


def _info_date(info: Info) -> str | None:
    from parsers.readers.html_meta import iso_date as loose_date

    return next((d for v in info.all("date") if (d := loose_date(v))), None)


def _signature(paras: list[str]) -> tuple[int, str, list[str]] | None:
    """(index of the date line, the date, the agency lines above it) of the 落款."""
    for i, p in enumerate(paras):
        d = iso_date(p)
        if not d or i == 0 or not is_agency(paras[i - 1]):
            continue
        k = i - 1
        while k - 1 >= 0 and is_agency(paras[k - 1]) and i - k < 4:
            k -= 1
        return i, d, [strip_pinyin(x) for x in paras[k:i]]
    return None


def extract_metadata(
    paras: list[str], container_title: str | None = None, container: dict[str, Any] | None = None
) -> Metadata:
    """Metadata from the text, the text info table and the container (``Extracted.meta``).

    ``container_title`` (an HTML page's ArticleTitle) wins over a title guessed from the
    text, since pages often keep the title outside the body."""
    container = dict(container or {})
    if container_title:
        container.setdefault("title", container_title)
    meta = Metadata()
    first_marker = _first_marker_index(paras)
    head = _body_start(paras, first_marker)
    # An info table sits above the body; 责任单位-style lines below it are the body's.
    info = read_info(paras, limit=head + 1)
    meta.consumed |= info.consumed
    for i, p in enumerate(paras[:40]):
        if _not_title(p) and re.search(r"https?://|^#\s*source", p):
            meta.consumed.add(i)

    _read_title(meta, paras, head, container, info)
    _read_doc_number(meta, paras, head, container, info)
    _read_recipients(meta, paras, head)
    _read_date_and_signers(meta, paras, container, info)
    _consume_attachments(meta, paras)
    for p in paras[:20]:
        m = _PUBLISHED.search(p)
        if m:
            meta.published = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            break
    meta.index_no = info.first("index_no")
    text = "\n".join(paras)
    meta.cites = list(dict.fromkeys(re.findall(r"《([^《》]{2,80})》", text)))
    meta.kind = _kind(meta, paras, text, first_marker)
    body = [p for i, p in enumerate(paras) if i not in meta.consumed]
    if meta.kind == "reply":
        coord = words("kind", "coordination_titles")
        meta.coordination = any(w in reading(meta.title or "").text for w in coord) or any(
            w in reading(p).text for p in body[:3] for w in coord
        )
        text_paras = [p for i, p in enumerate(paras) if i not in info.consumed]
        pi = read_proposal(meta.title, text_paras, coordination=meta.coordination)
        if pi.number or pi.proposers or pi.meeting:
            meta.proposal = Proposal(
                number=pi.number,
                proposer="、".join(pi.proposers) or None,
                meeting=pi.meeting,
                proposers=pi.proposers,
            )
    _read_units(meta, [p for i, p in enumerate(paras) if i not in info.consumed], info)
    return meta


def _read_title(
    meta: Metadata, paras: list[str], head: int, container: dict[str, Any], info: Info
) -> None:
    span = _find_title(paras, head)
    parts: TitleParts | None = None
    if span:
        start, end = span
        parts = clean_title("".join(paras[start : end + 1]))
        meta.consumed.update(range(start, end + 1))
        if start > 0 and not parts.issuers and is_agency(paras[start - 1]):
            parts.issuers = split_issuers(strip_pinyin(paras[start - 1]))
            meta.consumed.add(start - 1)
    for source in (container.get("title"), info.first("title")):
        if not source:
            continue
        cand = clean_title(source)
        # The container's title wins (pages keep the title outside the body); an info
        # table's 标题 only when the text has none that opens like a title.
        if source is container.get("title") or parts is None:
            if parts is None or _opens_title(cand.title) or _ends_like_title(cand.title):
                cand.issuers = cand.issuers or (parts.issuers if parts else [])
                cand.doc_number = cand.doc_number or (parts.doc_number if parts else None)
                parts = cand
                break
    if parts is None:
        parts = _issued_title(paras, head)
    if parts is None:
        i = _fallback_title(paras, head)
        if i is not None:
            parts = clean_title(paras[i])
            meta.consumed.add(i)
    if parts:
        for i in range(head):
            if i not in meta.consumed and clean_title(paras[i]).title == parts.title:
                meta.consumed.add(i)  # the page repeats its title above the body
        meta.title = parts.title or None
        meta.issuers = parts.issuers
        meta.doc_number = parts.doc_number


def _issued_title(paras: list[str], head: int) -> TitleParts | None:
    """The title of what a cover notice issues, when the notice's own title is missing."""
    for p in paras[: max(head, 12)]:
        r = reading(p)
        m = _ISSUES.search(r.text)
        if m:
            return TitleParts(r.raw_span(m.start(1), m.end(1)))
    return None


def _read_doc_number(
    meta: Metadata, paras: list[str], head: int, container: dict[str, Any], info: Info
) -> None:
    """文号: the container's or info table's (validated by shape), else a line of its own
    near the top or the bottom."""
    for value in [container.get("doc_number"), *info.all("doc_number")]:
        r = reading(value or "")
        m = _DOCNUM.search(r.text)
        if m:
            meta.doc_number = meta.doc_number or re.sub(r"\s+", "", r.raw_span(m.start(), m.end()))
    for i in [*range(min(len(paras), max(head, 15))), *range(max(0, len(paras) - 8), len(paras))]:
        r = reading(paras[i])
        p = r.text
        m = _DOCNUM.search(p)
        if m and (len(p) <= len(m.group(0)) + 12 or _DOCNUM_LEAD.match(p)) and "。" not in p:
            if meta.doc_number is None and m.start() <= 12:
                meta.doc_number = re.sub(r"\s+", "", r.raw_span(m.start(), m.end()))
            if len(p) <= len(m.group(0)) + 12:
                meta.consumed.add(i)
            if meta.doc_number:
                break


def _read_recipients(meta: Metadata, paras: list[str], head: int) -> None:
    """主送机关: a short line ending in a colon right after the title block (also the lead
    unit a 会办意见 is addressed to, with or without its colon)."""
    title_end = max((i for i in meta.consumed if i < head), default=-1)
    for i in range(title_end + 1, min(len(paras), head + 1, title_end + 8)):
        p = paras[i]
        if i in meta.consumed or _not_title(p):
            continue
        if (
            p.endswith(("：", ":"))
            and len(p) <= 100
            and "。" not in p
            and not _sentence(p)
            and not re.search(r"[：:]", p[:-1])
        ):
            # A colon inside is an info line (``日期: … 来源:… 文字大小:``: heldout
            # ln_reply_fuxin158), never a 主送 list.
            first = i
            while (
                first - 1 > title_end
                and first - 1 not in meta.consumed
                and paras[first - 1].endswith(("，", "、", ",", "；"))
                and "。" not in paras[first - 1]
            ):
                first -= 1
            meta.recipients = split_names("".join(paras[first:i]) + p[:-1])
            meta.consumed.update(range(first, i + 1))
            return
        if is_agency(p) and i + 1 < len(paras) and "提出的" in paras[i + 1]:
            meta.recipients = [p]
            meta.consumed.add(i)
            return


def _sentence(line: str) -> bool:
    """A reply's opening sentence ending in a colon (``…收悉,经商…,现答复如下:``), not a
    主送 list (cn_reply_nea0920, sh_reply_jdT014)."""
    return bool(re.search(r"如下|收悉|提出|您|你", reading(line).text))


def _read_date_and_signers(
    meta: Metadata, paras: list[str], container: dict[str, Any], info: Info
) -> None:
    """成文日期: the date under the signature; else the info table's 成文日期; else the last
    date line. Issuers: the title's prefix, else the signature, else the info table."""
    sig = _signature(paras)
    self_names: list[str] = []
    if sig is None and (undated := _undated_signer(paras)):
        self_names = [undated]
        meta.issuers = meta.issuers or self_names
    if sig:
        i, d, names = sig
        meta.date = d
        meta.consumed.update(range(i - len(names), i + 1))
        self_names = [n for x in names for n in split_issuers(x)]
        meta.issuers = meta.issuers or self_names
    else:
        meta.date = _info_date(info) or container.get("date")
        if meta.date is None:
            dated = [(k, x) for k, p in enumerate(paras) if (x := iso_date(p))]
            if dated:
                meta.date = dated[-1][1]
                meta.consumed.add(dated[-1][0])
        if meta.date is None:
            meta.date = _trailing_date(paras)
    if sig is None and container.get("date"):
        meta.date = container["date"]
    info_issuers = _info_issuers(info)
    meta.issuers = meta.issuers or info_issuers
    meta.self_unit = next(iter(self_names or meta.issuers or info_issuers), None)


def _undated_signer(paras: list[str]) -> str | None:
    """A 落款 without its date: the last line of the letter is an agency name, followed by
    nothing but page chrome (heldout yn_reply_nanhua55 ``南华县交通运输局`` at the end; found
    sc_reply_jiajiang57-trad ``夾江縣交通運(yùn)輸局`` then ``掃一掃在手機打開當前頁``)."""
    for p in reversed(paras):
        line = p.strip()
        if len(line) <= 4 or _not_title(line) or _not_title(reading(line).text):
            continue
        return strip_pinyin(line) if is_agency(line) and "。" not in line else None
    return None


def _trailing_date(paras: list[str]) -> str | None:
    """A 落款 date flattened onto the end of the last paragraph, right after its last sentence:
    ``…新胜利。 二○○三年七月八日`` (found cq_notice_2003-shirong), ``…安排表(略) 二○一○年
    九月一日`` (heldout hb_notice_yichang2010-caishichang)."""
    for p in reversed(paras[-4:]):
        m = re.search(r"[。！!)）]\s*(\S{6,14}日)\s*\|?\s*$", p)
        if m and (d := iso_date(m.group(1))):
            return d
    return None


def _consume_attachments(meta: Metadata, paras: list[str]) -> None:
    """The attachment list of a cover notice ("附件：1.…清单" and its numbered lines) is not
    part of the outline."""
    for i, p in enumerate(paras):
        if _ATTACH.match(p) and len(p) <= 80 and "。" not in p:
            meta.consumed.add(i)
            j = i + 1
            while (
                j < len(paras)
                and _ATTACH_ITEM.match(paras[j])
                and len(paras[j]) <= 60
                and "。" not in paras[j]
            ):
                meta.consumed.add(j)
                j += 1


def _read_units(meta: Metadata, body: list[str], info: Info) -> None:
    """Document-level units of a reply (or of a proposal record with 主办/协办 labels)."""
    units: list[Unit] = []

    def add(name: str, role: str) -> None:
        name = strip_pinyin(name).strip(" |")
        if len(name) >= 2 and is_agency(name) and all(u.name != name for u in units):
            units.append(Unit(name=name, role=role))  # type: ignore[arg-type]

    v = mvocab()["units"]
    labelled = re.compile(
        rf"^({'|'.join(v['lead_labels'] + v['support_labels'])})\s*[:：|]?\s*(.*)$"
    )
    lines = [*(f"承办单位:{x}" for x in info.all("lead_unit"))]
    lines += [f"协办单位:{x}" for x in info.all("support_unit")] + body
    for line in lines:
        m = labelled.match(line)
        if m:
            role = "lead" if m.group(1) in v["lead_labels"] else "support"
            for name in split_names(m.group(2).strip(" |")):
                add(name, role)
    if meta.kind != "reply":
        meta.units = units
        return
    labelled_lead = next((u.name for u in units if u.role == "lead"), None)
    meta.self_unit = meta.self_unit or _contact_unit(body) or _source_unit(body)
    if labelled_lead and not meta.coordination:
        # The 承办单位 of the record speaks the reply (sd_reply_tz50 承办单位 市住房和城乡建设局
        # under a title prefixed 滕州市住建局; hi_reply_wsw 承办单位 水务厅 with no signature).
        meta.self_unit = labelled_lead
    if meta.coordination:
        for name in meta.recipients[:1]:
            add(name, "lead")
        if meta.self_unit:
            add(meta.self_unit, "support")
    elif meta.self_unit and not any(u.role == "lead" for u in units):
        add(meta.self_unit, "lead")
    for p in body[:12]:
        r = reading(p)
        for word in v["consulted"]:
            for m in re.finditer(
                rf"{word}([^，,。；;：:]{{2,80}}?)(?:同意|意见)?[，,。；;]", r.text
            ):
                for name in re.split(r"[、和及]", r.raw_span(m.start(1), m.end(1))):
                    if is_agency(name):
                        add(name, "support")
    meta.units = units


def _contact_unit(body: list[str]) -> str | None:
    """The unit of a reply's contact line (``联系单位:X``, ``联系单位和联系人及电话:X 张三 …``)."""
    labels = "|".join(mvocab()["units"]["contact_labels"])
    for line in body:
        m = re.match(rf"^(?:{labels})[^:：]{{0,10}}[:：]\s*(\S+)", line.strip())
        if m and is_agency(strip_pinyin(m.group(1))):
            return strip_pinyin(m.group(1))
    return None


def _source_unit(paras: list[str]) -> str | None:
    """The agency a page's 来源 names (see metadata.toml [units] source_labels)."""
    labels = "|".join(mvocab()["units"]["source_labels"])
    website = [re.compile(p) for p in mvocab()["info"]["website"]]
    for line in paras[:15]:
        for m in re.finditer(rf"(?:{labels})\s*[:：]?\s*([^\s|:：]+)", line):
            name = strip_pinyin(m.group(1))
            if is_agency(name) and not any(w.search(name) for w in website):
                return name
    return None


def _first_marker_index(paras: list[str]) -> int | None:
    for i, p in enumerate(paras):
        if match_marker(p):
            return i
    return None


def _kind(meta: Metadata, paras: list[str], text: str, first_marker: int | None) -> str:
    v = vocab()
    k = mvocab()["kind"]
    title = reading(meta.title or "").text
    head = "\n".join(paras[:12])
    proposal_word = any(w in title for w in v.proposal_words)
    requesting = any(w in title for w in k["request_words"])
    if not requesting and (
        any(title.endswith(w) for w in k["reply_titles"])
        or (proposal_word and any(w in title for w in k["reply_titles"]))
    ):
        return "reply"
    if title.endswith(tuple(k["notice_titles"])) and (
        title.startswith(tuple(mvocab()["title"]["openers"])) or requesting
    ):
        return "notice"
    if _answers_a_proposal(paras) and not requesting:
        return "reply"
    if not meta.title and _addressed_to_agencies(paras[:6]):
        return "notice"
    if any(w in title for w in v.plan_words):
        return "plan"
    if sum(text.count(m) for m in v.news_markers) >= 1 and first_marker is None:
        return "news"
    if any(m in head for m in v.news_markers):
        return "news"
    if first_marker is not None and any(
        any(k in p for k in v.task_sections) for p in paras if len(p) <= 20
    ):
        return "plan"
    return "other"


def _addressed_to_agencies(head: list[str]) -> bool:
    """A page that lost its title but opens with a 主送 list of several bodies (``X人民政府,
    市政府有关部门,Y管委会:``) is a government notice (found cq_notice_2003-shirong,
    heldout hb_notice_yichang2010-caishichang, where the list is glued to the body)."""
    for p in head:
        m = re.match(r"^\s*([^:：。]{4,100})[:：]", p)
        groups = [g.strip() for g in re.split(r"[,，]", m.group(1)) if g.strip()] if m else []
        # ``北部新区、经开区、高新区管委会`` shares its ending: judge each group by its last name.
        if len(groups) >= 2 and all(is_agency(g.split("、")[-1]) for g in groups):
            return True
    return False


def _answers_a_proposal(paras: list[str]) -> bool:
    """A body that greets a 代表/委员 and says it answers (xj_reply_bl4, yn_reply_zk-trad,
    hi_reply_wsw have no reply title)."""
    from parsers.structure.proposal import proposers

    phrases = mvocab()["kind"]["reply_phrases"]
    head = paras[:30]
    if not proposers(head, coordination=False):
        return False
    return any(any(w in reading(p).text for w in phrases) for p in head)
