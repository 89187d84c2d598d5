"""Transport configuration: SMTP URLs, authentication against aiosmtpd, outbox files, admin mail."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest

from alerts.dispatch import queue_admin_email, send_due
from alerts.errors import AlertError
from alerts.transport import OutboxTransport, SmtpTransport, eml_name, transport_from_settings
from storage.db import write_session
from storage.settings import load_settings
from tests.alerts.conftest import ScriptedHandler, free_port, read_outbox


def test_smtp_urls() -> None:
    plain = SmtpTransport.from_url("smtp://mail.example.org")
    assert (plain.host, plain.port, plain.ssl_mode, plain.username) == (
        "mail.example.org",
        25,
        "none",
        None,
    )
    tls = SmtpTransport.from_url("smtp://u%40x:p%3Ass@mail.example.org?starttls&timeout=5")
    assert (tls.port, tls.ssl_mode, tls.username, tls.password, tls.timeout) == (
        587,
        "starttls",
        "u@x",
        "p:ss",
        5.0,
    )
    implicit = SmtpTransport.from_url("smtps://mail.example.org:2465")
    assert (implicit.port, implicit.ssl_mode) == (2465, "smtps")
    with pytest.raises(AlertError):
        SmtpTransport.from_url("http://mail.example.org")


def test_settings_pick_the_transport(radar_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = transport_from_settings(load_settings())
    assert isinstance(outbox, OutboxTransport) and outbox.directory == radar_home / "outbox"
    monkeypatch.setenv("RADAR_SMTP_URL", "smtp://127.0.0.1:2525")
    assert isinstance(transport_from_settings(load_settings()), SmtpTransport)


def test_auth_login_against_aiosmtpd() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    seen: list[tuple[str, str]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        login, password = (
            v.decode() if isinstance(v, bytes) else str(v) for v in (data.login, data.password)
        )
        seen.append((login, password))
        return AuthResult(success=password == "s3cret")

    handler = ScriptedHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        from alerts.message import compose
        from alerts.render import RenderedEmail

        msg = compose(
            RenderedEmail("主题", "正文", "<p>正文</p>"),
            sender="r@localhost",
            recipient="a@example.org",
            message_id="<radar.t1@localhost>",
        )
        with SmtpTransport.from_url(f"smtp://radar:s3cret@127.0.0.1:{port}?timeout=5") as transport:
            transport.send(msg, sender="r@localhost", recipients=["a@example.org"])
        assert seen == [("radar", "s3cret")]
        assert handler.message_ids() == ["<radar.t1@localhost>"]
    finally:
        controller.stop()


def test_admin_mail_goes_to_the_outbox_once(
    radar_home: Path, monkeypatch: pytest.MonkeyPatch, session_factory: Any
) -> None:
    monkeypatch.setenv("RADAR_ADMIN_EMAIL", "ops@example.org")
    for _ in range(2):
        with write_session(session_factory) as session:
            queue_admin_email(
                session,
                subject="来源异常：\r\nX-Evil: 1",
                text="site down <b>",
                key="src-1-2026-11-22",
            )
    assert send_due(session_factory).sent == 1
    [msg] = read_outbox(radar_home)
    assert str(msg["To"]) == "ops@example.org" and msg["X-Evil"] is None
    [path] = (radar_home / "outbox").glob("*.eml")
    assert path.name == eml_name(str(msg["Message-ID"]))
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert "&lt;b&gt;" in str(parsed.get_body(("html",)).get_content())  # type: ignore[union-attr]
