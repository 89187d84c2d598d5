"""Unit alias keys for joins (区发改委 = 区发展改革委 = 区发展和改革委员会).

The alias table belongs to ``parsers.units_alias`` (the diff uses it too); this wrapper only
falls back to width normalization while that module is absent, so storage never depends on
its arrival order.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable


def _fallback(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def _resolve() -> Callable[[str], str]:
    try:
        from parsers.units_alias import unit_key as real
    except ImportError:
        return _fallback
    return real


def unit_key(name: str) -> str:
    """The alias-normalized key of a unit name (stored in ``task_units.unit_key``)."""
    return _resolve()(name)
