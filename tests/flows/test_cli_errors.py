"""The one-line error convention of the ``radar`` CLI, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"


def _radar(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flows.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_parse_reports_each_bad_file_on_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"\x00\x01\x02\x03" * 500)
    good = SEEDS / "004_2276e3ffef9e3d8c.txt"
    proc = _radar("parse", str(tmp_path / "missing.pdf"), str(garbage), str(good), "--json")
    assert proc.returncode == 1
    errors = proc.stderr.strip().splitlines()
    assert errors == [
        f"radar: {tmp_path / 'missing.pdf'}: no such file",
        f"radar: {garbage}: unknown binary format (not PDF, DOCX, DOC/WPS, HTML or text)",
    ]
    assert "Traceback" not in proc.stderr
    (line,) = proc.stdout.strip().splitlines()  # JSON Lines: the good file still parsed
    assert json.loads(line)["proposal"]["number"] == "343"


def test_parse_one_file_prints_the_contract_object() -> None:
    proc = _radar("parse", str(SEEDS / "002_152408040e809265.docx"), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "radar.document/1"
    assert {
        "title",
        "doc_number",
        "issuers",
        "recipients",
        "date",
        "published",
        "kind",
        "proposal",
        "goals",
        "tasks",
        "outline",
    } <= doc.keys()
    assert doc["tasks"][0]["units"] == [{"name": "市经信局市新经济委", "role": "responsible"}]


def test_parse_does_not_import_prefect() -> None:
    code = (
        "import sys; from flows.cli import main\n"
        "try:\n    main(['parse', sys.argv[1], '--json'])\nexcept SystemExit:\n    pass\n"
        "print('prefect' in sys.modules, file=sys.stderr)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(SEEDS / "004_2276e3ffef9e3d8c.txt")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stderr.strip().splitlines()[-1] == "False"
