"""政府信息公开 info tables written as text: web-page excerpts and Markdown front matter.

The same labels as an HTML info box (html_page.toml) plus text-only ones (metadata.toml),
in every shape the dev corpus shows:

- ``索引号: 000019705/2025-000273 主办单位: 国家能源局`` (several pairs on a line:
  cn_reply_nea0920, sh_reply_jdT014);
- ``- 文 号:无`` dash lists and YAML front matter ``文号: …`` (sd_reply_tz50, yn_reply_hh0019,
  pages/sh_notice_*.md);
- ``索引号640323004/2022-00062发文时间2021-10-22`` labels glued to values with no colon
  (nx_reply_yanchi49; the issue's ``文号弥工商信函〔2020〕01号``);
- a label alone on a line with its value on the next (``•发文机构:`` / ``县政府网站``:
  sn_other_zbzf2024-7, pages/sh_notice_hjzg2025-449.md, hn_reply_xy-laixin ``来源:``).

Values come back raw; the caller validates them by shape (a 文号 must look like one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from parsers.readers.html_meta import INFO_LABELS
from parsers.structure.mvocab import mvocab

_BULLET = r"[-•·*\u2022\u25cf]?\s*"


@cache
def labels() -> dict[str, str]:
    return {**INFO_LABELS, **mvocab()["info"]["labels"]}


@cache
def _label_alt() -> str:
    return "|".join(r"\s*".join(map(re.escape, k)) for k in sorted(labels(), key=len, reverse=True))


@cache
def _start() -> re.Pattern[str]:
    return re.compile(rf"^{_BULLET}(?:【\s*)?({_label_alt()})\s*(?:】\s*)?([:：]?)\s*")


@cache
def _any_label() -> re.Pattern[str]:
    return re.compile(rf"({_label_alt()})\s*([:：]?)")


@dataclass
class Info:
    """(meta key, raw value) pairs in order, and the paragraphs they occupy."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)
    #: keys whose label was present with an empty value or 无 (``文 号:无``)
    empty: set[str] = field(default_factory=set)

    def first(self, key: str) -> str | None:
        return next((v for k, v in self.pairs if k == key and v), None)

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key and v]


def _key(label: str) -> str:
    return labels().get(re.sub(r"\s+", "", label), "")


def _split_line(line: str, m: re.Match[str]) -> list[tuple[str, str]]:
    """The pairs of one info line that starts with label match ``m``."""
    colon = bool(m.group(2))
    found: list[tuple[int, int, str]] = [(m.start(1), m.end(), m.group(1))]
    for x in _any_label().finditer(line, m.end()):
        # With colons on the line, a later label needs its own colon; without any, labels
        # are glued to the values (``发布机构盐池县教体局文号``).
        if (colon and x.group(2)) or (not colon and not x.group(2)):
            if x.start() >= found[-1][1]:
                found.append((x.start(1), x.end(), x.group(1)))
    out = []
    for i, (_, end, label) in enumerate(found):
        stop = found[i + 1][0] if i + 1 < len(found) else len(line)
        out.append((label, line[end:stop].strip(" |\t")))
    return out


def read_info(paras: list[str], limit: int = 40) -> Info:
    """Info pairs from the first ``limit`` paragraphs (and a leading YAML front matter)."""
    info = Info()
    stop = min(len(paras), limit)
    if paras and paras[0].strip() == "---":
        end = next((i for i in range(1, len(paras)) if paras[i].strip() == "---"), None)
        if end is not None:
            info.consumed.update({0, end})
    i = 0
    while i < stop:
        line = paras[i].strip()
        m = _start().match(line)
        if m is None or len(line) > 160:
            i += 1
            continue
        pairs = _split_line(line, m)
        info.consumed.add(i)
        if len(pairs) == 1 and not pairs[0][1] and i + 1 < len(paras):
            nxt = paras[i + 1].strip()
            if nxt and not _start().match(nxt) and len(nxt) <= 120 and "。" not in nxt:
                pairs = [(pairs[0][0], nxt.strip(" |\t"))]
                info.consumed.add(i + 1)
                i += 1
        for label, value in pairs:
            key = _key(label)
            if not key:
                continue
            if value in ("", "无", "暂无", "-", "/"):
                info.empty.add(key)
            else:
                info.pairs.append((key, value))
        i += 1
    return info
