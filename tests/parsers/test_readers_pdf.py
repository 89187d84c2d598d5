"""PDF paragraph rebuilding from line geometry (synthetic lines) and the real reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.readers.pdf import read_pdf
from parsers.readers.pdf_layout import Line, build_paragraphs, leading_run_em

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"

EM = 16.0
LEFT, RIGHT = 90.0, 522.0
PITCH = 26.0


class Page:
    """Lays out lines top-down like a word processor: full lines reach the right margin."""

    def __init__(self, number: int, top: float = 700.0) -> None:
        self.number = number
        self.y = top
        self.lines: list[Line] = []

    def add(
        self,
        text: str,
        *,
        indent: float = 0.0,
        full: bool = False,
        centred: bool = False,
        y: float | None = None,
        gap: float = 0.0,
    ) -> Page:
        width = len(text) * EM
        if centred:
            x0 = LEFT + (RIGHT - LEFT - width) / 2
        else:
            x0 = LEFT + indent * EM
        x1 = RIGHT if full else x0 + width
        if y is None:
            self.y -= PITCH + gap
            y = self.y
        self.lines.append(Line(text, self.number, x0, x1, y, y + EM, em=EM, cjk_start=True))
        return self


def body_page(n: int, *lines: tuple[str, dict[str, object]]) -> Page:
    page = Page(n)
    for text, kw in lines:
        page.add(text, **kw)  # type: ignore[arg-type]
    return page


def test_wrapped_lines_join_and_paragraph_ends() -> None:
    page = Page(0)
    page.add("为贯彻落实习近平总书记关于做强做优做大我国数字", indent=2, full=True)
    page.add("经济的重要论述，全面融入成渝地区双城经济圈建设", full=True)
    page.add("制定本行动计划。")
    page.add("立足永川数字文创产业基础，抢抓元宇宙发展新机", indent=2, full=True)
    page.add("遇。")
    assert build_paragraphs([page.lines]) == [
        "为贯彻落实习近平总书记关于做强做优做大我国数字经济的重要论述，全面融入成渝地区双城经济圈建设制定本行动计划。",
        "立足永川数字文创产业基础，抢抓元宇宙发展新机遇。",
    ]


def test_numbered_items_start_paragraphs_even_after_full_lines() -> None:
    page = Page(0)
    page.add("（一）发展思路发展思路发展思路发展思路发展思路", full=True)
    page.add("1. 做强算力赛道。加快构建城市算力架构", full=True)
    page.add("1、基本情况基本情况基本情况", full=True)
    page.add("①数字资产库", full=True)
    page.add("一、总体要求")
    paragraphs = build_paragraphs([page.lines])
    assert [p[:3] for p in paragraphs] == ["（一）", "1. ", "1、基", "①数字", "一、总"]


def test_enumerated_yi_shi_only_after_sentence_end() -> None:
    page = Page(0)
    page.add("下一步，我局将重点做好以下工作：", full=True)
    page.add("一是推动标志性场景建设，支持市民服务中心开放", full=True)
    page.add("应用场景；二是引进一批高精尖人才，支持元宇宙企", full=True)
    page.add("业发展，统", full=True)
    page.add("一是非题。")
    assert build_paragraphs([page.lines]) == [
        "下一步，我局将重点做好以下工作：",
        "一是推动标志性场景建设，支持市民服务中心开放应用场景；二是引进一批高精尖人才，支持元宇宙企业发展，统一是非题。",
    ]


def test_centred_title_lines_stay_apart_but_centred_paragraph_wraps() -> None:
    page = Page(0)
    page.add("关于印发重庆市永川区元宇宙产业发展", centred=True)
    page.add("三年行动计划的通知", centred=True)
    page.add("为贯彻党中央国务院关于发展数字经济的决策部署", full=True)
    page.add("特制定本行动计划。", centred=True)
    page.add("立足渝北实际，抢抓数字经济和元宇宙发展新机遇，", indent=2, full=True)
    page.add("打造元宇宙先导试验区和元宇宙生态产业园，构建", full=True)
    page.add("元宇宙治理与产业发展体系。")
    assert build_paragraphs([page.lines])[:3] == [
        "关于印发重庆市永川区元宇宙产业发展",
        "三年行动计划的通知",
        "为贯彻党中央国务院关于发展数字经济的决策部署特制定本行动计划。",
    ]


def test_vertical_gap_separates_paragraphs() -> None:
    page = Page(0)
    for _ in range(3):
        page.add("正文正文正文正文正文正文正文正文正文正文正文", full=True)
    page.add("具有进军元宇宙的技术优势和产业基础", gap=12.0)
    assert len(build_paragraphs([page.lines])) == 2


@pytest.mark.parametrize("number", ["— 3 —", "- 3 -", "3", "第3页", "3/10", "第 3 页 共 10 页"])
def test_page_numbers_removed_and_paragraph_rejoined(number: str) -> None:
    one = Page(0)
    one.add("力争到2025年，将永川打造成为以数字内容制作为特色", indent=2, full=True)
    one.add("的全国知名、西部领先的元宇宙应用示范城市。元宇宙", full=True)
    one.add(number, centred=True, y=40.0)
    two = Page(1)
    two.add("产业园区成熟运营。")
    assert build_paragraphs([one.lines, two.lines]) == [
        "力争到2025年，将永川打造成为以数字内容制作为特色的全国知名、西部领先的元宇宙应用示范城市。元宇宙产业园区成熟运营。"
    ]


def test_running_header_and_footer_removed() -> None:
    pages = []
    for n in range(4):
        page = Page(n)
        page.add("重庆市永川区人民政府行政规范性文件", centred=True, y=760.0)
        page.add(f"第{n + 1}段正文内容。全面融入成渝地区双城经济圈建设", indent=2, full=True)
        page.add("布局抢占元宇宙新赛道。")
        page.add(f"— {n + 1} —", centred=True, y=40.0)
        pages.append(page.lines)
    assert build_paragraphs(pages) == [
        f"第{n}段正文内容。全面融入成渝地区双城经济圈建设布局抢占元宇宙新赛道。"
        for n in range(1, 5)
    ]


def test_header_text_in_the_body_is_kept() -> None:
    """Only lines at the same place on most pages are furniture, not repeated text."""
    pages = []
    for n in range(3):
        page = Page(n)
        page.add(f"第{n + 1}章的标题", centred=True)
        pages.append(page.lines)
    pages[1][0].bottom -= 300
    assert len(build_paragraphs(pages)) == 3


@pytest.mark.parametrize(
    ("text", "ems"),
    [("位：", 2.0), ("研、用", 2.0), ("宙“新赛道”", 3.0), ("IPv6）规模化", 3.2), ("数字", 1.0)],
)
def test_leading_run(text: str, ems: float) -> None:
    assert leading_run_em(text) == pytest.approx(ems)


def test_real_pdf_joins_across_pages_and_fixes_spacing() -> None:
    paragraphs = read_pdf((SEEDS / "004_2276e3ffef9e3d8c.pdf").read_bytes()).paragraphs
    text = "\n".join(paragraphs)
    assert "2022年1月24日" in text
    assert "第343号" in text
    assert not any(p.startswith(("—", "- ")) for p in paragraphs)


def ruled_table_pdf() -> bytes:
    """One page: a sentence, a 3x4 ruled table (Helvetica), a closing sentence."""
    from tests.parsers.test_bad_input import build_pdf

    ops = []

    def text(x: float, y: float, s: str) -> None:
        ops.append(f"BT /F1 12 Tf {x} {y} Td ({s}) Tj ET")

    text(72, 720, "The tasks below are assigned to the units named in the table.")
    xs = [72, 160, 380, 540]
    ys = [660, 636, 612, 588, 564]
    ops += [f"{xs[0]} {y} m {xs[-1]} {y} l S" for y in ys]
    ops += [f"{x} {ys[0]} m {x} {ys[-1]} l S" for x in xs]
    rows = [
        ["No.", "Task", "Owner"],
        ["1", "Build the computing platform", "City Data Bureau"],
        ["2", "Train 2000 engineers", "Human Resources"],
        ["3", "Open 10 scenes", "Commerce Bureau"],
    ]
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            text(xs[c] + 4, ys[r] - 17, cell)
    text(72, 520, "Closing paragraph after the table.")
    content = "\n".join(ops).encode()
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def test_ruled_table_rows_become_tab_separated_paragraphs() -> None:
    assert read_pdf(ruled_table_pdf()).paragraphs == [
        "The tasks below are assigned to the units named in the table.",
        "No.\tTask\tOwner",
        "1\tBuild the computing platform\tCity Data Bureau",
        "2\tTrain 2000 engineers\tHuman Resources",
        "3\tOpen 10 scenes\tCommerce Bureau",
        "Closing paragraph after the table.",
    ]


def test_seed_pages_do_not_go_through_pdfplumber() -> None:
    """pdfplumber is ~30x slower: no page of the (table-less) seeds may trigger it."""
    import pypdfium2 as pdfium

    from parsers.readers.pdf import _page_lines
    from parsers.readers.pdf_tables import candidate_pages

    for path in sorted(SEEDS.glob("*.pdf")):
        doc = pdfium.PdfDocument(path.read_bytes())
        pages = []
        for i in range(len(doc)):
            page = doc[i]
            pages.append(_page_lines(page.get_textpage(), i))
        assert candidate_pages(pages) == [], path.name
        doc.close()
