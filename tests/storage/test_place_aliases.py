"""Unit aliases scoped by place through ingest (issue 10).

In 成都 市经信局 and 市新经济委 are one body (two plaques): a change to a task of that body
reaches a subscriber of either name. Anywhere else they are two bodies: moving work from one
to the other is a units change, stored under each name's own key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from parsers.units_alias import unit_key
from storage.ingest import ingest
from storage.models import Change
from tests.storage.docs import plan, target, task


def _changes(session_factory: Any, old: Any, new: Any) -> dict[str, set[tuple[str, str]]]:
    ingest(session_factory, b"v1", old)
    ingest(session_factory, b"v2", new)  # the real parsers.diff
    with session_factory() as s:
        return {
            c.kind: {(u.unit_key, u.relation) for u in c.units}
            for c in s.scalars(select(Change)).all()
        }


def test_in_chengdu_a_change_reaches_subscribers_of_either_plaque(session_factory: Any) -> None:
    old = plan(tasks=[task(1, "培育市场主体", ["市经信局"], [target("企业数量", 100, "家")])])
    new = plan(tasks=[task(1, "培育市场主体", ["市新经济委"], [target("企业数量", 120, "家")])])
    got = _changes(session_factory, old, new)
    assert set(got) == {"goal_changed"}  # the unit's other name is no units change there
    keys = {k for k, rel in got["goal_changed"] if rel == "task_unit"}
    assert {unit_key("市经信局"), unit_key("市新经济委")} <= keys


def test_elsewhere_the_two_names_are_two_bodies(session_factory: Any) -> None:
    def other(units: list[str]) -> Any:
        doc = plan(
            "嘉兴市数字经济发展行动计划",
            doc_number="嘉政办发〔2023〕5号",
            tasks=[task(1, "培育市场主体", units)],
        )
        return doc.model_copy(update={"issuers": ["嘉兴市人民政府办公室"]})

    got = _changes(session_factory, other(["市经信局"]), other(["市新经济委"]))
    assert got["units_changed"] >= {
        (unit_key("市新经济委"), "added"),
        (unit_key("市经信局"), "removed"),
    }
    assert (unit_key("市新经济委"), "removed") not in got["units_changed"]
