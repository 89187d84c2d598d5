"""The corpus PDFs (LibreOffice, official layout) read to exactly the TXT's paragraphs.

The corpus (tests/fixtures/corpus/) was typeset the way government documents are:
right-aligned issuer and date, centred titles, first-line indents, space between
paragraphs, letter-spaced lines, Word automatic numbering. Every case that has a TXT
and a PDF must give the TXT reader's paragraphs, in both the typed and the
automatic-numbering PDF (the autonum DOCX prints the same numbers as the TXT).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.readers.registry import extract
from parsers.text import normalize_space

CORPUS = Path(__file__).parents[1] / "fixtures" / "corpus"

CASES = [
    pytest.param(case.name, pdf, id=f"{case.name}-{pdf.removesuffix('.pdf')}")
    for case in sorted(CORPUS.iterdir())
    if (case / "doc.txt").exists()
    for pdf in ("doc.pdf", "doc_autonum.pdf")
    if (case / pdf).exists()
]


def paragraphs(path: Path) -> list[str]:
    out = [normalize_space(p) for p in extract(path.read_bytes(), filename=path.name).paragraphs]
    return [p for p in out if p]


#: Known, inherent differences: (case, pdf, index, TXT paragraph, PDF paragraph).
#:
#: c04's web header wraps at the space in "[ 大 中 小 ]": LibreOffice draws no space at a
#: line end and pdfium reports none, so nothing in the file says one was there (the same
#: as the seeds' 003 caption).
#:
#: c03's autonum PDF: Word numbering puts a tab after "1." and LibreOffice leaves a gap
#: of a fifth of an em, which pdfium reports as a space for "1." but not for the slightly
#: wider "2."; a typed "1. " in a justified line (seed 002) looks the same, so the space is
#: kept, as the DOCX reader prints the label and its tab as "1. ".
_C03 = "c03_city_four_levels"
_C04_HEADER = "发布时间：2024-07-15 10:32来源：重庆市南岸区教育委员会 字号：[ 大 {} ] 浏览次数：326"
EXCEPTIONS: list[tuple[str, str, int, str, str]] = [
    (
        "c04_proposal_reply_web",
        "doc.pdf",
        2,
        _C04_HEADER.format("中 小"),
        _C04_HEADER.format("中小"),
    ),
    *[
        (_C03, "doc_autonum.pdf", idx, f"1.{text}", f"1. {text}")
        for idx, text in [
            (
                6,
                "建设集约化政务云平台。整合各部门分散建设的机房和服务器资源，2025年底前市级部门非涉密业务系统上云率达到95%以上。（责任单位：市大数据中心）",
            ),
            (
                12,
                "深化“一件事一次办”。围绕企业和群众全生命周期，2025年底前推出高频“一件事”套餐40个。（责任单位：市政务服务管理局）",
            ),
            (
                17,
                "建设城市运行管理服务平台。接入城管、交通、应急等部门物联感知设备，到2027年，感知设备接入数量突破10万个。（责任单位：市住房城乡建设局、市大数据中心）",
            ),
        ]
    ],
]


def expected(case: str, pdf: str) -> list[str]:
    out = paragraphs(CORPUS / case / "doc.txt")
    for ex_case, ex_pdf, idx, txt, other in EXCEPTIONS:
        if (ex_case, ex_pdf) == (case, pdf):
            assert out[idx] == txt, "the documented exception no longer matches the TXT"
            out[idx] = other
    return out


def test_txt_reader_keeps_every_line() -> None:
    """The truth is the TXT's non-empty stripped lines; the TXT reader must not merge them."""
    for case in sorted(CORPUS.iterdir()):
        if (case / "doc.txt").exists():
            lines = [ln for ln in (case / "doc.txt").read_text("utf-8").splitlines() if ln.strip()]
            assert len(paragraphs(case / "doc.txt")) == len(lines), case.name


@pytest.mark.parametrize(("case", "pdf"), CASES)
def test_pdf_paragraphs_equal_txt(case: str, pdf: str) -> None:
    want = expected(case, pdf)
    got = paragraphs(CORPUS / case / pdf)
    for i, (a, b) in enumerate(zip(want, got, strict=False)):
        assert b == a, f"paragraph {i} differs"
    assert len(got) == len(want)


def test_every_case_with_a_pdf_is_covered() -> None:
    assert len(CASES) >= 18
    assert {c.values[0] for c in CASES} >= {
        "c01_district_action_notice",
        "c04_proposal_reply_web",
        "c05_suggestion_reply_npc",
        "c07_joint_notice_unseparated",
        "c10_plan_two_line_units",
        "c11_reply_a_class_joint_proposers",
        "c13_notice_wrapped_header",
    }
