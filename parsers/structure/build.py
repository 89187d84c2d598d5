"""Assemble a :class:`ParsedDocument` from an :class:`Extracted`."""

from __future__ import annotations

import re

from parsers.errors import ParseError
from parsers.readers.base import Extracted
from parsers.schema import Attachment, OutlineNode, ParsedDocument, Target, Task, Unit
from parsers.structure.clean import clean_paragraph, clean_paragraphs
from parsers.structure.metadata import extract_metadata, split_issuers
from parsers.structure.outline import ANNEX, Node, build_outline, match_marker
from parsers.structure.tables import take_task_tables
from parsers.structure.units import find_units, strip_annotation
from parsers.structure.vocab import vocab
from parsers.targets import extract_targets, is_threshold_heading

_YEAR_INTRO = re.compile(r"(?:到|至|力争到|力争|争取到|预计到|截至)\s*((?:19|20)\d{2})\s*年")
# A stage heading that carries its year gives it to the numbers below it: "（二）建设及试运行
# 阶段（2025年年底前）" (sh_jtw_2024-11-21), "2023年：…" / "到2025年：" stage lines of 三年行动
# plans, "（一）集中攻坚阶段（2023年8月至11月）" (sh_fxmz_2023-09-04).
_HEADING_YEAR = re.compile(
    r"(?:^|[（(])\s*(?:到|至|力争到)?\s*((?:19|20)\d{2})\s*年(?:年?底|末)?(?:前)?\s*(?:[）)：:]|\d{1,2}月)"
)


def heading_title(text: str) -> str:
    """The title of an item: its first sentence (or clause when the sentence is long)."""
    for stops, limit in (("。：:", 48), ("，；;,", 40)):
        cut = min((text.find(s) for s in stops if s in text), default=-1)
        if 0 < cut <= limit:
            return text[:cut].strip()
    return text[:40].strip() if len(text) > 48 else text.rstrip("。；;").strip()


def _inline_title(text: str) -> str:
    cut = min((text.find(s) for s in "，。；;：" if s in text), default=-1)
    if 0 < cut <= 48:
        return text[:cut]
    return heading_title(text)


def _section_kind(title: str) -> tuple[str, str] | None:
    """("task"|"goal"|"context", matched word) for a heading title, else None."""
    if len(title) > 20:
        return None
    v = vocab()
    for kind, words in (
        ("goal", v.goal_sections),
        ("context", v.context_sections),
        ("task", v.task_sections),
    ):
        for word in words:
            if word in title and (kind != "goal" or len(title) <= 12):
                return kind, word
    return None


def _node_title(node: Node) -> str:
    """An item's title, without a unit annotation written on its heading line."""
    text = strip_annotation(node.text, find_units(node.text)) or node.text
    if node.style == "inline":
        return _inline_title(text)
    return heading_title(text)


def _lead_kind(lead: str) -> tuple[str, str] | None:
    """Section kind of an inline list's lead-in sentence (``下一步，我委将…：``)."""
    v = vocab()
    for word in v.lead_context:
        if word in lead:
            return "context", word
    for word in v.lead_task:
        if word in lead:
            return "task", word
    return None


def _classify(node: Node) -> tuple[str, str] | None:
    """The innermost section kind that applies to a node (itself if it is a bare heading)."""
    chain = node.ancestors()
    if "。" not in node.text:
        chain = [*chain, node]
    for anc in reversed(chain):
        kind = _lead_kind(anc.text) if anc.style == "lead" else _section_kind(_node_title(anc))
        if kind:
            return kind
    return None


def _is_task(
    node: Node, cls: tuple[str, str] | None, own: list[Unit], units: list[Unit], doc_kind: str
) -> bool:
    """Whether a leaf is a task, from its section's kind and its structure, not its words.

    - context sections (指导思想, 基本原则, 职责分工…): never;
    - goal sections (发展目标, 预期目标…): only items that name their own units (ah_chuzhou
      and cq_yuzhong assign each 预期目标 item to units);
    - 保障措施-type sections: items written as work items that name their own units (a bare
      heading over a general paragraph is a safeguard);
    - task sections, and sections named by their content (sh_fgw 实施路径, sh_zjw 相关要求,
      sh_fxmz 重点整治内容, sh_fx 贯通…): every numbered leaf of a plan states work, except a
      chapter with no items among chapters that have them (sh_fgw 一、园区类型,
      sh_jd_2026 一、…: prose, not a task).
    """
    if node.style == "annex":
        return False
    kind, word = cls or ("", "")
    if kind == "context":
        return False
    if kind == "goal":
        return bool(own)
    if kind == "task" and word in vocab().units_required_sections:
        # ``（一）加强组织保障。…（责任单位：…）`` is work; ``（一）加强统筹协调`` + text is not.
        return bool(own) and "。" in node.text
    if kind == "task":
        return True
    if units:
        return True
    if doc_kind in ("reply", "news") or node.style == "inline":
        return False
    return not _prose_chapter(node)


def _prose_chapter(node: Node) -> bool:
    """A top-level chapter without numbered items while its sibling chapters have them."""
    parent = node.parent
    if parent is None or parent.style is not None or node.children:
        return False
    return any(not sib.is_leaf for sib in parent.children if sib is not node)


def _own_units(node: Node) -> tuple[list[Unit], list[str]]:
    """Units annotated on the item itself (its line and its body), and its text without them."""
    units: list[Unit] = []
    parts: list[str] = []
    for para in [node.text, *node.body]:
        ann = find_units(para)
        if ann:
            for u in ann.units:
                if all(u.name != x.name or u.role != x.role for x in units):
                    units.append(u)
        rest = strip_annotation(para, ann)
        if rest:
            parts.append(rest)
    return units, parts


def _inherited_units(node: Node) -> list[Unit]:
    for anc in reversed(node.ancestors()):
        units: list[Unit] = []
        for para in [anc.text, *anc.body]:
            ann = find_units(para)
            if ann:
                units.extend(ann.units)
        if units:
            return units
    return []


def _path(node: Node) -> list[str]:
    return [f"{a.label}{_node_title(a)}" for a in node.ancestors() if a.style != "lead"]


def _outline(node: Node) -> list[OutlineNode]:
    out: list[OutlineNode] = []
    for c in node.children:
        if c.style == "lead":  # a lead-in sentence is not a heading: show its items only
            out.extend(_outline(c))
        elif c.style == "annex" and not c.children:
            continue
        else:
            out.append(OutlineNode(number=c.label, title=_node_title(c), children=_outline(c)))
    return out


def _split_closing(body: list[str]) -> list[str]:
    """Drop the closing paragraphs (thanks, validity clause, contact line, 抄送) that follow
    the last numbered item, so they do not become part of the last task."""
    last = max((i for i, p in enumerate(body) if match_marker(p)), default=-1)
    if last < 0:
        return body
    patterns = vocab().closing_patterns
    for i in range(last + 1, len(body)):
        if any(p.match(body[i]) for p in patterns):
            return body[:i]
    return body


def _dedupe(targets: list[Target]) -> list[Target]:
    """Drop a target read twice (a paragraph seen as preamble and as a goal section); two
    targets of one sentence with the same value but different metrics stay apart
    (建成1000亩以上开放休闲林地5个，300亩以上开放休闲林地5个)."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for t in targets:
        key = (t.text, t.metric, t.value, t.value_max, t.unit, t.year)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


_LIST_DASHES = ("——", "—", "-", "·", "•", "●")


def _goal_intro_year(node: Node, cls: tuple[str, str] | None) -> tuple[int | None, bool]:
    """The due year of a goal section's lead (到2025年，…), and whether it covers ``node``'s
    paragraphs as a whole: the node is an item below the lead, or the lead ends with ：."""
    if not cls or cls[0] != "goal":
        return None, False
    section = node
    while (
        section.parent is not None
        and section.parent.style is not None
        and (_section_kind(_node_title(section)) is None)
    ):
        section = section.parent
    lead = [section.text, *section.body][:2]
    m = _YEAR_INTRO.search(" ".join(lead))
    if not m:
        return None, False
    return int(m.group(1)), section is not node or lead[-1].rstrip().endswith(("：", ":"))


def heading_year(node: Node) -> int | None:
    """The year written on the nearest enclosing stage heading, if any."""
    for anc in [node, *reversed(node.ancestors())]:
        m = _HEADING_YEAR.search(_node_title(anc)) if anc.style != "lead" else None
        if m:
            return int(m.group(1))
    return None


def build_document(extracted: Extracted) -> ParsedDocument:
    raw_paras, table_tasks = take_task_tables(extracted)
    paras = clean_paragraphs(raw_paras)
    if not paras:
        raise ParseError("no text found in the document")
    cmeta = extracted.meta
    meta = extract_metadata(paras, container_title=cmeta.get("title"))
    # An attachment line the metadata took stays as a bare 附件 mark: the outline ends the
    # body there (what follows is the attachment, not the last chapter).
    body = _split_closing(
        [
            p if i not in meta.consumed else "附件"
            for i, p in enumerate(paras)
            if i not in meta.consumed or ANNEX.match(p)
        ]
    )
    preamble, root = build_outline(body)
    extract = extract_targets
    forward_only = meta.kind in ("news", "reply")
    nodes = root.walk()

    # Which leaves are tasks.
    candidates: list[tuple[Node, list[Unit], list[str]]] = []
    classified: dict[int, tuple[str, str] | None] = {}
    for node in nodes:
        classified[id(node)] = _classify(node)
    if meta.kind != "news":
        for node in nodes:
            if not node.is_leaf:
                continue
            own, parts = _own_units(node)
            units = own or _inherited_units(node)
            if _is_task(node, classified[id(node)], own, units, meta.kind):
                candidates.append((node, units, parts))

    tasks: list[Task] = []
    task_ids = set()
    for node, units, parts in candidates:
        task_ids.add(id(node))
        if node.body and "。" not in node.text and len(parts) > 1:
            title, text = heading_title(parts[0]), "\n".join(parts[1:])
        else:
            first = parts[0] if parts else node.text
            title = _inline_title(first) if node.style == "inline" else heading_title(first)
            text = "\n".join(parts)
        tasks.append(
            Task(
                id="t" + ".".join(str(i) for i in node.index),
                number=node.label,
                path=_path(node),
                title=title,
                text=text,
                units=units,
                # A task states future work by definition, even in a reply or news item.
                targets=_dedupe(extract(text, default_year=heading_year(node))),
            )
        )

    tasks.extend(table_tasks)

    # Document-level goals: everything outside tasks (preamble, goal sections, context).
    goals: list[Target] = []
    for para in preamble:
        goals.extend(extract(para, forward_only=forward_only))
    for node in nodes:
        if id(node) in task_ids:
            continue
        if any(is_threshold_heading(_node_title(a)) for a in [node, *node.ancestors()]):
            continue  # conditions, types, scope: thresholds, not goals
        intro_year, lead_in = _goal_intro_year(node, classified[id(node)])
        own_year = heading_year(node)
        texts = [node.text, *node.body] if "。" in node.text else node.body
        for para in texts:
            # The year of a dated lead (到2025年，…：) covers the items it introduces, not a
            # separate sentence after it (sh_lsc_2025-02-28: 50%以上 has no year).
            covered = lead_in or para.lstrip().startswith(_LIST_DASHES)
            goals.extend(
                extract(
                    strip_annotation(para, find_units(para)),
                    default_year=own_year or (intro_year if covered else None),
                    forward_only=forward_only,
                )
            )

    issuers = meta.issuers or [
        clean_paragraph(x) for i in cmeta.get("issuers") or [] for x in split_issuers(i)
    ]
    return ParsedDocument(
        title=clean_paragraph(cmeta["title"])
        if cmeta.get("title") and not meta.title
        else meta.title,
        doc_number=meta.doc_number or cmeta.get("doc_number"),
        issuers=issuers,
        recipients=meta.recipients,
        date=meta.date or cmeta.get("date"),
        published=cmeta.get("published") or meta.published,
        kind=meta.kind,  # type: ignore[arg-type]
        proposal=meta.proposal,
        goals=_dedupe(goals),
        tasks=tasks,
        outline=_outline(root),
        index_no=cmeta.get("index_no"),
        attachments=[Attachment(**a) for a in cmeta.get("attachments") or []],
        cites=meta.cites,
        source_format=extracted.format,
    )
