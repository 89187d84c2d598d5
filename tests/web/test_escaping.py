"""A document whose title, task text, units and targets carry markup renders inert on every
page, in the JSON and in the Atom feed (anybody can publish a document we fetch)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from alerts.matching import queue_for_change_set
from parsers.diff import diff_documents
from parsers.schema import OutlineNode, ParsedDocument, Target, Task, Unit
from storage.ingest import ingest
from tests.alerts.conftest import HttpServer

EVIL = '<script>alert("x")</script>\'"><img src=x onerror=alert(1)>'
KEY = "evil-doc"
UNIT = f"区发展改革委{EVIL}"
METRIC = f"产业规模{EVIL}"


def _doc(value: int, extra_unit: bool) -> ParsedDocument:
    units = [Unit(name=UNIT, role="lead")]
    if extra_unit:
        units.append(Unit(name="区经济信息委", role="support"))
    return ParsedDocument(
        title=f"关于印发{EVIL}行动方案的通知",
        doc_number=f"永川府发〔2022〕22号{EVIL}",
        issuers=[f"重庆市永川区人民政府{EVIL}"],
        date="2022-12-15",
        kind="plan",
        goals=[Target(text=f"{METRIC}达到{value}亿元", metric=METRIC, value=value, unit="亿元")],
        tasks=[
            Task(
                id="t1",
                number="1.",
                path=[f"二、重点任务{EVIL}"],
                title=f"做强{EVIL}赛道",
                text=f"做强{EVIL}赛道，规模达到{value}亿元。",
                units=units,
                targets=[
                    Target(text=f"规模达到{value}亿元", metric=METRIC, value=value, unit="亿元")
                ],
            )
        ],
        outline=[OutlineNode(number="二、", title=f"重点任务{EVIL}")],
    )


def _seed(session_factory: Any) -> int:
    def diff(old: ParsedDocument, new: ParsedDocument) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json") for c in diff_documents(old, new).changes]

    for n, (value, extra) in enumerate(((300, False), (500, True))):
        result = ingest(
            session_factory,
            f"v{n}".encode(),
            _doc(value, extra),
            filename=f"evil{n}.txt",
            source_url=f"javascript:alert({n})",
            series_key=KEY,
            diff=diff,
            on_change_set=queue_for_change_set,
        )
    return int(result.change_set_id)


def _assert_inert(html: str, where: str) -> None:
    assert "<script>alert" not in html, where
    assert "<img src=x" not in html, where
    assert 'href="javascript:' not in html, where
    assert "&lt;script&gt;" in html, f"{where}: the text should still be shown, escaped"


def test_markup_in_a_document_is_inert_everywhere(
    web_server: HttpServer, session_factory: Any, alert_env: Path
) -> None:
    change_set = _seed(session_factory)
    base = web_server.base
    pages = [
        "/documents",
        f"/documents?q={quote('<script>')}",
        f"/documents/{KEY}",
        f"/compare/{KEY}?a=1&b=2",
        f"/changes/{change_set}",
        f"/units/{quote(UNIT, safe='')}",
        f"/targets?metric={quote(METRIC)}",
        f"/subscribe?unit={quote(UNIT)}&keyword={quote(EVIL)}",
    ]
    for path in pages:
        resp = httpx.get(base + path, timeout=20)
        assert resp.status_code == 200, path
        assert resp.headers["content-type"].startswith("text/html"), path
        _assert_inert(resp.text, path)

    for path in (f"/api/documents/{KEY}", f"/api/compare/{KEY}?a=1&b=2"):
        resp = httpx.get(base + path, timeout=20)
        assert resp.headers["content-type"].startswith("application/json"), path
        assert EVIL in resp.text.replace("\\u003c", "<").replace('\\"', '"')  # data, not HTML

    for query in ("", f"?series={KEY}", f"?unit={quote(UNIT)}", f"?keyword={quote('<script>')}"):
        resp = httpx.get(f"{base}/feeds/changes.atom{query}", timeout=20)
        assert resp.headers["content-type"].startswith("application/atom+xml"), query
        assert "<script>" not in resp.text and "<img" not in resp.text, query
        feed = ET.fromstring(resp.content)  # well-formed XML
        titles = [e.text or "" for e in feed.iter("{http://www.w3.org/2005/Atom}title")]
        assert any("<script>" in t for t in titles[1:]), (query, titles)  # text, unescaped


def test_no_script_runs_in_the_browser(
    web_server: HttpServer, browser_page: Any, session_factory: Any
) -> None:
    _seed(session_factory)
    dialogs: list[str] = []
    browser_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in (
        "/documents",
        f"/documents/{KEY}",
        f"/compare/{KEY}",
        f"/units/{quote(UNIT, safe='')}",
    ):
        browser_page.goto(web_server.base + path)
        assert "<script>" in browser_page.locator("main").inner_text(), path
    assert dialogs == []
