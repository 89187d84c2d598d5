"""Metadata found on government article pages: <meta> tags and the 政府信息公开 info box.

Kept apart from the HTML body walker because these are vocabulary tables (which label
means which field) that a reviewer should be able to read and extend in one place.
"""

from __future__ import annotations

import re
from typing import Any

from parsers.text import normalize_space

#: <meta name=...> (lower-cased) -> Extracted.meta key. TRS/Hanweb CMSes all use these.
META_NAMES: dict[str, str] = {
    "articletitle": "title",
    "pubdate": "published",
    "firstpublishedtime": "published",
    "contentsource": "issuers",
}

#: Info-table labels -> Extracted.meta key. Order matters for matching: longer labels
#: first so 发布日期 is not read as 日期 and 文件编号 not as 编号.
INFO_LABELS: dict[str, str] = {
    "索引号": "index_no",
    "索 引 号": "index_no",
    "发文字号": "doc_number",
    "文件编号": "doc_number",
    "发文文号": "doc_number",
    "文号": "doc_number",
    "成文日期": "date",
    "发文日期": "date",
    "印发日期": "date",
    "发布日期": "published",
    "公开日期": "published",
    "发布时间": "published",
    "发布机构": "issuers",
    "发文机关": "issuers",
    "发文单位": "issuers",
    "发布单位": "issuers",
    "标题": "title",
    "名称": "title",
    "文件名称": "title",
    # Recognised so the box is found and kept out of the text, but not stored.
    "主题分类": "",
    "主题词": "",
    "关键词": "",
    "有效性": "",
    "体裁分类": "",
    "组配分类": "",
    "信息来源": "",
    "生成日期": "",
    "公开方式": "",
    "公开范围": "",
    "时效": "",
}

_LABEL_ALT = "|".join(
    re.escape(k).replace(r"\ ", r"\s*") for k in sorted(INFO_LABELS, key=len, reverse=True)
)
#: A label at the start of a text node, with or without its value after a colon.
LABEL_START = re.compile(rf"^\s*(?:【\s*)?({_LABEL_ALT})\s*(?:】\s*)?[:：]?")
#: Label/value pairs inside one string: "索引号：123 发布机构：某局".
_PAIRS = re.compile(rf"({_LABEL_ALT})\s*[:：]\s*(.*?)(?=\s*(?:{_LABEL_ALT})\s*[:：]|$)")

_DATE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")


def iso_date(s: str | None) -> str | None:
    """``2022年12月20日``, ``2022-12-20 10:30``, ``2022/12/20`` -> ``2022-12-20``."""
    if not s:
        return None
    m = _DATE.search(s)
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def split_issuers(s: str) -> list[str]:
    """``重庆市永川区人民政府、区发展改革委`` -> two names (space also separates)."""
    return [x for x in re.split(r"[、，,；;\s]+", normalize_space(s)) if x]


def _label_key(label: str) -> str:
    return INFO_LABELS.get(re.sub(r"\s+", "", label), INFO_LABELS.get(label, ""))


def set_meta(meta: dict[str, Any], key: str, value: str, *, override: bool = False) -> None:
    """Store one field in its Extracted.meta form (ISO dates, issuer lists)."""
    value = normalize_space(value)
    if not key or not value:
        return
    if key in meta and meta[key] and not override:
        return
    if key in ("date", "published"):
        iso = iso_date(value)
        if iso:
            meta[key] = iso
    elif key == "issuers":
        names = split_issuers(value)
        if names:
            meta[key] = names
    else:
        meta[key] = value


def info_pairs(lines: list[str]) -> list[tuple[str, str]]:
    """(meta key, value) pairs from an info box rendered as one line per cell/element.

    A line that is only a label takes the next line as its value (``<td>索引号</td>
    <td>115…</td>``); a line with label and colon carries its own value, possibly
    several (``索引号：115… 发布机构：…``).
    """
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = normalize_space(lines[i])
        m = LABEL_START.match(line)
        if not m:
            i += 1
            continue
        rest = line[m.end() :].strip()
        if not rest:
            nxt = normalize_space(lines[i + 1]) if i + 1 < len(lines) else ""
            if nxt and not LABEL_START.match(nxt):
                out.append((_label_key(m.group(1)), nxt))
                i += 2
                continue
            i += 1
            continue
        pairs = _PAIRS.findall(line)
        if pairs:
            out.extend((_label_key(label), value.strip()) for label, value in pairs)
        else:
            out.append((_label_key(m.group(1)), rest))
        i += 1
    return [(k, v) for k, v in out if k and v]
