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
        right: bool = False,
        y: float | None = None,
        gap: float = 0.0,
    ) -> Page:
        width = len(text) * EM
        if centred:
            x0 = LEFT + (RIGHT - LEFT - width) / 2
        elif right:
            x0 = RIGHT - width
        else:
            x0 = LEFT + indent * EM
        x1 = RIGHT if full or right else x0 + width
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


def test_right_aligned_signature_and_date_are_paragraphs_of_their_own() -> None:
    """They reach the right margin, so "ended short" cannot end them (c01, c04, c07)."""
    page = Page(0)
    page.add("经区政府同意，现将实施方案印发给你们，请认真组织", indent=2, full=True)
    page.add("实施，抓好贯彻落实工作，确保各项任务落到实处。", full=True)
    page.add("重庆市璧山区人民政府办公室", right=True)
    page.add("2024年5月20日", right=True)
    page.add("（此件公开发布）")
    page.add("2024年5月21日", right=True)
    page.add("重庆市中小企业数字化转型试点工作方案", centred=True)
    assert build_paragraphs([page.lines]) == [
        "经区政府同意，现将实施方案印发给你们，请认真组织实施，抓好贯彻落实工作，确保各项任务落到实处。",
        "重庆市璧山区人民政府办公室",
        "2024年5月20日",
        "（此件公开发布）",
        "2024年5月21日",
        "重庆市中小企业数字化转型试点工作方案",
    ]


def test_indented_block_reaching_the_margin_still_wraps() -> None:
    """A wide block indented a little is not "right-aligned": its lines join."""
    page = Page(0)
    page.add("引文引文引文引文引文引文引文引文引文引文引文", indent=3, full=True)
    page.add("引文引文引文引文引文引文引文引文引文引文引文", indent=3, full=True)
    page.add("引文结束。", indent=3)
    assert len(build_paragraphs([page.lines])) == 1


def test_space_between_paragraphs_splits_when_most_breaks_are_paragraphs() -> None:
    """With more paragraph breaks than wrapped lines the median distance is the paragraph
    spacing; the line pitch is the smallest distance lines share."""
    page = Page(0)
    for n in range(5):
        page.add(f"第{n}项正文正文正文正文正文正文正文正文正文正文正文", full=True, gap=10.0)
    for n in range(2):
        page.add(f"第{n}段正文正文正文正文正文正文正文正文正文正文正文", full=True, gap=10.0)
        page.add("结尾正文正文正文正文正文正文正文正文正文正文正文", full=True)
    paragraphs = build_paragraphs([page.lines])
    assert len(paragraphs) == 7
    assert paragraphs[-1].endswith("正文结尾正文正文正文正文正文正文正文正文正文正文正文")


def test_body_left_edge_is_where_wrapped_lines_start() -> None:
    """Short indented paragraphs outnumber wrapped lines; the indent is still an indent
    (c12: a last line ending just short of the margin, then an indented paragraph)."""
    page = Page(0)
    for _ in range(4):
        page.add("短段落正文。", indent=2)
    page.add("下一步，我委将重点做好三方面工作：一是扩大种", indent=2, full=True)
    page.add("植规模；二是培育农业龙头企业，新培育市级以上茶叶", full=True)
    page.add("龙头企业；三是加强品牌建设，提升品牌影响力。" + "正" * 3)
    page.add("再次感谢您对农业农村工作的关心和支持。", indent=2)
    paragraphs = build_paragraphs([page.lines])
    assert paragraphs[-1] == "再次感谢您对农业农村工作的关心和支持。"
    assert len(paragraphs) == 6


def test_line_stretched_before_a_line_break_ends_its_paragraph() -> None:
    """A justified line ending in a manual break is stretched to the margin (c10)."""
    page = Page(0)
    page.add("牵 头 单 位 ： 区 文 化 旅 游 委", indent=2, full=True)
    page.add("配合单位：区委宣传部、区非遗保护中心")
    assert build_paragraphs([page.lines]) == [
        "牵头单位：区文化旅游委",
        "配合单位：区委宣传部、区非遗保护中心",
    ]


def test_letter_spaced_full_line_loses_its_spaces_and_wraps() -> None:
    """Expanded character spacing (c13): pdfium's spaces go, the paragraph goes on."""
    page = Page(0)
    text = "（二）" + " ".join("推广高效节能装备。推动电机、变压器等重点用能改")
    page.add(text, indent=2, full=True)
    page.add("造，2025年底前高效节能电机占比达到70%以上。")
    assert build_paragraphs([page.lines]) == [
        "（二）推广高效节能装备。推动电机、变压器等重点用能改造，2025年底前高效节能电机占比达到70%以上。"
    ]


def test_spaced_title_short_of_the_margin_keeps_its_spaces() -> None:
    page = Page(0)
    page.add("复 函 通 知", centred=True)
    page.add("正文正文正文正文正文正文正文正文正文正文正文", indent=2, full=True)
    page.add("正文正文正文正文正文正文正文正文正文正文正文", full=True)
    page.add("正文。")
    assert build_paragraphs([page.lines])[0] == "复 函 通 知"


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
    # Sentences that run from the foot of page 1 (and page 2) onto the next page: one
    # paragraph each, joined without a break or a page number in between.
    assert "打造一批高端研发机构、培育一批优质企业" in text
    assert "联合潘毅、徐匡一等六位外籍院士，北京大学" in text
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

    from parsers.readers.pdf_tables import is_ruled

    for path in sorted(SEEDS.glob("*.pdf")):
        doc = pdfium.PdfDocument(path.read_bytes())
        assert not any(is_ruled(doc[i]) for i in range(len(doc))), path.name
        doc.close()
