"""The fetcher's per-URL memory (ETag, Last-Modified, content hash) in the app database.

:class:`flows.fetch.Fetcher` takes any :class:`flows.fetch.FetchState`; this one stores it in
storage's ``fetch_state`` table through :mod:`storage.repo`, so every worker and every poll
shares it and an unchanged page costs one conditional request. Each call is its own short
transaction: fetch state is a cache, never part of an ingest's atomic write.

The same table also keeps two small facts per source for the health checks (see
:mod:`flows.health`): rows keyed ``radar-health:<source>`` whose ``last_status`` holds the
link count of the last good listing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from flows.fetch import CachedState
from storage.db import write_session
from storage.repo import get_fetch_state, put_fetch_state


class DbFetchState:
    """A :class:`flows.fetch.FetchState` over the ``fetch_state`` table (thread-safe: one
    session per call)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def get(self, url: str) -> CachedState | None:
        with self._factory() as session:
            row = get_fetch_state(session, url)
            if row is None or not (row.etag or row.last_modified or row.content_hash):
                return None
            return CachedState(row.etag, row.last_modified, row.content_hash)

    def put(self, url: str, state: CachedState) -> None:
        with write_session(self._factory) as session:
            put_fetch_state(
                session,
                url,
                etag=state.etag,
                last_modified=state.last_modified,
                content_hash=state.content_hash,
                last_status="ok",
                failures=0,
            )

    def record_failure(self, url: str, status: str) -> int:
        """Count one more failure for ``url`` (validators kept); returns the new count."""
        with write_session(self._factory) as session:
            row = get_fetch_state(session, url)
            failures = (row.failures if row is not None else 0) + 1
            put_fetch_state(session, url, last_status=status[:40], failures=failures)
            return failures

    def get_note(self, key: str) -> str | None:
        """A small status string stored under a non-URL key (health bookkeeping)."""
        with self._factory() as session:
            row = get_fetch_state(session, key)
            return row.last_status if row is not None else None

    def put_note(self, key: str, value: str) -> None:
        with write_session(self._factory) as session:
            put_fetch_state(session, key, last_status=value[:40])
