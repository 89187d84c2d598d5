"""Issue 10 end to end: ``radar diff --json`` on real files in mixed formats.

A deadline that moves (到2030年 → 到2028年, a target with a year and no value), one of two
equal 30% goals of one sentence that becomes 20%, and a unit renamed under its other plaque
(市经信局 → 市新经济委: one body in 成都, two bodies anywhere else). The fixtures are the
``rev_d``/``rev_e`` folders of tests/fixtures/corpus (TXT written by hand after the held-out
plan's wording, DOCX/PDF rendered from it by make_corpus.py); every format pairing is checked
in-process by test_corpus_golden.py, and a few cross-format pairings here through the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from parsers import parse_bytes
from parsers.diff import diff_documents, place_of

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
DEADLINE = CORPUS / "rev_d_deadline_split"
CHENGDU = CORPUS / "rev_e_place_alias"


def _radar_diff(old: Path, new: Path, tmp_path: Path) -> list[dict[str, Any]]:
    env = dict(os.environ, RADAR_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    env["RADAR_DATABASE_URL"] = f"sqlite:///{tmp_path / 'radar.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "diff", str(old), str(new), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "radar.changes/1"
    return [c for c in data["changes"] if c["severity"] == "alert"]


def _brief(change: dict[str, Any]) -> tuple[Any, ...]:
    def side(t: dict[str, Any] | None) -> tuple[Any, ...] | None:
        return None if t is None else (t["metric"], t["value"], t["unit"], t["year"])

    return (
        change["kind"],
        change["task"],
        side(change.get("before")),
        side(change.get("after")),
        tuple(change.get("added") or ()),
        tuple(change.get("removed") or ()),
    )


DEADLINE_ALERTS = [
    (
        "goal_changed",
        None,
        ("公共机构屋顶光伏应装尽装", None, None, 2030),
        ("公共机构屋顶光伏应装尽装", None, None, 2028),
        (),
        (),
    ),
    (
        "goal_changed",
        None,
        ("其他公共建筑屋顶光伏面积比例", 30, "%", None),
        ("其他公共建筑屋顶光伏面积比例", 20, "%", None),
        (),
        (),
    ),
    (
        "goal_changed",
        "开展屋顶资源普查",
        ("完成普查", None, None, 2025),
        ("完成普查", None, None, 2026),
        (),
        (),
    ),
    ("units_changed", "推进既有建筑光伏改造", None, None, ("市新经济委",), ("市经信局",)),
]

PAIRS = [("txt", "pdf"), ("pdf", "docx"), ("_autonum.docx", "_autonum.pdf")]


def _file(folder: Path, stem: str, fmt: str) -> Path:
    return folder / (f"{stem}{fmt}" if fmt.startswith("_") else f"{stem}.{fmt}")


@pytest.mark.parametrize(("old_fmt", "new_fmt"), PAIRS)
def test_cli_reports_deadline_split_and_unit_move_outside_chengdu(
    old_fmt: str, new_fmt: str, tmp_path: Path
) -> None:
    alerts = _radar_diff(_file(DEADLINE, "old", old_fmt), _file(DEADLINE, "new", new_fmt), tmp_path)
    assert sorted(map(_brief, alerts), key=repr) == sorted(DEADLINE_ALERTS, key=repr)


@pytest.mark.parametrize(("old_fmt", "new_fmt"), PAIRS)
def test_cli_in_chengdu_the_two_plaques_are_one_body(
    old_fmt: str, new_fmt: str, tmp_path: Path
) -> None:
    alerts = _radar_diff(_file(CHENGDU, "old", old_fmt), _file(CHENGDU, "new", new_fmt), tmp_path)
    assert [_brief(c) for c in alerts] == [DEADLINE_ALERTS[2]]


def test_place_comes_from_the_document() -> None:
    def parsed(folder: Path) -> Any:
        return parse_bytes((folder / "old.pdf").read_bytes(), filename="old.pdf")

    assert place_of(parsed(CHENGDU)) == "成都"
    assert place_of(parsed(DEADLINE)) is None


def test_equal_values_of_one_sentence_stay_two_targets() -> None:
    doc = parse_bytes((DEADLINE / "old.docx").read_bytes(), filename="old.docx")
    rows = [(g.metric, g.value, g.year) for g in doc.goals]
    assert rows == [
        ("公共机构屋顶光伏应装尽装", None, 2030),
        ("新建机关办公建筑和教育建筑屋顶光伏面积比例", 50, None),
        ("其他公共建筑屋顶光伏面积比例", 30, None),
        ("新建居住建筑屋顶光伏面积比例", 30, None),
    ]
    new = parse_bytes((DEADLINE / "new.docx").read_bytes(), filename="new.docx")
    changed = [c for c in diff_documents(doc, new).changes if c.task is None]
    assert [c.summary for c in changed] == [
        "公共机构屋顶光伏应装尽装 2030年 → 2028年",
        "其他公共建筑屋顶光伏面积比例 30% → 20%",
    ]
