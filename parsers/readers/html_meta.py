"""Metadata found on government article pages: <meta> tags and the 政府信息公开 info box.

Kept apart from the HTML body walker because these are vocabulary tables (which label
means which field) that a reviewer should be able to read and extend in one place.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any

from parsers.text import normalize_space


def _load_vocab() -> dict[str, Any]:
    text = resources.files("parsers").joinpath("data", "html_page.toml").read_text("utf-8")
    return tomllib.loads(text)


#: parsers/data/html_page.toml: meta names, info labels, body selectors, furniture.
VOCAB: dict[str, Any] = _load_vocab()
#: <meta name=...> (lower-cased) -> Extracted.meta key. TRS/Hanweb CMSes all use these.
META_NAMES: dict[str, str] = VOCAB["meta_names"]
#: Info-table labels -> Extracted.meta key ("" = recognised, not stored).
INFO_LABELS: dict[str, str] = VOCAB["info_labels"]

# Longer labels first so 发布日期 is not read as 日期 and 文件编号 not as 编号; a space
# may appear between any two characters of a label (索 引 号).
_LABEL_ALT = "|".join(
    r"\s*".join(map(re.escape, k)) for k in sorted(INFO_LABELS, key=len, reverse=True)
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
    return INFO_LABELS.get(re.sub(r"\s+", "", label), "")


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
