"""The web app in headless Chromium, the way a reader uses it.

documents → document → compare → unit → subscribe → confirm → the alert email's link opens
the compare page; the sources page shows a failing source. Screenshots of every page go to
``$RADAR_SCREENSHOT_DIR`` when set (``docs/screenshots/`` holds the committed ones).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from alerts.dispatch import send_due
from alerts.matching import queue_for_change_set
from alerts.transport import OutboxTransport
from flows.fetch_state_db import DbFetchState
from flows.health import check_listing
from tests.alerts.conftest import HttpServer, body_text, free_port, read_outbox
from tests.alerts.seed002 import SEEDS, V1, V2, ingest_seed
from tests.web.conftest import write_sources

ADDRESS = "analyst@example.org"


#: More real documents around seed 002, so the lists look like a real deployment's: the
#: 永川 plan (永川府发〔2022〕22号), the 渝北 plan, a news item and a 复函 (see
#: tests/fixtures/seeds/README.md for their sources).
OTHERS = (
    "000_569c03692071d7e0.txt",
    "001_d2f5901a87c294b7.txt",
    "003_465ebb8863fa7a9b.txt",
    "004_2276e3ffef9e3d8c.txt",
)


def _seed(session_factory: Any, *, others: bool = False) -> None:
    if others:
        for name in OTHERS:
            ingest_seed(session_factory, SEEDS / name, series_key=name[:3])
    ingest_seed(session_factory, V1, on_change_set=queue_for_change_set)
    ingest_seed(session_factory, V2, on_change_set=queue_for_change_set)


def _third_version(tmp_path: Path) -> Path:
    """The plan revised again: 市数据局 dropped from 做强算力赛道 (an alert for its unit)."""
    text = V2.read_text(encoding="utf-8").replace(
        "（责任单位：市经信局市新经济委、市数据局）", "（责任单位：市经信局市新经济委）"
    )
    path = tmp_path / "002_v3.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _mail_link(home: Path, session_factory: Any, pattern: str) -> str:
    """The first link matching ``pattern`` in the newest email to ADDRESS. The web app sends
    confirmations from a background task (holding the row's lease meanwhile), so wait for
    the email rather than expecting our own send_due to find it."""
    deadline = time.monotonic() + 30
    bodies: list[str] = []
    while time.monotonic() < deadline:
        send_due(session_factory, transport=OutboxTransport(home / "outbox"))
        bodies = [body_text(m) for m in read_outbox(home) if str(m["To"]) == ADDRESS]
        for body in reversed(bodies):
            found = re.search(pattern, body)
            if found:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no email to {ADDRESS} with {pattern}: {bodies}")


def test_reader_path_from_documents_to_the_emailed_compare_page(
    web_server: HttpServer,
    browser_page: Any,
    alert_env: Path,
    session_factory: Any,
    shots: Path,
    tmp_path: Path,
) -> None:
    _seed(session_factory, others=True)
    page = browser_page
    page.goto(f"{web_server.base}/documents")
    assert page.locator("h1").inner_text() == "文件"
    page.screenshot(path=str(shots / "documents.png"), full_page=False)

    page.get_by_role("link", name="元宇宙产业发展行动方案（2022—2025年）").click()
    page.wait_for_url("**/documents/cd-metaverse")
    assert page.locator(".timeline > li").count() == 2
    assert page.get_by_text("做强算力赛道").first.is_visible()
    page.screenshot(path=str(shots / "document.png"), full_page=False)

    page.get_by_role("link", name="与第1版对比").click()
    page.wait_for_url("**/compare/cd-metaverse?a=1&b=2")
    assert "元宇宙相关产业规模 1500亿元 → 2000亿元" in page.locator("ul.changes").first.inner_text()
    marked = page.locator("#side-by-side ins").all_inner_texts()
    assert any("2000" in text for text in marked)  # the changed number, in its sentence
    page.screenshot(path=str(shots / "compare.png"), full_page=False)
    same = page.locator('#side-by-side [data-status="same"]').first
    assert same.is_visible()
    page.check("#only-changed")  # hides the unchanged tasks (radar.js)
    assert not same.is_visible()
    assert page.locator('#side-by-side [data-status="changed"]').first.is_visible()

    page.locator("ul.changes a", has_text="市数据局").first.click()
    page.wait_for_url("**/units/**")
    assert page.locator("h1").inner_text() == "单位：市数据局"
    assert page.get_by_text("做强算力赛道").first.is_visible()
    page.screenshot(path=str(shots / "unit.png"), full_page=False)

    page.get_by_role("link", name="订阅此单位的变更").click()
    page.wait_for_url("**/subscribe?unit=*")
    assert page.locator("input[name=unit]").input_value() == "市数据局"
    page.fill("input[name=email]", ADDRESS)
    page.screenshot(path=str(shots / "subscribe.png"), full_page=False)
    page.get_by_role("button", name="订阅").click()
    assert page.locator("h1").inner_text() == "请查收确认邮件"

    page.goto(_mail_link(alert_env, session_factory, r"http://\S+/confirm\?token=\S+"))
    page.get_by_role("button", name="确认订阅").click()
    assert "订阅已确认" in page.locator(".msg").inner_text()

    ingest_seed(session_factory, _third_version(tmp_path), on_change_set=queue_for_change_set)
    page.goto(_mail_link(alert_env, session_factory, r"http://\S+/changes/\d+"))
    assert page.locator("h1").inner_text().startswith("版本对比")
    versions = page.locator(".card .small").inner_text()
    assert versions.startswith("第2版") and "→ 第3版" in versions
    assert page.locator("#side-by-side del", has_text="市数据局").count() == 1
    assert "市数据局" in page.locator("ul.changes").first.inner_text()
    page.screenshot(path=str(shots / "email-link-compare.png"), full_page=False)


def test_sources_page_shows_the_failing_source(
    web_server: HttpServer, browser_page: Any, alert_env: Path, session_factory: Any, shots: Path
) -> None:
    _seed(session_factory)
    ok, bad = write_sources(alert_env, free_port())
    state = DbFetchState(session_factory)
    state.put_note(ok, "ok")  # a good poll of the healthy listing
    check_listing(state, session_factory, "yongchuan", bad, 12)  # once it had 12 links
    check_listing(state, session_factory, "yongchuan", bad, 0)  # now none: health alarm
    for _ in range(3):
        state.record_failure(bad, "connection refused")
    page = browser_page
    page.goto(f"{web_server.base}/sources")
    failing = page.locator("tr[data-source=yongchuan]")
    assert "失败" in failing.inner_text() and "连续失败 3 次" in failing.inner_text()
    assert "source health: yongchuan listing is empty" in failing.inner_text()
    healthy = page.locator("tr[data-source=chengdu]")
    assert "正常" in healthy.inner_text()
    assert page.get_by_role("button", name="立即抓取").first.is_disabled()  # radar web only
    page.screenshot(path=str(shots / "sources.png"), full_page=False)


def test_targets_page_and_phone_layout(
    web_server: HttpServer, browser_page: Any, session_factory: Any, shots: Path
) -> None:
    _seed(session_factory, others=True)
    page = browser_page
    page.goto(f"{web_server.base}/targets?metric=产业规模")
    assert page.locator("svg.chart circle").count() >= 2
    assert "2000亿元" in page.locator("table").inner_text()
    page.screenshot(path=str(shots / "targets.png"), full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{web_server.base}/compare/cd-metaverse")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # no sideways scrolling on a phone
    page.screenshot(path=str(shots / "compare-phone.png"), full_page=False)
