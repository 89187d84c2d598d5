"""The pages' data through their /api twins, the manage page's edit, and the feeds, over
real HTTP on both databases (SQLite; PostgreSQL in the postgres leg)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
from markupsafe import escape
from sqlalchemy import select

from alerts.matching import queue_for_change_set
from alerts.subscriptions import subscribe
from alerts.tokens import make_token
from parsers.units_alias import unit_key
from storage.db import write_session
from storage.models import Subscription
from tests.alerts.conftest import HttpServer
from tests.alerts.seed002 import SEEDS, V1, V2, ingest_seed

ATOM = "{http://www.w3.org/2005/Atom}"


def _seed(session_factory: Any) -> None:
    ingest_seed(session_factory, SEEDS / "000_569c03692071d7e0.txt", series_key="yongchuan")
    ingest_seed(session_factory, SEEDS / "004_2276e3ffef9e3d8c.txt", series_key="reply343")
    ingest_seed(session_factory, V1, on_change_set=queue_for_change_set)
    ingest_seed(session_factory, V2, on_change_set=queue_for_change_set)


def _get(server: HttpServer, path: str, **params: Any) -> Any:
    resp = httpx.get(server.base + path, params=params, timeout=20)
    assert resp.status_code == 200, (path, resp.text[:300])
    return resp.json()


def _keys(data: dict[str, Any]) -> list[str]:
    return [d["key"] for d in data["documents"]]


def test_documents_search_filters_and_order(web_server: HttpServer, session_factory: Any) -> None:
    _seed(session_factory)
    everything = _get(web_server, "/api/documents")
    assert everything["total"] == 3
    assert _keys(everything) == ["cd-metaverse", "reply343", "yongchuan"]  # newest change first
    cd = everything["documents"][0]
    assert (cd["version_count"], cd["alert_count"]) == (2, 7) and cd["task_count"] > 10
    assert _keys(_get(web_server, "/api/documents", q="永川府发〔2022〕22号")) == ["yongchuan"]
    assert _keys(_get(web_server, "/api/documents", q="算力交易调度平台")) == ["cd-metaverse"]
    assert _keys(_get(web_server, "/api/documents", kind="reply")) == ["reply343"]
    assert _keys(_get(web_server, "/api/documents", unit="市数据局")) == ["cd-metaverse"]
    assert _keys(_get(web_server, "/api/documents", has_alerts="1")) == ["cd-metaverse"]
    assert _keys(_get(web_server, "/api/documents", issuer="永川")) == ["yongchuan"]
    dated = _get(web_server, "/api/documents", date_from="2022-12-01", date_to="2022-12-31")
    assert _keys(dated) == ["yongchuan"]
    past = _get(web_server, "/api/documents", page="2")
    assert (past["total"], past["page"], past["documents"]) == (3, 2, [])


def test_document_compare_unit_targets(web_server: HttpServer, session_factory: Any) -> None:
    _seed(session_factory)
    doc = _get(web_server, "/api/documents/cd-metaverse")
    assert [v["seq"] for v in doc["timeline"]] == [2, 1]
    assert doc["timeline"][0]["summaries"][0] == "元宇宙相关产业规模 1500亿元 → 2000亿元"
    task = next(t for t in doc["tasks"] if t["title"] == "做强算力赛道")
    assert ["市数据局", "responsible"] in task["units"]

    diff = _get(web_server, "/api/compare/cd-metaverse", a="1", b="2")
    assert diff["alerts"][0]["kind"] == "goal_changed" and diff["infos"]
    statuses = {row["status"] for row in diff["tasks"]}
    assert {"same", "changed", "added", "removed"} <= statuses
    # The goal sentence with the changed number: marked as one word, not single digits.
    goal = next(r for r in diff["tasks"] if {"op": "ins", "text": "2000"} in r["new"])
    assert {"op": "del", "text": "1500"} in goal["old"]
    assert goal["status"] == "changed" and goal["old_number"] is None
    back = _get(web_server, "/api/compare/cd-metaverse", a="2", b="1")  # any pair, any order
    assert back["alerts"][0]["summary"].endswith("1500亿元")

    unit = _get(web_server, "/api/units/市数据局")
    assert [t["task_title"] for t in unit["tasks"]] == ["做强算力赛道"]
    assert unit["history"]["total"] == 1
    assert unit["history"]["rows"][0]["relation"] == "新增"

    targets = _get(web_server, "/api/targets", metric="元宇宙相关产业规模")
    assert [p["value"] for p in targets["points"]] == [1500, 2000]
    assert (
        _get(web_server, "/api/targets", metric="元宇宙相关产业规模", year="2030")["points"] == []
    )
    assert httpx.get(f"{web_server.base}/api/documents/nope", timeout=20).status_code == 404
    assert (
        httpx.get(f"{web_server.base}/compare/cd-metaverse?a=1&b=9", timeout=20).status_code == 404
    )


def test_feeds_per_filter(web_server: HttpServer, session_factory: Any) -> None:
    _seed(session_factory)

    def entries(**params: str) -> list[str]:
        resp = httpx.get(f"{web_server.base}/feeds/changes.atom", params=params, timeout=20)
        feed = ET.fromstring(resp.content)
        return [e.findtext(f"{ATOM}id") or "" for e in feed.iter(f"{ATOM}entry")]

    assert len(entries()) == 4  # three first versions and one revision
    [revision] = entries(unit="市数据局")
    assert revision.endswith("/changes/4")
    assert entries(series="reply343") and entries(series="reply343")[0].endswith("/changes/2")
    assert entries(keyword="元交通") == [revision]
    assert entries(unit="没有这个单位") == []


def test_manage_page_edits_filters_and_mode(
    web_server: HttpServer, session_factory: Any, alert_env: Path
) -> None:
    with write_session(session_factory) as session:
        sub = subscribe(session, "m@example.org", unit="市数据局")
        other = subscribe(session, "x@example.org", keyword="算力")
        ids = (sub.id, other.id)
    token = make_token("test-secret", "manage", ids[0], "m@example.org")
    page = httpx.get(f"{web_server.base}/manage", params={"token": token}, timeout=20)
    assert f'action="/manage/{ids[0]}?token={token}"' in page.text
    resp = httpx.post(
        f"{web_server.base}/manage/{ids[0]}",
        params={"token": token},
        data={
            "unit": "区发改委",
            "keyword": "算力",
            "kinds": ["goals"],
            "mode": "daily",
            "webhook": "https://hooks.example.org/radar",
        },
        timeout=20,
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "已保存修改" in resp.text
    # The manage link of one address cannot edit another address's subscription.
    refused = httpx.post(
        f"{web_server.base}/manage/{ids[1]}", params={"token": token}, data={}, timeout=20
    )
    assert refused.status_code == 400
    with session_factory() as session:
        mine, theirs = (session.get(Subscription, i) for i in ids)
        assert mine is not None and theirs is not None
        assert (mine.unit, mine.keyword, mine.mode, mine.status) == (
            "区发改委",
            "算力",
            "daily",
            "active",
        )
        assert mine.unit_key == unit_key("区发展和改革委员会")  # alias-resolved, as subscribe
        assert mine.kinds and "goal_changed" in mine.kinds
        assert mine.webhook_url == "https://hooks.example.org/radar"
        assert (theirs.keyword, theirs.mode) == ("算力", "instant")
        assert session.scalar(select(Subscription.id).where(Subscription.email == "m@example.org"))


def test_subscribe_buttons_prefill_the_form(web_server: HttpServer, session_factory: Any) -> None:
    _seed(session_factory)
    doc = httpx.get(f"{web_server.base}/documents/cd-metaverse", timeout=20).text
    assert 'href="/subscribe?series=cd-metaverse"' in doc
    form = httpx.get(f"{web_server.base}/subscribe?unit=市数据局&series=cd-metaverse", timeout=20)
    assert 'name="unit" value="市数据局"' in form.text
    assert 'name="series" value="cd-metaverse"' in form.text


def test_a_held_version_is_marked_on_the_document_page(
    web_server: HttpServer, session_factory: Any
) -> None:
    """A version held as broken-looking (a WAF page served at the plan's place) says so in
    the timeline, page and JSON, so a reader does not take its empty task list for the plan."""
    from parsers import parse_bytes
    from storage.ingest import ingest

    ingest_seed(session_factory, V1)
    waf = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "waf_challenge.html"
    data = waf.read_bytes()
    ingest(session_factory, data, parse_bytes(data, waf.name), series_key="cd-metaverse")
    doc = _get(web_server, "/api/documents/cd-metaverse")
    newest, first = doc["timeline"]
    assert newest["hold_status"] == "held" and newest["hold_reason"]
    assert first["hold_status"] is None
    page = httpx.get(f"{web_server.base}/documents/cd-metaverse", timeout=20)
    assert "已暂扣提醒" in page.text
    assert str(escape(newest["hold_reason"])) in page.text
    assert "第2版疑似异常，已暂扣" in page.text
