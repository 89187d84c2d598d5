"""The reader protocol and the intermediate representation shared by all formats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Extracted:
    """What a reader hands to the structure stage.

    ``paragraphs`` are logical paragraphs in reading order: hard wraps joined, page
    numbers and running headers removed, automatic list numbers materialised as text
    (``"1. 做强算力赛道。…"``), table rows rendered as one paragraph each with cells
    joined by a tab. ``meta`` carries what the container itself says (an HTML page's
    ArticleTitle/PubDate/info table, attachment links), keyed as in ``META_KEYS``.
    """

    format: str
    paragraphs: list[str]
    meta: dict[str, Any] = field(default_factory=dict)


#: Keys a reader may put in ``Extracted.meta``.
META_KEYS = (
    "title",  # str: the page's own title (ArticleTitle meta, info table 标题)
    "published",  # str ISO date: web publish date (PubDate)
    "date",  # str ISO date: 成文日期 from an info table
    "doc_number",  # str: 发文字号/文件编号 from an info table
    "issuers",  # list[str]: 发布机构 / ContentSource
    "index_no",  # str: 索引号
    "attachments",  # list[dict(url, name, ext)]
)


class Reader(Protocol):
    def __call__(self, data: bytes) -> Extracted: ...
