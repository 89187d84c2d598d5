"""``radar diff`` end to end in a subprocess: files, stored versions, errors, no Prefect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from parsers.diff import diff_documents
from tests.parsers.test_diff_support import FIXTURES, load_mini

REVISIONS = FIXTURES / "revisions"
ROOT = Path(__file__).resolve().parents[2]


def _run(
    args: list[str], env: dict[str, str], importtime: bool = False
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "flows.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out["RADAR_HOME"] = str(tmp_path / "home")
    out["RADAR_DATABASE_URL"] = (
        os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'radar.db'}"
    )
    out["PYTHONPATH"] = str(ROOT)
    out["COLUMNS"] = "200"
    return out


@pytest.fixture()
def saved_pair(tmp_path: Path) -> tuple[Path, Path]:
    """plan_a v1/v2 as saved ``radar parse --json`` outputs (independent of the parser)."""
    paths = []
    for version in ("v1", "v2"):
        doc = load_mini(REVISIONS / f"plan_a_{version}.txt")
        path = tmp_path / f"plan_a_{version}.json"
        path.write_text(json.dumps(doc.to_json_dict(), ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def _expected_json() -> dict[str, Any]:
    old = load_mini(REVISIONS / "plan_a_v1.txt")
    new = load_mini(REVISIONS / "plan_a_v2.txt")
    return diff_documents(old, new).to_json_dict()


def test_diff_json_of_two_files_without_importing_prefect(
    saved_pair: tuple[Path, Path], env: dict[str, str]
) -> None:
    result = _run(["diff", str(saved_pair[0]), str(saved_pair[1]), "--json"], env, importtime=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == _expected_json()
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "parsers.diff" in imported
    assert not {m for m in imported if m == "prefect" or m.startswith("prefect.")}
    assert not {m for m in imported if m.startswith("sqlalchemy")}


def test_diff_table_names_kinds_tasks_and_units(
    saved_pair: tuple[Path, Path], env: dict[str, str]
) -> None:
    result = _run(["diff", str(saved_pair[0]), str(saved_pair[1])], env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for needle in ("units_changed", "+区大数据发展局", "−区教委", "task_added", "培育数据要素市场"):
        assert needle in out
    assert "6 alert(s)" in out


def test_diff_of_identical_files_says_no_changes(
    saved_pair: tuple[Path, Path], env: dict[str, str]
) -> None:
    result = _run(["diff", str(saved_pair[0]), str(saved_pair[0]), "--json"], env)
    assert json.loads(result.stdout) == {"schema": "radar.changes/1", "changes": []}
    result = _run(["diff", str(saved_pair[0]), str(saved_pair[0])], env)
    assert "No changes" in result.stdout


def test_missing_file_is_one_line_error(saved_pair: tuple[Path, Path], env: dict[str, str]) -> None:
    result = _run(["diff", "no/such/file.txt", str(saved_pair[1])], env)
    assert result.returncode == 1
    assert result.stderr.strip() == "radar: no/such/file.txt: no such file"
    assert "Traceback" not in result.stderr


def test_unknown_stored_version_is_one_line_error(
    saved_pair: tuple[Path, Path], env: dict[str, str]
) -> None:
    result = _run(["diff", "nosuchseries@1", str(saved_pair[1])], env)
    assert result.returncode == 1
    assert result.stderr.startswith("radar: nosuchseries@1: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_diff_of_stored_versions(env: dict[str, str]) -> None:
    """SERIES@N and numeric version ids resolve through storage.repo."""
    pytest.importorskip("storage.ingest")
    from storage.db import dispose_all, open_db
    from storage.ingest import ingest

    key = f"plan-a-{uuid.uuid4().hex[:8]}"
    _, factory = open_db(env["RADAR_DATABASE_URL"])
    ids = []
    try:
        for version in ("v1", "v2"):
            path = REVISIONS / f"plan_a_{version}.txt"
            doc = load_mini(path)
            result = ingest(factory, path.read_bytes(), doc, filename=path.name, series_key=key)
            ids.append(result.to_json_dict())
    finally:
        dispose_all()
    by_seq = _run(["diff", f"{key}@1", f"{key}@2", "--json"], env)
    assert by_seq.returncode == 0, by_seq.stderr
    assert json.loads(by_seq.stdout) == _expected_json()
    version_ids = [str(i.get("version_id")) for i in ids]
    if all(v.isdigit() for v in version_ids):
        by_id = _run(["diff", *version_ids, "--json"], env)
        assert json.loads(by_id.stdout) == _expected_json()


def test_diff_of_two_document_files_through_the_parser(env: dict[str, str]) -> None:
    """The user's path: two files in different formats, parsed (sandboxed) and diffed."""
    seeds = FIXTURES / "seeds"
    old, new = seeds / "002_152408040e809265.txt", seeds / "002_152408040e809265_v2.docx"
    result = _run(["diff", str(old), str(new), "--json"], env)
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    expected = json.loads((seeds / "002_152408040e809265_v2.expected.json").read_text("utf-8"))
    assert sorted((c["kind"], c["task"]) for c in changes if c["severity"] == "alert") == sorted(
        (e["kind"], e["task"]) for e in expected["alert"]
    )
