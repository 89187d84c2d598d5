"""Whole-document golden tests on real plans (tests/fixtures/structure/real/, provenance in its
README): every task, its units and roles, its targets and the document goals must equal the
reviewed ``<name>.golden.json``, so a false task, unit or target fails a test (a subset check
would let it through).

The goldens are the parser's output, reviewed by reading the document; the truth files next to
them were written by reading before any parser ran, and the second test checks each golden
against its truth: every required task present with its exact unit set and roles, and no task
that the truth does not list (optional ones aside).

Regenerate after an intended change with ``RADAR_REGEN_GOLDEN=1`` (tests keep it off) and read
the diff before committing.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from parsers import parse_bytes

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "structure" / "real"
NAMES = sorted(p.name.removesuffix(".truth.json") for p in REAL.glob("*.truth.json"))
REGEN = os.environ.get("RADAR_REGEN_GOLDEN") == "1"


def _source(name: str) -> Path:
    return next(p for p in (REAL / f"{name}.md", REAL / f"{name}.txt") if p.exists())


def _whole(name: str) -> dict[str, Any]:
    """The scored part of the output: tasks (number, path, title, units, targets) and goals."""
    path = _source(name)
    doc = parse_bytes(path.read_bytes(), filename=path.name).to_json_dict()
    return {
        "tasks": [
            {k: t[k] for k in ("number", "path", "title", "units", "targets")} for t in doc["tasks"]
        ],
        "goals": doc["goals"],
    }


@pytest.mark.parametrize("name", NAMES)
def test_whole_document_golden(name: str) -> None:
    golden = REAL / f"{name}.golden.json"
    got = _whole(name)
    if REGEN:
        golden.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))


def _key(s: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", s) if unicodedata.category(ch)[0] in "LN"
    )


def _matches(truth: dict[str, Any], title: str, text: str) -> bool:
    got = _key(title)
    for want in [truth["title"], *truth.get("alt_titles", [])]:
        w = _key(want)
        if got and (got.startswith(w) or (w.startswith(got) and len(got) >= 6)):
            return True
        if w and _key(text).startswith(w):
            return True
    return False


def pair_tasks(wanted: list[dict[str, Any]], tasks: list[Any]) -> tuple[list[Any], list[Any]]:
    """Each truth task found among ``tasks`` with its hit, in truth order, and the parsed
    tasks no truth task took. A task the truth does not mark optional must be found."""
    unused, pairs = list(tasks), []
    for want in wanted:
        hit = next((t for t in unused if _matches(want, t.title, t.text)), None)
        if hit is None:
            assert want.get("optional"), f"task missed: {want['number']}{want['title']}"
            continue
        unused.remove(hit)
        pairs.append((want, hit))
    return pairs, unused


@pytest.mark.parametrize("name", NAMES)
def test_golden_agrees_with_truth(name: str) -> None:
    """The reviewed golden keeps the hand-written truth: tasks, unit sets, roles."""
    truth = json.loads((REAL / f"{name}.truth.json").read_text(encoding="utf-8"))
    path = _source(name)
    tasks = parse_bytes(path.read_bytes(), filename=path.name).tasks
    ignore = truth.get("ignore_after")
    pairs, unused = pair_tasks(truth["tasks"], tasks)
    for want, hit in pairs:
        if want.get("optional"):
            continue
        names = {unicodedata.normalize("NFKC", u.name) for u in hit.units}
        assert names == {unicodedata.normalize("NFKC", u) for u in want["units"]}, want["title"]
        for role in ("lead", "support"):
            got = {unicodedata.normalize("NFKC", u.name) for u in hit.units if u.role == role}
            assert got >= set(map(unicodedata.normalize, ["NFKC"] * 99, want.get(role, []))), (
                role,
                want["title"],
            )
    extra = [t for t in unused if not (ignore and t.path and any(ignore in p for p in t.path))]
    assert not extra, f"tasks the truth does not list: {[t.number + t.title for t in extra]}"
