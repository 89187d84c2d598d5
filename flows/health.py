"""Source health: tell the operator when a site breaks, instead of alerting subscribers that
everything was removed.

Two symptoms of a redesigned or broken site:

* a listing that yielded documents suddenly yields none (the link pattern no longer
  matches, or the page is now a WAF challenge);
* a document that had tasks suddenly parses with none (the article body moved into an
  image, a viewer, or a new template).

Both queue one email to ``RADAR_ADMIN_EMAIL`` (``alerts.dispatch.queue_admin_email``,
idempotent per key). The second one — and any version ``storage.hold`` finds broken (a
challenge page, a sharp drop in tasks, another document kind) — is stored *held*: "all 40
tasks removed" is almost always our problem, not news. The operator inspects it with ``radar
show``/``radar held list`` and releases or discards it (``radar held release|discard``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from storage.db import write_session

if TYPE_CHECKING:  # AlertHook runs in every ingest; the fetch stack is for polls only
    from flows.fetch_state_db import DbFetchState

#: fetch_state key under which a source's last good listing link count is kept.
HEALTH_KEY = "radar-health:{name}"


@dataclass
class AlertHook:
    """``storage.ingest``'s hooks: ``__call__`` queues subscriber alerts for a change set;
    ``on_held`` (a version that looks broken, see ``storage.hold``) queues one operator email
    instead, and no subscriber hears of it until ``radar held release``."""

    queued: int = 0
    held: str | None = None

    def __call__(self, session: Session, change_set_id: int) -> None:
        from alerts.matching import queue_for_change_set

        self.queued = queue_for_change_set(session, change_set_id)

    def on_held(self, session: Session, change_set_id: int, reason: str) -> None:
        from alerts.dispatch import queue_admin_email
        from storage.models import ChangeSet, Series, Version

        self.held = reason
        change_set = session.get(ChangeSet, change_set_id)
        if change_set is None:  # pragma: no cover - called inside the ingest that made it
            return
        series = session.get(Series, change_set.series_id)
        version = session.get(Version, change_set.to_version_id)
        name = series.title if series is not None else str(change_set.series_id)
        url = version.source_url if version is not None else None
        vid = version.id if version is not None else "?"
        queue_admin_email(
            session,
            subject=f"[policy-radar] held: {name}: {reason}",
            text=(
                f"A new version of {name} ({url or 'no URL'}) was stored but held: {reason}.\n"
                "No subscriber was mailed. The site's layout or a firewall page is the usual "
                "cause.\n"
                f"Inspect: radar show {series.key if series else ''} / radar held list\n"
                f"Then: radar held release {vid}  (alert subscribers) or "
                f"radar held discard {vid}\n"
            ),
            key=f"health.held.cs{change_set_id}",
        )

    def as_dict(self) -> dict[str, Any]:
        return {"queued": self.queued, "held": self.held}


def check_listing(
    state: DbFetchState, session_factory: Any, source: str, url: str, link_count: int
) -> str | None:
    """Record a fetched listing's link count; when it drops from some to none, queue an
    operator alert and return its text (the old count is kept, so it fires again
    tomorrow, once a day per key, until the listing recovers)."""
    key = HEALTH_KEY.format(name=source)
    previous = _count(state.get_note(key))
    if link_count > 0:
        state.put_note(key, f"links={link_count}")
        return None
    if not previous:
        return None
    from alerts.dispatch import queue_admin_email

    text = (
        f"Source {source!r}: the listing {url} yielded no document links; "
        f"the last good poll found {previous}. The site's layout probably changed "
        "(check link_selector in sources.toml). Nothing was marked removed."
    )
    day = datetime.now(UTC).date().isoformat()
    with write_session(session_factory) as session:
        queue_admin_email(
            session,
            subject=f"[policy-radar] source health: {source} listing is empty",
            text=text,
            key=f"health.empty.{hashlib.sha1(source.encode()).hexdigest()[:12]}.{day}",
        )
    return text


def _count(note: str | None) -> int:
    if not note or not note.startswith("links="):
        return 0
    try:
        return int(note.split("=", 1)[1])
    except ValueError:
        return 0
