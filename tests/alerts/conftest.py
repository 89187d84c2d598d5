"""Alert test fixtures: a real SMTP server (aiosmtpd on 127.0.0.1) with a scripted handler,
a real HTTP server (uvicorn in a thread), and seed 002 ingested with subscribers."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ScriptedHandler:
    """aiosmtpd handler whose answers a test scripts.

    ``data_script`` is consumed one entry per DATA command: ``"ok"`` accepts, an SMTP reply
    such as ``"451 try later"`` refuses, ``"sleep"`` waits ``sleep_seconds`` (past the
    client's timeout) and then refuses, so the message is not stored. ``rcpt_replies`` maps
    an address to the reply its RCPT gets every time.
    """

    messages: list[EmailMessage] = field(default_factory=list)
    data_script: list[str] = field(default_factory=list)
    #: The answer to DATA once ``data_script`` is used up (``"421 …"``: a long outage).
    data_default: str = "ok"
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    #: The reply every MAIL FROM gets (a relay-wide refusal such as "554 5.7.1 …"), if set.
    mail_reply: str | None = None
    #: Seconds every accepted DATA takes (a slow relay), before it is stored.
    data_delay: float = 0.0
    sleep_seconds: float = 2.0
    connections: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        action = self.data_script.pop(0) if self.data_script else self.data_default
        if action == "sleep":
            await asyncio.sleep(self.sleep_seconds)
            return "451 4.4.2 timed out, not stored"
        if action != "ok":
            return action
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 2.0.0 accepted"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m["To"]) == address]


class SmtpServer:
    """Start/stop an aiosmtpd Controller on a fixed port (stop = connection refused).

    With ``password`` set the server offers AUTH (without TLS, on loopback) and accepts only
    ``radar``/``password``: a wrong one gets ``535``.
    """

    def __init__(self, handler: ScriptedHandler, *, password: str | None = None) -> None:
        self.handler = handler
        self.port = free_port()
        self.password = password
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=1"

    def url_with(self, password: str, *, timeout: float = 1) -> str:
        return f"smtp://radar:{password}@127.0.0.1:{self.port}?timeout={timeout}"

    def _auth_kwargs(self) -> dict[str, Any]:
        if self.password is None:
            return {}
        from aiosmtpd.smtp import AuthResult, LoginPassword

        expected = self.password

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login == b"radar"
                and data.password == expected.encode()
            )
            return AuthResult(success=ok, handled=False)

        return {"authenticator": authenticator, "auth_require_tls": False}

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        last: Exception | None = None
        for _ in range(50):
            try:
                self._controller = Controller(
                    self.handler,
                    hostname="127.0.0.1",
                    port=self.port,
                    ready_timeout=5,
                    **self._auth_kwargs(),
                )
                self._controller.start()
                return
            except Exception as exc:  # port still in TIME_WAIT after a stop
                last = exc
                time.sleep(0.1)
        raise RuntimeError(f"aiosmtpd did not start on {self.port}: {last}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(ScriptedHandler())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def alert_env(radar_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings every alert test relies on (secret, links, sender)."""
    monkeypatch.setenv("RADAR_SECRET", "test-secret")
    monkeypatch.setenv("RADAR_BASE_URL", "https://radar.example.org")
    monkeypatch.setenv("RADAR_MAIL_FROM", "政策雷达 <radar@radar.example.org>")
    return radar_home


class HttpServer:
    def __init__(self, app: Any, port: int | None = None) -> None:
        import uvicorn

        self.port = port or free_port()
        # As `radar web` and `radar serve` run it: uvicorn does not rewrite the client from
        # X-Forwarded-For (the app believes it only from RADAR_TRUSTED_PROXIES).
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HttpServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def http_server(alert_env: Path, session_factory: Any) -> Iterator[HttpServer]:
    from alerts.web import create_app

    with HttpServer(create_app(session_factory)) as server:
        yield server


#: The four subscriber kinds of the issue's "done when" (plus a second unit that loses a task).
E2E_SUBSCRIBERS: dict[str, dict[str, Any]] = {
    "keyword@example.org": {"keyword": "元交通"},
    "data@example.org": {"unit": "市数据局"},
    "traffic@example.org": {"unit": "市交通运输局"},
    "planning@example.org": {"unit": "市规划和自然资源局"},
    "commerce@example.org": {"unit": "市商务局"},
    "health@example.org": {"unit": "市卫健委"},
}


def seed_revision(
    session_factory: Any,
    subscribers: dict[str, dict[str, Any]],
    *,
    issuer: str | None = "成都市人民政府办公厅",
) -> int:
    """Ingest 002, subscribe ``subscribers`` (operator, active), ingest the revision with
    ``queue_for_change_set`` as the ingest hook; return the revision's change set id.

    The seed's text names no issuer (the website does), so the series gets ``issuer`` the
    way a fetched document would.
    """
    from sqlalchemy import select

    from alerts.matching import queue_for_change_set
    from alerts.subscriptions import subscribe
    from storage.db import write_session
    from storage.models import Series
    from tests.alerts.seed002 import V1, V2, ingest_seed

    first = ingest_seed(session_factory, V1, on_change_set=queue_for_change_set)
    with write_session(session_factory) as session:
        if issuer:
            series = session.scalars(select(Series).where(Series.key == first.series_key)).one()
            series.issuer = issuer
        for address, filters in subscribers.items():
            subscribe(session, address, **filters)
    result = ingest_seed(session_factory, V2, on_change_set=queue_for_change_set)
    assert result.status == "new_version"
    return int(result.change_set_id)


def read_outbox(home: Path) -> list[EmailMessage]:
    out = []
    for path in sorted((home / "outbox").glob("*.eml")):
        out.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    return out  # type: ignore[return-value]


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def body_html(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]
