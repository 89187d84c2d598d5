"""Markdown reader: policy-text corpora are distributed as Markdown with YAML front matter.

What is Markdown syntax rather than document text is removed here, so the structure stage
sees the same paragraphs as for the TXT/DOCX/PDF of the same content:

- the YAML front matter (``标题``/``文号``/``发布单位``/``发布日期``…) goes into
  :attr:`Extracted.meta` under the keys the metadata stage already reads (``META_KEYS``);
- ``#`` headings become plain paragraphs (their text is the heading as printed: ``一、…``);
  the ``##``… ones are also listed in ``meta["headings"]``, so an unnumbered section heading
  (``## 重点任务``) is a chapter of the outline;
- ``> `` blockquote lines before the first heading or body line are an editor's note (the
  Shanghai-Gov-Docs-Index disclaimer: "本文正文由脚本…提取" / "依《著作权法》…"), not text;
- inline links ``[text](url)`` keep their text, emphasis markers are dropped.

Pipe tables (``| a | b |``) are read into the shared table model by
:mod:`parsers.readers.md_tables`; turning them into tasks is the table stage's work.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from parsers.readers.base import Extracted
from parsers.readers.md_tables import read_pipe_tables
from parsers.text import clean_paragraphs, decode_text

_FRONT = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)

#: Front-matter keys (as written by the corpora we read) -> ``Extracted.meta`` keys.
#: 发布日期 is the web publication date, not the signature date (成文日期).
FRONT_KEYS = {
    "标题": "title",
    "title": "title",
    "文号": "doc_number",
    "发文字号": "doc_number",
    "发布单位": "issuers",
    "发文机关": "issuers",
    "发布日期": "published",
    "成文日期": "date",
    "索引号": "index_no",
}


def looks_like_markdown(text: str) -> bool:
    """YAML front matter or a pipe-table separator row: Markdown, not plain text.

    ATX headings alone do not decide it (the stored web-page excerpts start with two
    ``# source:`` provenance lines and are plain text otherwise)."""
    return bool(_FRONT.match(text) or _TABLE_SEP.search(text[:200000]))


def _front_matter(block: str) -> dict[str, Any]:
    """The front matter as ``Extracted.meta``; a block that is not a YAML mapping is ignored.

    PyYAML is imported here, not at module level: every TXT parse (and the sandbox's warm-up)
    imports this reader, and only documents with front matter need YAML (~0.02-0.04 s)."""
    import yaml

    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}
    meta: dict[str, Any] = {}
    for key, value in data.items():
        target = FRONT_KEYS.get(str(key).strip())
        if target is None or value in (None, ""):
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        if target == "issuers":
            value = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        else:
            value = str(value).strip()
        meta.setdefault(target, value)
    return meta


def _inline(line: str) -> str:
    return _EMPHASIS.sub(r"\2", _LINK.sub(r"\1", line))


def markdown_paragraphs(text: str) -> tuple[list[str], dict[str, Any]]:
    """(paragraph lines, meta) of a Markdown text; one paragraph per non-empty line, as TXT."""
    meta: dict[str, Any] = {}
    m = _FRONT.match(text)
    if m:
        meta = _front_matter(m.group(1))
        text = text[m.end() :]
    lines: list[str] = []
    headings: list[str] = []
    started = False
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if _QUOTE.match(raw):
            if not started:
                continue
            raw = _QUOTE.sub("", raw)
        started = True
        h = _HEADING.match(raw)
        lines.append(_inline(h.group(1) if h else raw))
        if h and raw.lstrip().startswith("##"):
            headings.append(lines[-1])  # '#' is the document title, '##'… are its sections
    if headings:
        meta["headings"] = headings
    return lines, meta


def read_markdown(data: bytes) -> Extracted:
    lines, meta = markdown_paragraphs(decode_text(data))
    lines, tables = read_pipe_tables(lines)
    return Extracted(
        format="markdown", paragraphs=clean_paragraphs(lines), meta=meta, tables=tables
    )
