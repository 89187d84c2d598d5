"""Match a change set to subscriptions in the database and queue the deliveries (the outbox).

One ``INSERT … SELECT`` per change set: the database walks ``subscriptions`` and tests each
against the change set's ``changes`` / ``change_units`` rows (or, for a brand-new document,
against the version's ``tasks`` / ``task_units``), so 10,000 subscribers cost one statement,
not 10,000 Python objects. Filters are AND-combined and every one is optional:

* series key (exact), issuer/region (substring of the series' issuer or the title);
* unit (alias key): the unit was added to or removed from a task, or it is responsible for
  a task whose goal changed or that was added/removed;
* keyword (substring of the title, or of the changed task's title/text);
* kinds (the change kinds wanted).

Only ``alert``-severity changes trigger an email; ``info`` ones ride along in the summary.
Called inside the ingest transaction (``on_change_set``), so the change set and its
deliveries commit together; ``unique(subscription_id, change_set_id)`` plus a ``NOT EXISTS``
makes calling it twice harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased

from alerts.headers import domain_of
from alerts.kinds import TASK_UNIT_KINDS
from storage.models import (
    Change,
    ChangeSet,
    ChangeUnit,
    Delivery,
    Series,
    Subscription,
    Task,
    TaskUnit,
    Version,
)
from storage.settings import load_settings

#: Digests follow the readers' day: China Standard Time (no DST), sent at 08:00 next morning.
DIGEST_TZ = timezone(timedelta(hours=8), "CST")
DIGEST_HOUR = 8


def digest_date_for(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(DIGEST_TZ).date()


def digest_due_at(day: date) -> datetime:
    """When the digest of ``day`` is due: the next morning, in UTC."""
    local = datetime.combine(day + timedelta(days=1), time(DIGEST_HOUR), tzinfo=DIGEST_TZ)
    return local.astimezone(UTC)


# -- predicates -------------------------------------------------------------------------


def _contains(session: Session, haystack: Any, needle: Any) -> ColumnElement[bool]:
    """Substring test without LIKE wildcards (a keyword "50%" must mean 50%)."""
    name = session.get_bind().dialect.name
    fn = func.strpos if name == "postgresql" else func.instr
    return fn(func.lower(func.coalesce(haystack, "")), func.lower(needle)) > 0


def _kinds_allow(session: Session, sub: Any, kind: Any) -> ColumnElement[bool]:
    """``kinds`` is a JSON list; NULL (or JSON null) means every kind."""
    as_text = cast(sub.kinds, String)
    return or_(
        sub.kinds.is_(None),
        as_text == "null",
        _contains(session, as_text, literal('"') + kind + literal('"')),
    )


def change_predicate(
    session: Session, sub: Any, change: Any, *, title: str, include_info: bool = False
) -> ColumnElement[bool]:
    """Does ``change`` (a changes row) match ``sub`` (a subscriptions row)?

    ``include_info`` relaxes the unit rule for info-level changes (any change to a task of
    the unit), used when summarizing an email, never for deciding whether to send one.
    """
    cu = aliased(ChangeUnit)
    unit_relation = or_(
        cu.relation.in_(("added", "removed")),
        and_(
            cu.relation == "task_unit",
            or_(change.kind.in_(TASK_UNIT_KINDS), true() if include_info else literal(False)),
        ),
    )
    unit_ok = or_(
        sub.unit_key.is_(None),
        exists(
            select(cu.id)
            .where(cu.change_id == change.id, cu.unit_key == sub.unit_key, unit_relation)
            .correlate_except(cu)
        ),
    )
    keyword_ok = or_(
        sub.keyword.is_(None),
        _contains(session, literal(title), sub.keyword),
        _contains(session, change.task_title, sub.keyword),
        _contains(session, change.task_text, sub.keyword),
    )
    return and_(_kinds_allow(session, sub, change.kind), unit_ok, keyword_ok)


def _task_filter(session: Session, sub: Any, task: Any, *, title: str) -> ColumnElement[bool]:
    """A stored task passes the subscriber's unit filter (one of its units, by alias key) and
    keyword filter (in the document title or the task's title or text).

    A subscription's key is scoped (嘉定区发改委, or a bare 区发改委 when typed so): it matches a
    unit's scoped key (so 浦东's 区发改委 is not 嘉定's) or, for a bare name, the place-free one."""
    tu = aliased(TaskUnit)
    return and_(
        or_(
            sub.unit_key.is_(None),
            exists(
                select(tu.id)
                .where(
                    tu.task_id == task.id,
                    or_(tu.scoped_key == sub.unit_key, tu.unit_key == sub.unit_key),
                )
                .correlate_except(tu)
            ),
        ),
        or_(
            sub.keyword.is_(None),
            _contains(session, literal(title), sub.keyword),
            _contains(session, task.title, sub.keyword),
            _contains(session, task.text, sub.keyword),
        ),
    )


def new_document_predicate(
    session: Session, sub: Any, version_id: int, *, title: str
) -> ColumnElement[bool]:
    """A first version matches when one of its tasks matches the unit/keyword filters (or,
    with no unit filter, when the title holds the keyword); it counts as ``task_added``."""
    task = aliased(Task)
    task_matches = exists(
        select(task.id)
        .where(task.version_id == version_id, _task_filter(session, sub, task, title=title))
        .correlate_except(task)
    )
    title_only = and_(
        sub.unit_key.is_(None),
        or_(sub.keyword.is_(None), _contains(session, literal(title), sub.keyword)),
    )
    return and_(_kinds_allow(session, sub, literal("task_added")), or_(title_only, task_matches))


def document_predicate(
    session: Session, sub: Any, *, series_key: str, issuer: str, title: str
) -> ColumnElement[bool]:
    """Series and issuer/region filters: properties of the document, the same for every change."""
    return and_(
        or_(sub.series_key.is_(None), sub.series_key == series_key),
        or_(
            sub.issuer.is_(None),
            _contains(session, literal(issuer), sub.issuer),
            _contains(session, literal(title), sub.issuer),
        ),
    )


# -- the change set's facts -------------------------------------------------------------


@dataclass(frozen=True)
class ChangeSetFacts:
    """The document-level values of one change set: bound as parameters by the predicates,
    shown in the email header. Plain values (no ORM objects), so one instance can serve a
    whole batch of deliveries across sessions."""

    change_set_id: int
    is_new_document: bool
    series_key: str
    title: str
    issuer: str
    version_id: int
    doc_number: str | None
    to_date: str | None
    from_date: str | None
    source_url: str | None
    to_seq: int | None = None
    from_seq: int | None = None

    @classmethod
    def load(cls, session: Session, change_set_id: int) -> ChangeSetFacts:
        row = session.execute(
            select(
                ChangeSet.is_new_document,
                ChangeSet.from_version_id,
                Series.key,
                Series.title,
                Series.canonical_title,
                Series.issuer,
                Version.id,
                Version.title,
                Version.doc_number,
                Version.date,
                Version.published,
                Version.source_url,
                Version.parsed["issuers"],
                Version.seq,
            )
            .join(Series, Series.id == ChangeSet.series_id)
            .join(Version, Version.id == ChangeSet.to_version_id)
            .where(ChangeSet.id == change_set_id)
        ).one_or_none()
        if row is None:
            raise LookupError(f"change set {change_set_id} does not exist")
        values: tuple[Any, ...] = tuple(row)
        (new_doc, from_id, key, s_title, canonical, s_issuer) = values[:6]
        (version_id, v_title, doc_number, v_date, v_published, source_url, issuers) = values[6:13]
        from_date, from_seq = None, None
        if from_id is not None:
            prev = session.execute(
                select(Version.date, Version.published, Version.seq).where(Version.id == from_id)
            ).one_or_none()
            if prev:
                from_date, from_seq = (prev[0] or prev[1]), prev[2]
        names = [s_issuer or "", *[str(i) for i in (issuers if isinstance(issuers, list) else [])]]
        return cls(
            change_set_id=change_set_id,
            is_new_document=bool(new_doc),
            series_key=key,
            title=v_title or s_title or canonical or "",
            issuer="、".join(dict.fromkeys(n.strip() for n in names if n and n.strip())),
            version_id=version_id,
            doc_number=doc_number,
            to_date=v_date or v_published,
            from_date=from_date,
            source_url=source_url,
            to_seq=values[13],
            from_seq=from_seq,
        )


def subscription_matches(session: Session, facts: ChangeSetFacts, sub: Any) -> ColumnElement[bool]:
    """The whole test for one change set, as a SQL condition on the ``sub`` row."""
    doc_ok = document_predicate(
        session, sub, series_key=facts.series_key, issuer=facts.issuer, title=facts.title
    )
    if facts.is_new_document:
        body_ok = new_document_predicate(session, sub, facts.version_id, title=facts.title)
    else:
        change = aliased(Change)
        body_ok = exists(
            select(change.id)
            .where(
                change.change_set_id == facts.change_set_id,
                change.severity == "alert",
                change_predicate(session, sub, change, title=facts.title),
            )
            .correlate_except(change)
        )
    return and_(doc_ok, body_ok)


def queue_for_change_set(session: Session, change_set_id: int) -> int:
    """Queue one delivery per matching active subscription; return how many were queued.

    Instant subscriptions get an ``instant`` row due now; daily ones a ``digest`` item due the
    next morning (folded into one digest email per subscriber and day by the dispatcher).
    Usable directly as ``ingest(..., on_change_set=queue_for_change_set)``.
    """
    facts = ChangeSetFacts.load(session, change_set_id)
    settings = load_settings()
    domain = domain_of(settings.mail_from)
    now = datetime.now(UTC)
    due_digest = digest_due_at(digest_date_for(now))
    sub = aliased(Subscription)
    existing = aliased(Delivery)
    message_id = (
        literal(f"<radar.cs{change_set_id}.s") + cast(sub.id, String) + literal(f"@{domain}>")
    )
    is_daily = sub.mode == "daily"
    select_rows = select(
        sub.id,
        literal(change_set_id),
        case((is_daily, literal("digest")), else_=literal("instant")),
        sub.email,
        literal(""),
        message_id,
        literal("queued"),
        literal(0),
        case((is_daily, literal(due_digest)), else_=literal(now)),
        case(
            (is_daily, literal({"digest_date": digest_date_for(now).isoformat()}, JSON)),
            else_=null(),
        ),
        literal(now),
    ).where(
        sub.status == "active",
        subscription_matches(session, facts, sub),
        ~exists(
            select(existing.id).where(
                existing.subscription_id == sub.id, existing.change_set_id == change_set_id
            )
        ),
    )
    stmt = insert(Delivery).from_select(
        [
            "subscription_id",
            "change_set_id",
            "kind",
            "recipient",
            "subject",
            "message_id",
            "status",
            "attempts",
            "next_attempt_at",
            "payload",
            "created_at",
        ],
        select_rows,
    )
    # RETURNING rather than rowcount: drivers disagree on rowcount for INSERT … SELECT.
    queued = len(session.execute(stmt.returning(Delivery.id)).all())
    session.flush()
    return queued


def matching_changes(
    session: Session, facts: ChangeSetFacts, subscription_id: int
) -> tuple[list[Change], list[Change]]:
    """The changes of a change set that one subscriber asked for: (alerts, infos).

    The same SQL predicate as queueing, so an email never shows what did not trigger it
    (nor hides what did).
    """
    change_set_id = facts.change_set_id
    sub = aliased(Subscription)
    change = aliased(Change)
    base = (
        select(change)
        .join(sub, sub.id == subscription_id)
        .where(change.change_set_id == change_set_id)
        .order_by(change.ord)
    )
    alerts = session.scalars(
        base.where(
            change.severity == "alert",
            change_predicate(session, sub, change, title=facts.title),
        )
    ).all()
    infos = session.scalars(
        base.where(
            change.severity != "alert",
            change_predicate(session, sub, change, title=facts.title, include_info=True),
        )
    ).all()
    return list(alerts), list(infos)


def matching_new_tasks(session: Session, facts: ChangeSetFacts, subscription_id: int) -> list[Task]:
    """Tasks of a first version that the subscriber's unit/keyword filters select."""
    version_id, facts_title = facts.version_id, facts.title
    sub = aliased(Subscription)
    query = (
        select(Task)
        .join(sub, sub.id == subscription_id)
        .where(Task.version_id == version_id, _task_filter(session, sub, Task, title=facts_title))
        .order_by(Task.ord)
    )
    return list(session.scalars(query).all())
