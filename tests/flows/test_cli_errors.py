"""The one-line error convention of the ``radar`` CLI, run as a real subprocess."""

from __future__ import annotations

import json
import os
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


def test_hot_commands_skip_typer_and_print_what_typer_would() -> None:
    """``radar parse FILE`` runs without building the typer app; the same command through
    typer (``--debug`` first sends it there) prints the same bytes."""
    code = (
        "import sys; from flows.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print('typer' in sys.modules, 'click' in sys.modules, file=sys.stderr)"
    )
    pdf = str(SEEDS / "004_2276e3ffef9e3d8c.pdf")
    outputs = []
    for args in (["parse", pdf, "--json"], ["--debug", "parse", pdf, "--json"]):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outputs.append((proc.stdout, proc.stderr.strip().splitlines()[-1]))
    (lean, lean_imports), (typer_out, typer_imports) = outputs
    assert lean == typer_out and json.loads(lean)["proposal"]["number"] == "343"
    assert lean_imports == "False False"
    assert typer_imports == "True False"  # typer >= 0.20 vendors click as typer._click


def test_lean_reading_leaves_anything_unusual_to_typer() -> None:
    from flows.cli import lean_args

    assert lean_args(["parse", "a.pdf", "--json"]) == ("parse", ["a.pdf"], {"--json": True})
    assert lean_args(["ingest", "--series", "k", "a.txt"]) == (
        "ingest",
        ["a.txt"],
        {"--series": "k"},
    )
    for args in (
        ["parse"],
        ["parse", "--help"],
        ["parse", "--jsn", "a.pdf"],
        ["ingest", "a.txt", "--series"],
        ["ingest", "--series", "--json", "a.txt"],
        ["--debug", "parse", "a.pdf"],
        ["diff", "a", "b"],
    ):
        assert lean_args(args) is None, args


def test_a_local_one_file_ingest_imports_only_what_it_uses(tmp_path: Path) -> None:
    """No typer (lean path), no rich (plain lines into a pipe), no Prefect (no server to
    report to), no alembic (the database is at head), no fetch or template stack."""
    code = (
        "import sys; from flows.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = ('typer', 'rich', 'prefect', 'alembic', 'requests', 'jinja2', 'bs4')\n"
        "print(' '.join(m for m in heavy if m in sys.modules) or '-', file=sys.stderr)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RADAR_", "PREFECT_"))}
    env.update(HOME=str(tmp_path), RADAR_HOME=str(tmp_path / "radar"))
    txt = str(SEEDS / "002_152408040e809265.txt")
    first = subprocess.run(
        [sys.executable, "-c", code, "ingest", txt],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    again = subprocess.run(
        [sys.executable, "-c", code, "ingest", str(SEEDS / "004_2276e3ffef9e3d8c.pdf")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "new series" in again.stdout
    assert again.stderr.strip().splitlines()[-1] == "-"
