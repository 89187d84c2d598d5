"""Comparison keys for responsible-unit names, driven by ``data/unit_aliases.toml``.

Documents keep unit names exactly as written; only when two versions are compared do
"区发改委" and "区发展和改革委员会" have to count as the same body. The equivalences live in a
TOML table a non-programmer can review, because a wrong merge hides a real change of
responsibility from the people who subscribed to it.
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
class _Table:
    rules: tuple[tuple[re.Pattern[str], str], ...]
    level_prefixes: tuple[str, ...]
    #: full normalized name -> canonical full name (groups marked only_as_written, and
    #: names without a level prefix)
    full: dict[str, str]
    #: name with its level prefix removed -> canonical body (groups valid at every level)
    body: dict[str, str]


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
    for group in data.get("same", []):
        names = [_normal(n, rules) for n in group["names"]]
        prefix = None if group.get("only_as_written") else _common_prefix(names, prefixes)
        if prefix is None:
            canonical = names[0]
            for n in names:
                full[n] = canonical
        else:
            bodies = [n[len(prefix) :] for n in names]
            for b in bodies:
                body[b] = bodies[0]
    return _Table(rules=rules, level_prefixes=prefixes, full=full, body=body)


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
        for name in group["names"]:
            out[clean(name)] = unit_key(name)
    out.update(table.full)
    return tuple(sorted(out.items()))


@lru_cache(maxsize=4096)
def unit_key(name: str) -> str:
    """Canonical comparison key of a unit name: NFKC width, no spaces, alias table applied.

    "区发展和改革委员会", "区 发改委" and "区发展改革委" give the same key; so do
    "永川区发改委" and "永川区发展和改革委员会" (the level prefix is kept as written).
    """
    table = _table()
    normal = _normal(name, table.rules)
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
