"""DOCX reader: document order, tables, tracked changes, and Word automatic numbering."""

from __future__ import annotations

import io
import zipfile

import pytest

from parsers.errors import EncryptedDocument, ResourceLimitExceeded
from parsers.readers.docx import ZipLimits, check_zip, read_docx
from parsers.readers.docx_numbering import format_number

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_DOC_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/numbering" Target="numbering.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>'
)


def make_docx(
    body: str, numbering: str = "", styles: str = "", extra: dict[str, bytes] | None = None
) -> bytes:
    """A minimal DOCX package around ``body`` (the inside of <w:body>)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/_rels/document.xml.rels", _DOC_RELS)
        zf.writestr(
            "word/document.xml",
            f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>',
        )
        zf.writestr(
            "word/numbering.xml", f'<w:numbering xmlns:w="{W_NS}">{numbering}</w:numbering>'
        )
        zf.writestr("word/styles.xml", f'<w:styles xmlns:w="{W_NS}">{styles}</w:styles>')
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def p(text: str, num: tuple[int, int] | None = None, style: str | None = None) -> str:
    ppr = ""
    if num or style:
        inner = f'<w:pStyle w:val="{style}"/>' if style else ""
        if num:
            inner += f'<w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>'
        ppr = f"<w:pPr>{inner}</w:pPr>"
    return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def lvl(ilvl: int, fmt: str, text: str, start: int = 1, suff: str = "", extra: str = "") -> str:
    s = f'<w:suff w:val="{suff}"/>' if suff else ""
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
        f'{extra}<w:lvlText w:val="{text}"/>{s}</w:lvl>'
    )


def numbering(levels: str, num_ids: dict[int, str] | None = None, aid: int = 0) -> str:
    nums = num_ids or {1: ""}
    return f'<w:abstractNum w:abstractNumId="{aid}">{levels}</w:abstractNum>' + "".join(
        f'<w:num w:numId="{n}"><w:abstractNumId w:val="{aid}"/>{ov}</w:num>'
        for n, ov in nums.items()
    )


def test_multilevel_chinese_numbering_with_reset() -> None:
    levels = (
        lvl(0, "chineseCounting", "%1、", suff="nothing")
        + lvl(1, "chineseCounting", "（%2）", suff="nothing")
        + lvl(2, "decimal", "%3.")
    )
    body = "".join(
        [
            p("总体要求", (1, 0)),
            p("发展思路", (1, 1)),
            p("发展目标", (1, 1)),
            p("重点任务", (1, 0)),
            p("做强赛道", (1, 1)),
            p("做强算力赛道。", (1, 2)),
            p("做强工业软件赛道。", (1, 2)),
            p("攻关技术", (1, 1)),
            p("攻关交互技术。", (1, 2)),
        ]
    )
    got = read_docx(make_docx(body, numbering(levels))).paragraphs
    assert got == [
        "一、总体要求",
        "（一）发展思路",
        "（二）发展目标",
        "二、重点任务",
        "（一）做强赛道",
        "1. 做强算力赛道。",
        "2. 做强工业软件赛道。",
        "（二）攻关技术",
        "1. 攻关交互技术。",
    ]


def test_numbering_from_paragraph_style_and_start_override() -> None:
    levels = lvl(0, "decimal", "第%1条", suff="space") + lvl(1, "decimalEnclosedCircle", "%2")
    styles = (
        '<w:style w:type="paragraph" w:styleId="Article"><w:pPr><w:numPr>'
        '<w:numId w:val="1"/></w:numPr></w:pPr></w:style>'
        '<w:style w:type="paragraph" w:styleId="Article2"><w:basedOn w:val="Article"/></w:style>'
    )
    overrides = {1: "", 2: '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride>'}
    body = "".join(
        [
            p("总则", style="Article"),
            p("适用范围", style="Article2"),
            p("要点", (1, 1)),
            p("续编", (2, 0)),
            p("再续", (2, 0)),
            p("不编号", (0, 0)),
        ]
    )
    got = read_docx(make_docx(body, numbering(levels, overrides), styles)).paragraphs
    assert got == ["第1条总则", "第2条适用范围", "①要点", "第5条续编", "第6条再续", "不编号"]


def test_lvl_restart() -> None:
    """Level 3 with lvlRestart=1 keeps counting across level-2 items, restarts at level 1."""
    levels = (
        lvl(0, "chineseCounting", "%1、", suff="nothing")
        + lvl(1, "chineseCounting", "（%2）", suff="nothing")
        + lvl(2, "decimal", "%3.", extra='<w:lvlRestart w:val="1"/>')
    )
    body = "".join(
        [
            p("重点任务", (1, 0)),
            p("做强赛道", (1, 1)),
            p("算力", (1, 2)),
            p("攻关技术", (1, 1)),
            p("交互", (1, 2)),
            p("保障措施", (1, 0)),
            p("组织", (1, 2)),
        ]
    )
    got = read_docx(make_docx(body, numbering(levels))).paragraphs
    assert got == [
        "一、重点任务",
        "（一）做强赛道",
        "1. 算力",
        "（二）攻关技术",
        "2. 交互",
        "二、保障措施",
        "1. 组织",
    ]


def test_bullets_and_letters() -> None:
    bullets = numbering(lvl(0, "bullet", "\uf0b7"), {1: ""}, aid=0)
    letters = numbering(lvl(0, "upperLetter", "%1)", start=1), {2: ""}, aid=1)
    body = p("圆点项", (1, 0)) + p("甲项", (2, 0)) + p("乙项", (2, 0))
    got = read_docx(make_docx(body, bullets + letters)).paragraphs
    assert got == ["圆点项", "A) 甲项", "B) 乙项"]


@pytest.mark.parametrize(
    ("n", "fmt", "want"),
    [
        (1, "chineseCounting", "一"),
        (10, "chineseCounting", "十"),
        (12, "chineseCountingThousand", "十二"),
        (20, "chineseCounting", "二十"),
        (105, "chineseCountingThousand", "一百零五"),
        (3, "ideographTraditional", "丙"),
        (3, "decimalEnclosedCircle", "③"),
        (28, "lowerLetter", "bb"),
        (4, "upperRoman", "IV"),
        (7, "decimalZero", "07"),
        (2, "chineseLegalSimplified", "贰"),
        (3, "unknownFormat", "3"),
    ],
)
def test_format_number(n: int, fmt: str, want: str) -> None:
    assert format_number(n, fmt) == want


def test_tables_in_document_order_and_merged_cells() -> None:
    def tc(text: str, vmerge: str | None = None, span: int = 1) -> str:
        pr = ""
        if vmerge is not None or span > 1:
            vm = (
                (f'<w:vMerge w:val="{vmerge}"/>' if vmerge else "<w:vMerge/>")
                if vmerge is not None
                else ""
            )
            gs = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            pr = f"<w:tcPr>{gs}{vm}</w:tcPr>"
        return f"<w:tc>{pr}{p(text)}</w:tc>"

    table = (
        "<w:tbl>"
        f"<w:tr>{tc('序号')}{tc('任务')}{tc('责任单位')}</w:tr>"
        f"<w:tr>{tc('1')}{tc('做强算力', vmerge='restart')}{tc('市经信局')}</w:tr>"
        f"<w:tr>{tc('2')}{tc('', vmerge='')}{tc('市科技局')}</w:tr>"
        f"<w:tr>{tc('合计：两项', span=3)}</w:tr>"
        "</w:tbl>"
    )
    body = p("表前段落") + table + p("表后段落")
    got = read_docx(make_docx(body)).paragraphs
    assert got == [
        "表前段落",
        "序号\t任务\t责任单位",
        "1\t做强算力\t市经信局",
        "2\t市科技局",
        "合计：两项",
        "表后段落",
    ]


def test_one_cell_layout_table_keeps_its_paragraphs() -> None:
    framed = "<w:tbl><w:tr><w:tc>" + p("第一段。") + p("第二段。") + "</w:tc></w:tr></w:tbl>"
    data = (
        "<w:tbl><w:tr><w:tc>"
        + p("单位")
        + p("名称")
        + "</w:tc><w:tc>"
        + p("市经信局")
        + "</w:tc></w:tr></w:tbl>"
    )
    assert read_docx(make_docx(framed + data)).paragraphs == [
        "第一段。",
        "第二段。",
        "单位 名称\t市经信局",
    ]


def test_tracked_changes_breaks_hidden_text_and_fields() -> None:
    body = (
        "<w:p><w:r><w:t>到2025年达到</w:t></w:r>"
        '<w:del w:id="1" w:author="x"><w:r><w:delText>1500</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="x"><w:r><w:t>2000</w:t></w:r></w:ins>'
        "<w:r><w:t>亿元</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>第一行</w:t><w:br/><w:t>第二行</w:t></w:r></w:p>"
        "<w:p><w:r><w:rPr><w:vanish/></w:rPr><w:t>隐藏</w:t></w:r><w:r><w:t>可见</w:t></w:r></w:p>"
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
        "<w:sdt><w:sdtContent>" + p("内容控件") + "</w:sdtContent></w:sdt>"
        '<w:p><w:hyperlink r:id="x" xmlns:r="r"><w:r><w:t>链接文字</w:t></w:r></w:hyperlink></w:p>'
        "<w:p><w:r><w:t>   </w:t></w:r></w:p>"
    )
    got = read_docx(make_docx(body)).paragraphs
    assert got == ["到2025年达到2000亿元", "第一行", "第二行", "可见", "3", "内容控件", "链接文字"]


def test_zip_limits_are_checked_before_inflating() -> None:
    big = make_docx(p("x"), extra={"word/media/zeros.bin": bytes(8 * 1024 * 1024)})
    with zipfile.ZipFile(io.BytesIO(big)) as zf:
        with pytest.raises(ResourceLimitExceeded, match="compression ratio"):
            check_zip(zf)
        with pytest.raises(ResourceLimitExceeded, match="entries"):
            check_zip(zf, ZipLimits(max_entries=3))
        with pytest.raises(ResourceLimitExceeded, match="inflates to"):
            check_zip(zf, ZipLimits(max_entry_bytes=1024 * 1024, max_ratio=1e9))


def test_encrypted_zip_entries() -> None:
    data = bytearray(make_docx(p("x")))
    # Set the "encrypted" flag bit in every central-directory and local header.
    for sig, off in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        i = data.find(sig)
        while i >= 0:
            data[i + off] |= 0x1
            i = data.find(sig, i + 4)
    with pytest.raises(EncryptedDocument):
        read_docx(bytes(data))
