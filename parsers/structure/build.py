"""Assemble a :class:`ParsedDocument` from an :class:`Extracted`."""

from __future__ import annotations

import re

from parsers.errors import ParseError
from parsers.readers.base import Extracted
from parsers.schema import Attachment, OutlineNode, ParsedDocument, Target, Task, Unit
from parsers.structure.clean import clean_paragraph, clean_paragraphs
from parsers.structure.metadata import extract_metadata, split_issuers
from parsers.structure.outline import ANNEX, Node, build_outline, match_marker
from parsers.structure.replies import reply_tasks, sentence_units
from parsers.structure.tables import take_task_tables
from parsers.structure.units import find_units, strip_annotation
from parsers.structure.vocab import vocab
from parsers.targets import extract_targets, is_threshold_heading

#: A document of rules (办法/规定/细则/条例…, 试行/暂行 or issued by a notice): its 第X条 are rules.
_RULES_TITLE = re.compile(
    r"(办法|规定|细则|条例|规则|章程|准则)(?:[（(][^）)]{1,6}[）)])?(?:》的通知)?$"
)
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
    """("task"|"goal"|"stage"|"context", matched word) for a heading title, else None."""
    if len(title) > 20:
        return None
    v = vocab()
    for kind, words in (
        ("goal", v.goal_sections),
        ("context", v.context_sections),
        ("stage", v.stage_sections),
        ("task", v.task_sections),
    ):
        for word in words:
            if kind == "goal" and (title.endswith(word) and len(title) <= 12):
                return kind, word
            if kind != "goal" and word in title:
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
    # A heading names its section; a leaf item's own words do not (（三）持续推进重点项目整治
    # is an item of 工作要求, not a 重点项目 section), except a top-level chapter.
    if "。" not in node.text and (any(c.style != "inline" for c in node.children) or not chain):
        chain = [*chain, node]
    for anc in reversed(chain):
        kind = _lead_kind(anc.text) if anc.style == "lead" else _section_kind(_node_title(anc))
        if kind:
            return kind
    return None


def _group_line(node: Node) -> list[Unit]:
    """Units of a unit line standing alone as the last paragraph of an item's body."""
    if not node.body:
        return []
    ann = find_units(node.body[-1])
    if ann is None or ann.start != 0 or ann.end != len(node.body[-1]):
        return []
    return list(ann.units)


def _share_group_units(
    candidates: list[tuple[Node, list[Unit], list[str]]],
) -> list[tuple[Node, list[Unit], list[str]]]:
    """Units written once after a group of items apply to each item of the group.

    ``（1）…（2）…（3）…（4）…`` followed by one ``责任单位：…`` line: the outline puts the line
    in （4）'s body, but it closes the group. When the last item of a group ends in a unit line
    of its own paragraph and none of its sibling tasks names units, they all take it (sh_fx
    （四）'s three paragraphs share one line the same way; the (1)–(4) form is the held-out
    shape named in the plans README)."""
    by_parent: dict[int, list[int]] = {}
    for i, (node, _, _) in enumerate(candidates):
        by_parent.setdefault(id(node.parent), []).append(i)
    out = list(candidates)
    for idxs in by_parent.values():
        last_node, _, _ = candidates[idxs[-1]]
        siblings = last_node.parent.children if last_node.parent else []
        if len(idxs) < 2 or siblings[-1] is not last_node:
            continue
        shared = _group_line(last_node)
        if not shared or any(_own_units(candidates[i][0])[0] for i in idxs[:-1]):
            continue
        for i in idxs[:-1]:
            node, _, parts = candidates[i]
            out[i] = (node, shared, parts)
    return out


def _is_task(
    node: Node,
    cls: tuple[str, str] | None,
    own: list[Unit],
    units: list[Unit],
    doc_kind: str,
    rules_doc: bool = False,
) -> bool:
    """Whether a leaf is a task, from its section's kind and its structure, not its words.

    - context sections (指导思想, 基本原则, 职责分工…): never;
    - goal sections (发展目标, 预期目标…) and stages (实施步骤, 工作安排): only items that name
      their own units (ah_chuzhou and cq_yuzhong assign each 预期目标 item to units,
      sh_jtw_2025 each stage);
    - 保障措施-type sections: items written as work items that name their own units (a bare
      heading over a general paragraph is a safeguard);
    - task sections, and sections named by their content (sh_fgw 实施路径, sh_zjw 相关要求,
      sh_fxmz 重点整治内容, sh_fx 贯通…): every numbered leaf of a plan states work, except a
      chapter with no items among chapters that have them (sh_fgw 一、园区类型,
      sh_jd_2026 一、…: prose, not a task).
    """
    if node.style == "annex":
        return False
    if node.style == "article" and rules_doc:
        # 第X条 of a 办法/规定/细则/条例 is a rule that binds, not assigned work; in a plan
        # (方案/计划/措施) an article is a work item like any numbered one.
        return False
    kind, word = cls or ("", "")
    if kind == "context":
        return False
    if kind == "goal" and not node.ancestors():
        # A goal chapter written as prose states the plan's goals, whatever a bracket in it
        # glosses (heldout sc_chengdu 一、主要目标: …综合体(社区服务中心); dev sh_lsc and sh_zjw
        # 一、工作目标 are prose goal chapters too).
        return False
    if kind in ("goal", "stage"):
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
    if any(a.style == "annex" for a in node.ancestors()) and _annex_is_not_plan(node):
        return False
    return not _prose_chapter(node)


def _is_leaf(node: Node, whole: bool) -> bool:
    """A leaf of the outline. In a plan an item whose only children are its own ``一是…二是…``
    sentences is one task (sh_fx （二）, sh_jd （三） whose 一是规模/二是整治重要性 are selection
    criteria); a reply's 一是… commitments stay separate items."""
    if whole and node.style == "inline":
        return False
    if whole and node.children and all(c.style == "inline" for c in node.children):
        return node.parent is None or node.style != "lead"
    return node.is_leaf


def _first_safeguard_chapter(
    nodes: list[Node], classified: dict[int, tuple[str, str] | None], whole: bool
) -> list[tuple[Node, list[Unit], list[str]]]:
    """No task anywhere: the first 工作要求/保障措施-type chapter holds the work items (sh_jd
    二、工作要求 before 四、保障措施; heldout cq_linjiang 二、工作要求 (一)-(五) after a prose
    一、总体目标), the way a plan with only one such chapter does."""
    required = vocab().units_required_sections
    chapter: Node | None = None
    out: list[tuple[Node, list[Unit], list[str]]] = []
    for node in nodes:
        cls = classified[id(node)]
        if not (_is_leaf(node, whole) and cls and cls[1] in required):
            continue
        top = node.ancestors()[0] if node.ancestors() else node
        if chapter is None:
            chapter = top
        if top is chapter:
            units, parts = _own_units(node)
            out.append((node, units or _inherited_units(node), parts))
    return out


# An attachment whose title names work (a plan, a task list) holds tasks; other
# attachments hold standards, criteria and lists (heldout sh_lhsr 附件2 白玉兰栽植和养护技术要求:
# 一、苗木要求 1.场地选择… are planting rules; dev sh_fgw lists 附件 基本条件 / 指标体系).
_WORK_ANNEX = ("任务", "分工", "清单", "分解", "工作", "项目", "措施", "工程", "行动", "事项")


def _annex_is_not_plan(node: Node) -> bool:
    """Whether the attachment ``node`` sits in is not a plan or task list, by its title."""
    annex = next(a for a in node.ancestors() if a.style == "annex")
    title = re.sub(r"^附\s*件\s*[0-9一二三四五六七八九十]*[：:.、]?", "", annex.text).strip()
    if not title and annex.body:
        title = annex.body[0]
    if not title:
        return False
    words = (*vocab().plan_words, *_WORK_ANNEX)
    return not any(w in title for w in words)


def _detach_trailing(root: Node) -> list[str]:
    """Take off the last item of a list the paragraphs that follow it when every earlier item
    is one paragraph closed by its units: items of one list share a shape, so what follows
    the last one closes the chapter or the document (heldout sh_fgw_2024-12-14: a summary
    paragraph with the plan's 120个 goal and the drafting bureau's signature after （十）;
    dev sn_2015: 详见三秦网 / the reporter's name after item 4). Returns those paragraphs."""
    out: list[str] = []
    for node in [root, *root.walk()]:
        kids = [c for c in node.children if c.style != "inline"]
        if len(kids) < 3 or kids[-1] is not node.children[-1]:
            continue
        last, earlier = kids[-1], kids[:-1]
        if last.children or not last.body:
            continue
        if not _closed_by_units(last.text) and any(find_units(p) for p in last.body):
            continue  # the last item's own unit line is in its body
        if all(not k.children and not k.body and _closed_by_units(k.text) for k in earlier):
            out.extend(last.body)
            last.body = []
    return out


def _closed_by_units(text: str) -> bool:
    ann = find_units(text)
    return ann is not None and ann.end >= len(text.rstrip("。．. "))


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
    # An item read whole includes its 一是…二是… sentences (see _is_leaf).
    inline = [f"{c.label}{c.text}" for c in node.children if c.style == "inline"]
    for para in [node.text, *node.body, *inline]:
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


# A heading that is itself a deadline: "（一）建设筹备阶段（2024年年底前）" (sh_jtw_2024-11-21),
# "（一）2023年4月底前" (sh_jtw_2023-04-17 三、时间节点).
_HEADING_DEADLINE = re.compile(
    r"(?:到|至)?\s*((?:19|20)\d{2})\s*年\s*(?:年?底前|末前|前|(?:\d{1,2}月)?(?:底|末)?前)"
)


def heading_deadline(node: Node, title: str, targets: list[Target]) -> list[Target]:
    """The deadline of a stage item whose heading carries it and whose body states none, so
    that moving the stage's year is a goal change (2024年年底前 -> 2025年年底前)."""
    m = _HEADING_DEADLINE.search(_node_title(node))
    if not m or any(t.year == int(m.group(1)) for t in targets):
        return []
    name = re.sub(r"[（(][^）)]*[）)]", "", title).strip() or title
    return [Target(text=_node_title(node), metric=name, year=int(m.group(1)))]


def heading_year(node: Node) -> int | None:
    """The year written on the nearest enclosing stage heading, if any."""
    for anc in [node, *reversed(node.ancestors())]:
        m = _HEADING_YEAR.search(_node_title(anc)) if anc.style != "lead" else None
        if m:
            return int(m.group(1))
    return None


def _task_targets(node: Node, title: str, text: str) -> list[Target]:
    targets = _dedupe(extract_targets(text, default_year=heading_year(node)))
    return heading_deadline(node, title, targets) + targets


def build_document(extracted: Extracted) -> ParsedDocument:
    raw_paras, table_tasks = take_task_tables(extracted)
    paras = clean_paragraphs(raw_paras)
    if not paras:
        raise ParseError("no text found in the document")
    cmeta = extracted.meta
    meta = extract_metadata(paras, container=cmeta)
    # An attachment line the metadata took stays as a bare 附件 mark: the outline ends the
    # body there (what follows is the attachment, not the last chapter).
    body = _split_closing(
        [
            p if i not in meta.consumed else "附件"
            for i, p in enumerate(paras)
            if i not in meta.consumed or ANNEX.match(p)
        ]
    )
    headings = frozenset(clean_paragraph(h) for h in cmeta.get("headings") or [])
    preamble, root = build_outline(body, headings)
    trailing = _detach_trailing(root)
    extract = extract_targets
    forward_only = meta.kind in ("news", "reply")
    nodes = root.walk()

    # Which leaves are tasks.
    candidates: list[tuple[Node, list[Unit], list[str]]] = []
    classified: dict[int, tuple[str, str] | None] = {}
    for node in nodes:
        classified[id(node)] = _classify(node)
    whole = meta.kind != "reply"
    rules_doc = bool(_RULES_TITLE.search(meta.title or cmeta.get("title") or ""))
    for node in nodes:
        if not _is_leaf(node, whole):
            continue
        own, parts = _own_units(node)
        units = own or _inherited_units(node)
        if meta.kind == "news":
            # A news item quoting a task division: its items that name units are tasks
            # (sn_2015 "(省农业厅牵头)", cq_yuzhong 牵头单位/责任单位 lines).
            ok = bool(own) and classified[id(node)] is None
        else:
            ok = _is_task(node, classified[id(node)], own, units, meta.kind, rules_doc)
        if ok:
            candidates.append((node, units, parts))
    if not candidates and meta.kind != "news":
        candidates = _first_safeguard_chapter(nodes, classified, whole)
    candidates = _share_group_units(candidates)

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
                targets=_task_targets(node, title, text),
            )
        )

    if meta.kind == "reply":
        # A reply's outline items count as its commitments only under a next-step heading or
        # lead-in (二、下一步工作); other numbered items report what was done.
        planned = [
            t
            for (node, _, _), t in zip(candidates, tasks, strict=True)
            if (classified[id(node)] or ("",))[0] == "task"
        ]
        tasks = reply_tasks(body, meta, planned)
    elif meta.kind == "notice":
        # A notice's own top-level directives assign work in sentences (一是请X会同Y…:
        # pages/sh_notice_hfgny2021-3), not in annotations; the chapters of a plan the notice
        # carries keep the plan's annotation convention (dev plans sh_fgw, sh_jd).
        for task in tasks:
            if not task.units and not task.path:
                task.units = sentence_units(task.text)
    tasks.extend(table_tasks)

    # Document-level goals: everything outside tasks (preamble, goal sections, context).
    goals: list[Target] = []
    for para in [*preamble, *trailing]:
        goals.extend(extract(para, forward_only=forward_only))
    for node in nodes:
        if id(node) in task_ids:
            continue
        if any(a.style == "annex" for a in [node, *node.ancestors()]):
            # An attachment's figures are project-list cells and per-district quotas (sh_fx
            # 附件 project tables, sh_jd 附件 per-街镇 table), not the document's goals.
            continue
        if any(is_threshold_heading(_node_title(a)) for a in [node, *node.ancestors()]):
            continue  # conditions, types, scope: thresholds, not goals
        intro_year, lead_in = _goal_intro_year(node, classified[id(node)])
        own_year = heading_year(node)
        # A goal section states goals whatever the document's kind: a 函 that works as a plan
        # (sh_zjw_2024-02-01 一、工作目标: 新增城市建成区50平方公里), a news page quoting a
        # plan's 预期目标 (cq_yuzhong_2023), have no forward word in their goal lines.
        cls = classified[id(node)]
        in_goals = bool(cls and cls[0] == "goal")
        texts = [node.text, *node.body] if "。" in node.text else node.body
        for para in texts:
            # The year of a dated lead (到2025年，…：) covers the items it introduces, not a
            # separate sentence after it (sh_lsc_2025-02-28: 50%以上 has no year).
            covered = lead_in or para.lstrip().startswith(_LIST_DASHES)
            goals.extend(
                extract(
                    strip_annotation(para, find_units(para)),
                    default_year=own_year or (intro_year if covered else None),
                    forward_only=forward_only and not in_goals,
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
        index_no=cmeta.get("index_no") or meta.index_no,
        units=meta.units,
        attachments=[Attachment(**a) for a in cmeta.get("attachments") or []],
        cites=meta.cites,
        source_format=extracted.format,
    )
