"""The unit page (every task a unit leads or supports, alias-resolved, and the history of
its assignments and removals) and the targets page (one metric across documents)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from alerts.web.chart import Chart, build_chart, day_number
from alerts.web.common import (
    FactoryGetter,
    int_param,
    json_response,
    page,
    session_scope,
    unit_url,
)
from parsers.units_alias import scoped_unit_key
from storage.browse import Page, TargetPoint, find_targets, unit_history
from storage.repo import UnitTask, tasks_for_unit, unit_places


@dataclass
class UnitView:
    name: str
    key: str
    tasks: list[UnitTask]
    names: list[str]
    history: Page
    #: for a name without a region (区发改委): the regions' units of that name (嘉定区发改委, …)
    places: list[str]


@dataclass
class TargetsView:
    metric: str
    points: list[TargetPoint]
    chart: Chart | None


def load_unit(session: Session, name: str, page_no: int) -> UnitView:
    tasks = tasks_for_unit(session, name)
    return UnitView(
        name=name,
        key=scoped_unit_key(name),
        tasks=tasks,
        names=sorted({t.unit_name for t in tasks}),
        history=unit_history(session, name, page_no),
        places=unit_places(session, name),
    )


def load_targets(
    session: Session, metric: str, unit: str, region: str, year: int | None
) -> TargetsView:
    if not (metric or unit or region or year):
        return TargetsView(metric, [], None)  # a prompt, not a scan of every target
    points = find_targets(
        session, metric or None, unit=unit or None, region=region or None, year=year
    )
    by_doc: dict[str, list[tuple[float, str, Decimal]]] = defaultdict(list)
    units = [p.unit for p in points if p.value is not None]
    main_unit = max(set(units), key=units.count) if units else ""
    for p in points:
        if p.value is None or p.unit != main_unit:
            continue
        # x: the 成文日期, else the day the version was fetched (first seen)
        x = day_number(p.date) if p.date else day_number(p.fetched_at)
        label = p.date or f"第{p.seq}版 {p.fetched_at:%Y-%m-%d}"
        by_doc[(p.series_title or p.series_key)[:24]].append((x, label, p.value))
    return TargetsView(metric, points, build_chart(dict(by_doc), main_unit or ""))


def router(factory: FactoryGetter) -> APIRouter:
    app = APIRouter()

    def db() -> Any:
        yield from session_scope(factory)

    @app.get("/units", response_class=HTMLResponse)
    def units_index(q: str = "") -> Response:
        if q.strip():
            return RedirectResponse(unit_url(q.strip()), status_code=303)
        return page("unit.html.j2", "单位", nav="units", u=None)

    @app.get("/units/{name:path}", response_class=HTMLResponse)
    def unit_page(
        *, session: Session = Depends(db), name: str, page_: int = Query(1, alias="page")
    ) -> Response:
        view = load_unit(session, name, page_)
        return page(
            "unit.html.j2",
            f"单位：{name}",
            nav="units",
            u=view,
            result=view.history,
            params={},
            path=f"/units/{name}",
        )

    @app.get("/api/units/{name:path}")
    def unit_api(
        *, session: Session = Depends(db), name: str, page_: int = Query(1, alias="page")
    ) -> Response:
        view = load_unit(session, name, page_)
        data = {
            "name": view.name,
            "key": view.key,
            "names": view.names,
            "places": view.places,
            "tasks": view.tasks,
            "history": {
                "total": view.history.total,
                "page": view.history.page,
                "rows": view.history.rows,
            },
        }
        return json_response(data)

    @app.get("/targets", response_class=HTMLResponse)
    def targets_page(
        *,
        session: Session = Depends(db),
        metric: str = "",
        unit: str = "",
        region: str = "",
        year: str = "",
    ) -> Response:
        view = load_targets(session, metric.strip(), unit.strip(), region.strip(), int_param(year))
        f = {"metric": metric, "unit": unit, "region": region, "year": year}
        return page("targets.html.j2", "指标", nav="targets", t=view, f=f)

    @app.get("/api/targets")
    def targets_api(
        *,
        session: Session = Depends(db),
        metric: str = "",
        unit: str = "",
        region: str = "",
        year: str = "",
    ) -> Response:
        view = load_targets(session, metric.strip(), unit.strip(), region.strip(), int_param(year))
        return json_response({"metric": view.metric, "points": view.points})

    return app
