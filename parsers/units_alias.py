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
