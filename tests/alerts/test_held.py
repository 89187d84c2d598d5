"""Issue 12: a version that looks broken (a WAF page, 5 -> 1 tasks) is held: subscribers get
no email, the operator gets one; ``radar held release`` then alerts subscribers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alerts.dispatch import send_due
from alerts.subscriptions import subscribe
from flows.health import AlertHook
from parsers import parse_bytes
from storage.db import write_session
from storage.ingest import ingest
from tests.alerts.conftest import read_outbox
from tests.storage.docs import plan, task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
URL = "https://www.yb.gov.cn/zwgk/2024/plan.html"
ADMIN = "ops@example.org"


def _plan(n: int) -> Any:
    return plan(tasks=[task(i, f"第{i}项工作", ["市数据局"]) for i in range(1, n + 1)])


def _store(factory: Any, data: bytes, parsed: Any) -> tuple[Any, AlertHook]:
    hook = AlertHook()
    result = ingest(factory, data, parsed, source_url=URL, on_change_set=hook, on_held=hook.on_held)
    return result, hook


@pytest.fixture
def subscribed(alert_env: Path, session_factory: Any, monkeypatch: Any) -> Any:
    monkeypatch.setenv("RADAR_ADMIN_EMAIL", ADMIN)
    _store(session_factory, b"v1", _plan(5))
    with write_session(session_factory) as session:
        subscribe(session, "data@example.org", unit="市数据局")
        subscribe(session, "all@example.org")
    send_due(session_factory)
    for path in (alert_env / "outbox").glob("*.eml"):
        path.unlink()
    return session_factory


def _recipients(home: Path) -> list[str]:
    return sorted(str(m["To"]) for m in read_outbox(home))


def test_a_waf_page_is_held_one_operator_email_no_subscriber_email(
    subscribed: Any, alert_env: Path
) -> None:
    data = (FIXTURES / "waf_challenge.html").read_bytes()
    result, hook = _store(subscribed, data, parse_bytes(data, "waf_challenge.html"))
    assert result.held and hook.held and hook.queued == 0
    send_due(subscribed)
    assert _recipients(alert_env) == [ADMIN]
    # Served again on the next poll: still one operator email, still none to subscribers.
    _store(subscribed, data, parse_bytes(data, "waf_challenge.html"))
    send_due(subscribed)
    assert _recipients(alert_env) == [ADMIN]


def test_5_to_1_tasks_is_held_then_released_by_the_operator(
    subscribed: Any, alert_env: Path
) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    result, _ = _store(subscribed, b"v2", _plan(1))
    assert result.held == "tasks dropped from 5 to 1"
    send_due(subscribed)
    assert _recipients(alert_env) == [ADMIN]
    text = read_outbox(alert_env)[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"radar held release {result.version_id}" in text

    runner = CliRunner()
    listed = runner.invoke(app, ["held", "list"])
    assert listed.exit_code == 0 and "tasks dropped from 5 to 1" in listed.output
    released = runner.invoke(app, ["held", "release", str(result.version_id)])
    assert released.exit_code == 0, released.output
    send_due(subscribed)
    assert _recipients(alert_env) == sorted([ADMIN, "all@example.org", "data@example.org"])


def test_history_and_show_mark_a_held_version(subscribed: Any) -> None:
    """An operator reading `radar history`/`show` sees that a version's alerts were held."""
    import json

    from typer.testing import CliRunner

    from flows.cli import app

    result, _ = _store(subscribed, b"v2", _plan(1))
    runner = CliRunner()
    listed = runner.invoke(app, ["history", result.series_key, "--json"])
    assert listed.exit_code == 0, listed.output
    statuses = [(v["seq"], v["hold_status"]) for v in json.loads(listed.output)]
    assert statuses == [(1, None), (2, "held")]
    table = runner.invoke(app, ["history", result.series_key], env={"COLUMNS": "200"})
    assert "HELD" in table.output
    assert "v2 is held (tasks dropped from 5 to 1): see `radar held list`" in table.output
    shown = runner.invoke(app, ["show", result.series_key])
    assert shown.exit_code == 0, shown.output
    assert f"radar held release {result.version_id}" in shown.output
    runner.invoke(app, ["held", "discard", str(result.version_id)])
    table = runner.invoke(app, ["history", result.series_key], env={"COLUMNS": "200"})
    assert "discarded after a hold" in table.output
