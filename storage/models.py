"""The database tables (SQLAlchemy 2.x declarative models).

Two halves share one schema and one initial migration:

* the document side: sources, series (one identity across versions), versions (raw bytes are
  content-addressed files under ``RADAR_HOME/raw``; the parsed JSON and parser version live
  here), fetches, the normalized rows (tasks, task_units, targets) that make "which tasks is
  unit X responsible for, across all documents" one indexed join, and change sets/changes;
* the alerts side (subscriptions, signup_events, deliveries) and the fetcher's conditional-GET
  memory (fetch_state), whose logic lives in ``alerts``/``flows`` but whose tables are created
  here so one ``alembic upgrade head`` builds everything.

Uniqueness is what makes concurrent ingests safe: ``series.key`` and ``(series_id, seq)``
turn a lost race into an ``IntegrityError`` that ingest retries.
Timestamps are stored as UTC (SQLite hands them back naive; treat them as UTC).
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Deterministic constraint names, so migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


def _ts() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


# --------------------------------------------------------------------------------------
# Document side
# --------------------------------------------------------------------------------------


class Source(Base):
    """A configured site or channel documents come from (filled by the fetcher)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = _ts()


class Series(Base):
    """One document identity across its versions (试行 -> 2025版, re-issued under a new 文号)."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    canonical_title: Mapped[str] = mapped_column(Text, index=True)
    title: Mapped[str | None] = mapped_column(Text)
    issuer: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = _ts()

    versions: Mapped[list[Version]] = relationship(
        back_populates="series", order_by="Version.seq", foreign_keys="Version.series_id"
    )


class Version(Base):
    """One stored version of a series: where the bytes are, what they parsed to, and why
    the version joined this series."""

    __tablename__ = "versions"
    #: No unique ``(series_id, content_hash)``: a revert to an earlier text is a new version
    #: (migration 0002). ``(series_id, seq)`` still settles two workers storing one change.
    __table_args__ = (UniqueConstraint("series_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    raw_hash: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str | None] = mapped_column(String(20))
    parsed: Mapped[dict[str, Any]] = mapped_column(JSON)
    parser_version: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(Text)
    doc_number: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[str | None] = mapped_column(String(20))
    published: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str | None] = mapped_column(String(20))
    source_url: Mapped[str | None] = mapped_column(Text, index=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = _ts()
    match_reason: Mapped[str] = mapped_column(Text, default="")
    related_to: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="SET NULL"), index=True
    )
    #: None (a normal version) | held (looks broken: no subscriber alerts until the operator
    #: releases it) | released | discarded. Held and discarded versions are never the
    #: baseline the next version is compared with.
    hold_status: Mapped[str | None] = mapped_column(String(10), index=True)
    hold_reason: Mapped[str | None] = mapped_column(Text)

    series: Mapped[Series] = relationship(back_populates="versions", foreign_keys=[series_id])
    tasks: Mapped[list[Task]] = relationship(back_populates="version", order_by="Task.ord")


class Fetch(Base):
    """Every handing-in of bytes, including the ones that changed nothing."""

    __tablename__ = "fetches"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str | None] = mapped_column(Text, index=True)
    filename: Mapped[str | None] = mapped_column(Text)
    raw_hash: Mapped[str] = mapped_column(String(64), index=True)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    fetched_at: Mapped[datetime] = _ts()
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    #: new_version | same_content | same_bytes
    status: Mapped[str] = mapped_column(String(20))


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    ord: Mapped[int] = mapped_column(Integer)
    #: The schema's task ``id`` (stable within a version only).
    task_key: Mapped[str] = mapped_column(String(100))
    number: Mapped[str | None] = mapped_column(String(50))
    path: Mapped[list[Any]] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)

    version: Mapped[Version] = relationship(back_populates="tasks")
    units: Mapped[list[TaskUnit]] = relationship(back_populates="task", order_by="TaskUnit.id")
    targets: Mapped[list[TargetRow]] = relationship(back_populates="task", order_by="TargetRow.ord")


class TaskUnit(Base):
    """A unit named for a task: ``name`` as written, ``unit_key`` alias-normalized for joins,
    ``scoped_key`` the same with the region it belongs to (区发改委 in a 嘉定区 document ->
    嘉定区发改委; :func:`parsers.units_alias.scoped_unit_key`, migration 0004): the unit page's
    identity, so two districts' 区发改委 are two units."""

    __tablename__ = "task_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    unit_key: Mapped[str] = mapped_column(String(200), index=True)
    scoped_key: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(20))

    task: Mapped[Task] = relationship(back_populates="units")


class TargetRow(Base):
    """A quantified target; ``task_id`` is null for document-level goals."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    ord: Mapped[int] = mapped_column(Integer, default=0)
    metric: Mapped[str | None] = mapped_column(Text)
    value: Mapped[Decimal | None] = mapped_column(Numeric(28, 8))
    value_max: Mapped[Decimal | None] = mapped_column(Numeric(28, 8))
    unit: Mapped[str | None] = mapped_column(String(50))
    year: Mapped[int | None] = mapped_column(Integer)
    comparator: Mapped[str | None] = mapped_column(String(4))
    text: Mapped[str] = mapped_column(Text)

    task: Mapped[Task | None] = relationship(back_populates="targets")


class ChangeSet(Base):
    """What one new version changed; the first version gets one with is_new_document=True."""

    __tablename__ = "change_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    from_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE")
    )
    to_version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False, index=True
    )
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    info_count: Mapped[int] = mapped_column(Integer, default=0)
    is_new_document: Mapped[bool] = mapped_column(Boolean, default=False)

    changes: Mapped[list[Change]] = relationship(back_populates="change_set", order_by="Change.ord")


class Change(Base):
    """One contract change object (``payload``) plus the columns alerts filter on."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_set_id: Mapped[int] = mapped_column(
        ForeignKey("change_sets.id", ondelete="CASCADE"), index=True
    )
    ord: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    task_title: Mapped[str | None] = mapped_column(Text)
    task_text: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    change_set: Mapped[ChangeSet] = relationship(back_populates="changes")
    units: Mapped[list[ChangeUnit]] = relationship(
        back_populates="change", order_by="ChangeUnit.id"
    )


class ChangeUnit(Base):
    """Units a change concerns: ``added``/``removed`` by it, or ``task_unit`` (responsible for
    the changed task in either version), so unit subscriptions are a join, not a JSON scan.

    One row per key the unit answers to: its scoped key (嘉定区发改委) and, for a name written
    relatively, the place-free one (区发改委) — a subscription to 嘉定区发改委 matches only the
    first, one to a bare 区发改委 every district's (:func:`parsers.units_alias.scoped_unit_keys`)."""

    __tablename__ = "change_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"), index=True)
    unit_key: Mapped[str] = mapped_column(String(200), index=True)
    unit_name: Mapped[str] = mapped_column(Text)
    #: added | removed | task_unit
    relation: Mapped[str] = mapped_column(String(20))

    change: Mapped[Change] = relationship(back_populates="units")


class FetchState(Base):
    """The fetcher's memory per URL for conditional GET and failure counting."""

    __tablename__ = "fetch_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[str | None] = mapped_column(String(40))
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer, default=0)


# --------------------------------------------------------------------------------------
# Alerts side (logic in alerts/)
# --------------------------------------------------------------------------------------


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_status_mode", "status", "mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    series_key: Mapped[str | None] = mapped_column(String(200), index=True)
    issuer: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    unit_key: Mapped[str | None] = mapped_column(String(200), index=True)
    keyword: Mapped[str | None] = mapped_column(Text)
    kinds: Mapped[list[Any] | None] = mapped_column(JSON)
    #: alerts go here as a JSON POST (alerts.webhook) instead of an email when set
    webhook_url: Mapped[str | None] = mapped_column(Text)
    #: instant | daily
    mode: Mapped[str] = mapped_column(String(10), default="instant")
    #: pending | active | unsubscribed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    #: cli | web
    origin: Mapped[str] = mapped_column(String(10), default="cli")
    created_at: Mapped[datetime] = _ts()
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignupEvent(Base):
    """One web sign-up attempt (rate limiting by email and IP)."""

    __tablename__ = "signup_events"
    __table_args__ = (
        Index("ix_signup_events_email_created_at", "email", "created_at"),
        Index("ix_signup_events_ip_created_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _ts()


class Delivery(Base):
    """The outbox: one email to send, with a lease so two senders never send it twice."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "change_set_id"),
        UniqueConstraint("subscription_id", "digest_date", "kind"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    change_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("change_sets.id", ondelete="CASCADE"), index=True
    )
    #: instant | digest | confirm | admin
    kind: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(320), unique=True)
    #: queued | sending | sent | retrying | dead
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Which sender run holds the lease (renewal and marking check it).
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    digest_date: Mapped[dt.date | None] = mapped_column(Date)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = _ts()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
