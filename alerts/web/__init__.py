"""The web app: browse documents, versions and diffs, follow a unit, track a target, run the
sources, subscribe. FastAPI + Jinja2, server-rendered; every page also as JSON under /api/.

One router per page family (``documents``, ``units``, ``operator``, ``feeds``,
``subscribe``), queries in :mod:`storage.browse`, templates in ``templates/`` and the one
stylesheet in ``static/`` (vendored: the servers have no internet).
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from alerts.errors import AlertError
from alerts.web import documents, feeds, operator, subscribe, units
from alerts.web.common import message_page
from alerts.web.operator import Operator


def create_app(
    session_factory: sessionmaker[Session] | None = None, *, operator_hooks: Operator | None = None
) -> FastAPI:
    """The ASGI app; ``session_factory`` defaults to ``storage.db.open_db()`` on first use,
    ``operator_hooks`` (from ``flows.web_operator``) fills the sources page."""
    app = FastAPI(title="policy-radar", docs_url=None, redoc_url=None, openapi_url=None)
    state: dict[str, sessionmaker[Session]] = {}

    def factory() -> sessionmaker[Session]:
        if session_factory is not None:
            return session_factory
        if "factory" not in state:
            from storage.db import open_db

            state["factory"] = open_db()[1]
        return state["factory"]

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok"

    static = resources.files("alerts.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(subscribe.router(factory))
    app.include_router(documents.router(factory))
    app.include_router(units.router(factory))
    app.include_router(operator.router(factory, operator_hooks))
    app.include_router(feeds.router(factory))

    @app.exception_handler(AlertError)
    def _alert_error(_request: Request, exc: AlertError) -> HTMLResponse:
        return message_page("出错了", str(exc), status=400)

    return app


__all__ = ["create_app"]
