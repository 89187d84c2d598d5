"""``radar demo`` end to end in a subprocess with a temporary RADAR_HOME."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.flows.service_helpers import ROOT, radar_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_demo_runs_offline_and_leaves_alert_emails(tmp_path: Path) -> None:
    home = tmp_path / "radar"
    env = radar_env(home)
    env.pop("RADAR_DATABASE_URL", None)
    env.pop("RADAR_SMTP_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "new_version" in out and "units_changed" in out
    emails = sorted((home / "demo" / "outbox").glob("*.eml"))
    assert len(emails) >= 2
    text = "\n".join(e.read_bytes().decode("ascii", "replace") for e in emails)
    assert "analyst@district.example" in text and "planner@district.example" in text
    for email in emails:
        assert email.name in out
