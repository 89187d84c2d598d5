"""The subscription pages: sign-up form, confirm link, manage page, one-click unsubscribe,
and the change-set page that emails link to.

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

from typing import Annotated, Any

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy.orm import Session, sessionmaker

from alerts.content import full_section
from alerts.errors import AlertError, InvalidEmail, InvalidFilter, InvalidToken, RateLimited
from alerts.render import render_alert, render_template
from alerts.subscriptions import (
    client_ip,
    confirm_subscription,
    describe,
    list_subscriptions,
    subscribe,
)
from alerts.tokens import Purpose, make_token, read_token
from storage.db import write_session
from storage.models import ChangeSet, Subscription, utcnow
from storage.settings import load_settings


def _page(title: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    settings = load_settings()
    defaults: dict[str, Any] = {"message": "", "page": "", "base": settings.base_url}
    html = render_template("web_page.html.j2", title=title, **{**defaults, **context})
    return HTMLResponse(html, status_code=status)


def create_app(session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    """The ASGI app; ``session_factory`` defaults to ``storage.db.open_db()`` on first use."""
    app = FastAPI(title="policy-radar", docs_url=None, redoc_url=None, openapi_url=None)
    state: dict[str, sessionmaker[Session]] = {}

    def factory() -> sessionmaker[Session]:
        if session_factory is not None:
            return session_factory
        if "factory" not in state:
            from storage.db import open_db

            state["factory"] = open_db()[1]
        return state["factory"]

    @app.get("/", response_class=HTMLResponse)
    def form() -> HTMLResponse:
        return _page("订阅政策变更提醒", page="form")

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok"

    @app.post("/subscribe", response_class=HTMLResponse)
    def do_subscribe(
        request: Request,
        email: Annotated[str, Form()],
        series: Annotated[str | None, Form()] = None,
        issuer: Annotated[str | None, Form()] = None,
        unit: Annotated[str | None, Form()] = None,
        keyword: Annotated[str | None, Form()] = None,
        kinds: Annotated[list[str] | None, Form()] = None,
        mode: Annotated[str, Form()] = "instant",
    ) -> HTMLResponse:
        ip = client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            load_settings().trusted_proxies,
        )
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
                )
                del sub  # same answer either way: the page must not reveal who subscribed
        except RateLimited:
            return _page(
                "请稍后再试", status=429, message="该邮箱或网络的订阅请求过多，请稍后再试。"
            )
        except (InvalidEmail, InvalidFilter) as exc:
            return _page("无法订阅", status=400, message=str(exc))
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
        action = f"{load_settings().base_url}/{path}?token={token}"
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
    def manage(token: Annotated[str, Query()] = "") -> HTMLResponse:
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
                        "action": f"{settings.base_url}/unsubscribe?token="
                        + make_token(settings.secret, "unsubscribe", s.id, s.email),
                    }
                    for s in subs
                ]
                email = owner.email
        except InvalidToken as exc:
            return _page("链接无效", status=400, message=f"管理链接无效（{exc}）。")
        return _page("管理订阅", page="manage", email=email, subscriptions=rows)

    @app.get("/changes/{change_set_id}", response_class=HTMLResponse)
    def change_set_page(change_set_id: int) -> HTMLResponse:
        settings = load_settings()
        with factory()() as session:
            if session.get(ChangeSet, change_set_id) is None:
                return _page("未找到", status=404, message=f"变更记录 {change_set_id} 不存在。")
            section = full_section(session, change_set_id, settings.base_url)
        section.diff_url = None
        rendered = render_alert([section], manage_url="", unsubscribe_url="")
        return HTMLResponse(rendered.html)

    @app.exception_handler(AlertError)
    def _alert_error(_request: Request, exc: AlertError) -> HTMLResponse:
        return _page("出错了", status=400, message=str(exc))

    return app
