"""Polling the fixture portal on 127.0.0.1: first poll, a revision, an unchanged re-poll,
a failing page, an emptied listing, and SMTP delivery."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.flows.conftest import SEEDS, outbox, subscribe


def _path(url: str) -> str:
    return urlsplit(url).path


def _documents(site: Any) -> list[str]:
    return [_path(u) for u in [*site.demo.articles.values(), *site.demo.attachments.values()]]


def test_poll_revision_and_unchanged_repoll(
    polling: Path, site: Any, radar_home: Path, session_factory: Any
) -> None:
    from flows.poll_flow import poll_sources
    from flows.site_fixture import publish_revision

    subscribe(session_factory, "analyst@example.org", unit="市数据局")
    [first] = poll_sources(str(polling))
    assert first["failed"] == [] and first["links"] == 4
    assert sorted(i["status"] for i in first["ingested"]) == ["new_series"] * 4
    plan = next(i for i in first["ingested"] if "成都" in (i["title"] or ""))
    assert outbox(radar_home) == []

    info = publish_revision(site, SEEDS)
    site.clear_requests()
    [second] = poll_sources(str(polling))
    [revised] = second["ingested"]
    assert revised["status"] == "new_version"
    assert revised["series_key"] == plan["series_key"] and revised["version"] == 2
    assert second["unchanged"] == 4  # the old articles answered 304
    for key in ("001", "002", "003", "004"):
        assert site.downloads(_path(info.articles[key])) == 0
    [mail] = outbox(radar_home)
    assert b"analyst@example.org" in mail.read_bytes()

    site.clear_requests()
    [third] = poll_sources(str(polling))
    assert third["listing_not_modified"] is True and third["ingested"] == []
    for path in [_path(u) for u in [*info.articles.values(), *info.attachments.values()]]:
        assert site.downloads(path) == 0, path
    assert len(outbox(radar_home)) == 1


def test_failing_page_is_retried_then_recorded_without_stopping_the_others(
    polling: Path, site: Any, radar_home: Path
) -> None:
    from flows.poll_flow import poll_sources
    from storage.db import open_db
    from storage.repo import get_fetch_state

    broken = _path(site.demo.articles["003"])
    site.set_failing(broken, 500)
    [report] = poll_sources(str(polling))
    assert [f["url"] for f in report["failed"]] == [site.demo.articles["003"]]
    assert "SourceUnavailable" in report["failed"][0]["error"]
    assert len(report["ingested"]) == 3
    # Retries live in one layer, the Fetcher's (RADAR_FETCH_RETRIES=1): two requests before
    # giving up (a Prefect task retry on top used to double that).
    assert len(site.requests_for(broken)) == 2
    _, factory = open_db()
    with factory() as session:
        state = get_fetch_state(session, site.demo.articles["003"])
        assert state is not None and state.failures == 1

    # The listing was not remembered, so the next poll retries the failed page.
    site.clear_failing(broken)
    [again] = poll_sources(str(polling))
    assert [i["url"] for i in again["ingested"]] == [site.demo.articles["003"]]
    assert again["failed"] == [] and again["unchanged"] == 3


def test_listing_that_suddenly_yields_nothing_alerts_the_operator(
    polling: Path, site: Any, radar_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.poll_flow import poll_sources

    monkeypatch.setenv("RADAR_ADMIN_EMAIL", "ops@example.org")
    [first] = poll_sources(str(polling))
    assert len(first["ingested"]) == 4 and first["health"] is None
    site.publish(
        _path(site.demo.listing_url),
        "<html><body><div class='main'>系统维护中，请稍后访问。</div></body></html>".encode(),
        "text/html",
    )
    [second] = poll_sources(str(polling))
    assert second["links"] == 0 and "yielded no document links" in second["health"]
    mails = outbox(radar_home)
    assert len(mails) == 1 and b"ops@example.org" in mails[0].read_bytes()


def test_poll_delivers_over_smtp(
    polling: Path,
    site: Any,
    radar_home: Path,
    session_factory: Any,
    smtp: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.poll_flow import poll_sources
    from flows.site_fixture import publish_revision

    monkeypatch.setenv("RADAR_SMTP_URL", smtp.url)
    subscribe(session_factory, "planner@example.org", unit="市规划和自然资源局")
    poll_sources(str(polling))
    before = len(smtp.messages)  # the 成都 plan is new and assigns the unit a task
    publish_revision(site, SEEDS)
    poll_sources(str(polling))
    new = smtp.messages[before:]
    assert [m.rcpt_tos for m in new] == [["planner@example.org"]]
    message = BytesParser(policy=policy.default).parsebytes(new[0].content)
    body = message.get_body(("plain",))
    assert body is not None and "市规划和自然资源局" in body.get_content()
    assert outbox(radar_home) == []


def test_slow_page_times_out_and_is_recorded_without_stopping_the_others(
    polling: Path, site: Any, radar_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.poll_flow import poll_sources
    from storage.db import open_db
    from storage.repo import get_fetch_state

    monkeypatch.setenv("RADAR_FETCH_TIMEOUT", "0.5")
    slow = _path(site.demo.articles["004"])
    site.set_slow(slow, 3)
    [report] = poll_sources(str(polling))
    assert [f["url"] for f in report["failed"]] == [site.demo.articles["004"]]
    assert "SourceUnavailable" in report["failed"][0]["error"]
    assert "timeout" in report["failed"][0]["error"]
    assert len(report["ingested"]) == 3
    _, factory = open_db()
    with factory() as session:
        state = get_fetch_state(session, site.demo.articles["004"])
        assert state is not None and state.failures == 1


def test_a_listing_longer_than_max_links_is_worked_through_then_remembered(
    polling: Path, site: Any
) -> None:
    """max_links caps one poll, not the source: the next poll takes the links never fetched
    (the listing's first links would otherwise be offered for ever and the rest never
    fetched), and once every link is seen the listing is remembered like any other."""
    from flows.poll_flow import poll_sources

    polling.write_text(polling.read_text(encoding="utf-8") + "max_links = 3\n", encoding="utf-8")
    [first] = poll_sources(str(polling))
    assert (len(first["ingested"]), first["overflow"]) == (3, 1)
    [second] = poll_sources(str(polling))
    assert second["listing_not_modified"] is False
    assert (len(second["ingested"]), second["unchanged"], second["overflow"]) == (1, 2, 0)
    done = {i["url"] for i in [*first["ingested"], *second["ingested"]]}
    assert len(done) == 4
    [third] = poll_sources(str(polling))
    assert third["listing_not_modified"] is True and third["ingested"] == []


def test_batch_run_ingests_its_links_and_fails_naming_the_bad_one(polling: Path, site: Any) -> None:
    """``ingest-links`` (a work pool's batch of a poll) in one flow run: the good links are
    stored, the run fails naming the bad one, and a second run finds the good ones
    unchanged (their validators were remembered)."""
    from flows.poll_flow import LinksFailed, ingest_links

    good = [(url, key, None) for key, url in sorted(site.demo.articles.items())][:2]
    bad = (site.url("/zcwj/missing.html"), "missing", None)
    with pytest.raises(LinksFailed, match=r"1 of 3 links: .*missing\.html"):
        ingest_links("portal", [good[0], bad, good[1]], str(polling))
    again = ingest_links("portal", good, str(polling))
    assert again["unchanged"] == 2 and again["failed"] == []
