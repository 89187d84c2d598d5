"""``radar serve`` as a real subprocess: own Prefect server, inbox pickup, clean SIGTERM."""

from __future__ import annotations

import re
import shutil
import urllib.request
from pathlib import Path

import pytest

from flows.service import free_port
from tests.flows.conftest import SEEDS
from tests.flows.service_helpers import radar_env, start_serve, stop, wait_for

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.timeout(240)]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


def test_serve_picks_up_inbox_files_and_stops_on_sigterm(radar_home: Path, db_url: str) -> None:
    env = radar_env(radar_home, RADAR_DATABASE_URL=db_url)
    port = free_port()
    process = start_serve(radar_home, env, web_port=port)
    log = radar_home / "serve.log"
    web = f"http://127.0.0.1:{port}"
    try:
        # The web endpoints are served too: the subscribe form answers.
        status, page = wait_for(
            "the web pages", lambda: _get(web + "/")[0] == 200 and _get(web + "/"), 150, log
        )
        assert status == 200 and "subscribe" in page
        inbox = radar_home / "inbox"
        wait_for("the inbox", lambda: (inbox / "done").is_dir(), 150, log)
        shutil.copy(SEEDS / "002_152408040e809265.txt", inbox / "plan.txt")
        (inbox / "junk.bin").write_bytes(b"\x00\x01 not a document")
        wait_for("plan.txt in done/", lambda: (inbox / "done" / "plan.txt").exists(), 90, log)
        wait_for("junk.bin in failed/", lambda: (inbox / "failed" / "junk.bin").exists(), 60, log)
        error = (inbox / "failed" / "junk.bin.error.txt").read_text(encoding="utf-8")
        assert "junk.bin" in error or "format" in error.lower()
        assert process.poll() is None
    finally:
        code = stop(process)
    assert code == 0, log.read_text(errors="replace")[-3000:]
    # The Prefect server it started is gone with it.
    text = log.read_text(errors="replace")
    match = re.search(r"prefect server on (http://127\.0\.0\.1:\d+/api)", text)
    assert match is not None, text[-2000:]
    with pytest.raises(OSError):
        urllib.request.urlopen(match.group(1) + "/health", timeout=5)
    assert _get(web + "/healthz")[0] == 0  # the web server stopped with it

    from storage.db import open_db
    from storage.repo import list_series

    _, factory = open_db(db_url)
    with factory() as session:
        titles = [s.title for s in list_series(session)]
    assert any("元宇宙产业发展行动方案" in (t or "") for t in titles)
