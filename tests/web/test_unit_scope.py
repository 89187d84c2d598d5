"""Units are scoped by region: 区发改委 in a 嘉定区 plan and 区发改委 in a 浦东新区 plan are two
units (pages, API, feed, subscribe pre-fill, alert matching), 上海市发展和改革委员会 is one
everywhere; and migration 0004 backfills existing rows. Real parser, ingest, database and HTTP
server; the two plans are in ``tests/fixtures/districts`` (see its README)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from sqlalchemy import select

from alerts.matching import queue_for_change_set
from alerts.subscriptions import subscribe
from parsers import parse_bytes
from parsers.diff import diff_documents
from parsers.schema import ParsedDocument
from storage.db import _alembic_config, upgrade, write_session
from storage.ingest import ingest
from storage.models import ChangeUnit, Delivery, Subscription, TaskUnit
from storage.repo import tasks_for_unit, unit_places
from tests.alerts.conftest import HttpServer

DISTRICTS = Path(__file__).resolve().parents[1] / "fixtures" / "districts"


def _diff(old: ParsedDocument, new: ParsedDocument) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in diff_documents(old, new).changes]


def _ingest(session_factory: Any, name: str, series: str, *, queue: bool = False) -> Any:
    path = DISTRICTS / name
    data = path.read_bytes()
    return ingest(
        session_factory,
        data,
        parse_bytes(data, path.name),
        filename=path.name,
        series_key=series,
        diff=_diff,
        on_change_set=queue_for_change_set if queue else None,
    )


def _seed(session_factory: Any) -> None:
    _ingest(session_factory, "jiading_v1.txt", "jiading")
    _ingest(session_factory, "pudong_v1.txt", "pudong")


def _series(tasks: list[Any]) -> set[str]:
    return {t.series_key for t in tasks}


def test_two_districts_units_are_two_units(session_factory: Any) -> None:
    _seed(session_factory)
    with session_factory() as session:
        assert _series(tasks_for_unit(session, "嘉定区发改委")) == {"jiading"}
        assert _series(tasks_for_unit(session, "浦东新区发展和改革委员会")) == {"pudong"}
        assert _series(tasks_for_unit(session, "上海市嘉定区发展和改革委员会")) == {"jiading"}
        # 市发改委 in either district's plan is the one 上海市发展和改革委员会
        assert _series(tasks_for_unit(session, "上海市发展和改革委员会")) == {"jiading", "pudong"}
        # a bare relative name: every district's, and the page lists the regions' units
        assert _series(tasks_for_unit(session, "区发改委")) == {"jiading", "pudong"}
        assert unit_places(session, "区发展改革委") == ["嘉定区发改委", "浦东新区发改委"]
        assert unit_places(session, "嘉定区发改委") == []
        keys = set(session.scalars(select(TaskUnit.scoped_key)))
    assert {"嘉定区发改委", "浦东新区发改委", "上海市发改委", "嘉定区城运中心"} <= keys


def test_unit_pages_links_and_subscribe_prefill_are_scoped(
    web_server: HttpServer, session_factory: Any
) -> None:
    _seed(session_factory)
    _ingest(session_factory, "jiading_v2.txt", "jiading")
    _ingest(session_factory, "pudong_v2.txt", "pudong")
    base = web_server.base
    doc = httpx.get(f"{base}/documents/jiading", timeout=20).text
    assert "/units/%E5%98%89%E5%AE%9A%E5%8C%BA%E5%8F%91%E6%94%B9%E5%A7%94" in doc  # 嘉定区发改委
    assert "%E6%B5%A6%E4%B8%9C" not in doc  # no link to any 浦东 unit
    data = httpx.get(f"{base}/api/units/嘉定区发改委", timeout=20).json()
    assert {t["series_key"] for t in data["tasks"]} == {"jiading"}
    assert {h["series_key"] for h in data["history"]["rows"]} == {"jiading"}
    page = httpx.get(f"{base}/units/嘉定区发改委", timeout=20).text
    assert re.search(r'href="/subscribe\?unit=%E5%98%89%E5%AE%9A%E5%8C%BA', page)  # 嘉定区…
    feed = httpx.get(f"{base}/feeds/changes.atom", params={"unit": "浦东新区发改委"}, timeout=20)
    assert "浦东新区" in feed.text and "嘉定区促进" not in feed.text
    bare = httpx.get(f"{base}/api/units/区发改委", timeout=20).json()
    assert bare["places"] == ["嘉定区发改委", "浦东新区发改委"]
    compare = httpx.get(f"{base}/compare/pudong", timeout=20).text
    assert "/units/%E6%B5%A6%E4%B8%9C%E6%96%B0%E5%8C%BA%E5%8F%91" in compare  # 浦东新区发…


def test_a_district_subscriber_is_not_alerted_by_the_other_district(
    alert_env: Path, session_factory: Any
) -> None:
    _seed(session_factory)
    with write_session(session_factory) as session:
        subscribe(session, "jd@example.org", unit="嘉定区发改委")
        subscribe(session, "any@example.org", unit="区发改委")
        subscribe(session, "city@example.org", unit="上海市发展和改革委员会")
    _ingest(session_factory, "pudong_v2.txt", "pudong", queue=True)
    assert _recipients(session_factory) == {"any@example.org"}
    _ingest(session_factory, "jiading_v2.txt", "jiading", queue=True)
    assert _recipients(session_factory) == {"any@example.org", "jd@example.org"}


def _recipients(session_factory: Any) -> set[str]:
    with session_factory() as session:
        return set(session.scalars(select(Delivery.recipient).where(Delivery.kind == "instant")))


def test_migration_0004_backfills_scoped_keys(session_factory: Any, engine: Any) -> None:
    _seed(session_factory)
    _ingest(session_factory, "jiading_v2.txt", "jiading")
    with write_session(session_factory) as session:
        subscribe(session, "jd@example.org", unit="上海市嘉定区发展和改革委员会")
    with session_factory() as session:
        before = set(session.execute(select(TaskUnit.id, TaskUnit.scoped_key)).all())
        change_before = set(
            session.execute(select(ChangeUnit.change_id, ChangeUnit.unit_key, ChangeUnit.relation))
        )
    assert ("嘉定区发改委" in {k for _, k in before}) and change_before
    with engine.begin() as conn:
        cfg = _alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    try:
        with session_factory() as session:
            [old_key] = session.scalars(select(Subscription.unit_key))
        assert old_key == "上海市嘉定区发改委"  # the place-free key of before
        with write_session(session_factory) as session:  # a database from before 0004
            scoped = session.scalars(
                select(ChangeUnit).where(ChangeUnit.unit_key.like("嘉定区%"))
            ).all()
            assert scoped
            for row in scoped:
                session.delete(row)
    finally:
        upgrade(engine)
    with session_factory() as session:
        assert set(session.execute(select(TaskUnit.id, TaskUnit.scoped_key)).all()) == before
        after = set(
            session.execute(select(ChangeUnit.change_id, ChangeUnit.unit_key, ChangeUnit.relation))
        )
        assert after == change_before
        assert list(session.scalars(select(Subscription.unit_key))) == ["嘉定区发改委"]
