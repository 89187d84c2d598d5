"""From database rows to the renderer's plain data (:class:`alerts.render.SectionView`).

Kept apart from rendering so the templates never touch the database and the same section
serves the email, the digest and the web diff page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.matching import ChangeSetFacts, matching_changes, matching_new_tasks
from alerts.render import NewTaskView, SectionView, change_view
from storage.models import Change, Subscription, Task, TaskUnit


def diff_url(base_url: str, change_set_id: int) -> str:
    return f"{base_url.rstrip('/')}/changes/{change_set_id}"


def _new_task_views(session: Session, tasks: list[Task]) -> list[NewTaskView]:
    if not tasks:
        return []
    ids = [t.id for t in tasks]
    units: dict[int, list[str]] = {i: [] for i in ids}
    for task_id, name in session.execute(
        select(TaskUnit.task_id, TaskUnit.name)
        .where(TaskUnit.task_id.in_(ids))
        .order_by(TaskUnit.id)
    ):
        units[task_id].append(name)
    return [NewTaskView(number=t.number, title=t.title, units=units[t.id]) for t in tasks]


def _label(seq: int | None, day: str | None) -> str | None:
    """``第2版（2022-12-01）``; either part may be unknown."""
    if seq is None:
        return day
    return f"第{seq}版（{day}）" if day else f"第{seq}版"


def _base_section(facts: ChangeSetFacts, base_url: str) -> SectionView:
    return SectionView(
        change_set_id=facts.change_set_id,
        title=facts.title or facts.series_key,
        issuer=facts.issuer or None,
        doc_number=facts.doc_number,
        from_date=_label(facts.from_seq, facts.from_date),
        to_date=_label(facts.to_seq, facts.to_date),
        source_url=facts.source_url,
        diff_url=diff_url(base_url, facts.change_set_id),
        is_new_document=facts.is_new_document,
    )


def _filter_signature(sub: Subscription) -> tuple[Any, ...]:
    """Subscribers with the same filters see the same changes (computed once per batch)."""
    kinds = tuple(sub.kinds) if isinstance(sub.kinds, list) else None
    return (sub.series_key, sub.issuer, sub.unit_key, sub.unit, sub.keyword, kinds)


def section_for_subscription(
    session: Session,
    change_set_id: int,
    subscription: Subscription,
    base_url: str,
    *,
    facts_cache: dict[Any, Any] | None = None,
) -> SectionView | None:
    """This subscriber's part of a change set, or ``None`` if nothing matches any more.

    ``facts_cache`` (a dict owned by one sending batch) keeps each change set's document
    facts and each distinct filter's matching changes, so a batch of thousands of alerts
    for one change set runs the matching queries once per distinct filter, not per email.
    """
    cache: dict[Any, Any] = facts_cache if facts_cache is not None else {}
    facts = cache.get(change_set_id)
    if facts is None:
        facts = cache[change_set_id] = ChangeSetFacts.load(session, change_set_id)
    section = _base_section(facts, base_url)
    key = ("parts", change_set_id, _filter_signature(subscription))
    parts = cache.get(key)
    if parts is None:
        if section.is_new_document:
            tasks = matching_new_tasks(session, facts, subscription.id)
            parts = (_new_task_views(session, tasks), [], [])
        else:
            alerts, infos = matching_changes(session, facts, subscription.id)
            parts = (
                [],
                [change_view(c.payload, c.ord) for c in alerts],
                [change_view(c.payload, c.ord) for c in infos],
            )
        cache[key] = parts
    new_tasks, alert_views, info_views = parts
    if section.is_new_document:
        section.new_tasks = list(new_tasks)
        section.focus_unit = subscription.unit
        return section
    if not alert_views:
        return None
    section.alerts, section.infos = list(alert_views), list(info_views)
    return section


def full_section(session: Session, change_set_id: int, base_url: str) -> SectionView:
    """Every change of a change set (the web diff page)."""
    facts = ChangeSetFacts.load(session, change_set_id)
    section = _base_section(facts, base_url)
    if section.is_new_document:
        tasks = list(
            session.scalars(
                select(Task).where(Task.version_id == facts.version_id).order_by(Task.ord)
            )
        )
        section.new_tasks = _new_task_views(session, tasks)
        return section
    changes = session.scalars(
        select(Change).where(Change.change_set_id == change_set_id).order_by(Change.ord)
    ).all()
    section.alerts = [change_view(c.payload, c.ord) for c in changes if c.severity == "alert"]
    section.infos = [change_view(c.payload, c.ord) for c in changes if c.severity != "alert"]
    return section
