"""What every page router shares: the template environment, the database session, the
HTML-or-JSON answer and small formatting helpers.

Every page is server-rendered with Jinja2 (autoescape on for ``.html.j2`` and ``.xml.j2``:
titles and task texts come from documents, which anybody can publish) and the same data is
served as JSON under ``/api/…``, so scripts never scrape the HTML.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session, sessionmaker

from alerts.render import format_value, safe_url
from parsers.units_alias import scoped_unit_name
from storage.settings import load_settings

#: Returns the app's sessionmaker (opened on first use).
FactoryGetter = Callable[[], sessionmaker[Session]]

KIND_LABELS = {
    "plan": "行动计划/方案",
    "notice": "通知",
    "reply": "答复",
    "news": "新闻",
    "other": "其他",
}
ROLE_LABELS = {"lead": "牵头", "support": "配合", "responsible": "责任"}
#: storage.identity's reasons, in the UI's language (an unknown reason is shown as stored).
_MATCH_REASONS = (
    ("explicit series key", "指定的文件系列"),
    ("same source URL", "同一来源网址"),
    ("same canonical title", "标题相同"),
    ("new series", "新文件"),
    ("new doc number", "新文号"),
)


def match_reason(reason: str | None) -> str:
    """``same canonical title '…' (new doc number …)`` -> ``标题相同 '…' (新文号 …)``."""
    text = reason or "new series"
    for english, chinese in _MATCH_REASONS:
        text = text.replace(english, chinese)
    return text


def doc_url(key: str) -> str:
    return "/documents/" + quote(key, safe="")


def compare_url(key: str, a: int, b: int) -> str:
    return f"/compare/{quote(key, safe='')}?" + urlencode({"a": a, "b": b})


def unit_url(name: str, scope: str = "") -> str:
    """The unit page of ``name`` as written in a document of region ``scope``: a relative name
    links to its region's unit (区发改委 in a 嘉定区 document -> /units/嘉定区发改委)."""
    return "/units/" + quote(scoped_unit_name(name, scope), safe="")


def subscribe_url(**filters: str | None) -> str:
    """The sign-up form pre-filled with ``filters`` (empty ones dropped)."""
    clean = {k: v for k, v in filters.items() if v}
    return "/subscribe" + ("?" + urlencode(clean) if clean else "")


def query_url(path: str, params: dict[str, Any], **changes: Any) -> str:
    """``path`` with the current filters and ``changes`` (pager links keep the filters)."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "", False)}
    return path + ("?" + urlencode(merged) if merged else "")


def num(value: Any) -> str:
    """``Decimal('1500.00000000')`` -> ``1500``."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:f}"
    return str(value)


def target_text(t: Any) -> str:
    data = {
        "value": t.value,
        "value_max": t.value_max,
        "unit": t.unit,
        "comparator": t.comparator,
    }
    if t.value is None:
        return f"{t.year}年" if t.year else "—"
    data["value"] = num(t.value)
    data["value_max"] = num(t.value_max) if t.value_max is not None else None
    return format_value(data)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("alerts.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "xml", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        doc_url=doc_url,
        compare_url=compare_url,
        unit_url=unit_url,
        subscribe_url=subscribe_url,
        query_url=query_url,
        num=num,
        match_reason=match_reason,
        safe_url=safe_url,
        target_text=target_text,
        when=when,
        kind_labels=KIND_LABELS,
        role_labels=ROLE_LABELS,
    )
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def page(
    template: str, title: str, *, status: int = 200, nav: str = "", **context: Any
) -> HTMLResponse:
    """An HTML page in the shared layout."""
    ctx = {"message": "", "nav": nav, "base": load_settings().base_url, **context}
    return HTMLResponse(render(template, title=title, **ctx), status_code=status)


def message_page(title: str, message: str, *, status: int = 200) -> HTMLResponse:
    return page("message.html.j2", title, status=status, message=message)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, Decimals and datetimes to JSON values (the /api answers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def json_response(data: Any, *, status: int = 200) -> JSONResponse:
    return JSONResponse(to_jsonable(data), status_code=status)


def session_scope(get_factory: FactoryGetter) -> Iterator[Session]:
    """A read-only session per request."""
    with get_factory()() as session:
        yield session


def client_ip(request: Request) -> str | None:
    """The client for per-IP limits: the peer, or ``X-Forwarded-For`` when the peer is one of
    ``RADAR_TRUSTED_PROXIES`` (``alerts.subscriptions.client_ip``)."""
    from alerts.subscriptions import client_ip as forwarded_client
    from storage.settings import load_settings

    return forwarded_client(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        load_settings().trusted_proxies,
    )


def not_found(what: str, *, api: bool) -> Response:
    if api:
        return json_response({"error": what}, status=404)
    return message_page("未找到", what, status=404)


def int_param(value: str | None) -> int | None:
    """A query value that should be an integer; empty or malformed means unset."""
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
