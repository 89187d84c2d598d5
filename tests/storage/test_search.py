"""Keyword search through the search indexes (migration 0005: FTS5 trigram on SQLite,
pg_trgm GIN on PostgreSQL) gives exactly what the unindexed ``LIKE '%…%'`` gives: literal
``%``/``_``, ASCII case on SQLite, short words, and rows updated or deleted after indexing.
Runs on SQLite and, in the postgres leg, on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, or_, select, text, update

from storage.browse import DocumentFilters, feed_entries, find_targets, list_documents
from storage.db import write_session
from storage.models import Change, ChangeSet, Series, TargetRow, Task, Version
from storage.search import SEARCHED, contains, indexed, matching

TEXTS = [
    "建设智能算力中心，算力规模达到1000PFlops",
    "培育数据要素市场，建设数据交易服务平台",
    "推进100%覆盖的5G_网络 and Data Exchange",
    "完善城市运行管理平台（一网统管）",
]
QUERIES = [
    "数据交易",
    "算力",
    "100%",
    "5G_",
    "data exchange",
    "DATA",
    "一网统管）",
    "网络 and",
    "无此词",
]


def _fill(session_factory: Any) -> None:
    with write_session(session_factory) as session:
        for i, body in enumerate(TEXTS):
            series = Series(key=f"s{i}", canonical_title=f"方案{i}", title=f"方案{i}", kind="plan")
            session.add(series)
            session.flush()
            version = Version(
                series_id=series.id,
                seq=1,
                content_hash=f"c{i}",
                raw_hash=f"r{i}",
                parsed={},
                parser_version="1",
                title=f"关于印发方案{i}的通知",
                doc_number=f"测发〔2024〕{i}号",
            )
            session.add(version)
            session.flush()
            task = Task(
                version_id=version.id, ord=0, task_key="t", path=[], title="任务", text=body
            )
            session.add(task)
            session.flush()
            session.add(
                TargetRow(version_id=version.id, task_id=task.id, metric=body[:12], text=body)
            )
            cs = ChangeSet(series_id=series.id, to_version_id=version.id, is_new_document=True)
            session.add(cs)
            session.flush()
            session.add(
                Change(
                    change_set_id=cs.id,
                    ord=0,
                    kind="task_added",
                    severity="alert",
                    task_title="任务",
                    task_text=body,
                    summary=None,
                    payload={},
                )
            )


def _scan(session: Any, model: Any, q: str) -> set[int]:
    """The unindexed answer: every row, the LIKE alone."""
    cols = [contains(getattr(model, c), q) for c in SEARCHED[model.__tablename__]]
    return set(session.scalars(select(model.id).where(or_(*cols))))


@pytest.mark.parametrize("model", [Task, Change, TargetRow, Version])
def test_indexed_search_equals_the_like_scan(session_factory: Any, model: Any) -> None:
    _fill(session_factory)
    with session_factory() as session:
        for q in QUERIES:
            assert set(session.scalars(matching(session, model, q))) == _scan(session, model, q), q


def test_the_index_exists_and_follows_updates_and_deletes(session_factory: Any) -> None:
    _fill(session_factory)
    with session_factory() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite":  # FTS5 with the trigram tokenizer is in every supported SQLite
            assert indexed(session, Task, "数据交易") and not indexed(session, Task, "算力")
        elif session.scalar(text("SHOW lc_ctype")) != "C":  # tests/pg_server.py: C.UTF-8
            assert indexed(session, Change, "数据交易")
    with write_session(session_factory) as session:
        session.execute(
            update(Task).where(Task.text.like("%数据交易%")).values(text="建设公共数据开放平台")
        )
        session.execute(delete(Series).where(Series.key == "s0"))  # cascades to its rows
    with session_factory() as session:
        assert set(session.scalars(matching(session, Task, "数据交易"))) == set()
        assert len(set(session.scalars(matching(session, Task, "数据开放")))) == 1
        assert set(session.scalars(matching(session, Task, "算力中心"))) == set()
        assert set(session.scalars(matching(session, Change, "算力中心"))) == set()


@pytest.mark.parametrize("rare_below", [10_000, 1])
def test_pages_find_the_same_documents(
    session_factory: Any, rare_below: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both plans of the documents search (by index; probing each series when the word is
    common) and the feed and targets give the same rows."""
    monkeypatch.setattr("storage.search.RARE_BELOW", rare_below)
    _fill(session_factory)
    with session_factory() as session:
        keys = lambda q: [r.key for r in list_documents(session, DocumentFilters(q=q)).rows]  # noqa: E731
        assert keys("数据交易") == ["s1"]
        assert keys("测发〔2024〕3号") == ["s3"]
        assert keys("〔2024〕3号 关于印发") == ["s3"]  # across 文号 and title, as before
        assert keys("100%") == ["s2"]
        assert sorted(keys("方案")) == ["s0", "s1", "s2", "s3"]
        feed = [e.series_key for e in feed_entries(session, keyword="算力规模")]
        assert feed == ["s0"]
        assert [p.series_key for p in find_targets(session, "数据要素")] == ["s1"]


def test_without_pg_trgm_the_migration_says_so_and_search_scans(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A role that may create tables but not extensions (no CREATE on the database): the
    migration logs one warning naming the extension, creates no index, and the searches
    still answer (by scanning)."""
    import logging
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from storage.db import make_engine, session_factory, upgrade
    from tests.conftest import pg_url

    base = pg_url()
    if not base:
        pytest.skip("PostgreSQL only (make test-postgres)")
    name, role = f"radar_noext_{uuid.uuid4().hex[:8]}", f"noext_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    db_admin = create_engine(make_url(base).set(database=name), isolation_level="AUTOCOMMIT")
    with db_admin.connect() as conn:
        conn.execute(text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"'))
    db_admin.dispose()
    url = make_url(base).set(database=name, username=role, password=None)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with caplog.at_level(logging.WARNING, logger="radar.storage"):
            upgrade(engine)
        [line] = [r.getMessage() for r in caplog.records if "pg_trgm" in r.getMessage()]
        assert "unavailable" in line and "scan" in line
        factory = session_factory(engine)
        _fill(factory)
        with factory() as session:
            assert not indexed(session, Task, "数据交易")
            assert [r.key for r in list_documents(session, DocumentFilters(q="数据交易")).rows] == [
                "s1"
            ]
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
