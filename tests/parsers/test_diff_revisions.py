"""Revision pairs (tests/fixtures/revisions/ and the seed 002 v2) give exactly the expected alerts.

Two layers: the diff on ParsedDocuments built by the small stand-in parser of
test_diff_support (the diff logic alone), and the same pairs through the real parser
(``parsers.parse_bytes``) in every file format, which is what users run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parsers.diff import diff_documents
from parsers.schema import ParsedDocument
from tests.parsers.test_diff_support import FIXTURES, assert_alerts, load_mini

REVISIONS = FIXTURES / "revisions"
SEEDS = FIXTURES / "seeds"
SEED = "002_152408040e809265"


def _expected(name: str) -> dict[str, Any]:
    return json.loads((REVISIONS / f"{name}.expected.json").read_text(encoding="utf-8"))


def _titles(doc: ParsedDocument) -> set[str]:
    return {t.title for t in doc.tasks}


@pytest.mark.parametrize("name", ["plan_a", "measures_b", "alias_c"])
def test_revision_pair_gives_exactly_the_expected_alerts(name: str) -> None:
    old = load_mini(REVISIONS / f"{name}_v1.txt")
    new = load_mini(REVISIONS / f"{name}_v2.txt")
    changes = diff_documents(old, new)
    expected = _expected(name)
    assert_alerts(changes, expected["alert"])
    # every task whose title did not change is matched: it is neither added nor removed
    unchanged = _titles(old) & _titles(new)
    assert unchanged
    for c in changes.changes:
        if c.kind in ("task_added", "task_removed"):
            assert c.task not in unchanged


def test_plan_a_reports_the_swap_once_and_renumbering_as_one_line() -> None:
    changes = diff_documents(
        load_mini(REVISIONS / "plan_a_v1.txt"), load_mini(REVISIONS / "plan_a_v2.txt")
    )
    moved = [c for c in changes.changes if c.kind == "task_moved"]
    assert [c.task for c in moved if c.task] == ["推动商贸数字化"]
    summary_lines = [c for c in moved if c.task is None]
    assert len(summary_lines) == 1 and "重新编号" in summary_lines[0].summary
    # alerts come first, in new-document order of their tasks
    kinds = [c.severity for c in changes.changes]
    assert kinds == sorted(kinds)  # "alert" < "info"
    tasks = [c.task for c in changes.alerts]
    assert tasks.index("推进数据资源开发") < tasks.index("培育数字经济企业")
    assert tasks.index("发展软件信息服务") < tasks.index("建设智能制造示范工厂")
    assert tasks[-1] == "培育数据要素市场"


def test_measures_b_regrouping_gives_only_info_besides_the_real_edits() -> None:
    changes = diff_documents(
        load_mini(REVISIONS / "measures_b_v1.txt"), load_mini(REVISIONS / "measures_b_v2.txt")
    )
    expected = _expected("measures_b")["info_tasks"]
    by_kind: dict[str, list[str | None]] = {}
    for c in changes.changes:
        if c.severity == "info":
            by_kind.setdefault(c.kind, []).append(c.task)
    assert by_kind["task_changed"] == expected["task_changed"]
    assert sorted(t for t in by_kind["task_moved"] if t) == sorted(expected["task_moved"])
    assert [c.field for c in changes.changes if c.kind == "metadata_changed"] == ["title"]


def test_alias_only_revision_gives_no_change_at_all() -> None:
    changes = diff_documents(
        load_mini(REVISIONS / "alias_c_v1.txt"), load_mini(REVISIONS / "alias_c_v2.txt")
    )
    assert changes.changes == []


def test_seed_002_v2_with_stand_in_parser() -> None:
    """The seven alerts of the seed revision, independently of the real parser."""
    old = load_mini(SEEDS / f"{SEED}.txt")
    new = load_mini(SEEDS / f"{SEED}_v2.txt")
    expected = json.loads((SEEDS / f"{SEED}_v2.expected.json").read_text(encoding="utf-8"))
    changes = diff_documents(old, new)
    assert_alerts(changes, expected["alert"])
    assert len(changes.alerts) == 7


# --- through the real parser -------------------------------------------------------------


def _real_parse(path: Path) -> ParsedDocument:
    import parsers

    doc = parsers.parse_bytes(path.read_bytes(), path.name)
    assert doc.tasks, f"parser gives no tasks for {path.name}"
    return doc


OLD_FORMATS = [".txt", ".docx", ".pdf", "_autonum.docx", "_autonum.pdf"]
NEW_FORMATS = [".txt", ".docx", ".pdf"]


@pytest.mark.parametrize("new_ext", NEW_FORMATS)
@pytest.mark.parametrize("old_ext", OLD_FORMATS)
def test_seed_002_v2_in_every_format_pairing(old_ext: str, new_ext: str) -> None:
    old = _real_parse(SEEDS / f"{SEED}{old_ext}")
    new = _real_parse(SEEDS / f"{SEED}_v2{new_ext}")
    expected = json.loads((SEEDS / f"{SEED}_v2.expected.json").read_text(encoding="utf-8"))
    changes = diff_documents(old, new)
    assert_alerts(changes, expected["alert"])
    # no alert on any other task
    named = {e["task"] for e in expected["alert"]}
    assert {c.task for c in changes.alerts} <= named


@pytest.mark.parametrize(
    ("a_ext", "b_ext"),
    [
        (".txt", ".docx"),
        (".txt", ".pdf"),
        (".docx", ".pdf"),
        (".txt", "_autonum.docx"),
        (".txt", "_autonum.pdf"),
        (".docx", "_autonum.pdf"),
    ],
)
def test_seed_002_against_itself_in_another_format_is_no_change(a_ext: str, b_ext: str) -> None:
    a = _real_parse(SEEDS / f"{SEED}{a_ext}")
    b = _real_parse(SEEDS / f"{SEED}{b_ext}")
    assert [c.summary for c in diff_documents(a, b).changes] == []


@pytest.mark.parametrize("name", ["plan_a", "measures_b", "alias_c"])
def test_revision_pair_through_real_parser(name: str) -> None:
    old = _real_parse(REVISIONS / f"{name}_v1.txt")
    new = _real_parse(REVISIONS / f"{name}_v2.txt")
    assert_alerts(diff_documents(old, new), _expected(name)["alert"])


def test_revision_pair_as_docx_through_real_parser(tmp_path: Path) -> None:
    """The same plan written as a Word file (python-docx) diffs like the TXT."""
    from docx import Document

    paths = []
    for version in ("v1", "v2"):
        document = Document()
        for line in (REVISIONS / f"plan_a_{version}.txt").read_text("utf-8").splitlines():
            document.add_paragraph(line)
        path = tmp_path / f"plan_a_{version}.docx"
        document.save(str(path))
        paths.append(path)
    old_txt = _real_parse(REVISIONS / "plan_a_v1.txt")
    old = _real_parse(paths[0])
    new = _real_parse(paths[1])
    assert_alerts(diff_documents(old, new), _expected("plan_a")["alert"])
    assert diff_documents(old_txt, old).changes == []
