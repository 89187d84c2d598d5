"""A real revision whose chapters are named by their content diffs task by task.

tests/fixtures/revisions/content_chapters_v1.md is the real 奉贤区 公园城市 实施意见 (see
tests/fixtures/structure/real/README.md for its provenance): chapters 一、…二、… named by their
content (以规划为引领…), tasks （一）…（五） and 1.–3. under them. content_chapters_v2.md is its
2025 edition made by hand from it: the title gains （2025版）, (五) gains a responsible unit,
2. raises 60座 to 80座; every other task is unchanged. Before the structure rework such a plan
read its tasks from no section name, so a revision of it could only show up as tasks
removed/added; the diff must pair every unchanged-title task and report exactly the edits.
"""

from __future__ import annotations

from pathlib import Path

from parsers import parse_bytes
from parsers.diff import diff_documents

REVISIONS = Path(__file__).resolve().parent.parent / "fixtures" / "revisions"


def _parse(name: str):  # type: ignore[no-untyped-def]
    path = REVISIONS / name
    return parse_bytes(path.read_bytes(), filename=path.name)


def test_content_named_chapters_revision_matches_every_task() -> None:
    old, new = _parse("content_chapters_v1.md"), _parse("content_chapters_v2.md")
    assert len(old.tasks) == len(new.tasks) == 12
    assert {t.title for t in old.tasks} == {t.title for t in new.tasks}
    changes = diff_documents(old, new).changes
    kinds = sorted((c.kind, c.task) for c in changes)
    assert kinds == [
        ("goal_changed", "提升公园服务水平"),
        ("metadata_changed", None),
        ("units_changed", "有序开展公园城市相关创建工作"),
    ]
    unit_change = next(c for c in changes if c.kind == "units_changed")
    assert "区住房城乡建设管理委" in unit_change.summary
