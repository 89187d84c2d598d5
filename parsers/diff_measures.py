"""Converting target values to base units (``data/diff_measures.toml``) before comparing.

"1.5万人" in one version and "15000人" in the next is the same goal; "1500亿元" and "2000亿元"
are not. Values go through :class:`~decimal.Decimal` so 1.1万 is exactly 11000.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from importlib import resources
from typing import NamedTuple

from parsers.diff_text import clean


class _Measures(NamedTuple):
    multipliers: tuple[tuple[str, Decimal], ...]
    same_unit: dict[str, str]
    factors: dict[str, tuple[str, Decimal]]


@cache
def _measures() -> _Measures:
    text = resources.files("parsers").joinpath("data", "diff_measures.toml").read_text("utf-8")
    data = tomllib.loads(text)
    multipliers = tuple(
        sorted(
            ((clean(k), Decimal(v)) for k, v in data.get("multipliers", {}).items()),
            key=lambda kv: len(kv[0]),
            reverse=True,
        )
    )
    same_unit = {clean(k): clean(v) for k, v in data.get("same_unit", {}).items()}
    factors = {
        clean(k): (clean(v["base"]), Decimal(v["factor"]))
        for k, v in data.get("factors", {}).items()
    }
    return _Measures(multipliers, same_unit, factors)


@lru_cache(maxsize=1024)
def base_unit(unit: str | None) -> tuple[str, Decimal]:
    """``"亿元"`` -> ``("元", 100000000)``; ``"万千瓦"`` -> ``("千瓦", 10000)``; None -> ("", 1)."""
    if not unit:
        return "", Decimal(1)
    m = _measures()
    name = clean(unit)
    factor = Decimal(1)
    name = m.same_unit.get(name, name)
    if name not in m.factors:
        for prefix, mult in m.multipliers:
            rest = name[len(prefix) :]
            if name.startswith(prefix) and rest:
                factor *= mult
                name = m.same_unit.get(rest, rest)
                break
    if name in m.factors:
        name, extra = m.factors[name]
        factor *= extra
    return name, factor


def to_base(value: float | int | None, unit: str | None) -> Decimal | None:
    """The value in its base unit, exact; None when there is no value."""
    if value is None:
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return (d * base_unit(unit)[1]).normalize()


def same_family(unit_a: str | None, unit_b: str | None) -> bool:
    """Whether two units measure the same thing (万人 and 人 do; 家 and 个 do not)."""
    return base_unit(unit_a)[0] == base_unit(unit_b)[0]
