"""The operator's sources page: each configured source, its last poll, status, documents
found, errors, next scheduled run, the source-health alarms, and a "poll now" button.

Sources are configured and polled by ``flows`` (which imports ``alerts``, never the other
way round), so the page gets them through the small :class:`Operator` protocol that
``flows.web_operator`` implements and ``radar web`` / ``radar serve`` pass to
:func:`alerts.web.create_app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from alerts.web.common import FactoryGetter, json_response, page, session_scope
from storage.browse import SiteActivity, health_alarms


@dataclass(frozen=True)
class SourceStatus:
    name: str
    url: str
    schedule: str
    next_run: datetime | None
    activity: SiteActivity
    #: ok | failing | never
    status: str
    alarms: list[str] = field(default_factory=list)


class Operator(Protocol):
    """What the sources page needs from whoever runs the polls."""

    #: True when "poll now" can start a run (``radar serve``), False under ``radar web``.
    can_poll: bool

    def sources(self, session: Session) -> list[SourceStatus]: ...

    def poll_now(self, name: str) -> str:
        """Start a poll of ``name``; returns a short description (e.g. the flow run id)."""
        ...


def router(factory: FactoryGetter, operator: Operator | None) -> APIRouter:
    app = APIRouter()

    def db() -> Any:
        yield from session_scope(factory)

    def data(session: Session) -> dict[str, Any]:
        return {
            "configured": operator is not None,
            "can_poll": bool(operator and operator.can_poll),
            "sources": operator.sources(session) if operator else [],
            "alarms": health_alarms(session),
        }

    @app.get("/sources", response_class=HTMLResponse)
    def sources_page(
        *, session: Session = Depends(db), started: str = "", error: str = ""
    ) -> Response:
        message = f"已开始抓取：{started}" if started else error
        return page("sources.html.j2", "来源", nav="sources", message=message, **data(session))

    @app.get("/api/sources")
    def sources_api(session: Session = Depends(db)) -> Response:
        return json_response(data(session))

    @app.post("/sources/{name}/poll")
    def poll_now(name: str) -> Response:
        if operator is None or not operator.can_poll:
            return page(
                "sources.html.j2",
                "来源",
                status=409,
                nav="sources",
                message="“立即抓取”需要 radar serve 运行；也可在服务器上执行 radar poll --source 来源名称。",
                configured=operator is not None,
                can_poll=False,
                sources=[],
                alarms=[],
            )
        try:
            started = operator.poll_now(name)
        except LookupError as exc:
            return page("message.html.j2", "未找到", status=404, message=str(exc))
        return RedirectResponse(f"/sources?started={started}", status_code=303)

    return app
