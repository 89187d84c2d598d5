"""radar ingest / history / show through flows.cli.main (real database in radar_home)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flows.cli import main
from storage.db import open_db
from storage.ingest import ingest
from tests.storage.docs import plan, task

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps tables to the terminal width; make it wide so cells stay whole."""
    monkeypatch.setenv("COLUMNS", "250")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _two_versions() -> str:
    _, factory = open_db()
    first = ingest(factory, b"v1", plan(), filename="plan-v1.docx")
    ingest(
        factory,
        b"v2",
        plan(doc_number="成办发〔2024〕9号", tasks=[task(1, "做强算力赛道", ["市数据局"])]),
        filename="plan-v2.pdf",
        diff=lambda o, n: [{"kind": "task_removed", "severity": "alert", "task": "培育市场主体"}],
    )
    return first.series_key


def test_history_lists_versions(radar_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = _two_versions()
    code, out, _ = run(["history", key, "--json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert [(r["seq"], r["doc_number"], r["task_count"]) for r in rows] == [
        (1, "成办发〔2022〕1号", 3),
        (2, "成办发〔2024〕9号", 1),
    ]
    assert rows[1]["alert_count"] == 1 and rows[0]["is_new_document"]
    code, out, _ = run(["history", key], capsys)
    assert code == 0 and "成办发〔2024〕9号" in out and "1 alert" in out


def test_history_without_a_series_lists_them(
    radar_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _two_versions()
    code, out, _ = run(["history", "--json"], capsys)
    assert code == 0
    assert [(r["key"], r["version_count"]) for r in json.loads(out)] == [(key, 2)]
    code, out, _ = run(["history"], capsys)
    assert code == 0 and key in out and "1 series" in out


def test_show_prints_a_version(radar_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = _two_versions()
    code, out, _ = run(["show", key, "--version", "1", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "radar.document/1" and len(doc["tasks"]) == 3
    code, out, _ = run(["show", key], capsys)
    assert code == 0 and "做强算力赛道" in out and "市数据局" in out


def test_errors_are_one_line(radar_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["history", "nope-nope"], capsys)
    assert code == 1 and err.startswith("radar: nope-nope: no such series")
    key = _two_versions()
    code, _, err = run(["show", key, "--version", "7"], capsys)
    assert code == 1 and "no version 7" in err
    code, _, err = run(["ingest", "ftp://example.org/a.pdf"], capsys)
    assert code == 1 and "ftp" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(["ingest", str(radar_home / "missing.pdf")], capsys)
    assert code == 1 and "no such file" in err


def test_ingest_seed_file_twice(radar_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = SEEDS / "002_152408040e809265.txt"
    code, out, _ = run(["ingest", str(seed), "--json"], capsys)
    assert code == 0, out
    first: dict[str, Any] = json.loads(out)
    assert first["status"] == "new_series" and first["version_seq"] == 1
    code, out, _ = run(["ingest", str(seed), "--json"], capsys)
    assert json.loads(out)["status"] == "same_bytes"
    code, out, _ = run(["ingest", str(seed)], capsys)
    assert code == 0 and first["series_key"] in out and "already stored" in out
