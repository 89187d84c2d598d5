"""The event path against a real Prefect server: an ingest emits ``radar.document.changed``,
the deployment trigger runs ``dispatch_alerts`` under ``serve()``, and the email arrives at
a local SMTP server. The ingest runs with ``PREFECT_API_URL`` set, so it does NOT deliver
itself: only the trigger can have sent the email."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.flows.conftest import SEEDS, subscribe
from tests.flows.service_helpers import ROOT, radar_env, start_serve, stop, wait_for

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[Any]:
    from flows.service import start_prefect_server

    server = start_prefect_server(tmp_path / "prefect-server")
    try:
        yield server
    finally:
        server.stop()


def _ingest(env: dict[str, str], path: Path) -> None:
    code = (
        "import sys; from flows.ingest_flow import run_ingest; "
        "r = run_ingest(sys.argv[1]); print([(x.series_key, x.status) for x in r])"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(path)], cwd=ROOT, env=env, check=True, timeout=120
    )


def test_ingest_event_triggers_dispatch_to_smtp(
    radar_home: Path, db_url: str, session_factory: Any, smtp: Any, prefect_server: Any
) -> None:
    subscribe(session_factory, "analyst@example.org", unit="市数据局")
    env = radar_env(
        radar_home,
        RADAR_DATABASE_URL=db_url,
        RADAR_SMTP_URL=smtp.url,
        PREFECT_API_URL=prefect_server.api_url,
    )
    _ingest(env, SEEDS / "002_152408040e809265.txt")
    process = start_serve(radar_home, env)
    log = radar_home / "serve.log"
    try:
        wait_for("serve to start", lambda: "serving" in log.read_text(errors="replace"), 90, log)
        _ingest(env, SEEDS / "002_152408040e809265_v2.pdf")
        wait_for("the alert email", lambda: smtp.messages, 90, log)
        [message] = smtp.messages
        assert message.rcpt_tos == ["analyst@example.org"]
    finally:
        stop(process)
