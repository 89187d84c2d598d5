"""The numbered outline of a document: ``一、`` ``（一）`` ``1.``/``1、`` ``（1）`` ``①`` and inline ``一是…二是…``.

Levels are not fixed by marker style: a style's depth is where it first appears (a reply
that uses ``1、`` at the top level nests ``（一）`` below it). A style seen again closes the
deeper levels. A marker whose value continues an open item of another style (``二、`` after a
``1、``) is that item's sibling: lists never start at 2, so this repairs mixed numbering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from parsers.structure.vocab import vocab

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUM = "[一二三四五六七八九十百零〇]+"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

#: (style, pattern). Group 1 is the number; the match end is where the item text starts.
MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chapter", re.compile(rf"^第({_CN_NUM})章\s*")),
    ("article", re.compile(rf"^第({_CN_NUM})条\s*")),
    # ——任务1： / 任务一： (a held-out shape named in the plans README; 行动计划 "——任务N" lists)
    ("task", re.compile(rf"^(?:[—－-]{{1,2}}\s*)?任务\s*(\d{{1,3}}|{_CN_NUM})\s*[：:、.]\s*")),
    ("cn", re.compile(rf"^({_CN_NUM})\s*[、．.](?![\d一二三四五六七八九十])\s*")),
    ("pcn", re.compile(rf"^[（(]\s*({_CN_NUM})\s*[）)]\s*")),
    ("num", re.compile(r"^(\d{1,3})\s*(?:[.．](?!\d)|、)\s*")),
    ("pnum", re.compile(r"^[（(]\s*(\d{1,3})\s*[）)]\s*")),
    ("numparen", re.compile(r"^(\d{1,3})\s*[）)]\s*")),
    ("circle", re.compile(rf"^([{_CIRCLED}])\s*")),
)
#: Conventional depth of each style, used only to repair mixed numbering.
RANK = {
    "chapter": 0,
    "article": 1,
    "cn": 2,
    "task": 3,
    "pcn": 3,
    "num": 4,
    "pnum": 5,
    "numparen": 6,
    "circle": 7,
    "inline": 8,
    "lead": 8,
    "annex": 0,
    "plain": 0,
    "": 9,
}
ANNEX = re.compile(r"^附\s*件\s*[0-9一二三四五六七八九十]*\s*[：:]?")
_INLINE = re.compile(rf"(?:^|(?<=[。；;！：:]))\s*({_CN_NUM})是")


def cn_int(text: str) -> int:
    """Small Chinese numerals as used in outline markers (一..九十九, 一百…)."""
    if text.isdigit():
        return int(text)
    if text in _CIRCLED:
        return _CIRCLED.index(text) + 1
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS.get(ch, 0)
    return total + current


@dataclass
class Node:
    """An outline item: its marker, its own text, the unnumbered paragraphs below it."""

    style: str | None
    value: int
    label: str
    text: str
    body: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False)
    index: tuple[int, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def ancestors(self) -> list[Node]:
        """From the outermost real ancestor down to the parent (the root excluded)."""
        chain: list[Node] = []
        node = self.parent
        while node is not None and node.style is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def walk(self) -> list[Node]:
        out: list[Node] = []
        for child in self.children:
            out.append(child)
            out.extend(child.walk())
        return out


@dataclass(frozen=True)
class Marker:
    style: str
    value: int
    label: str
    rest: str


@lru_cache(maxsize=4096)
def match_marker(paragraph: str) -> Marker | None:
    """The outline marker a paragraph starts with. Cached (bounded): metadata, the
    closing-paragraph split and the outline builder all ask about the same paragraphs."""
    for style, pattern in MARKERS:
        m = pattern.match(paragraph)
        if m is None:
            continue
        rest = paragraph[m.end() :].strip()
        if not rest:
            return None
        label = re.sub(r"\s+", "", m.group(0))
        if style == "num" and re.match(r"^\d+(?:个|家|项|年|月|日|%)", rest):
            return None
        return Marker(style, cn_int(m.group(1)), label, rest)
    return None


def split_inline(paragraph: str) -> tuple[str, list[tuple[str, int, str]]] | None:
    """``……：一是A；二是B。`` -> (lead-in, [("一是", 1, "A；"), ("二是", 2, "B。")]).

    Only a run that starts at 一是 and continues 二是, 三是… in order counts, so a stray
    "二是" in prose is not an item.
    """
    hits = [m for m in _INLINE.finditer(paragraph)]
    items: list[tuple[int, int, str]] = []
    expected = 1
    for m in hits:
        if cn_int(m.group(1)) == expected:
            items.append((m.start(1), m.end(), m.group(1)))
            expected += 1
    if len(items) < 2:
        return None
    lead = paragraph[: items[0][0]].strip()
    out: list[tuple[str, int, str]] = []
    for i, (start, end, num) in enumerate(items):
        stop = items[i + 1][0] if i + 1 < len(items) else len(paragraph)
        del start
        out.append((f"{num}是", cn_int(num), paragraph[end:stop].strip()))
    return lead, out


#: Markers inside running text: 一、 （一） 1、 (ASCII brackets after NFKC too).
_EMBEDDED = re.compile(
    r"(?P<cn>(?<![一二三四五六七八九十百零〇第])[一二三四五六七八九十]{1,3}、)"
    r"|(?P<pcn>[（(][一二三四五六七八九十]{1,3}[）)])"
    r"|(?P<num>(?<![\d.第])\d{1,2}、(?!\d))"
)
#: A paragraph this long that holds several chapters is a whole plan flattened into one line
#: (ah_huangshan 631 characters; heldout cq_linjiang's first preview page 295).
_FLAT_MIN = 200


_PAGE_NO = re.compile(r"^(\d{1,2})、\s*")


def _join_pages(paragraphs: list[str]) -> list[str]:
    """A flattened plan shown page by page (a document-sharing site's preview, heldout
    cq_linjiang: '1、 城乡综合治理工作方案 …一、…二、…(二)…。' then '2、集中清理…(三)…'): the
    pages are numbered 1、 2、 … by the site, and page 2 goes on inside the item page 1
    ended in. The pages are joined into the one flattened text they are (page numbers off),
    which :func:`_split_flattened` then cuts at its own markers as for ah_huangshan."""
    out: list[str] = []
    i = 0
    while i < len(paragraphs):
        first = _PAGE_NO.match(paragraphs[i])
        if first is None or first.group(1) != "1" or len(_split_flattened(paragraphs[i])) < 3:
            out.append(paragraphs[i])
            i += 1
            continue
        pages = [paragraphs[i][first.end() :]]
        j = i + 1
        while j < len(paragraphs):
            m = _PAGE_NO.match(paragraphs[j])
            if m is None or int(m.group(1)) != len(pages) + 1:
                break
            pages.append(paragraphs[j][m.end() :])
            j += 1
        out.append("".join(pages) if len(pages) > 1 else paragraphs[i])
        i = j
    return out


def _split_flattened(para: str) -> list[str]:
    """A plan flattened into one paragraph (a document site's "内容预览": '…如下:一、组织领导成立…
    二、目标任务…(一)园区建设目标任务1、加大…'): split before each marker that continues its
    style's count (一、 then 二、; 1、 restarts under each （一）), as the line breaks were.
    Needs two chapters 一、二、 in the paragraph, so a sentence that cites "一、二类" is left alone
    (ah_huangshan's 内容预览; heldout cq_linjiang on another document-sharing site)."""
    if len(para) < _FLAT_MIN:
        return [para]
    expected = {"cn": 1, "pcn": 1, "num": 1}
    cuts: list[int] = []
    for m in _EMBEDDED.finditer(para):
        style = m.lastgroup or ""
        value = cn_int(re.sub(r"[^0-9一二三四五六七八九十]", "", m.group(0)))
        if value != expected[style]:
            continue
        expected[style] = value + 1
        if style == "cn":
            expected["pcn"] = expected["num"] = 1
        elif style == "pcn":
            expected["num"] = 1
        if m.start() > 0:
            cuts.append(m.start())
    if expected["cn"] < 3:
        return [para]
    bounds = [0, *cuts, len(para)]
    return [para[a:b].strip() for a, b in pairwise(bounds) if para[a:b].strip()]


def build_outline(
    paragraphs: list[str], headings: frozenset[str] = frozenset()
) -> tuple[list[str], Node]:
    """Split paragraphs into the preamble (before the first marker) and the outline tree.

    ``headings`` are paragraphs the source marked as headings (Markdown ``##``): without a
    number of their own they are chapters, like the unnumbered chapter lines of a plain text."""
    paragraphs = [part for para in _join_pages(paragraphs) for part in _split_flattened(para)]
    root = Node(style=None, value=0, label="", text="")
    stack: list[Node] = [root]
    preamble: list[str] = []
    plain = _plain_headings(paragraphs) | {
        i for i, p in enumerate(paragraphs) if p in headings and match_marker(p) is None
    }
    for i, para in enumerate(paragraphs):
        if i in plain:
            node = Node("plain", len(root.children) + 1, "", para, parent=root)
            root.children.append(node)
            stack = [root, node]
            continue
        if ANNEX.match(para) and len(stack) > 1:
            # 附件 ends the body: what follows is the attachment (a task list, a table), not
            # part of the last chapter (sh_jtw_2024-12-31 任务清单 after 五、保障措施;
            # sh_fx project tables after 三、工作职责).
            annex = Node("annex", 0, "", para, parent=root)
            root.children.append(annex)
            stack = [root, annex]
            continue
        marker = match_marker(para)
        if marker is None:
            if len(stack) == 1:
                preamble.append(para)
            else:
                stack[-1].body.append(para)
            continue
        styles = [n.style for n in stack]
        if marker.style in styles:
            del stack[styles.index(marker.style) :]
        elif marker.value > 1:
            # Only a conventionally higher style can be a mis-styled sibling (二、 after 1、);
            # a deeper style (3. under （二）) is a child that merely continues its numbering.
            for depth in range(len(stack) - 1, 0, -1):
                cand = stack[depth]
                if cand.value == marker.value - 1 and RANK[marker.style] < RANK[cand.style or ""]:
                    del stack[depth:]
                    break
        parent = stack[-1]
        node = Node(marker.style, marker.value, marker.label, marker.rest, parent=parent)
        parent.children.append(node)
        stack.append(node)
    preamble = _expand_preamble(root, preamble)
    _expand_inline(root)
    _number(root, ())
    return preamble, root


def _plain_headings(paragraphs: list[str]) -> set[int]:
    """Chapter headings printed without a number (sh_fxmz 总体要求 / 重点整治内容 / 工作安排 /
    工作要求; heldout sx_yuncheng “十三五”应急体系9个具体建设任务 over （一）): only in a document
    with no ``一、`` chapters, a short line without sentence punctuation (quotes and figures
    allowed) that names a section or is followed by a numbered item."""
    if any((m := match_marker(p)) is not None and m.style in ("cn", "chapter") for p in paragraphs):
        return set()
    v = vocab()
    words = (*v.task_sections, *v.goal_sections, *v.context_sections, *v.stage_sections)
    out: set[int] = set()
    for i, para in enumerate(paragraphs):
        bare = re.sub(r"[“”\"‘’\d]", "", para)
        if not 2 <= len(para) <= 20 or re.search(r"[\W_a-zA-Z]", bare) or match_marker(para):
            continue
        nxt = paragraphs[i + 1] if i + 1 < len(paragraphs) else ""
        if any(w in para for w in words) or match_marker(nxt) is not None:
            out.add(i)
    return out


def _expand_preamble(root: Node, preamble: list[str]) -> list[str]:
    """A ``下一步…：一是…二是…`` paragraph outside any heading (short replies have none)
    becomes a ``lead`` node holding its items; its lead-in decides whether they are tasks."""
    kept: list[str] = []
    leads: list[Node] = []
    for para in preamble:
        split = split_inline(para)
        if split is None or not split[0]:
            kept.append(para)
            continue
        lead, items = split
        node = Node("lead", 0, "", lead, parent=root)
        for label, value, text in items:
            node.children.append(Node("inline", value, label, text, parent=node))
        leads.append(node)
    root.children[:0] = leads
    return kept


def _expand_inline(node: Node) -> None:
    """Turn ``一是…二是…`` body paragraphs of a leaf heading into child items."""
    for child in node.children:
        _expand_inline(child)
    if node.style is None or node.children:
        return
    kept: list[str] = []
    for para in node.body:
        split = split_inline(para)
        if split is None:
            kept.append(para)
            continue
        lead, items = split
        if lead:
            kept.append(lead)
        for label, value, text in items:
            node.children.append(Node("inline", value, label, text, parent=node))
    node.body = kept


def _number(node: Node, index: tuple[int, ...]) -> None:
    node.index = index
    for i, child in enumerate(node.children, start=1):
        _number(child, (*index, i))
