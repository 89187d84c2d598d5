"""Storage: the product's memory (SQLAlchemy 2.x, Alembic, SQLite or PostgreSQL).

Entry points other packages use (import the submodule; nothing heavy is imported here):

* ``storage.db``       — ``make_engine``, ``session_factory``, ``upgrade``, ``open_db``,
  ``write_session``;
* ``storage.models``   — the tables (documents, change sets, alerts outbox, fetch state);
* ``storage.identity`` — ``canonical_title``, ``resolve_series``;
* ``storage.ingest``   — ``ingest`` (atomic, idempotent), ``parse_file_bytes``, ``content_hash``;
* ``storage.repo``     — ``series_history``, ``load_version``, ``load_parsed_version``,
  ``tasks_for_unit``, ``get_fetch_state``/``put_fetch_state`` …;
* ``storage.settings`` — ``load_settings()``.
"""
