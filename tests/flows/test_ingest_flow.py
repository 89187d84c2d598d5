"""The ingest flow on Prefect's ephemeral server: files, URLs with cover notes, alerts."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from tests.flows.conftest import SEEDS, outbox, subscribe

V1 = SEEDS / "002_152408040e809265.txt"
V2 = SEEDS / "002_152408040e809265_v2.pdf"


def _subject(path: Path) -> str:
    with path.open("rb") as handle:
        return str(BytesParser(policy=policy.default).parse(handle)["Subject"])


def test_file_then_revision_is_a_new_version_and_mails_the_unit(
    radar_home: Path, session_factory: Any
) -> None:
    from flows.ingest_flow import run_ingest

    subscribe(session_factory, "analyst@example.org", unit="市数据局")
    [first] = run_ingest(str(V1))
    assert first.status == "new_series"
    assert outbox(radar_home) == []  # 市数据局 has no task in v1

    [second] = run_ingest(str(V2))
    assert second.status == "new_version"
    assert second.series_key == first.series_key and second.version_seq == 2
    kinds = {c["kind"] for c in second.changes if c["severity"] == "alert"}
    assert {"goal_changed", "units_changed", "task_added", "task_removed"} <= kinds
    # No Prefect server: the flow delivered the alert itself, into the outbox.
    [mail] = outbox(radar_home)
    assert "s1" in mail.name and "责任单位" in _subject(mail)

    # The same bytes again: nothing new, nothing sent.
    [again] = run_ingest(str(V2))
    assert again.status == "same_bytes"
    assert len(outbox(radar_home)) == 1


def test_cover_note_url_gives_the_attachment_with_cover_metadata(
    polling: Path, site: Any, radar_home: Path
) -> None:
    from flows.ingest_flow import run_ingest
    from flows.site_fixture import publish_revision

    [v1] = run_ingest(site.demo.articles["002"])
    info = publish_revision(site, SEEDS)
    [v2] = run_ingest(info.articles["002-rev"])
    assert v2.status == "new_version" and v2.series_key == v1.series_key
    from storage.db import open_db
    from storage.repo import load_version

    _, factory = open_db()
    with factory() as session:
        version, doc = load_version(session, v2.series_key, 2)
    assert doc.doc_number == "成办发〔2023〕18号"  # from the cover note
    assert len(doc.tasks) > 10  # from the PDF
    assert version.source_url == info.articles["002-rev"]
    assert site.downloads(urlpath(info.attachments["002-rev"])) == 1


def urlpath(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def test_missing_file_is_a_one_line_error(radar_home: Path) -> None:
    from flows.ingest_flow import IngestInputError, run_ingest

    with pytest.raises(IngestInputError, match="no such file"):
        run_ingest(str(radar_home / "nope.pdf"))


def test_version_without_tasks_holds_alerts_and_tells_the_operator(
    radar_home: Path, session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest_flow import run_ingest

    monkeypatch.setenv("RADAR_ADMIN_EMAIL", "ops@example.org")
    subscribe(session_factory, "planner@example.org", unit="市规划和自然资源局")
    [first] = run_ingest(str(V1))
    sent_before = outbox(radar_home)
    broken = radar_home / "broken.txt"
    broken.write_text(
        "成都市元宇宙产业发展行动方案（2022—2025年）\n\n本页面内容已移至附件，请下载查看。\n",
        encoding="utf-8",
    )
    [second] = run_ingest(str(broken), series=first.series_key)
    assert second.status == "new_version"
    new = [p for p in outbox(radar_home) if p not in sent_before]
    recipients = {_to(p) for p in new}
    assert recipients == {"ops@example.org"}, recipients
    assert "no tasks" in _subject(new[0])


def _to(path: Path) -> str:
    with path.open("rb") as handle:
        return str(BytesParser(policy=policy.default).parse(handle)["To"])
