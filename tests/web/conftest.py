"""Web app fixtures: seed 002 (two versions of the 成都 元宇宙 plan) behind a real uvicorn
server, a sources file with one healthy and one failing source, and headless Chromium.

The browser is Debian's ``chromium`` driven by Playwright's Python API with
``executable_path=`` (``playwright install`` cannot download a browser here). Without
either, the browser tests skip with a message saying what to install.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.conftest import HttpServer, alert_env, free_port

__all__ = ["alert_env"]  # the alert tests' settings fixture, used here too

#: Where screenshots go when set (``docs/screenshots`` regenerates the README's pictures).
SCREENSHOT_ENV = "RADAR_SCREENSHOT_DIR"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A Playwright page in headless Chromium (1280×900), or a skip saying why not."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found: apt-get install -y chromium (browser tests skipped)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: make install (browser tests skipped)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Screenshot directory: ``$RADAR_SCREENSHOT_DIR`` when set, else a temporary one."""
    target = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "shots")
    target.mkdir(parents=True, exist_ok=True)
    return target


def write_sources(home: Path, failing_port: int) -> tuple[str, str]:
    """``RADAR_HOME/sources.toml`` with a healthy source and one whose site refuses
    connections; returns their listing URLs."""
    ok = "https://www.chengdu.gov.cn/zwgk/list.html"
    bad = f"http://127.0.0.1:{failing_port}/xxgk/list.html"
    (home / "sources.toml").write_text(
        "[[sources]]\n"
        'name = "chengdu"\n'
        f'url = "{ok}"\n'
        'schedule = "7 */6 * * *"\n\n'
        "[[sources]]\n"
        'name = "yongchuan"\n'
        f'url = "{bad}"\n'
        'schedule = "30 8 * * *"\n',
        encoding="utf-8",
    )
    return ok, bad


@pytest.fixture
def web_server(
    alert_env: Path, session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HttpServer]:
    """The whole app (with the sources page's operator) on 127.0.0.1; RADAR_BASE_URL points
    at it, so the links in emails open this server."""
    from alerts.web import create_app
    from flows.web_operator import operator_for

    port = free_port()
    monkeypatch.setenv("RADAR_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("RADAR_ADMIN_EMAIL", "ops@example.org")
    app = create_app(session_factory, operator_hooks=operator_for(None, can_poll=False))
    with HttpServer(app, port) as server:
        yield server
