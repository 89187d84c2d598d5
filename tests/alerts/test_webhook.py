"""The JSON webhook channel against a real HTTP receiver on 127.0.0.1.

Local delivery needs ``RADAR_ALLOW_PRIVATE_NETWORKS=1`` (the operator's allow-list setting),
as for the fetcher's tests; without it every private or loopback target is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from alerts import webhook
from alerts.dispatch import send_due
from alerts.errors import InvalidFilter, PermanentDeliveryError, TemporaryDeliveryError
from alerts.subscriptions import subscribe
from alerts.transport import OutboxTransport
from storage.db import write_session
from storage.models import Delivery
from tests.alerts.conftest import read_outbox, seed_revision


class Receiver:
    """Records each POST; answers the scripted status codes in turn (then 200)."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append((dict(self.headers.items()), body))
                self.send_response(receiver.script.pop(0) if receiver.script else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/radar"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _deliveries(session_factory: Any, email: str) -> list[Delivery]:
    with session_factory() as session:
        return list(session.scalars(select(Delivery).where(Delivery.recipient == email)))


def test_alert_goes_to_the_webhook_as_signed_json(
    alert_env: Path, session_factory: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADAR_ALLOW_PRIVATE_NETWORKS", "1")  # the receiver is on 127.0.0.1
    seed_revision(
        session_factory, {"hook@example.org": {"unit": "市数据局", "webhook_url": receiver.url}}
    )
    receiver.script = [503]  # the first attempt fails temporarily
    send_due(session_factory, transport=OutboxTransport(alert_env / "outbox"))
    [delivery] = _deliveries(session_factory, "hook@example.org")
    assert delivery.status == "retrying" and "503" in (delivery.last_error or "")
    later = datetime.now(UTC) + timedelta(hours=2)  # past the retry's backoff
    send_due(session_factory, transport=OutboxTransport(alert_env / "outbox"), now=later)
    assert _deliveries(session_factory, "hook@example.org")[0].status == "sent"
    assert not [m for m in read_outbox(alert_env) if str(m["To"]) == "hook@example.org"]

    headers, body = receiver.posts[-1]
    expected = hmac.new(b"test-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Radar-Signature"] == f"sha256={expected}"
    data = json.loads(body)
    assert data["schema"] == "radar.alert/1" and "单位：市数据局" in data["filters"]
    [section] = data["change_sets"]
    assert section["diff_url"].startswith("https://radar.example.org/changes/")
    assert any(a["kind"] == "units_changed" and "市数据局" in a["added"] for a in section["alerts"])


def test_webhook_to_a_private_address_is_refused_and_bad_urls_rejected(
    alert_env: Path, session_factory: Any, receiver: Receiver
) -> None:
    seed_revision(
        session_factory, {"hook@example.org": {"unit": "市数据局", "webhook_url": receiver.url}}
    )
    send_due(session_factory, transport=OutboxTransport(alert_env / "outbox"))
    [delivery] = _deliveries(session_factory, "hook@example.org")
    assert delivery.status == "dead" and "non-public" in (delivery.last_error or "")
    assert receiver.posts == []
    with write_session(session_factory) as session:
        for bad in ("ftp://example.org/x", "javascript:alert(1)", "https://user:pw@example.org/"):
            with pytest.raises(InvalidFilter):
                subscribe(session, "x@example.org", webhook_url=bad)


def _post(url: str, *, allow_private: bool, resolver: Any = None) -> None:
    webhook.post(
        url,
        {"schema": "radar.alert/1"},
        secret="s",
        delivery_id="<t@radar>",
        allow_private=allow_private,
        resolver=resolver,
    )


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.0.0.5", "192.168.1.1", "169.254.169.254", "[::1]", "0x7f000001", "127.1"],
)
def test_webhook_to_private_and_loopback_literals_is_refused(receiver: Receiver, host: str) -> None:
    port = receiver.server.server_address[1]
    with pytest.raises(PermanentDeliveryError, match="non-public"):
        _post(f"http://{host}:{port}/hooks", allow_private=False)
    assert receiver.posts == []


def test_webhook_host_resolving_to_any_private_address_is_refused(receiver: Receiver) -> None:
    """The fetcher's guard: every resolved address is checked (a public one first does not help)."""
    port = receiver.server.server_address[1]
    dns = {"hooks.example": ["93.184.216.34", "127.0.0.1"]}
    with pytest.raises(PermanentDeliveryError, match="loopback"):
        _post(f"http://hooks.example:{port}/x", allow_private=False, resolver=lambda h, p: dns[h])
    assert receiver.posts == []


def test_webhook_connects_to_the_checked_address_only(receiver: Receiver) -> None:
    """DNS rebinding: the host is resolved once, by the guard, and the connection goes to that
    address; a second answer (here: an unroutable one) would never be asked for. The name
    ``hooks.example`` does not exist in real DNS, so the POST arriving proves the pinning."""
    port = receiver.server.server_address[1]
    answers = [["127.0.0.1"], ["203.0.113.9"]]  # check, then what a rebinding DNS would say
    calls: list[str] = []

    def rebinding(host: str, _port: int) -> list[str]:
        calls.append(host)
        return answers[len(calls) - 1]

    _post(f"http://hooks.example:{port}/x", allow_private=True, resolver=rebinding)
    assert calls == ["hooks.example"]
    [(headers, _body)] = receiver.posts
    assert headers["Host"] == f"hooks.example:{port}"


def test_unresolvable_webhook_host_is_retried_later() -> None:
    def nxdomain(host: str, _port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(TemporaryDeliveryError, match="cannot resolve"):
        _post("https://hooks.invalid/x", allow_private=False, resolver=nxdomain)
