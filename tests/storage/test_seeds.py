"""Ingest of the real seed documents through the real parser and diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from parsers.units_alias import unit_key
from storage.ingest import content_hash, ingest
from storage.models import Change, ChangeUnit, Version
from storage.repo import series_history, tasks_for_unit

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"
S002 = "002_152408040e809265"


def _parse(name: str) -> Any:
    from parsers import parse_bytes

    return parse_bytes((SEEDS / name).read_bytes(), name)


def _ingest(factory: Any, name: str, **kw: Any) -> Any:
    data = (SEEDS / name).read_bytes()
    return ingest(factory, data, _parse(name), filename=name, **kw)


def test_every_seed_is_stored_once(session_factory: Any) -> None:
    names = sorted(p.name for p in SEEDS.glob("00?_*.txt") if "_v2" not in p.name)
    results = [_ingest(session_factory, n) for n in names]
    assert [r.status for r in results] == ["new_series"] * 5
    assert len({r.series_key for r in results}) == 5
    again = [_ingest(session_factory, n) for n in names]
    assert [r.status for r in again] == ["same_bytes"] * 5
    with session_factory() as s:
        assert len(s.scalars(select(Version.id)).all()) == 5


def test_seed_002_in_three_formats_is_one_version(session_factory: Any) -> None:
    docs = {ext: _parse(f"{S002}.{ext}") for ext in ("txt", "docx", "pdf")}
    assert len({content_hash(d) for d in docs.values()}) == 1
    first = _ingest(session_factory, f"{S002}.docx")
    assert first.status == "new_series"
    for ext in ("pdf", "txt"):
        r = _ingest(session_factory, f"{S002}.{ext}")
        assert (r.status, r.version_id) == ("same_content", first.version_id)


def test_seed_002_revision_stores_the_expected_alerts(session_factory: Any) -> None:
    first = _ingest(session_factory, f"{S002}.txt")
    second = _ingest(session_factory, f"{S002}_v2.txt")
    assert (second.status, second.series_key, second.version_seq) == (
        "new_version",
        first.series_key,
        2,
    )
    expected = json.loads((SEEDS / f"{S002}_v2.expected.json").read_text(encoding="utf-8"))
    want = sorted((a["kind"], a["task"] or "") for a in expected["alert"])
    got = sorted((c["kind"], c["task"] or "") for c in second.changes if c["severity"] == "alert")
    assert got == want
    with session_factory() as s:
        history = series_history(s, first.series_key)
        assert history[1].alert_count == len(want)
        # the unit added to 做强算力赛道 is a change_units row, found by a join
        kinds = s.scalars(
            select(Change.task_title)
            .join(ChangeUnit, ChangeUnit.change_id == Change.id)
            .where(ChangeUnit.unit_key == unit_key("市数据局"), ChangeUnit.relation == "added")
        ).all()
        assert kinds == ["做强算力赛道"]
        now = {t.task_title for t in tasks_for_unit(s, "市数据局")}
        assert "做强算力赛道" in now


def test_a_parse_by_an_older_parser_is_redone_before_diffing(session_factory: Any) -> None:
    """v1 stored by an "old parser" that missed a task: diffing v2 against that stored parse
    would report the parser fix as a task_added alert; ingest re-parses v1's raw bytes."""
    name = f"{S002}.txt"
    current = _parse(name)
    expected = json.loads((SEEDS / f"{S002}_v2.expected.json").read_text(encoding="utf-8"))
    involved = {a["task"] for a in expected["alert"]}
    missed = next(i for i, t in enumerate(current.tasks) if t.title not in involved)
    kept = current.tasks[:missed] + current.tasks[missed + 1 :]
    old = current.model_copy(update={"parser_version": "0", "tasks": kept})
    ingest(session_factory, (SEEDS / name).read_bytes(), old, filename=name)
    seen: list[str] = []

    def diff(a: Any, b: Any) -> list[dict[str, Any]]:
        from storage.ingest import default_diff

        seen.append(a.parser_version)
        return default_diff(a, b)

    second = _ingest(session_factory, f"{S002}_v2.txt", diff=diff)
    assert seen == [current.parser_version]
    got = sorted((c["kind"], c["task"] or "") for c in second.changes if c["severity"] == "alert")
    assert got == sorted((a["kind"], a["task"] or "") for a in expected["alert"])
