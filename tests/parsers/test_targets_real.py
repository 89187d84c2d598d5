"""Targets on real text: the vocabulary's examples, hard negatives, exact golden lists.

Everything here comes from real documents (tests/fixtures/targets/README.md), so a rule
tuned to one document or to the seeds shows up as a failure elsewhere.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from parsers import parse_bytes
from parsers.targets import VOCAB_PATH, extract_targets

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "targets"


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


EXAMPLES = _toml(VOCAB_PATH)["example"]
NEGATIVES = _toml(FIXTURES / "hard_negatives.toml")["negative"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["source"][:24] for e in EXAMPLES])
def test_vocabulary_examples(example: dict[str, Any]) -> None:
    got = extract_targets(example["text"])
    want = example["targets"]
    assert len(got) == len(want), [(t.value, t.unit, t.year, t.metric) for t in got]
    for t, w in zip(got, want, strict=True):
        assert (t.value, t.unit, t.year) == (w.get("value"), w.get("unit"), w.get("year"))
        if "metric" in w:
            assert t.metric == w["metric"]


@pytest.mark.parametrize("case", NEGATIVES, ids=[n["source"][:24] for n in NEGATIVES])
def test_hard_negatives_give_no_target(case: dict[str, Any]) -> None:
    got = extract_targets(case["text"], forward_only=bool(case.get("forward_only")))
    assert got == [], f"{case['why']}: {[(t.value, t.unit, t.year) for t in got]}"


def _doc(name: str) -> Any:
    path = FIXTURES / name
    return parse_bytes(path.read_bytes(), filename=path.name)


def _rows(targets: list[Any]) -> list[tuple[Any, ...]]:
    return [(t.value, t.unit, t.year, t.comparator) for t in targets]


def test_sh_lsc_targets_exactly() -> None:
    """Goals of 一、工作目标 only: 三、项目实施条件 (1500平方米以上, 0.35kN/m2, 20年) are
    eligibility conditions, the cited 《…（2024-2027年）》 is a title, the tasks have none."""
    doc = _doc("sh_lsc_2025-02-28.md")
    assert _rows(doc.goals) == [
        (50, "%", None, ">="),
        (30, "%", None, ">="),
        (1.5, "万千瓦", 2027, ">="),
    ]
    assert [t for task in doc.tasks for t in task.targets] == []


def test_sh_jtw_2023_targets_exactly() -> None:
    """2023年…同比2022年增长30% (goal) and 2023年，…；…覆盖率达到90%以上 (task (一));
    600总吨以上 is a scope, 2022年度 a period. The 三、时间节点 stages (（一）2023年4月底前 …) name
    no units, so they are not tasks (stage items are tasks only with units: the truth marks them
    optional, and sh_jtw_2024-11-21's stage figures are document goals); no stage deadline may
    turn up as a task target."""
    doc = _doc("sh_jtw_2023-04-17.md")
    assert _rows(doc.goals) == [(30, "%", 2023, "=")]
    by_task = {t.title: _rows(t.targets) for t in doc.tasks if t.targets}
    assert by_task == {"完善码头岸电设施建设": [(90, "%", 2023, ">=")]}
