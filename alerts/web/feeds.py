"""Atom feeds of change sets, one per filter: ``/feeds/changes.atom?unit=…|series=…|keyword=…``.

The XML goes through the same autoescaping Jinja2 environment as the pages (``.xml.j2``), so
a document title with markup is text in the feed, never markup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from alerts.web.common import FactoryGetter, render, session_scope
from storage.browse import FeedEntry, feed_entries
from storage.settings import load_settings


def _aware(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def feed_title(series: str, unit: str, keyword: str) -> str:
    parts = [f"文件 {series}" if series else "", f"单位 {unit}" if unit else "", keyword]
    label = "，".join(p for p in parts if p)
    return f"政策雷达：{label}的变更" if label else "政策雷达：全部变更"


def router(factory: FactoryGetter) -> APIRouter:
    app = APIRouter()

    def db() -> Any:
        yield from session_scope(factory)

    @app.get("/feeds/changes.atom")
    def changes_feed(
        *, session: Session = Depends(db), series: str = "", unit: str = "", keyword: str = ""
    ) -> Response:
        entries: list[FeedEntry] = feed_entries(
            session,
            series_key=series.strip() or None,
            unit=unit.strip() or None,
            keyword=keyword.strip() or None,
        )
        base = load_settings().base_url
        updated = max((_aware(e.created_at) for e in entries), default=datetime.now(UTC))
        xml = render(
            "changes.atom.xml.j2",
            title=feed_title(series, unit, keyword),
            base=base,
            feed_id=f"{base}/feeds/changes.atom?series={series}&unit={unit}&keyword={keyword}",
            updated=updated.isoformat(),
            entries=[(e, _aware(e.created_at).isoformat()) for e in entries],
        )
        return Response(xml, media_type="application/atom+xml; charset=utf-8")

    return app
