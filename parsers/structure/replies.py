"""What a reply commits to: its 下一步/今后/将…/计划/拟/待…后 sentences become tasks.

A reply (提案/建议答复, 复函, 会办意见) mostly reports what was done; the analyst whose unit is
named wants the commitments. When the reply has a next-step *section* (``二、下一步工作``:
seed 004, tests/fixtures/corpus c11/c12) the outline already made those items tasks and
they are kept as they are. Otherwise:

- numbered items under a forward-looking lead-in (``接下来街道将从以下三方面…：`` then
  一、二、三、: sh_reply_jdT014; fx) are one task each;
- any other sentence with a forward marker is one task (cn_reply_nea0920, zj_reply_wen36,
  hb_reply_dy5, sn_reply_zp86, … see metadata.toml [commitments]), unless it is courtesy
  (thanks, "多提宝贵意见") or reports the past (已将, …了).

A task's ``title`` is the clause that carries the commitment, its ``text`` the sentence as
published, its ``units`` the bodies the sentence names: the subject before 将 and 我局-style
self references (the replying unit) lead, 会同/协同/与… bodies support, 由…负责/指导… bodies
are responsible. Markers are matched on the reading view, so traditional-character mirrors
(jl_reply_yj37-trad) read the same.
"""

from __future__ import annotations

import re

from parsers.schema import Task, Unit
from parsers.structure.metadata import Metadata
from parsers.structure.mvocab import mvocab, words
from parsers.structure.outline import match_marker
from parsers.structure.reading import Reading, reading
from parsers.targets import extract_targets

_SENTENCE_END = "。！？!?"
_QUOTED = re.compile(r"《[^《》]*》|“[^“”]*”|\"[^\"]*\"")


def _sentences(r: Reading) -> list[tuple[int, int]]:
    """(start, end) of the sentences of a reading view; a marker standing alone as a
    sentence (``下一步。``: jl_reply_yj37-trad) joins the next one."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(r.text):
        if ch in _SENTENCE_END:
            spans.append((start, i + 1))
            start = i + 1
    if start < len(r.text):
        spans.append((start, len(r.text)))
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and len(r.text[merged[-1][0] : merged[-1][1]].strip()) <= 5:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [(s, e) for s, e in merged if r.text[s:e].strip()]


def _masked(text: str) -> str:
    """Book titles and quotations blanked out: a 《关于将…的建议》 commits nobody."""
    return _QUOTED.sub(lambda m: "□" * len(m.group(0)), text)


def _marker(sentence: str) -> int | None:
    """Where the forward-looking marker of a sentence is, or None."""
    v = mvocab()["commitments"]
    text = _masked(sentence)
    if any(w in text for w in v["courtesy"]):
        return None
    for word in words("commitments", "strong"):
        k = text.find(word)
        if k >= 0:
            return k
    if text.lstrip().startswith("关于"):
        return None  # a proposal's title quoted without book-title marks (sd_reply_tz50)
    if "待" in text and re.search(r"待[^，,。]{2,30}[后时]", text):
        return text.find("待")
    for word in words("commitments", "weak"):
        for m in re.finditer(word, text):
            before, after = text[: m.start()], text[m.end() : m.end() + 1]
            if any(before.endswith(b) for b in v["not_before_weak"]):
                continue
            if after and any(after.startswith(a) for a in v["not_after_weak"]):
                continue
            if word == "将" and _past_sentence(text):
                continue
            return m.start()
    return None


def _past_sentence(text: str) -> bool:
    """Whether a sentence reports the past with the particle 了 (``…进行了深度调研,策划将…``:
    hb_reply_dy5; nx_reply_yanchi49), not counting 为了/了解-style words that only contain
    the character (heldout ln_reply_fuxin158 ``为了进一步规范…,将…列入条例条款``)."""
    for word in words("commitments", "not_past"):
        text = text.replace(word, "")
    return "了" in text


def _title(sentence: str, at: int) -> str:
    """The clause carrying the commitment, without a leading marker or subject."""
    clauses = [c for c in re.split(r"[，,；;：:。！？]", sentence[at:]) if c.strip()]
    for clause in clauses:
        gist = re.sub(
            r"^(?:下一步|下步|今后|接下来|同时|此外|另外)?[^将拟]{0,20}?(?:还将|并将|将|拟)",
            "",
            clause,
        )
        if len(gist) >= 4:
            return gist[:40]
    return sentence[at : at + 40]


# Units -----------------------------------------------------------------------------------


def _agency_end(text: str, start: int) -> int | None:
    """End of an agency name starting at ``start``: the first suffix end that no
    continuation (有限公司, 有关部门, …) extends."""
    v = mvocab()["units"]
    suffixes = words("units", "suffixes")
    conts = v["continuations"]
    j = start + 2
    end = None
    while j <= min(len(text), start + 30):
        seg = text[start:j]
        if re.search(r"[，,。；;：:、和及与\s]", seg[-1]):
            break
        if any(seg.endswith(s) for s in suffixes):
            end = j
            rest = text[j:]
            if not any(rest.startswith(c) for c in conts) and not _longer_suffix(text, j, suffixes):
                return end
        j += 1
    return end


def _longer_suffix(text: str, j: int, suffixes: tuple[str, ...]) -> bool:
    """``区级部`` + ``门``: the name goes on into a longer suffix (部门, 委员会)."""
    for s in suffixes:
        for m in range(1, len(s)):
            if text.endswith(s[:m], 0, j) and text.startswith(s[m:], j):
                return True
    return False


def _name_list(r: Reading, start: int) -> list[tuple[str, int]]:
    """Agency names at ``start`` separated by 、和及: [(name as published, end)]."""
    out: list[tuple[str, int]] = []
    pos = start
    while pos < len(r.text) and r.text[pos] in " ，,；;。：:":
        pos += 1
    while True:
        end = _agency_end(r.text, pos)
        if end is None or r.text[pos:end] in words("units", "suffixes"):
            break  # a bare 单位/企业 names nobody
        if re.search(r"[的由对在将从把被为是]", r.text[pos:end]):
            break
        name = re.sub(r"等(?:有关|相关)?(?:部门|单位)$", "", r.raw_span(pos, end))
        out.append((name, end))
        if end < len(r.text) and r.text[end] in "、和及":
            pos = end + 1
            continue
        break
    return out


_CLAUSE_OPEN = re.compile(
    r"(?:^|[，,；;。])\s*(?:下一步|下步|今后|接下来|同时|在此基础上)?[，,]?\s*"
    r"(?:[一二三四五六七八九十]+是)?\s*(请)?"
)


def _units(r: Reading, s: int, e: int, self_unit: str | None) -> list[Unit]:
    """The bodies one sentence makes responsible (see the module docstring), in order."""
    v = mvocab()["units"]
    text = r.text
    units: list[Unit] = []

    def add(name: str, role: str) -> None:
        if any(name.endswith(w) for w in v["self_words"]):
            return  # 我局 is the replying unit, added below by its name
        if name and all(u.name != name for u in units):
            units.append(Unit(name=name, role=role))  # type: ignore[arg-type]

    sentence = text[s:e]
    if self_unit and any(w in sentence for w in v["self_words"]):
        units.append(Unit(name=self_unit, role="lead"))
    led = [(m.start(), m.end()) for w in v["lead_after"] for m in re.finditer(w, sentence)]
    # The subject of a clause: "市公交公司将…", "国务院有关部门和山东省人民政府将…", and
    # the bodies a notice asks (请X…); a subject that 配合s another body supports it.
    for m in _CLAUSE_OPEN.finditer(sentence):
        names = _name_list(r, s + m.end())
        if not names:
            continue
        after = text[names[-1][1] : e]
        verb = re.match(r"\s*(将|拟|要|负责|计划|会同)", after)
        if m.group(1) or verb:
            helps = any(a >= names[-1][1] - s and a - (names[-1][1] - s) <= 6 for a, _ in led)
            # ``各单位要…`` tells the addressees what to do: responsible, not a lead
            # (pages/sh_notice_hfgny2021-3 truth; dev plans hb_caidian ``各责任单位要…``).
            told = verb is not None and verb.group(1) == "要" and not m.group(1)
            role = "support" if helps else "responsible" if told else "lead"
            for name, _ in names:
                add(name, role)
    for _, end in led:
        for name, _ in _name_list(r, s + end):
            if not _promote(units, name):
                add(name, "lead")
    for role, key in (("support", "support_before"), ("responsible", "responsible_before")):
        for word in v[key]:
            for m in re.finditer(re.escape(word), sentence):
                if _inside_word(sentence, m.start(), v["support_false"]):
                    continue
                for name, _ in _name_list(r, s + m.end()):
                    add(name, role)
    return units


def _promote(units: list[Unit], name: str) -> bool:
    """Make an already named unit the lead (配合Y after Y was named elsewhere)."""
    for i, u in enumerate(units):
        if u.name == name:
            units[i] = Unit(name=name, role="lead")
            return True
    return False


def _inside_word(text: str, at: int, false_words: list[str]) -> bool:
    """Whether position ``at`` lies inside one of ``false_words`` (参与 is not 与)."""
    for w in false_words:
        for m in re.finditer(re.escape(w), text):
            if m.start() <= at < m.end():
                return True
    return False


def sentence_units(text: str) -> list[Unit]:
    """Units named by the sentences of a notice item that carries no unit annotation:
    ``一是请市电力公司会同各有关单位…二是请市经济信息化委…`` (pages/sh_notice_hfgny2021-3;
    dev plans sh_zjw_2024-02-01 ``请各区、相关管委会…``); the first role a body gets wins."""
    r = reading(text)
    units: list[Unit] = []
    for s, e in _sentences(r):
        for u in _units(r, s, e, None):
            if all(x.name != u.name for x in units):
                units.append(u)
    return units


# Tasks -----------------------------------------------------------------------------------


def _task(n: int, number: str | None, title: str, raw_text: str, units: list[Unit]) -> Task:
    return Task(
        id=f"r{n}",
        number=number,
        title=title,
        text=raw_text,
        units=units,
        targets=extract_targets(raw_text),
    )


def _item_tasks(paras: list[str], self_unit: str | None) -> tuple[list[Task], set[int]]:
    """Numbered items whose lead-in paragraph looks forward (``接下来…将从以下三方面…：``)."""
    tasks: list[Task] = []
    used: set[int] = set()
    for i, p in enumerate(paras[:-1]):
        if not p.rstrip().endswith(("：", ":")) or match_marker(p):
            continue
        if _marker(reading(p).text) is None:
            continue
        first = match_marker(paras[i + 1])
        if first is None:
            continue
        used.add(i)
        j = i + 1
        while j < len(paras) and (m := match_marker(paras[j])) and m.style == first.style:
            r = reading(paras[j])
            title = re.split(r"[。；;]", m.rest)[0][:40]
            units = _units(r, 0, len(r.text), self_unit)
            if self_unit and all(u.name != self_unit for u in units):
                units.insert(0, Unit(name=self_unit, role="lead"))
            tasks.append(_task(len(tasks) + 1, m.label, title, paras[j], units))
            used.add(j)
            j += 1
    return tasks, used


def reply_tasks(paras: list[str], meta: Metadata, outline_tasks: list[Task]) -> list[Task]:
    """The commitments of a reply's body paragraphs (metadata lines already removed)."""
    if outline_tasks:
        return outline_tasks
    self_unit = meta.self_unit
    tasks, used = _item_tasks(paras, self_unit)
    cont = words("commitments", "continuations")
    for i, p in enumerate(paras):
        if i in used:
            continue
        r = reading(p)
        previous = False
        for s, e in _sentences(r):
            sentence = r.text[s:e]
            at = _marker(sentence)
            if at is None and previous and sentence.lstrip().startswith(cont):
                at = 0
            previous = at is not None
            if at is None:
                continue
            raw = r.raw[r.pos[s] : r.pos[e]].strip()
            if any(t.text == raw for t in tasks):
                continue  # a page that prints the reply twice (fx ha_reply_xinyan)
            units = _units(r, s, e, self_unit)
            if self_unit and not any(u.role == "lead" for u in units):
                # The replying unit speaks every commitment that names no other subject.
                units.insert(0, Unit(name=self_unit, role="lead"))
            tasks.append(_task(len(tasks) + 1, None, _title(sentence, at), raw, units))
    return tasks
