"""Loads ``parsers/data/metadata.toml`` (metadata, proposal and reply vocabulary) once."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def mvocab() -> dict[str, Any]:
    text = resources.files("parsers").joinpath("data/metadata.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def patterns(section: str, key: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in mvocab()[section][key])


def words(section: str, key: str) -> tuple[str, ...]:
    """A word list, longest first (so 答复摘要 is tried before 答复)."""
    return tuple(sorted(mvocab()[section][key], key=len, reverse=True))
