"""HTML reader for government CMS article pages (TRS, Hanweb, 政府信息公开 pages).

Steps: decode (meta charset, else detection; GB-family as GB18030), parse with bs4 +
lxml, read metadata (<meta> tags, the 政府信息公开 info box, attachment links), find
the article body (known CMS containers, else the block with the most Chinese text),
and turn its block elements into paragraphs. Navigation, related-links boxes and
"print this page" furniture stay out.

Every walk over the tree is iterative: pages with absurd nesting (100k ``<div>``) must
not hit Python's recursion limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from parsers.errors import ParseError
from parsers.readers.base import Extracted, Table
from parsers.readers.html_meta import (
    LABEL_START,
    META_NAMES,
    VOCAB,
    info_pairs,
    set_meta,
)
from parsers.readers.html_tables import read_table
from parsers.text import clean_paragraphs, decode_text, normalize_space

# Decoding --------------------------------------------------------------------------------

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""")


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its first 4 KiB (<meta charset>, http-equiv, <?xml?>)."""
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return m.group(1).decode("ascii", "ignore") if m else None


def decode_html(data: bytes) -> str:
    return decode_text(data, declared_charset(data))


# Tree helpers ----------------------------------------------------------------------------

#: Never content: scripts, styles, forms, and page chrome.
_JUNK_TAGS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "template",
    "svg",
    "canvas",
    "object",
    "embed",
    "select",
    "button",
    "input",
    "textarea",
    "nav",
    "header",
    "footer",
    "aside",
    "head",
)
_BLOCK = frozenset(
    "p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 table tbody thead tfoot tr td th caption "
    "section article blockquote pre center form header footer nav aside figure "
    "figcaption address hr main body html".split()
)
_STRUCTURE_INSIDE_CELL = ("p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "br")


def _parse_selector(sel: str) -> tuple[str | None, str]:
    """ "div.trs_editor" -> ("div", ".trs_editor"); "#zoom" -> (None, "#zoom"); "article"."""
    sel = sel.lower()
    for mark in (".", "#"):
        if mark in sel:
            tag, _, rest = sel.partition(mark)
            return (tag or None), mark + rest
    return sel, ""


#: CMS containers that hold the article text, most specific first (see html_page.toml).
#: Matched in one pass over the tree: soupsieve's select() is 100x slower on huge pages.
BODY_SELECTORS: tuple[tuple[str | None, str], ...] = tuple(
    _parse_selector(s) for s in VOCAB["body"]["selectors"]
)
#: A furniture word followed by a bracket/colon ("【打印本页】", "上一篇：…"), or making up
#: most of a short line; "关闭落后产能…" in the body is not furniture.
_FURNITURE = re.compile(
    r"^[【\[]?\s*(?:" + "|".join(map(re.escape, VOCAB["body"]["furniture"])) + r")"
    r"(?:\s*[】\]:：|]|.{0,6}$)"
)
_RELATED = re.compile(
    r"^\s*[【\[]?\s*(?:" + "|".join(map(re.escape, VOCAB["body"]["related"])) + ")"
)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_SEGMENT_BREAK = re.compile(
    r"(?<=[\u3000-\u9fff\uff00-\uffef])[ \t\r]*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])"
)
_ATTACHMENT_EXT = frozenset(VOCAB["attachments"]["extensions"])
_SKIP_STRINGS = (Comment, Doctype, Declaration, ProcessingInstruction)


def _strings(el: Tag) -> Iterator[NavigableString]:
    for d in el.descendants:
        if isinstance(d, NavigableString) and not isinstance(d, _SKIP_STRINGS):
            yield d


def _text(el: Tag) -> str:
    return normalize_space(" ".join(_SEGMENT_BREAK.sub("", str(s)) for s in _strings(el)))


def _cjk(s: str) -> int:
    return len(_CJK_RE.findall(s))


def _in_link(s: NavigableString, limit: int = 4) -> bool:
    el = s.parent
    for _ in range(limit):
        if el is None:
            return False
        if el.name == "a":
            return True
        el = el.parent
    return False


def _link_ratio(el: Tag) -> float:
    total = linked = 0
    for s in _strings(el):
        n = _cjk(str(s))
        total += n
        if n and _in_link(s):
            linked += n
    return linked / total if total else 1.0


# Metadata ---------------------------------------------------------------------------------


def _read_meta_tags(soup: BeautifulSoup, meta: dict[str, Any]) -> None:
    for tag in soup.find_all("meta"):
        name = str(tag.get("name") or tag.get("property") or "").strip().lower()
        key = META_NAMES.get(name)
        content = tag.get("content")
        if key and isinstance(content, str):
            set_meta(meta, key, content)


def _title_fallback(soup: BeautifulSoup) -> str | None:
    t = soup.find("title")
    if t is None:
        return None
    text = _text(t)
    # "关于…的通知_重庆市永川区人民政府" / "… - 成都市人民政府" / "…|渝北区": cut the site name.
    text = re.split(r"\s*(?:_|\||｜|\s-\s|－|——)\s*", text)[0]
    return text or None


def _info_box(soup: BeautifulSoup, body: Tag | None = None) -> Tag | None:
    """The smallest element holding most of the page's info labels (索引号, 发文字号, …).

    Never ``body`` (the article container) or an element around it: on a short article a
    wrapper holding the 公开 table, the "发布日期：…" line under the title and the text
    counts one label more than the table and is under the size bound, and removing it as
    the info box threw the article away (a one-page 实施方案 then parsed to no tasks)."""
    label_nodes = [
        s
        for s in _strings(soup)
        if len(s) <= 80 and LABEL_START.match(str(s)) and s.parent is not None
    ]
    if len(label_nodes) < 2:
        return None
    around_body = {id(el) for el in ([body, *body.parents] if body is not None else [])}
    counts: dict[int, int] = {}
    depth_of: dict[int, int] = {}
    by_id: dict[int, Tag] = {}
    for s in label_nodes:
        el = s.parent
        for depth in range(10):
            if el is None or el.name in ("body", "html", "[document]") or id(el) in around_body:
                break
            counts[id(el)] = counts.get(id(el), 0) + 1
            depth_of[id(el)] = min(depth_of.get(id(el), 99), depth)
            by_id[id(el)] = el
            el = el.parent
    if not counts:
        return None
    best = max(counts.values())
    if best < 2:
        return None
    # Lowest element with the best count whose text is short (an info box, not the page).
    for key in sorted((k for k, c in counts.items() if c == best), key=lambda k: depth_of[k]):
        el = by_id[key]
        if len(_text(el)) <= 1500:
            return el
    return None


def _raw_lines(el: Tag, tables: list[Table] | None = None) -> list[str]:
    """Text of ``el`` as raw lines, one per block element or table cell (not normalized).

    With ``tables``, each grid table becomes one line per row (cells joined by a tab)
    and is collected there in the shared table model.
    """
    lines: list[str] = []
    cur: list[str] = []
    for node in _walk(el, tables):
        if node is _FLUSH:
            if cur:
                lines.append("".join(cur))
                cur = []
        elif isinstance(node, str):
            cur.append(node)
    if cur:
        lines.append("".join(cur))
    return lines


def _block_lines(el: Tag) -> list[str]:
    """Text of ``el`` as lines, one per block element or table cell."""
    return [x for x in (normalize_space(s) for s in _raw_lines(el)) if x]


def _attachments(soup: BeautifulSoup) -> list[dict[str, str | None]]:
    out: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for a in soup.find_all("a", href=True):
        href = str(a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        path = re.split(r"[?#]", href, maxsplit=1)[0]
        ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else None
        name = _text(a) or str(a.get("title") or "").strip() or None
        is_file = ext in _ATTACHMENT_EXT
        if not is_file and not (name and name.startswith("附件")):
            continue
        if href in seen:
            continue
        seen.add(href)
        out.append({"url": href, "name": name, "ext": ext if is_file else None})
    return out


# Body ------------------------------------------------------------------------------------


def _selector_matches(soup: BeautifulSoup) -> list[list[Tag]]:
    """For each of BODY_SELECTORS, the matching elements in document order (one pass)."""
    by_class: dict[str, list[int]] = {}
    by_id: dict[str, list[int]] = {}
    by_tag: dict[str, list[int]] = {}
    for i, (tag, sel) in enumerate(BODY_SELECTORS):
        if sel.startswith("."):
            by_class.setdefault(sel[1:], []).append(i)
        elif sel.startswith("#"):
            by_id.setdefault(sel[1:], []).append(i)
        elif tag:
            by_tag.setdefault(tag, []).append(i)
    found: list[list[Tag]] = [[] for _ in BODY_SELECTORS]
    for el in soup.find_all(True):
        hits = list(by_tag.get(el.name, ()))
        ident = el.get("id")
        if isinstance(ident, str):
            hits += by_id.get(ident.lower(), ())
        classes = el.get("class")
        if classes:
            for c in classes:
                hits += by_class.get(c.lower(), ())
        for i in hits:
            tag = BODY_SELECTORS[i][0]
            if tag is None or tag == el.name:
                found[i].append(el)
    return found


def _select_body(soup: BeautifulSoup) -> Tag | None:
    for matches in _selector_matches(soup):
        for el in matches:
            if _cjk(_text(el)) >= 20 and _link_ratio(el) < 0.5:
                return el
    return None


def _densest_block(soup: BeautifulSoup) -> Tag | None:
    """The element whose direct text-bearing children hold the most non-link Chinese text."""
    scores: dict[int, float] = {}
    by_id: dict[int, Tag] = {}
    for s in _strings(soup):
        n = _cjk(str(s))
        if not n or _in_link(s):
            continue
        el = s.parent
        # Credit the nearest block ancestor (a <p>'s container gets its paragraphs).
        while el is not None and el.name not in _BLOCK:
            el = el.parent
        if el is None:
            continue
        target = el.parent if el.name in ("p", "li", "h1", "h2", "h3", "h4", "td") else el
        if target is None:
            continue
        scores[id(target)] = scores.get(id(target), 0) + n
        by_id[id(target)] = target
    if not scores:
        return None
    return by_id[max(scores, key=lambda k: scores[k])]


_FLUSH = object()


def _is_data_row(tr: Tag) -> bool:
    cells = tr.find_all(["td", "th"], recursive=False)
    return bool(cells) and not any(c.find(_STRUCTURE_INSIDE_CELL) for c in cells)


def _cell_lines(cell: Tag) -> list[str]:
    return _block_lines(cell)


def _walk(root: Tag, tables: list[Table] | None = None) -> Iterator[object]:
    """Yield text pieces and _FLUSH markers (paragraph breaks), iteratively."""
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is _FLUSH:
            yield _FLUSH
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, _SKIP_STRINGS):
                yield _SEGMENT_BREAK.sub("", str(node))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name == "br":
            yield _FLUSH
            continue
        if name == "table" and tables is not None:
            table = read_table(node, _cell_lines)
            if table is not None:
                tables.append(table)
                for para in table.paragraphs:
                    yield _FLUSH
                    yield para
                yield _FLUSH
                continue
        if name == "tr" and _is_data_row(node):
            cells = [_text(c) for c in node.find_all(["td", "th"], recursive=False)]
            yield _FLUSH
            yield "\t".join(c for c in cells if c)
            yield _FLUSH
            continue
        if name in ("td", "th"):
            # A cell of a layout row: its own block, and spacing between cells.
            stack.append(_FLUSH)
            stack.extend(reversed(node.contents))
            stack.append(_FLUSH)
            continue
        block = name in _BLOCK
        if block:
            stack.append(_FLUSH)
        stack.extend(reversed(node.contents))
        if block:
            yield _FLUSH


def _drop_related_boxes(body: Tag) -> None:
    """Remove 相关链接-style boxes (a heading plus a list of links) inside the body."""
    for s in list(_strings(body)):
        if not _RELATED.match(str(s)):
            continue
        box: Tag | None = s.parent
        candidate = None
        for _ in range(5):
            if box is None or box is body:
                break
            if _link_ratio(box) >= 0.5 or box.find("a") is None:
                candidate = box
            box = box.parent
        if candidate is not None:
            candidate.decompose()


def read_html(data: bytes) -> Extracted:
    """Article paragraphs and page metadata of an HTML page."""
    text = decode_html(data)
    try:
        soup = BeautifulSoup(text, "lxml")
    except Exception as exc:  # lxml raises a zoo of errors on pathological input
        raise ParseError(f"unreadable HTML ({type(exc).__name__}: {exc})") from None
    meta: dict[str, Any] = {}
    _read_meta_tags(soup, meta)
    fallback_title = _title_fallback(soup)
    junk = frozenset(_JUNK_TAGS)
    for tag in [t for t in soup.find_all(True) if t.name in junk]:
        if tag.parent is not None:  # not already gone with a decomposed ancestor
            tag.decompose()
    attachments = _attachments(soup)
    box = _info_box(soup, body=_select_body(soup))
    if box is not None:
        for key, value in info_pairs(_block_lines(box)):
            set_meta(meta, key, value)
        box.decompose()
    if "title" not in meta and fallback_title:
        meta["title"] = fallback_title
    if attachments:
        meta["attachments"] = attachments
    body = _select_body(soup) or _densest_block(soup) or soup.body or soup
    _drop_related_boxes(body)
    tables: list[Table] = []
    lines = _raw_lines(body, tables)
    paragraphs = [c for c in clean_paragraphs(lines) if not _FURNITURE.match(c)]
    return Extracted(format="html", paragraphs=paragraphs, meta=meta, tables=tables)
