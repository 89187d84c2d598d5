"""Document metadata from the paragraphs around the body: title, 文号, issuers, recipients,
成文日期, kind and the proposal a reply answers.

Container metadata (an HTML page's ArticleTitle, info table) is merged by the caller; this
module reads what the document text itself says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsers.schema import Proposal
from parsers.structure.outline import cn_int, match_marker
from parsers.structure.units import split_names
from parsers.structure.vocab import vocab

_DOCNUM = re.compile(
    r"[\u4e00-\u9fff]{1,20}\s*[〔［\[﹝【(（]\s*((?:19|20)\d{2})\s*[〕］\]﹞】)）]\s*第?\s*\d{1,5}\s*号"
)
_CN_YEAR_DIGITS = "〇零○O一二三四五六七八九"
_DATE = re.compile(r"^((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日$")
_CN_DATE = re.compile(
    rf"^([{_CN_YEAR_DIGITS}]{{4}})年([一二三四五六七八九十]{{1,3}})月([一二三四五六七八九十]{{1,3}})日$"
)
_PROPOSAL_NO = re.compile(
    r"(?:第\s*([0-9A-Za-z\-]+)\s*号\s*(?:提案|建议|议案))|(?:(?:提案|建议|议案)\s*第\s*([0-9A-Za-z\-]+)\s*号)"
)
_MEETING = re.compile(
    r"((?:全国|[省市区县州])?(?:政协|人大)?第?[一二三四五六七八九十]+届"
    r"(?:人大|政协)?(?:委员会|常委会)?第?[一二三四五六七八九十]+次(?:全体)?会议)"
)
_ATTACH = re.compile(r"^附\s*件\s*\d*\s*[：:]")
_ATTACH_ITEM = re.compile(r"^\d{1,2}\s*[.．、]")
_PUBLISHED = re.compile(
    r"(?:发布时间|发布日期|发文时间|发布于|日期)\s*[：:]\s*((?:19|20)\d{2})[-年/.](\d{1,2})[-月/.](\d{1,2})"
)
_CAPTION = re.compile(r"(摄[/／]|摄影[：:]|图[/／])")


def iso_date(text: str) -> str | None:
    """``2022年12月15日`` or ``二〇二二年十二月十五日`` (the whole paragraph) -> ``2022-12-15``."""
    text = re.sub(r"\s+", "", text)
    m = _DATE.match(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _CN_DATE.match(text)
        if not m:
            return None
        digits = {c: i for i, c in enumerate("〇一二三四五六七八九")}
        digits.update({"零": 0, "○": 0, "O": 0})
        y = int("".join(str(digits[c]) for c in m.group(1)))
        mo, d = cn_int(m.group(2)), cn_int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def is_agency(text: str) -> bool:
    """A short line that names an agency (signature or header)."""
    if len(text) > 60 or re.search(r"[。，；：:！？、]", text):
        return False
    return any(text.endswith(s) for s in vocab().agency_suffixes)


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
    #: indexes of paragraphs that are metadata lines (not body text)
    consumed: set[int] = field(default_factory=set)


def _find_title(paras: list[str]) -> tuple[int, int] | None:
    """(start, end) paragraph range of the title, or None."""
    endings = vocab().title_endings
    head = range(min(len(paras), 15))
    for i in head:
        p = paras[i]
        pos = p.find("关于")
        if (
            pos < 0
            or len(p) > 80
            or "。" in p
            or any(r.search(p) for r in vocab().not_title_patterns)
        ):
            continue
        if pos > 0 and not is_agency(p[:pos]):
            continue
        joined, j = p, i
        while not any(joined.endswith(e) for e in endings) and j + 1 < len(paras) and j - i < 3:
            nxt = paras[j + 1]
            if len(nxt) > 40 or "。" in nxt or nxt.endswith(("：", ":")):
                break
            joined += nxt
            j += 1
        if any(joined.endswith(e) for e in endings):
            return i, j
    # No 关于… title: the first short line that is not a caption, number, date or heading.
    newsy = any(_CAPTION.search(paras[i]) or paras[i] in vocab().news_markers for i in head)
    for i in head:
        p = paras[i]
        if _CAPTION.search(p) or _DOCNUM.fullmatch(p) or iso_date(p) or match_marker(p):
            continue
        if p in vocab().news_markers or any(r.search(p) for r in vocab().not_title_patterns):
            continue
        if len(p) > 60 or re.search(r"[。；：:！？]", p) or (is_agency(p) and not newsy):
            if len(p) > 60 or "。" in p:
                return None
            continue
        j = i
        if j + 1 < len(paras) and re.fullmatch(r"[（(][^（）()]{4,20}[）)]", paras[j + 1]):
            j += 1
        return i, j
    return None


def extract_metadata(paras: list[str], container_title: str | None = None) -> Metadata:
    """Metadata from the text; ``container_title`` (an HTML page's ArticleTitle) wins over a
    title guessed from the text, since pages often keep the title outside the body."""
    meta = Metadata()
    first_marker = _first_marker_index(paras)

    # 文号: a line of its own near the top or the bottom.
    for i in [*range(min(len(paras), 15)), *range(max(0, len(paras) - 8), len(paras))]:
        p = paras[i]
        m = _DOCNUM.search(p)
        if m and len(p) <= len(m.group(0)) + 12:
            meta.doc_number = re.sub(r"\s+", "", m.group(0))
            meta.consumed.add(i)
            break

    span = _find_title(paras[:first_marker] if first_marker else paras)
    title_end = -1
    if span:
        start, end = span
        title = "".join(paras[start : end + 1])
        pos = title.find("关于")
        if pos > 0:
            meta.issuers = split_issuers(title[:pos])
            title = title[pos:]
        meta.title = re.sub(r"\s+", "", title)
        meta.consumed.update(range(start, end + 1))
        title_end = end
        if (
            start > 0
            and not meta.issuers
            and is_agency(paras[start - 1])
            and title.startswith("关于")
        ):
            meta.issuers = split_issuers(paras[start - 1])
            meta.consumed.add(start - 1)

    if container_title:
        title = re.sub(r"\s+", "", container_title)
        pos = title.find("关于")
        if pos > 0 and is_agency(title[:pos]):
            meta.issuers = meta.issuers or split_issuers(title[:pos])
            title = title[pos:]
        meta.title = title

    # Recipients (主送机关): a short line ending in a colon right after the title block.
    limit = first_marker if first_marker is not None else min(len(paras), 20)
    for i in range(title_end + 1, min(limit, title_end + 6)):
        p = paras[i]
        if i in meta.consumed:
            continue
        if p.endswith(("：", ":")) and len(p) <= 100 and "。" not in p:
            # A 主送 list wrapped over lines: earlier lines end with a separator.
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
            break

    # 成文日期: a date line right after a signature line; else the last date line.
    dates = [(i, iso_date(p)) for i, p in enumerate(paras)]
    dated = [(i, d) for i, d in dates if d]
    chosen = None
    for i, d in dated:
        if i > 0 and is_agency(paras[i - 1]):
            chosen = (i, d)
            if not meta.issuers:
                meta.issuers = split_issuers(paras[i - 1])
            meta.consumed.update({i - 1, i})
            break
    if chosen is None and dated:
        chosen = dated[-1]
        meta.consumed.add(chosen[0])
    if chosen:
        meta.date = chosen[1]

    # The attachment list of a cover notice ("附件：1.…清单" and its numbered lines) is not
    # part of the outline.
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

    # A web-page copy may carry its publish date: "发布时间：2023-05-10 09:30".
    for p in paras[:20]:
        m = _PUBLISHED.search(p)
        if m:
            meta.published = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            break

    text = "\n".join(paras)
    meta.cites = list(dict.fromkeys(re.findall(r"《([^《》]{2,80})》", text)))
    meta.kind = _kind(meta, paras, text, first_marker)
    if meta.kind == "reply":
        meta.proposal = _proposal(meta, text)
    return meta


def _first_marker_index(paras: list[str]) -> int | None:
    for i, p in enumerate(paras):
        if match_marker(p):
            return i
    return None


def _kind(meta: Metadata, paras: list[str], text: str, first_marker: int | None) -> str:
    v = vocab()
    title = meta.title or ""
    head = "\n".join(paras[:12])
    if any(w in title for w in v.reply_words) or (
        any(w in title for w in v.proposal_words) and ("复" in title or "答" in title)
    ):
        return "reply"
    if title.startswith("关于") and title.endswith(("通知", "通告", "公告")):
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


def _proposal(meta: Metadata, text: str) -> Proposal | None:
    number = None
    m = _PROPOSAL_NO.search((meta.title or "") + "\n" + text)
    if m:
        number = m.group(1) or m.group(2)
    meeting = None
    mm = _MEETING.search(meta.title or "") or _MEETING.search(text)
    if mm:
        meeting = mm.group(1).replace("第", "")
    proposer = None
    if meta.recipients:
        who = meta.recipients[0]
        for suffix in ("委员", "代表"):
            if who.endswith(suffix) and len(who) > len(suffix):
                who = who[: -len(suffix)]
                break
        # "李红梅等3位委员" names the first proposer of a joint proposal.
        proposer = re.sub(r"等\s*[0-9一二三四五六七八九十]+\s*[位名人]$", "", who)
    if not (number or proposer or meeting):
        return None
    return Proposal(number=number, proposer=proposer, meeting=meeting)
