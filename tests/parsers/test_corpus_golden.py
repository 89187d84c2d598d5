"""Golden tests on the held-out-like corpus (tests/fixtures/corpus/), in every format.

The corpus stands in for the held-out documents of issues 2 and 3: notices issuing plans
with （一）…（十） tasks and unit paragraphs below them, 实施方案 with inherited units, a
four-level city plan, proposal and suggestion replies (web copies, an A类 reply, inline
一是… next steps), TRS article pages in UTF-8 and in GB2312 without a charset, a joint
notice, a 红头 notice with 版记, a news article, and three revision pairs (（一）…（十）
plan; 试行 → 2025版 regrouping; equivalent forms that must not alert). See
tests/fixtures/corpus/README.md; regenerate binaries with make_corpus.py there. Each case's ``expected.json`` was written by reading the TXT as a person
would, following DESIGN.md — not from the parser's output — and every other format
(typed DOCX, DOCX with Word automatic numbering, their PDFs, the HTML pages) must parse to
the same values.

Cases that fail today are marked ``xfail(strict=True)`` per case and format with the
precise wrong value, so CI stays green and the marks flip to failures once fixed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from parsers import ParsedDocument, parse_bytes
from parsers.diff import diff_documents
from parsers.schema import Target

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"

FORMAT_FILES = {
    "txt": "{stem}.txt",
    "txt_gb18030": "{stem}_gb18030.txt",
    "docx": "{stem}.docx",
    "docx_autonum": "{stem}_autonum.docx",
    "pdf": "{stem}.pdf",
    "pdf_autonum": "{stem}_autonum.pdf",
    "html_utf8": "page_utf8.html",
    "html_gb2312": "page_gb2312.html",
}

CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name.startswith("c"))
REVISIONS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name.startswith("rev_"))

#: What fails today, per case and format (test id -> the precise wrong vs expected value).
#: Empty: every case parses as expected in every format. Add an entry (strict) rather than
#: loosening an expectation when a new case exposes a parser gap.
XFAIL: dict[str, str] = {}


def _file(case: str, fmt: str, stem: str = "doc") -> Path:
    return CORPUS / case / FORMAT_FILES[fmt].format(stem=stem)


@cache
def _parsed(path: Path) -> ParsedDocument:
    return parse_bytes(path.read_bytes(), filename=path.name)


@cache
def _expected(case: str) -> dict[str, Any]:
    exp = json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8"))
    if "inherit" in exp:
        base = dict(_expected(exp["inherit"]))
        base["meta"] = {**base["meta"], **exp["meta"]}
        base.update({k: v for k, v in exp.items() if k not in ("meta", "inherit")})
        return base
    return exp


def _params(names: list[str], make) -> list[Any]:
    out = []
    for name in names:
        for values in make(name):
            test_id = "-".join([name, *values])
            marks = (
                [pytest.mark.xfail(strict=True, reason=XFAIL[test_id])] if test_id in XFAIL else []
            )
            out.append(pytest.param(name, *values, id=test_id, marks=marks))
    return out


# --- single documents ------------------------------------------------------------------------


def _target_repr(t: Target) -> str:
    return f"({t.value}, {t.value_max}, {t.unit}, {t.year}, {t.comparator})"


def _target_matches(spec: dict[str, Any], t: Target) -> bool:
    """Every key the expectation pins (value, value_max, unit, year, comparator) is equal;
    a key left out (e.g. the comparator of "新建…个") is not pinned."""
    return all(getattr(t, k) == v for k, v in spec.items() if k != "task")


def _spec_repr(spec: dict[str, Any]) -> str:
    keys = ("value", "value_max", "unit", "year", "comparator")
    return "(" + ", ".join(str(spec.get(k, "*")) for k in keys) + ")"


def mismatches(doc: ParsedDocument, exp: dict[str, Any]) -> list[str]:
    """Every way ``doc`` differs from the expectation, one readable line each."""
    problems: list[str] = []
    for key, want in exp.get("meta", {}).items():
        got = getattr(doc, key)
        if key == "proposal" and got is not None:
            # Fields added to Proposal later (proposers) are checked where a case lists them.
            got = {k: v for k, v in got.model_dump().items() if k in (want or {})}
        if got != want:
            problems.append(f"{key}: got {got!r}, expected {want!r}")
    got_tasks = [
        {
            "number": t.number,
            "title": t.title,
            "path": t.path,
            "units": [[u.name, u.role] for u in t.units],
            "text": t.text,
        }
        for t in doc.tasks
    ]
    want_tasks = exp["tasks"]
    if len(got_tasks) != len(want_tasks):
        problems.append(
            f"tasks: got {len(got_tasks)} {[(t['number'], t['title']) for t in got_tasks]}, "
            f"expected {len(want_tasks)} {[(t['number'], t['title']) for t in want_tasks]}"
        )
    for i, (got, want) in enumerate(zip(got_tasks, want_tasks, strict=False)):
        for key in ("number", "title", "path", "units"):
            if key in want and got[key] != want[key]:
                problems.append(
                    f"task {i + 1} ({want['title']}) {key}: got {got[key]!r}, expected {want[key]!r}"
                )
        for stray in want.get("text_excludes", []):
            if stray in got["text"]:
                problems.append(
                    f"task {i + 1} ({want['title']}) text takes in text after the item "
                    f"({stray!r}…): ends {got['text'][-60:]!r}"
                )
    for spec in exp.get("goals", []):
        if not any(_target_matches(spec, g) for g in doc.goals):
            problems.append(
                f"goal {_spec_repr(spec)} missing; goals are {[_target_repr(g) for g in doc.goals]}"
            )
    for spec in exp.get("task_targets", []):
        task = next((t for t in doc.tasks if t.title == spec["task"]), None)
        if task is None:
            problems.append(f"target {_spec_repr(spec)}: no task titled {spec['task']!r}")
        elif not any(_target_matches(spec, t) for t in task.targets):
            problems.append(
                f"task {spec['task']!r} target {_spec_repr(spec)} missing; its targets are "
                f"{[_target_repr(t) for t in task.targets]}"
            )
    everything = [*doc.goals, *(t for task in doc.tasks for t in task.targets)]
    for spec in exp.get("absent_targets", []):
        found = [t for t in everything if _target_matches(spec, t)]
        if found:
            problems.append(
                f"past fact {spec['value']}{spec['unit']} taken as a target: {found[0].text!r}"
            )
    if "attachments" in exp and len(doc.attachments) != len(exp["attachments"]):
        problems.append(
            f"attachments: got {len(doc.attachments)} {doc.attachments}, "
            f"expected {len(exp['attachments'])}"
        )
    for spec in exp.get("attachments", []):
        if not any(
            a.url.endswith(spec["url_endswith"])
            and a.ext == spec["ext"]
            and spec["name_contains"] in (a.name or "")
            for a in doc.attachments
        ):
            problems.append(f"attachment {spec} missing; got {doc.attachments}")
    return problems


def _case_formats(case: str) -> list[tuple[str]]:
    return [(fmt,) for fmt in _expected(case)["formats"]]


@pytest.mark.parametrize(("case", "fmt"), _params(CASES, _case_formats))
def test_corpus_document_parses_as_expected(case: str, fmt: str) -> None:
    path = _file(case, fmt)
    assert path.exists(), f"{path} missing: run tests/fixtures/corpus/make_corpus.py"
    problems = mismatches(_parsed(path), _expected(case))
    assert not problems, f"{case} as {fmt}:\n" + "\n".join(problems)


def test_the_gb2312_page_declares_no_charset() -> None:
    """The GB2312 page must be a real test of detection: bytes only, no charset anywhere."""
    data = (CORPUS / "c06_trs_article_html" / "page_gb2312.html").read_bytes()
    assert b"charset" not in data.lower()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


# --- revision pairs --------------------------------------------------------------------------


def _change_matches(exp: dict[str, Any], act: dict[str, Any]) -> bool:
    if exp["kind"] != act["kind"] or exp.get("task") != act.get("task"):
        return False
    for side in ("before", "after"):
        for k, v in (exp.get(side) or {}).items():
            if (act.get(side) or {}).get(k) != v:
                return False
    return all(
        sorted(exp[side]) == sorted(act.get(side) or [])
        for side in ("added", "removed")
        if side in exp
    )


def _alert_problems(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> list[str]:
    unmatched = list(actual)
    missing = []
    for exp in expected:
        for i, act in enumerate(unmatched):
            if _change_matches(exp, act):
                del unmatched[i]
                break
        else:
            missing.append(exp)
    return [f"missing alert: {m}" for m in missing] + [
        f"unexpected alert: {a['kind']} {a.get('task')!r}: {a.get('summary')}" for a in unmatched
    ]


def _pairings(rev: str) -> list[tuple[str, str]]:
    fmts = _expected(rev)["formats"]
    return [(old, new) for old in fmts for new in fmts]


@pytest.mark.parametrize(("rev", "old_fmt", "new_fmt"), _params(REVISIONS, _pairings))
def test_revision_pair_gives_exactly_the_expected_alerts(
    rev: str, old_fmt: str, new_fmt: str
) -> None:
    old = _parsed(_file(rev, old_fmt, "old"))
    new = _parsed(_file(rev, new_fmt, "new"))
    changes = diff_documents(old, new)
    actual = [c.to_json_dict() for c in changes.alerts]
    problems = _alert_problems(actual, _expected(rev)["alert"])

    assert not problems, f"{rev} {old_fmt} -> {new_fmt}:\n" + "\n".join(problems)


def _same_format(rev: str) -> list[tuple[str]]:
    return [(fmt,) for fmt in _expected(rev)["formats"]]


@pytest.mark.parametrize(("rev", "fmt"), _params(REVISIONS, _same_format))
def test_revision_pair_reports_only_the_real_wording_edits(rev: str, fmt: str) -> None:
    """Info level: ``task_changed`` only for tasks whose own text changed (none in either
    pair); text after the last item (a closing sentence) belongs to no task."""
    changes = diff_documents(_parsed(_file(rev, fmt, "old")), _parsed(_file(rev, fmt, "new")))
    edited = [(c.task, c.summary) for c in changes.changes if c.kind == "task_changed"]
    want = _expected(rev)["task_changed"]
    assert [t for t, _ in edited] == want, f"{rev} as {fmt}: task_changed {edited}, expected {want}"


def _self_pairings(rev: str) -> list[tuple[str, str]]:
    fmts = _expected(rev)["formats"]
    return [(stem, fmt) for stem in ("old", "new") for fmt in fmts]


@pytest.mark.parametrize(("rev", "stem", "fmt"), _params(REVISIONS, _self_pairings))
def test_revision_against_itself_in_another_format_gives_no_change(
    rev: str, stem: str, fmt: str
) -> None:
    doc = _parsed(_file(rev, fmt, stem))
    want = _expected(rev)[f"{stem}_tasks"]
    assert len(doc.tasks) == want, (
        f"{rev} {stem} as {fmt}: {len(doc.tasks)} tasks "
        f"{[(t.number, t.title) for t in doc.tasks]}, expected {want}"
    )
    txt = _parsed(_file(rev, "txt", stem))
    changes = diff_documents(txt, doc).changes
    assert changes == [], f"{rev} {stem} txt -> {fmt}: " + "; ".join(
        f"{c.kind} {c.task!r}: {c.summary}" for c in changes
    )
