"""Responsible units and their roles, recognised by an agency-name grammar.

Three written forms, all read with the open role vocabulary of ``parsers/data/units.toml``:

- labelled: ``（牵头单位：A；配合单位：B、C）``, ``实施部门：C``, ``牵头责任单位:A。`` on its own line;
  a label is a role word + a head noun, so 协同责任单位 / 支撑单位 need no entry of their own;
- verb form: ``（A牵头，B、C配合）``, ``（A、B按职责分工负责）``, ``（A牵头卖力）``: a unit list
  followed by a role phrase; an unknown phrase reads as "responsible" rather than dropping
  the list;
- bare list: ``（各街镇、区规划资源局、区土储中心）`` at the end of a sentence, or
  ``……，各区政府、临港新片区管委会`` ending a paragraph, when every piece is an agency name
  by its form (ends like 局/委/办/中心/政府/公司…, or is collective: 各区政府, 市级各有关部门).

A remark after the list (``。时间节点：2025年3月``, ``。以下均需…``) ends it. Names are kept as
written (width and spaces normalized upstream); aliases are resolved only when comparing
(parsers.units_alias), never here. :func:`parse_units` is the entry point for a unit
string with no label (a table cell).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from parsers.schema import Unit
from parsers.structure.reading import to_simplified

_OPEN, _CLOSE = "（(【[〔", "）)】]〕"
_CJK = r"\u3400-\u9fff"
#: A pinyin gloss a mirror injected after a character: ``青島藍(lán)谷``.
_GLOSS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


@dataclass(frozen=True)
class UnitVocab:
    lead: tuple[str, ...]
    support: tuple[str, ...]
    responsible: tuple[str, ...]
    heads: tuple[str, ...]
    person_heads: tuple[str, ...]
    suffixes: tuple[str, ...]
    collective: tuple[str, ...]
    false_endings: tuple[str, ...]
    levels: str
    separators: str
    conjunctions: tuple[str, ...]
    etc: str
    not_units: tuple[str, ...]

    role_words: tuple[str, ...]  # all of the above, longest first


def _longest_first(items: list[str]) -> tuple[str, ...]:
    return tuple(sorted(items, key=len, reverse=True))


@cache
def unit_vocab() -> UnitVocab:
    raw = tomllib.loads(
        resources.files("parsers").joinpath("data/units.toml").read_text(encoding="utf-8")
    )
    r, lab, n = raw["roles"], raw["labels"], raw["names"]
    return UnitVocab(
        lead=_longest_first(r["lead"]),
        support=_longest_first(r["support"]),
        responsible=_longest_first(r["responsible"]),
        heads=_longest_first(lab["heads"]),
        person_heads=_longest_first(lab["person_heads"]),
        suffixes=_longest_first(n["suffixes"]),
        collective=_longest_first(n["collective_prefixes"]),
        false_endings=tuple(n["false_endings"]),
        levels=n["levels"],
        separators=n["separators"],
        conjunctions=tuple(n["conjunctions"]),
        etc=n["etc"],
        not_units=tuple(n["not_units"]),
        role_words=_longest_first([*r["lead"], *r["support"], *r["responsible"]]),
    )


@dataclass(frozen=True)
class UnitAnnotation:
    """Units found in a paragraph, and the span they occupy (removed from the task text)."""

    units: list[Unit]
    start: int
    end: int


def role_of(phrase: str) -> str:
    """The role a label or role phrase gives: lead words win over support, support over
    responsible (牵头责任单位 is lead, 协同责任单位 support); anything else is responsible."""
    v = unit_vocab()
    for role, words in (("lead", v.lead), ("support", v.support)):
        if any(w in phrase for w in words):
            return role
    return "responsible"


@cache
def _label_re() -> re.Pattern[str]:
    v = unit_vocab()
    heads = "|".join(map(re.escape, (*v.heads, *v.person_heads)))
    words = "|".join(map(re.escape, v.role_words))
    # role word(s), optionally 责任, then the head noun; or a bare role word ("牵头：")
    return re.compile(
        rf"(?P<label>(?:[{_CJK}]{{0,4}}?(?:{words})[{_CJK}]{{0,3}}?(?:{heads}))|(?:{words}))"
        r"\s*[：:]\s*"
    )


@cache
def _ending_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    v = unit_vocab()
    ends = re.compile("(?:" + "|".join(map(re.escape, v.suffixes)) + ")$")
    false = re.compile("(?:" + "|".join(map(re.escape, v.false_endings)) + ")$")
    return ends, false


@lru_cache(maxsize=8192)
def is_agency(name: str) -> bool:
    """An agency name by its form: a known ending (局, 管委会, 中心, 公司…, also before an
    alias in brackets: 市水务局（海洋局）) or a collective name (各区政府, 市级各有关部门)."""
    v = unit_vocab()
    # Judged on the simplified view, so mirrors in traditional characters read the same:
    # 市殘聯 (heldout gd_dongguan_2021: 聯 = 联), 各縣市區政府 (dev plans sn_xianyang).
    bare = to_simplified(_GLOSS.sub("", name))
    if not 2 <= len(bare) <= 40 or re.search(r"[0-9。：:，,的]", bare):
        return False
    core = re.sub(r"[（(][^（()）]*[）)]$", "", bare) or bare
    for prefix in v.collective:
        # 各区, 各街镇, 各县市区: a collective of administrative levels is a unit by itself.
        if core.startswith(prefix) and re.fullmatch(rf"[{v.levels}街道镇乡]+", core[len(prefix) :]):
            return True
    ends, false = _ending_res()
    return not false.search(core) and ends.search(core) is not None


def _split_depth0(text: str, seps: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if ch in seps and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    return pieces


def _join_collective(pieces: list[str]) -> list[str]:
    """``各县``, ``市``, ``区政府`` -> ``各县、市、区政府``: a piece that is only an
    administrative level (one character) never stands alone; it belongs to the collective
    name it is listed in (ah_chuzhou 各县、市、区政府; sh_fx keeps 各镇、街道、开发区 apart)."""
    levels = unit_vocab().levels
    out: list[str] = []
    i = 0
    while i < len(pieces):
        j = i + 1
        while j < len(pieces) and len(pieces[j].strip()) == 1 and pieces[j].strip() in levels:
            j += 1
        if j > i + 1 and out is not None and pieces[i].strip().startswith("各"):
            end = j + 1 if j < len(pieces) and pieces[j].strip()[:1] in levels else j
            out.append("、".join(p.strip() for p in pieces[i:end]))
            i = end
        else:
            out.append(pieces[i])
            i += 1
    return out


def _clean_name(name: str) -> str:
    """Strip layout, the trailing 等/等部门 and a role word left on the name."""
    v = unit_vocab()
    name = name.strip().strip("。.").strip()
    if v.etc in name[1:]:
        head = name[: name.index(v.etc, 1)]
        if is_agency(head):
            name = head
    name = name.lstrip("*").rstrip("*").strip()
    for word in v.role_words:
        if name.endswith(word) and len(name) > len(word) + 1:
            name = name[: -len(word)]
            break
    return name.strip()


def _split_conjunction(name: str) -> list[str]:
    """``市级各有关部门及各县市区政府`` -> two names, when both sides are agencies by form
    (市住房和城乡建设管理委员会 stays one: 市住房 is not an agency). A bare head noun after
    the conjunction is the left name's own head, not a second agency: 各相关部门和单位 is
    one collective name (各相关部门 and 各相关单位, sh_jtw_2024-12-31), not 各相关部门 + 单位;
    相关部门和街镇 (heldout sh_fxjs) is two."""
    v = unit_vocab()
    for conj in v.conjunctions:
        idx = name.find(conj, 2)
        if idx > 0:
            left, right = _clean_name(name[:idx]), name[idx + 1 :]
            # Only a label head (单位, 部门, 机构…) shares the left name's modifier; a level
            # such as 街镇 is a collective of its own (heldout sh_fxjs 相关部门和街镇).
            bare_head = _clean_name(right) in v.heads
            if is_agency(left) and is_agency(_clean_name(right)) and not bare_head:
                return [left, *_split_conjunction(right)]
    return [name]


def split_names(text: str) -> list[str]:
    """Split on 、，,；; at bracket depth 0 only (各区（市、县） stays one name), keep
    collective names together, drop 等… tails and the pieces that are remarks (下同, —)."""
    v = unit_vocab()
    out: list[str] = []
    for piece in _join_collective(_split_depth0(text, v.separators)):
        for name in _split_conjunction(piece.strip()):
            name = _clean_name(name)
            if name and not any(name.startswith(x) for x in v.not_units):
                out.append(name)
    return out


def parse_units(text: str, default_role: str = "responsible") -> list[Unit]:
    """A unit string without a label (a table cell, a bare list) -> units with roles.

    ``区政府办公室*、区财政局`` marks the lead with ``*``; ``A牵头，B配合`` carries its roles
    in verb form; anything else gets ``default_role`` (the column's role)."""
    text = text.strip()
    verb = _parse_verb_form(text)
    if verb:
        return verb
    units: list[Unit] = []
    for raw in _split_depth0(text, unit_vocab().separators):
        for name in split_names(raw):
            role = "lead" if "*" in raw else default_role
            units.append(Unit(name=name, role=role))  # type: ignore[arg-type]
    return units


def _until_remark(text: str) -> str:
    """The unit part of an annotation: up to a sentence end (``。时间节点：…`` is a remark)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch == "。" and depth == 0:
            return text[:i]
    return text


def _parse_labelled(inner: str) -> list[Unit] | None:
    """``牵头单位：A；配合单位：B、C`` -> units with roles; None if no label starts it.
    A person label (牵头负责领导：金力) yields no units but still counts as a label line."""
    if "：" not in inner and ":" not in inner:
        return None  # every label ends in a colon
    matches = list(_label_re().finditer(inner))
    if not matches or inner[: matches[0].start()].strip(" ；;，,"):
        return None
    v = unit_vocab()
    units: list[Unit] = []
    for i, m in enumerate(matches):
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(inner)
        label = m.group("label")
        if any(label.endswith(h) for h in v.person_heads):
            continue
        role = role_of(label)
        segment = _until_remark(inner[m.end() : stop])
        verb = _parse_verb_form(segment)
        if verb and any(u.role != "responsible" for u in verb):
            units.extend(verb)
            continue
        for name in split_names(segment):
            units.append(Unit(name=name, role=role))  # type: ignore[arg-type]
    return units


def _names_and_role(clause: str, open_verb: bool = True) -> tuple[list[str], str] | None:
    """``区水务局、区国投公司配合`` -> (names, "support"); None unless the names are agencies.

    A known role word ends the list (role words before it join the phrase: 牵头卖力, 牵头负责);
    failing that, the list ends at the last agency ending and a short unknown phrase after it
    reads as "responsible" (an unknown verb must not make the units vanish)."""
    v = unit_vocab()
    clause = clause.strip()
    names_part, phrase = "", ""
    for word in v.role_words:
        idx = clause.rfind(word)
        if idx > 1 and len(clause) - idx <= 10:
            names_part, phrase = clause[:idx], clause[idx:]
            break
    if not phrase:
        return _unknown_verb(clause) if open_verb else None
    peeled = True
    while peeled:
        peeled = False
        for word in v.role_words:
            if names_part.endswith(word) and len(names_part) > len(word) + 1:
                names_part, phrase = names_part[: -len(word)], word + phrase
                peeled = True
                break
    names = split_names(names_part)
    if not names or not all(is_agency(n) for n in names):
        return None
    return names, role_of(phrase)


def _unknown_verb(clause: str) -> tuple[list[str], str] | None:
    """``A、B督办``: a list of agencies whose last name is followed by a short unknown verb."""
    names = split_names(clause)
    if not names or not all(is_agency(n) for n in names[:-1]):
        return None
    last = names[-1]
    if is_agency(last):
        return None
    for cut in range(len(last) - 1, max(1, len(last) - 5), -1):
        if is_agency(last[:cut]) and re.fullmatch(rf"[{_CJK}]{{1,4}}", last[cut:]):
            return [*names[:-1], last[:cut]], "responsible"
    return None


def _parse_verb_form(inner: str, open_verb: bool = True) -> list[Unit] | None:
    """``A牵头，B、C配合`` / ``A、B按职责分工负责；C组织落实``: every clause a unit list with a
    role phrase (or, after the first, a bare list continuing the previous role)."""
    units: list[Unit] = []
    clauses = [c for c in re.split(r"[，,；;]", _until_remark(inner)) if c.strip()]
    pending: list[str] = []
    for clause in clauses:
        got = _names_and_role(clause, open_verb)
        if got is None:
            names = split_names(clause)
            if names and all(is_agency(n) for n in names):
                pending.extend(names)  # a list split by a comma: its role comes after
                continue
            return None
        names, role = got
        for name in [*pending, *names]:
            units.append(Unit(name=name, role=role))  # type: ignore[arg-type]
        pending = []
    if not units:
        return None
    # A list after the last role phrase has an unknown verb glued to it: responsible.
    units.extend(Unit(name=n) for n in pending)
    return units


def _parse_bare(inner: str) -> list[Unit] | None:
    """``各街镇、区规划资源局、区土储中心``: every piece an agency by form."""
    text = _until_remark(inner)
    names = split_names(text)
    if not names or not all(is_agency(n) for n in names):
        return None
    return [Unit(name=n) for n in names]


def _bracket_groups(text: str) -> list[tuple[int, int]]:
    """(start, end) of every outermost bracket group, nesting allowed: ``（责任单位：各区（市）县）``."""
    groups, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
            if depth == 0 and 2 <= i - start <= 400:
                groups.append((start, i + 1))
    return groups


def _sentence_end(text: str, end: int) -> bool:
    """A bracket closes a sentence or the paragraph: bare lists count only there."""
    rest = text[end:].strip()
    return not rest or rest[0] in "。；;，,"


@lru_cache(maxsize=4096)
def find_units(paragraph: str) -> UnitAnnotation | None:
    """The unit annotation of a paragraph: a whole-line label, a bracket (the last one wins:
    it closes the item), a trailing label (``…。责任单位：A、B``) or a trailing bare list
    (``……，各区政府、临港新片区管委会``). Cached (bounded): titles, task units, inherited
    units and goals all ask about the same paragraphs; callers must not mutate the result."""
    stripped = paragraph.strip()
    inner = stripped
    if inner and inner[0] in _OPEN and inner[-1] in _CLOSE:
        inner = inner[1:-1]
    units = _parse_labelled(inner)
    if units is not None:
        return UnitAnnotation(units, 0, len(paragraph))
    best: UnitAnnotation | None = None
    for start, end in _bracket_groups(paragraph):
        inner = paragraph[start + 1 : end - 1]
        if _GLOSS.fullmatch(paragraph[start:end]):
            continue
        units = _parse_labelled(inner) or _parse_verb_form(inner)
        if not units and _sentence_end(paragraph, end) and (start > 0 or end == len(paragraph)):
            units = _parse_bare(inner)
        if units:
            best = UnitAnnotation(units, start, end)
    if best is not None:
        return best
    return _trailing(paragraph)


def _trailing(paragraph: str) -> UnitAnnotation | None:
    """A label or a unit list that ends the paragraph after a sentence or clause break."""
    for m in _label_re().finditer(paragraph) if ("：" in paragraph or ":" in paragraph) else ():
        if m.start() > 0 and paragraph[m.start() - 1] in "。；; ":
            units = _parse_labelled(paragraph[m.start() :])
            if units:
                return UnitAnnotation(units, m.start(), len(paragraph))
    body = paragraph.rstrip("。；; ")
    cut = max(body.rfind(c) for c in "。；;，,")
    if cut <= 0:
        return None
    tail = body[cut + 1 :]
    if len(tail) > 120:
        return None
    # Unbracketed, the list needs a known role word or two names by form (a heading's last
    # clause "…，构建多元协同的营商格局" is not a unit).
    units = _parse_verb_form(tail, open_verb=False)
    if not units:
        bare = _parse_bare(tail)
        units = bare if bare and len(bare) >= 2 else None
    if units:
        return UnitAnnotation(units, cut + 1, len(paragraph))
    return None


def strip_annotation(paragraph: str, ann: UnitAnnotation | None) -> str:
    if ann is None:
        return paragraph
    return (paragraph[: ann.start] + paragraph[ann.end :]).strip()
