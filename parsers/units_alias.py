"""Comparison keys for responsible-unit names, driven by ``data/unit_aliases.toml``.

Documents keep unit names exactly as written; only when two versions are compared do
"区发改委" and "区发展和改革委员会" have to count as the same body. The equivalences live in a
TOML table a non-programmer can review, because a wrong merge hides a real change of
responsibility from the people who subscribed to it.

Some equivalences are local: in 成都 the 市经济和信息化局 and the 市新经济发展委员会 are one body
with two plaques, elsewhere they are two. Such groups carry ``places``; they apply only when the
caller passes the document's place (:func:`document_place`), so a move of work from 市经信局 to
市新经济委 in any other city stays visible.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from parsers.diff_text import clean

_DATA_FILE = "unit_aliases.toml"


@dataclass(frozen=True)
class _Place:
    markers: tuple[str, ...]
    min_mentions: int


@dataclass(frozen=True)
class _Table:
    rules: tuple[tuple[re.Pattern[str], str], ...]
    level_prefixes: tuple[str, ...]
    #: full normalized name -> canonical full name (groups marked only_as_written, and
    #: names without a level prefix)
    full: dict[str, str]
    #: name with its level prefix removed -> canonical body (groups valid at every level)
    body: dict[str, str]
    #: place -> full normalized name -> canonical name (groups with ``places``)
    scoped: dict[str, dict[str, str]]
    #: place -> canonical name -> every normalized name of its group
    members: dict[str, dict[str, tuple[str, ...]]]
    places: dict[str, _Place]


def _read_toml() -> dict[str, Any]:
    text = resources.files("parsers").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _apply_rules(name: str, rules: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    for pattern, replacement in rules:
        name = pattern.sub(replacement, name)
    return name


def _normal(name: str, rules: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    return _apply_rules(clean(name), rules)


def _common_prefix(names: list[str], prefixes: tuple[str, ...]) -> str | None:
    for prefix in prefixes:
        if all(n.startswith(prefix) and len(n) > len(prefix) for n in names):
            return prefix
    return None


@cache
def _table() -> _Table:
    data = _read_toml()
    rules = tuple(
        (re.compile(r["pattern"]), str(r.get("replace", ""))) for r in data.get("rule", [])
    )
    # Longest first so "街道" wins over a one-character prefix.
    prefixes = tuple(sorted(data.get("level_prefixes", []), key=len, reverse=True))
    full: dict[str, str] = {}
    body: dict[str, str] = {}
    scoped: dict[str, dict[str, str]] = {}
    members: dict[str, dict[str, tuple[str, ...]]] = {}
    for group in data.get("same", []):
        names = [_normal(n, rules) for n in group["names"]]
        for place in group.get("places", []):
            scoped.setdefault(place, {}).update(dict.fromkeys(names, names[0]))
            members.setdefault(place, {})[names[0]] = tuple(dict.fromkeys(names))
        if group.get("places"):
            continue
        prefix = None if group.get("only_as_written") else _common_prefix(names, prefixes)
        if prefix is None:
            canonical = names[0]
            for n in names:
                full[n] = canonical
        else:
            bodies = [n[len(prefix) :] for n in names]
            for b in bodies:
                body[b] = bodies[0]
    places = {
        name: _Place(tuple(spec.get("markers", [name])), int(spec.get("min_mentions", 0)))
        for name, spec in data.get("place", {}).items()
    }
    return _Table(rules, prefixes, full, body, scoped, members, places)


def load_aliases() -> dict[str, str]:
    """Every listed name (normalized) -> its canonical comparison key. Cached.

    Names from groups valid at every level are listed with the prefix they were written
    with; :func:`unit_key` also resolves them under any other level prefix.
    """
    return dict(_load_aliases_cached())


@cache
def _load_aliases_cached() -> tuple[tuple[str, str], ...]:
    table = _table()
    data = _read_toml()
    out: dict[str, str] = {}
    for group in data.get("same", []):
        place = next(iter(group.get("places", [])), None)
        for name in group["names"]:
            out[clean(name)] = unit_key(name, place)
    out.update(table.full)
    return tuple(sorted(out.items()))


@lru_cache(maxsize=4096)
def unit_key(name: str, place: str | None = None) -> str:
    """Canonical comparison key of a unit name: NFKC width, no spaces, alias table applied.

    "区发展和改革委员会", "区 发改委" and "区发展改革委" give the same key; so do
    "永川区发改委" and "永川区发展和改革委员会" (the level prefix is kept as written).
    ``place`` is the document's place (:func:`document_place`): groups local to that place
    apply too ("市经信局" and "市新经济委" share a key for 成都 only).
    """
    table = _table()
    normal = _normal(name, table.rules)
    if place is not None and normal in table.scoped.get(place, {}):
        return table.scoped[place][normal]
    if normal in table.full:
        return table.full[normal]
    # Try every level prefix occurrence, earliest first, so the longest body is looked up.
    for pos in range(len(normal)):
        for prefix in table.level_prefixes:
            if normal.startswith(prefix, pos):
                rest = normal[pos + len(prefix) :]
                if rest in table.body:
                    return normal[: pos + len(prefix)] + table.body[rest]
    return normal


def unit_keys(name: str, place: str | None = None) -> tuple[str, ...]:
    """Every place-free key a unit of a document of ``place`` answers to, its own first.

    A subscriber to "市新经济委" (a place-free key) must hear about a 成都 document that names
    the same body "市经信局": stored change rows carry the keys of all the body's names there.
    """
    own = unit_key(name)
    if place is None:
        return (own,)
    table = _table()
    canonical = table.scoped.get(place, {}).get(_normal(name, table.rules))
    if canonical is None:
        return (own,)
    names = table.members[place][canonical]
    return tuple(dict.fromkeys([own, *(unit_key(n) for n in names)]))


def document_place(
    issuers: list[str] | tuple[str, ...] = (),
    title: str | None = None,
    doc_number: str | None = None,
    text: str = "",
) -> str | None:
    """The place of the alias table a document belongs to, or None.

    Issuers, title and document number decide when they name a place; a document with an
    issuer or number of elsewhere is of elsewhere, however often it names the place. With
    neither (a web copy without its header), the text decides when it names one place often
    enough (``min_mentions``). Two places at once: None.
    """
    table = _table()
    head = " ".join([*issuers, title or "", doc_number or ""])
    named = [p for p, spec in table.places.items() if any(m in head for m in spec.markers)]
    if not named and text and not issuers and not doc_number:
        named = [
            p
            for p, spec in table.places.items()
            if spec.min_mentions and sum(text.count(m) for m in spec.markers) >= spec.min_mentions
        ]
    return named[0] if len(named) == 1 else None


# -- scoping by administrative region ------------------------------------------------------
#
# "区发改委" in a 嘉定区 document and "区发改委" in a 浦东新区 document are two bodies; "上海市发展和
# 改革委员会" is one body wherever it is written. A unit's *scoped key* puts the region a relative
# name (one that starts with a level prefix: 区/市/县/省) refers to in front of it, taken from the
# document's issuer (or title), and reduces a fully named unit to its lowest region:
#   区发改委 in a document of 上海市嘉定区人民政府      -> 嘉定区发改委
#   市发改委 in the same document                      -> 上海市发改委
#   上海市嘉定区发展和改革委员会 anywhere              -> 嘉定区发改委
#   浦东新区发改委 anywhere                            -> 浦东新区发改委
# Only the lowest region is kept so a name typed without its city (嘉定区发改委) finds the units
# the documents wrote relatively. Two districts of one name in two cities (朝阳区 of 北京 and of
# 长春) therefore share keys; the alias table's places are not affected.

#: One region at the start of a name: two to eight characters and a level (上海市, 浦东新区,
#: 甘孜藏族自治州). Two characters at least, so 城市管理局 or 社区卫生服务中心 are not read as a
#: region 城市 / 社区.
_REGION_PART = re.compile(r"[^省市区县]{2,8}?(?:自治州|省|市|区|县)")


@cache
def _not_relative() -> tuple[str, ...]:
    """Words that start with a level character without being one (市场, 区域), from the table."""
    return tuple(_read_toml().get("not_relative", []))


def region_parts(name: str) -> tuple[tuple[str, ...], int]:
    """The regions a (normalized) name starts with, and where the rest of the name begins.

    ``上海市嘉定区发改委`` -> ((上海市, 嘉定区), 6). A region followed by a character that makes
    it a word (长三角区域, 上海市场) is not one.
    """
    parts: list[str] = []
    pos = 0
    while (m := _REGION_PART.match(name, pos)) is not None:
        if name[m.end() - 1 : m.end() + 1] in _not_relative():
            break
        parts.append(m.group())
        pos = m.end()
    return tuple(parts), pos


def document_scope(issuers: list[str] | tuple[str, ...] = (), title: str | None = None) -> str:
    """The region a document's relative unit names refer to: its first issuer's regions
    (上海市嘉定区人民政府 -> 上海市嘉定区), else its title's; "" when neither names one."""
    for text in [*issuers, title or ""]:
        normal = clean(text)
        parts, _end = region_parts(normal)
        if parts:
            return "".join(parts)
    return ""


def _level_of(region: str) -> str:
    return "州" if region.endswith("自治州") else region[-1]


def _split_scope(name: str, scope: str) -> tuple[str, str, str] | None:
    """(own region, level, name relative to it) of a unit, or None when it has no region.

    A fully named unit carries its own lowest region; a relative one (区发改委) takes the
    region of that level from ``scope`` (the document's :func:`document_scope`).
    """
    table = _table()
    normal = _normal(name, table.rules)
    parts, end = region_parts(normal)
    if parts and end < len(normal):
        level = _level_of(parts[-1])
        return parts[-1], level, level + normal[end:]
    if not scope or normal[:2] in _not_relative():
        return None
    level = next((p for p in table.level_prefixes if normal.startswith(p)), "")
    if not level or len(normal) == len(level):
        return None
    scope_parts, _end = region_parts(clean(scope))
    own = next((p for p in reversed(scope_parts) if _level_of(p) == level), None)
    return (own, level, normal) if own else None


def _qualify(own: str, level: str, key: str) -> str:
    return own + key[len(level) :] if key.startswith(level) else own + key


def _own_place(own: str, place: str | None) -> str | None:
    """The alias-table place of a unit: the document's, else the one its own region names."""
    return place if place is not None else document_place([own])


def scoped_unit_key(name: str, scope: str = "", place: str | None = None) -> str:
    """The unit's identity across documents: its alias key (:func:`unit_key`) in front of
    which stands the region it belongs to (see the comment above ``_REGION_PART``).

    ``scope`` is the document's region (:func:`document_scope`); without one (a name a user
    typed) a relative name stays relative: "区发改委" is then any district's.
    """
    split = _split_scope(name, scope)
    if split is None:
        return unit_key(name, place)
    own, level, relative = split
    return _qualify(own, level, unit_key(relative, _own_place(own, place)))


def scoped_unit_keys(name: str, scope: str = "", place: str | None = None) -> tuple[str, ...]:
    """Every key a unit of a document answers to, for the rows alerts match on: the scoped
    keys of all its names (:func:`unit_keys`) and, for a relative name, the place-free keys
    too, so a subscription to a bare "区发改委" still hears of every district's."""
    split = _split_scope(name, scope)
    if split is None:
        return unit_keys(name, place)
    own, level, relative = split
    keys = [_qualify(own, level, k) for k in unit_keys(relative, _own_place(own, place))]
    return tuple(dict.fromkeys([*keys, *unit_keys(name, place)]))


def scoped_unit_name(name: str, scope: str = "") -> str:
    """The unit's name with its region, for links and forms: 区发改委 in a 嘉定区 document ->
    嘉定区发改委; a fully named or unscoped unit as written (width and spaces normalized)."""
    normal = clean(name)
    split = _split_scope(name, scope)
    if split is None or region_parts(normal)[0]:
        return normal
    own, level, _relative = split
    return own + normal[len(level) :] if normal.startswith(level) else normal
