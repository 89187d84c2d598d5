"""Fixtures for the Prefect flow tests.

Prefect reads its settings when first imported, so this module fixes them first: one
``PREFECT_HOME`` in a temporary directory for the whole test session (the ephemeral server's
database and the parse cache live there, never in ``~/.prefect``), no ``PREFECT_API_URL``
(flows run on Prefect's ephemeral server, started once per session, ~10 s), no telemetry.

``site`` serves the demo portal (``flows.site_fixture``) on 127.0.0.1; ``polling`` points
a sources file at it and lifts the private-address guard and the politeness delays that
are meant for real government servers. ``smtp`` is a real aiosmtpd server on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from flows.service import free_port

_PREFECT_HOME = tempfile.mkdtemp(prefix="radar-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEEDS = FIXTURES / "seeds"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture
def site() -> Iterator[Any]:
    from flows.site_fixture import FixtureSite, build_demo_site

    with FixtureSite() as fixture_site:
        fixture_site.demo = build_demo_site(fixture_site, SEEDS)  # type: ignore[attr-defined]
        yield fixture_site


@pytest.fixture
def polling(radar_home: Path, site: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sources file for the fixture site; returns its path."""
    monkeypatch.setenv("RADAR_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setenv("RADAR_FETCH_INTERVAL", "0")
    monkeypatch.setenv("RADAR_FETCH_BACKOFF", "0.05")
    monkeypatch.setenv("RADAR_FETCH_RETRIES", "1")
    path = radar_home / "sources.toml"
    path.write_text(
        f'[[sources]]\nname = "portal"\nurl = "{site.demo.listing_url}"\n', encoding="utf-8"
    )
    return path


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def outbox(home: Path) -> list[Path]:
    box = home / "outbox"
    return sorted(box.glob("*.eml")) if box.is_dir() else []


def subscribe(session_factory: Any, email: str, **filters: Any) -> None:
    from alerts.subscriptions import subscribe as _subscribe
    from storage.db import write_session

    with write_session(session_factory) as session:
        _subscribe(session, email, **filters)
