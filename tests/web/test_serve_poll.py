"""Under ``radar serve`` the sources page's "立即抓取" starts the source's poll deployment:
the documents of the fixture portal then appear on the documents page."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from flows.service import free_port
from tests.flows.conftest import polling, site
from tests.flows.service_helpers import radar_env, start_serve, stop, wait_for

__all__ = ["polling", "site"]  # the flows tests' fixture portal and its sources.toml

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.timeout(300)]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except (OSError, urllib.error.HTTPError):
        return 0, ""


def _total(web: str) -> int:
    status, body = _get(web + "/api/documents")
    return int(json.loads(body)["total"]) if status == 200 else 0


def test_poll_now_starts_the_deployment(radar_home: Path, db_url: str, polling: Path) -> None:
    env = radar_env(radar_home, RADAR_DATABASE_URL=db_url)
    port = free_port()
    process = start_serve(radar_home, env, web_port=port)
    log = radar_home / "serve.log"
    web = f"http://127.0.0.1:{port}"
    try:
        page: Any = wait_for(
            "the sources page", lambda: _get(web + "/sources")[1] or None, 150, log
        )
        assert 'data-source="portal"' in page and "disabled" not in page
        assert _total(web) == 0

        # Deployments are registered once serve's runner is up: retry until the run starts.
        def started() -> str | None:
            request = urllib.request.Request(web + "/sources/portal/poll", method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    body = response.read().decode("utf-8")
                    return body if "已开始抓取" in body else None
            except (OSError, urllib.error.HTTPError):
                return None

        wait_for("poll now", started, 120, log)
        wait_for("the portal's documents", lambda: _total(web) > 0, 150, log)
    finally:
        code = stop(process)
    assert code == 0, log.read_text(errors="replace")[-3000:]
