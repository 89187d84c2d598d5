"""Issue 12, item 8: hostile sign-ups through the real web app (uvicorn on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from alerts.errors import InvalidEmail, InvalidFilter
from alerts.subscriptions import client_ip, normalize_email, signup_key, subscribe
from storage.models import Delivery
from tests.alerts.conftest import HttpServer


def _sign_up(server: HttpServer, email: str, headers: dict[str, str] | None = None, **form: str):  # type: ignore[no-untyped-def]
    return httpx.post(
        f"{server.base}/subscribe", data={"email": email, **form}, headers=headers, timeout=10
    )


def _confirms(session_factory: Any) -> int:
    with session_factory() as session:
        return len(session.scalars(select(Delivery).where(Delivery.kind == "confirm")).all())


def test_case_variants_of_one_address_share_its_limit(
    http_server: HttpServer, session_factory: Any
) -> None:
    variants = [
        "victim@example.org",
        "Victim@example.org",
        "VICTIM@EXAMPLE.ORG",
        "vIcTiM@Example.org",
    ]
    variants += ["VICtim@example.org", "victIM@example.org", "Victim@Example.Org"]
    codes = [_sign_up(http_server, v, keyword=f"k{i}").status_code for i, v in enumerate(variants)]
    assert codes.count(202) == 3 and codes.count(429) == 4
    assert _confirms(session_factory) == 3
    assert signup_key("Victim@Example.ORG") == "victim@example.org"


@pytest.mark.parametrize(
    "address",
    [
        "victim\u202e@example.org",  # right-to-left override
        "vic\u200btim@example.org",  # zero-width space
        "victim@exa\u2066mple.org",  # bidi isolate
        "victim\x00@example.org",
        "victim@example.org\r\nBcc: x@example.org",
    ],
)
def test_invisible_and_control_characters_are_refused(address: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(address)


def test_filters_are_capped_and_checked(alert_env: Path, session_factory: Any) -> None:
    with session_factory() as session:
        with pytest.raises(InvalidFilter, match="at most 50"):
            subscribe(session, "a@example.org", keyword="词" * 51, origin="web")
        with pytest.raises(InvalidFilter, match="U\\+200D"):
            subscribe(session, "a@example.org", unit="市\u200d数据局", origin="web")


def test_forwarded_for_only_from_configured_proxies(
    http_server: HttpServer, session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not configured: X-Forwarded-For is ignored; 20 sign-ups per IP per day still hold.
    codes = [
        _sign_up(http_server, f"u{i}@example.org", {"X-Forwarded-For": f"10.0.0.{i}"}).status_code
        for i in range(21)
    ]
    assert codes.count(202) == 20 and codes[-1] == 429
    assert client_ip("203.0.113.9", "10.0.0.1", []) == "203.0.113.9"
    # Behind a configured proxy, the right-most untrusted hop counts (clients prepend junk).
    trusted = ["127.0.0.1", "10.1.0.0/16"]
    assert client_ip("127.0.0.1", "1.2.3.4, 198.51.100.7, 10.1.2.3", trusted) == "198.51.100.7"
    assert client_ip("127.0.0.1", "not-an-ip", trusted) == "127.0.0.1"
    monkeypatch.setenv("RADAR_TRUSTED_PROXIES", "127.0.0.1")
    ok = _sign_up(http_server, "w@example.org", {"X-Forwarded-For": "198.51.100.7"})
    assert ok.status_code == 202
