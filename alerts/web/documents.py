"""Documents, one document, compare two versions, and the change-set link of the emails.

``/changes/{id}`` (what every alert email links to) shows the compare page of that change
set's two versions, so an email reader lands on the structural changes and the texts side by
side, not on a second copy of the email.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from alerts.render import ChangeView, change_view, sort_changes
from alerts.web.common import (
    FactoryGetter,
    int_param,
    json_response,
    not_found,
    page,
    session_scope,
)
from alerts.web.textdiff import AlignedTask, align
from parsers.diff import diff_documents
from parsers.schema import ParsedDocument
from parsers.units_alias import document_scope
from storage.browse import (
    DocumentFilters,
    RelatedDoc,
    TargetValue,
    TaskRow,
    TimelineEntry,
    as_dict,
    document_kinds,
    list_documents,
    related_documents,
    timeline,
    version_tasks,
)
from storage.errors import SeriesNotFound
from storage.models import Change, ChangeSet, Series, Version
from storage.repo import find_series


@dataclass
class DocumentView:
    key: str
    title: str
    issuer: str | None
    kind: str | None
    latest: TimelineEntry
    timeline: list[TimelineEntry]
    tasks: list[TaskRow]
    goals: list[TargetValue]
    outline: list[dict[str, Any]]
    related: list[RelatedDoc]
    sources: list[str]
    recipients: list[str] = field(default_factory=list)
    #: the region its relative unit names belong to (unit links: 区发改委 -> 嘉定区发改委)
    scope: str = ""


@dataclass
class CompareView:
    key: str
    title: str
    old: TimelineEntry
    new: TimelineEntry
    alerts: list[ChangeView]
    infos: list[ChangeView]
    tasks: list[AlignedTask]
    versions: list[TimelineEntry]
    scope: str = ""


def _filters(
    q: str = "",
    kind: str = "",
    issuer: str = "",
    unit: str = "",
    date_from: str = "",
    date_to: str = "",
    has_alerts: str = "",
) -> DocumentFilters:
    return DocumentFilters(
        q=q.strip() or None,
        kind=kind or None,
        issuer=issuer.strip() or None,
        unit=unit.strip() or None,
        date_from=date_from or None,
        date_to=date_to or None,
        has_alerts=bool(has_alerts),
    )


def load_document(session: Session, key: str) -> DocumentView | None:
    try:
        series = find_series(session, key)
    except SeriesNotFound:
        return None
    entries = timeline(session, series.id)
    if not entries:
        return None
    latest = entries[0]
    tasks, goals = version_tasks(session, latest.version_id)
    parsed = session.scalar(select(Version.parsed).where(Version.id == latest.version_id)) or {}
    sources = list(dict.fromkeys(e.source_url for e in entries if e.source_url))
    return DocumentView(
        key=series.key,
        title=series.title or latest.title or series.canonical_title or series.key,
        issuer=series.issuer,
        kind=series.kind,
        latest=latest,
        timeline=entries,
        tasks=tasks,
        goals=goals,
        outline=list(parsed.get("outline") or []),
        related=related_documents(session, series.id),
        sources=sources,
        recipients=list(parsed.get("recipients") or []),
        scope=document_scope(list(parsed.get("issuers") or []), parsed.get("title")),
    )


def _stored_changes(session: Session, old_id: int, new_id: int) -> list[dict[str, Any]] | None:
    """The change set stored for exactly this pair (consecutive versions), if any."""
    cs_id = session.scalar(
        select(ChangeSet.id).where(
            ChangeSet.from_version_id == old_id, ChangeSet.to_version_id == new_id
        )
    )
    if cs_id is None:
        return None
    return list(
        session.scalars(
            select(Change.payload).where(Change.change_set_id == cs_id).order_by(Change.ord)
        )
    )


def load_compare(session: Session, key: str, a: int | None, b: int | None) -> CompareView | None:
    """Versions ``a`` → ``b`` of a series (by seq; default: the last two)."""
    try:
        series = find_series(session, key)
    except SeriesNotFound:
        return None
    entries = timeline(session, series.id)
    by_seq = {e.seq: e for e in entries}
    if b is None:
        b = entries[0].seq if entries else None
    if a is None and b is not None:
        a = max((s for s in by_seq if s < b), default=b)
    if a not in by_seq or b not in by_seq:
        return None
    old, new = by_seq[a], by_seq[b]
    rows = as_dict(
        session.execute(
            select(Version.id, Version.parsed).where(
                Version.id.in_((old.version_id, new.version_id))
            )
        ).all()
    )
    old_doc = ParsedDocument.from_json_dict(rows[old.version_id])
    new_doc = ParsedDocument.from_json_dict(rows[new.version_id])
    payloads = _stored_changes(session, old.version_id, new.version_id)
    if payloads is None:
        payloads = [c.to_json_dict() for c in diff_documents(old_doc, new_doc).changes]
    views = sort_changes(change_view(p, i) for i, p in enumerate(payloads))
    return CompareView(
        key=series.key,
        title=series.title or new.title or series.canonical_title or series.key,
        old=old,
        new=new,
        alerts=[v for v in views if v.severity == "alert"],
        infos=[v for v in views if v.severity != "alert"],
        tasks=align(old_doc, new_doc),
        versions=sorted(entries, key=lambda e: e.seq),
        scope=document_scope(new_doc.issuers, new_doc.title),
    )


def router(factory: FactoryGetter) -> APIRouter:
    app = APIRouter()

    def db() -> Any:
        yield from session_scope(factory)

    def documents(session: Session, filters: DocumentFilters, page_no: int) -> Any:
        return list_documents(session, filters, page_no)

    @app.get("/", response_class=HTMLResponse)
    @app.get("/documents", response_class=HTMLResponse)
    def documents_page(
        *,
        session: Session = Depends(db),
        filters: Annotated[DocumentFilters, Depends(_filters)],
        page_: int = Query(1, alias="page"),
    ) -> Response:
        result = documents(session, filters, page_)
        params = {k: v for k, v in vars(filters).items() if v}
        return page(
            "documents.html.j2",
            "文件",
            nav="documents",
            result=result,
            f=filters,
            params=params,
            path="/documents",
            kinds=document_kinds(session),
        )

    @app.get("/api/documents")
    def documents_api(
        *,
        session: Session = Depends(db),
        filters: Annotated[DocumentFilters, Depends(_filters)],
        page_: int = Query(1, alias="page"),
    ) -> Response:
        result = documents(session, filters, page_)
        return json_response(
            {
                "total": result.total,
                "page": result.page,
                "pages": result.pages,
                "documents": result.rows,
            }
        )

    @app.get("/documents/{key:path}", response_class=HTMLResponse)
    def document_page(*, session: Session = Depends(db), key: str) -> Response:
        view = load_document(session, key)
        if view is None:
            return not_found(f"文件 {key} 不存在。", api=False)
        return page("document.html.j2", view.title, nav="documents", d=view)

    @app.get("/api/documents/{key:path}")
    def document_api(*, session: Session = Depends(db), key: str) -> Response:
        view = load_document(session, key)
        if view is None:
            return not_found(f"no document {key}", api=True)
        return json_response(view)

    @app.get("/compare/{key:path}", response_class=HTMLResponse)
    def compare_page(
        *, session: Session = Depends(db), key: str, a: str = "", b: str = ""
    ) -> Response:
        view = load_compare(session, key, int_param(a), int_param(b))
        if view is None:
            return not_found(f"文件 {key} 没有所选的版本。", api=False)
        return page("compare.html.j2", f"版本对比：{view.title}", nav="documents", c=view)

    @app.get("/api/compare/{key:path}")
    def compare_api(
        *, session: Session = Depends(db), key: str, a: str = "", b: str = ""
    ) -> Response:
        view = load_compare(session, key, int_param(a), int_param(b))
        if view is None:
            return not_found(f"no such versions of {key}", api=True)
        return json_response(view)

    def _change_versions(session: Session, change_set_id: int) -> tuple[str, int | None, int]:
        """(series key, from seq or None for a first version, to seq) of a change set."""
        old = aliased(Version)
        new = aliased(Version)
        row = session.execute(
            select(Series.key, old.seq, new.seq)
            .select_from(ChangeSet)
            .join(Series, Series.id == ChangeSet.series_id)
            .join(new, new.id == ChangeSet.to_version_id)
            .outerjoin(old, old.id == ChangeSet.from_version_id)
            .where(ChangeSet.id == change_set_id)
        ).first()
        if row is None:
            raise LookupError(change_set_id)
        return row[0], row[1], row[2]

    @app.get("/changes/{change_set_id}", response_class=HTMLResponse)
    def change_set_page(change_set_id: int, session: Session = Depends(db)) -> Response:
        """The link in every alert email: the compare page of the change set's two versions
        (a first version has nothing to compare with: its document page)."""
        try:
            key, a, b = _change_versions(session, change_set_id)
        except LookupError:
            return not_found(f"变更记录 {change_set_id} 不存在。", api=False)
        if a is None:
            return document_page(key=key, session=session)
        return compare_page(key=key, a=str(a), b=str(b), session=session)

    return app
