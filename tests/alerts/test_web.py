"""The subscription pages over real HTTP (uvicorn on 127.0.0.1 in a thread, httpx client)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from alerts.dispatch import send_due
from alerts.tokens import make_token
from alerts.transport import OutboxTransport
from storage.models import Delivery, Subscription
from tests.alerts.conftest import HttpServer, body_text, read_outbox, seed_revision

PUBLIC = "https://radar.example.org"


def _local(url: str, server: HttpServer) -> str:
    """Emails link to RADAR_BASE_URL; the test server listens on a local port."""
    return url.replace(PUBLIC, server.base)


def _subs(session_factory: Any) -> list[Subscription]:
    with session_factory() as session:
        return list(session.scalars(select(Subscription).order_by(Subscription.id)))


def _sign_up(server: HttpServer, email: str, **fields: str) -> httpx.Response:
    return httpx.post(f"{server.base}/subscribe", data={"email": email, **fields}, timeout=10)


def _confirm_link(home: Path, session_factory: Any, server: HttpServer, email: str) -> str:
    # The web app sends confirmations in a background task: while it holds a row's lease our
    # own send_due skips that row, so wait until no confirmation is still on its way.
    deadline = time.monotonic() + 30
    while True:
        send_due(session_factory, transport=OutboxTransport(home / "outbox"))
        with session_factory() as session:
            pending = session.scalars(
                select(Delivery.id).where(
                    Delivery.kind == "confirm", Delivery.status.in_(("queued", "sending"))
                )
            ).all()
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    mails = [m for m in read_outbox(home) if str(m["To"]) == email]
    assert mails, f"no confirmation email for {email}"
    match = re.search(r"https://\S+/confirm\?token=\S+", body_text(mails[-1]))
    assert match
    return _local(match.group(0), server)


def test_double_opt_in(http_server: HttpServer, alert_env: Path, session_factory: Any) -> None:
    assert "订阅" in httpx.get(f"{http_server.base}/", timeout=10).text
    resp = _sign_up(http_server, "analyst@example.org", unit="市数据局", mode="instant")
    assert resp.status_code == 202
    [sub] = _subs(session_factory)
    assert (sub.status, sub.origin, sub.unit_key) == ("pending", "web", "市数据局")

    # While pending, a matching change set queues nothing for the address.
    seed_revision(session_factory, {})
    with session_factory() as session:
        kinds = session.scalars(select(Delivery.kind).where(Delivery.recipient == sub.email)).all()
    assert list(kinds) == ["confirm"]

    link = _confirm_link(alert_env, session_factory, http_server, "analyst@example.org")
    page = httpx.get(link, timeout=10)  # a scanner prefetching the link confirms nothing
    assert page.status_code == 200 and "确认订阅" in page.text and 'method="post"' in page.text
    assert _subs(session_factory)[0].status == "pending"
    first = httpx.post(link, timeout=10)
    assert first.status_code == 200 and "订阅已确认" in first.text
    assert _subs(session_factory)[0].status == "active"
    again = httpx.post(link, timeout=10)  # reusing it on an active subscription is harmless
    assert again.status_code == 200 and "此前已确认" in again.text
    assert "此前已确认" in httpx.get(link, timeout=10).text


def test_confirm_link_cannot_revive_an_unsubscribed_or_replaced_subscription(
    http_server: HttpServer, alert_env: Path, session_factory: Any
) -> None:
    _sign_up(http_server, "a@example.org", keyword="算力")
    old_link = _confirm_link(alert_env, session_factory, http_server, "a@example.org")
    _sign_up(http_server, "a@example.org", keyword="算力")  # replaces the pending one
    subs = _subs(session_factory)
    assert [s.status for s in subs] == ["unsubscribed", "pending"]
    assert httpx.get(old_link, timeout=10).status_code == 400
    resp = httpx.post(old_link, timeout=10)
    assert resp.status_code == 400
    assert [s.status for s in _subs(session_factory)] == ["unsubscribed", "pending"]

    new_link = _confirm_link(alert_env, session_factory, http_server, "a@example.org")
    assert httpx.post(new_link, timeout=10).status_code == 200
    unsub = make_token("test-secret", "unsubscribe", subs[1].id, "a@example.org")
    httpx.post(f"{http_server.base}/unsubscribe", params={"token": unsub}, timeout=10)
    assert httpx.post(new_link, timeout=10).status_code == 400
    assert _subs(session_factory)[1].status == "unsubscribed"


def test_forged_and_wrong_purpose_tokens_are_refused(
    http_server: HttpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, {"x@example.org": {}})
    sub = _subs(session_factory)[0]
    good = make_token("test-secret", "unsubscribe", sub.id, sub.email)
    forged = make_token("wrong-secret", "unsubscribe", sub.id, sub.email)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    manage = make_token("test-secret", "manage", sub.id, sub.email)
    other = make_token("test-secret", "unsubscribe", sub.id, "other@example.org")
    for token in (forged, tampered, manage, other, "", "not-a-token"):
        resp = httpx.post(f"{http_server.base}/unsubscribe", params={"token": token}, timeout=10)
        assert resp.status_code == 400, token
        for method in ("GET", "POST"):
            confirm = httpx.request(
                method, f"{http_server.base}/confirm", params={"token": token}, timeout=10
            )
            assert confirm.status_code == 400, (method, token)
    assert _subs(session_factory)[0].status == "active"


def test_one_click_unsubscribe_from_the_email_and_get_does_not_unsubscribe(
    http_server: HttpServer, alert_env: Path, session_factory: Any
) -> None:
    seed_revision(session_factory, {"data@example.org": {"unit": "市数据局"}})
    send_due(session_factory, transport=OutboxTransport(alert_env / "outbox"))
    [msg] = read_outbox(alert_env)
    https_link = re.search(r"<(https://[^>]+)>", str(msg["List-Unsubscribe"]))
    assert https_link
    url = _local(https_link.group(1), http_server)

    page = httpx.get(url, timeout=10)  # what a link scanner would do
    assert page.status_code == 200 and "确认退订" in page.text
    assert _subs(session_factory)[0].status == "active"

    resp = httpx.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert resp.status_code == 200
    assert "set-cookie" not in resp.headers
    [gone] = _subs(session_factory)
    assert gone.status == "unsubscribed" and gone.unsubscribed_at is not None
    # A second POST is idempotent: same answer, the first unsubscription's time is kept.
    assert httpx.post(url, timeout=10).status_code == 200
    again = _subs(session_factory)
    assert [(s.status, s.unsubscribed_at) for s in again] == [
        ("unsubscribed", gone.unsubscribed_at)
    ]

    manage = re.search(r"https://\S+/manage\?token=\S+", body_text(msg))
    assert manage
    listing = httpx.get(_local(manage.group(0), http_server), timeout=10)
    assert listing.status_code == 200 and "没有有效的订阅" in listing.text


def test_manage_page_lists_and_change_page_renders(
    http_server: HttpServer, alert_env: Path, session_factory: Any
) -> None:
    cs = seed_revision(
        session_factory, {"m@example.org": {"unit": "市数据局"}, "n@example.org": {}}
    )
    sub = _subs(session_factory)[0]
    token = make_token("test-secret", "manage", sub.id, sub.email)
    page = httpx.get(f"{http_server.base}/manage", params={"token": token}, timeout=10)
    assert page.status_code == 200 and "单位：市数据局" in page.text
    assert "n@example.org" not in page.text
    changes = httpx.get(f"{http_server.base}/changes/{cs}", timeout=10)
    assert changes.status_code == 200
    assert "共创“元交通”场景" in changes.text and "2000亿元" in changes.text
    assert httpx.get(f"{http_server.base}/changes/999999", timeout=10).status_code == 404


def test_sign_up_rate_limit_per_address_and_per_ip(
    http_server: HttpServer, alert_env: Path, session_factory: Any
) -> None:
    codes = [
        _sign_up(http_server, "victim@example.org", keyword=f"k{i}").status_code for i in range(4)
    ]
    assert codes == [202, 202, 202, 429]
    codes = [_sign_up(http_server, f"u{i}@example.org").status_code for i in range(20)]
    assert codes[-1] == 429 and codes.count(202) == 17  # 20 per IP per day, 3 used above
    with session_factory() as session:
        confirms = session.scalars(select(Delivery).where(Delivery.kind == "confirm")).all()
    assert len(confirms) == 20
    bad = _sign_up(http_server, "not an address")
    assert bad.status_code == 400
