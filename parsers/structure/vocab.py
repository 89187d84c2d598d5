"""Loads ``parsers/data/structure.toml`` once; the code reads vocabulary only from here."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Vocab:
    task_sections: tuple[str, ...]
    units_required_sections: tuple[str, ...]
    goal_sections: tuple[str, ...]
    stage_sections: tuple[str, ...]
    context_sections: tuple[str, ...]
    agency_suffixes: tuple[str, ...]
    title_endings: tuple[str, ...]
    plan_words: tuple[str, ...]
    reply_words: tuple[str, ...]
    proposal_words: tuple[str, ...]
    news_markers: tuple[str, ...]
    drop_patterns: tuple[re.Pattern[str], ...]
    not_title_patterns: tuple[re.Pattern[str], ...]
    closing_patterns: tuple[re.Pattern[str], ...]
    lead_task: tuple[str, ...]
    lead_context: tuple[str, ...]


@cache
def vocab() -> Vocab:
    raw = tomllib.loads(
        resources.files("parsers").joinpath("data/structure.toml").read_text(encoding="utf-8")
    )
    s, m = raw["sections"], raw["metadata"]
    return Vocab(
        task_sections=tuple(s["task"]),
        units_required_sections=tuple(s["units_required"]),
        goal_sections=tuple(s["goal"]),
        stage_sections=tuple(s["stage"]),
        context_sections=tuple(s["context"]),
        agency_suffixes=tuple(sorted(m["agency_suffixes"], key=len, reverse=True)),
        title_endings=tuple(sorted(m["title_endings"], key=len, reverse=True)),
        plan_words=tuple(m["plan_words"]),
        reply_words=tuple(m["reply_words"]),
        proposal_words=tuple(m["proposal_words"]),
        news_markers=tuple(m["news_markers"]),
        drop_patterns=tuple(re.compile(p) for p in m["drop_patterns"]),
        not_title_patterns=tuple(re.compile(p) for p in m["not_title_patterns"]),
        closing_patterns=tuple(re.compile(p) for p in m["closing_patterns"]),
        lead_task=tuple(m["lead_task"]),
        lead_context=tuple(m["lead_context"]),
    )
