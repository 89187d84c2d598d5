"""The subscription pages: sign-up form (pre-filled by the other pages' subscribe buttons),
confirm link, manage page (edit filters and mode), one-click unsubscribe.

Rules that keep it safe without cookies or sessions:

* every state change is a POST; a GET never unsubscribes nor confirms (mail scanners and
  link previews fetch URLs), it shows a button that POSTs;
* ``POST /unsubscribe?token=…`` is the RFC 8058 one-click endpoint: no confirmation page,
  no cookie, any body (providers send ``List-Unsubscribe=One-Click``);
* tokens are signed per purpose (:mod:`alerts.tokens`) and checked against the database,
  so a forged token fails and a confirm token cannot revive a cancelled subscription;
* web sign-ups are pending until confirmed and rate-limited per address and per IP.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts.errors import AlertError, InvalidEmail, InvalidFilter, InvalidToken, RateLimited
from alerts.subscriptions import (
    confirm_subscription,
    describe,
    list_subscriptions,
    subscribe,
    update_filters,
)
from alerts.tokens import Purpose, make_token, read_token
from alerts.web.common import FactoryGetter, client_ip, page
from storage.db import write_session
from storage.models import Subscription, utcnow
from storage.settings import load_settings

log = logging.getLogger("radar.web")


def _send_confirmations(session_factory: sessionmaker[Session]) -> None:
    """Deliver what is due now (the confirmation just queued): the page promises an email,
    so it must not wait for ``radar serve``'s dispatcher or ``radar alerts send``. The
    outbox row is the record either way; claiming with a lease keeps a concurrent
    dispatcher from sending it twice."""
    from alerts.dispatch import send_due

    try:
        send_due(session_factory)
    except (AlertError, SQLAlchemyError, OSError):  # the row stays due: the next sender retries
        log.exception("sending the confirmation email failed; it stays queued")


def _page(title: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    defaults: dict[str, Any] = {"page": "", "nav": "subscribe"}
    return page("subscribe.html.j2", title, status=status, **{**defaults, **context})


def router(factory: FactoryGetter) -> APIRouter:
    """The subscription pages; ``factory`` returns the app's sessionmaker."""
    app = APIRouter()

    @app.get("/subscribe", response_class=HTMLResponse)
    def form(series: str = "", issuer: str = "", unit: str = "", keyword: str = "") -> HTMLResponse:
        """The sign-up form; the subscribe buttons of other pages pre-fill it."""
        prefill: dict[str, Any] = {"series": series, "issuer": issuer, "unit": unit}
        prefill.update(keyword=keyword, kinds=[], mode="instant", webhook="")
        return _page("订阅政策变更提醒", page="form", prefill=prefill)

    @app.post("/subscribe", response_class=HTMLResponse)
    def do_subscribe(
        request: Request,
        background: BackgroundTasks,
        email: Annotated[str, Form()],
        series: Annotated[str | None, Form()] = None,
        issuer: Annotated[str | None, Form()] = None,
        unit: Annotated[str | None, Form()] = None,
        keyword: Annotated[str | None, Form()] = None,
        kinds: Annotated[list[str] | None, Form()] = None,
        mode: Annotated[str, Form()] = "instant",
        webhook: Annotated[str | None, Form()] = None,
    ) -> HTMLResponse:
        ip = client_ip(request)
        try:
            with write_session(factory()) as session:
                sub = subscribe(
                    session,
                    email,
                    series_key=series or None,
                    issuer=issuer or None,
                    unit=unit or None,
                    keyword=keyword or None,
                    kinds=kinds or None,
                    mode=mode,
                    origin="web",
                    ip=ip,
                    webhook_url=webhook or None,
                )
                del sub  # same answer either way: the page must not reveal who subscribed
        except RateLimited:
            return _page(
                "请稍后再试", status=429, message="该邮箱或网络的订阅请求过多，请稍后再试。"
            )
        except (InvalidEmail, InvalidFilter) as exc:
            return _page("无法订阅", status=400, message=str(exc))
        background.add_task(_send_confirmations, factory())
        return _page(
            "请查收确认邮件",
            status=202,
            message="如该邮箱尚未订阅，我们已发送确认邮件，点击其中的链接后订阅生效。",
        )

    @app.get("/confirm", response_class=HTMLResponse)
    def confirm_page(token: Annotated[str, Query()] = "") -> HTMLResponse:
        """Shows a button only: mail scanners prefetch links, and a GET that confirmed would
        let them complete somebody else's sign-up, defeating double opt-in."""
        try:
            email, filters, status = _peek("confirm", token)
        except InvalidToken as exc:
            return _page("链接无效", status=400, message=f"确认链接无效或已失效（{exc}）。")
        if status == "active":
            return _page("已确认", message="该订阅此前已确认。")
        if status != "pending":
            return _page("链接无效", status=400, message="确认链接已失效（订阅已取消）。")
        return _button("confirm", token, email, filters, title="确认订阅", button="确认订阅")

    @app.post("/confirm", response_class=HTMLResponse)
    def do_confirm(token: Annotated[str, Query()] = "") -> HTMLResponse:
        """Activates a *pending* subscription only: never revives a cancelled one."""
        settings = load_settings()
        try:
            claims = read_token(settings.secret, "confirm", token)
            with write_session(factory()) as session:
                outcome = confirm_subscription(session, claims.subscription_id, claims.email)
        except InvalidToken as exc:
            return _page("链接无效", status=400, message=f"确认链接无效或已失效（{exc}）。")
        if outcome == "already confirmed":
            return _page("已确认", message="该订阅此前已确认。")
        return _page("订阅成功", message="订阅已确认，有相关变更时我们会发邮件通知您。")

    def _sub_from(purpose: Purpose, token: str, session: Session) -> Subscription:
        settings = load_settings()
        claims = read_token(settings.secret, purpose, token)
        sub = session.get(Subscription, claims.subscription_id)
        if sub is None or sub.email != claims.email:
            raise InvalidToken(f"{purpose} link does not match any subscription")
        return sub

    def _peek(purpose: Purpose, token: str) -> tuple[str, str, str]:
        """(email, filter summary, status) of the token's subscription, read-only."""
        with factory()() as session:
            sub = _sub_from(purpose, token, session)
            return sub.email, describe(sub), sub.status

    def _button(
        path: str, token: str, email: str, filters: str, *, title: str, button: str
    ) -> HTMLResponse:
        """What a GET shows: a button that POSTs back to the same link."""
        action = f"/{path}?token={token}"
        return _page(
            title, page="button", email=email, filters=filters, action=action, button=button
        )

    @app.get("/unsubscribe", response_class=HTMLResponse)
    def unsubscribe_page(token: Annotated[str, Query()] = "") -> HTMLResponse:
        """Shows a button; a GET must never unsubscribe (link scanners prefetch URLs)."""
        try:
            email, filters, status = _peek("unsubscribe", token)
        except InvalidToken as exc:
            return _page("链接无效", status=400, message=f"退订链接无效（{exc}）。")
        if status == "unsubscribed":
            return _page("已退订", message="该订阅已退订。")
        return _button("unsubscribe", token, email, filters, title="退订", button="确认退订")

    @app.post("/unsubscribe", response_class=HTMLResponse)
    def one_click_unsubscribe(token: Annotated[str, Query()] = "") -> HTMLResponse:
        """RFC 8058 one-click: the POST itself unsubscribes, whatever its body."""
        try:
            with write_session(factory()) as session:
                sub = _sub_from("unsubscribe", token, session)
                if sub.status != "unsubscribed":
                    sub.status, sub.unsubscribed_at = "unsubscribed", utcnow()
        except InvalidToken as exc:
            return _page("链接无效", status=400, message=f"退订链接无效（{exc}）。")
        return _page("已退订", message="您已退订，不会再收到此订阅的邮件。")

    @app.get("/manage", response_class=HTMLResponse)
    def manage(token: Annotated[str, Query()] = "", saved: str = "") -> HTMLResponse:
        settings = load_settings()
        try:
            with factory()() as session:
                owner = _sub_from("manage", token, session)
                subs = list_subscriptions(session, email=owner.email)
                rows = [
                    {
                        "id": s.id,
                        "filters": describe(s),
                        "status": {"active": "有效", "pending": "待确认"}.get(s.status, s.status),
                        "action": "/unsubscribe?token="
                        + make_token(settings.secret, "unsubscribe", s.id, s.email),
                        "edit": f"/manage/{s.id}?token={token}",
                        "series": s.series_key or "",
                        "issuer": s.issuer or "",
                        "unit": s.unit or "",
                        "keyword": s.keyword or "",
                        "kinds": list(s.kinds or []),
                        "mode": s.mode,
                        "webhook": s.webhook_url or "",
                    }
                    for s in subs
                ]
                email = owner.email
        except InvalidToken as exc:
            return _page("链接无效", status=400, message=f"管理链接无效（{exc}）。")
        message = "已保存修改。" if saved else ""
        return _page("管理订阅", page="manage", email=email, subscriptions=rows, message=message)

    @app.post("/manage/{subscription_id}", response_class=HTMLResponse)
    def edit_subscription(
        subscription_id: int,
        token: Annotated[str, Query()] = "",
        series: Annotated[str | None, Form()] = None,
        issuer: Annotated[str | None, Form()] = None,
        unit: Annotated[str | None, Form()] = None,
        keyword: Annotated[str | None, Form()] = None,
        kinds: Annotated[list[str] | None, Form()] = None,
        mode: Annotated[str, Form()] = "instant",
        webhook: Annotated[str | None, Form()] = None,
    ) -> Response:
        """Edits filters and mode of one of the manage link owner's subscriptions. The
        link proves the address, so the edit needs no second confirmation."""
        try:
            with write_session(factory()) as session:
                owner = _sub_from("manage", token, session)
                update_filters(
                    session,
                    subscription_id,
                    owner.email,
                    series_key=series or None,
                    issuer=issuer or None,
                    unit=unit or None,
                    keyword=keyword or None,
                    kinds=kinds or None,
                    mode=mode,
                    webhook_url=webhook or None,
                )
        except InvalidToken as exc:
            return _page("链接无效", status=400, message=f"管理链接无效（{exc}）。")
        except InvalidFilter as exc:
            return _page("无法保存", status=400, message=str(exc))
        return RedirectResponse(f"/manage?token={token}&saved=1", status_code=303)

    return app
