"""HTML reader: CMS article pages, charsets, the 政府信息公开 info box, attachments."""

from __future__ import annotations

import time
from pathlib import Path

from parsers.readers.html import declared_charset, read_html
from parsers.readers.html_meta import info_pairs, iso_date

HTML = Path(__file__).parents[1] / "fixtures" / "html"


def page(name: str) -> bytes:
    return (HTML / name).read_bytes()


def test_trs_utf8_meta_and_furniture() -> None:
    ex = read_html(page("trs_article_utf8.html"))
    assert ex.meta["title"] == "重庆市渝北区元宇宙产业创新发展行动计划（2022—2024年）"
    assert ex.meta["published"] == "2022-08-15"
    assert ex.meta["issuers"] == ["重庆市渝北区人民政府办公室"]
    text = "\n".join(ex.paragraphs)
    for junk in (
        "相关链接",
        "上一篇",
        "打印本页",
        "关闭窗口",
        "分享到",
        "热点信息",
        "版权所有",
        "统计",
    ):
        assert junk not in text
    assert ex.paragraphs[0].startswith("为贯彻党中央、国务院关于发展数字经济的决策部署")
    assert ex.paragraphs[-1].startswith("（四）加强宣传推广。")


def test_gb2312_without_charset_declaration() -> None:
    data = page("trs_article_gb2312.html")
    assert declared_charset(data) is None
    data.decode("gb2312")  # the fixture really is GB2312 bytes
    ex = read_html(data)
    assert ex.paragraphs[0] == "重庆市永川区人民政府"
    assert ex.paragraphs[3] == "永川府发〔2022〕22号"
    assert ex.meta["published"] == "2022-12-20"
    assert "打印本页" not in "\n".join(ex.paragraphs)


def test_info_table_goes_to_meta_not_paragraphs() -> None:
    ex = read_html(page("xxgk_info_table.html"))
    assert ex.meta["index_no"] == "11500118MB1534186N/2022-00123"
    assert ex.meta["doc_number"] == "永川府发〔2022〕22号"
    assert ex.meta["date"] == "2022-12-15"
    assert ex.meta["published"] == "2022-12-20"
    assert ex.meta["issuers"] == ["重庆市永川区人民政府"]
    assert ex.meta["title"].startswith("重庆市永川区人民政府关于印发")
    text = "\n".join(ex.paragraphs)
    assert "索引号" not in text and "主题分类" not in text and "有效性" not in text


#: A short article in the portal layout of flows/data/demo_site/templates/article.html (a TRS
#: site: the 公开 table, the title, a "发布日期：" line, then the TRS_Editor text, all inside
#: one div.article of well under 1500 characters).
SHORT_ARTICLE = """<html><head><title>示例区数字经济实施方案_示例区人民政府</title></head><body>
<div class="article">
<table class="xxgk-info">
  <tr><th>索&nbsp;引&nbsp;号：</th><td>s0/2024-00000</td><th>主题分类：</th><td>政策文件</td></tr>
  <tr><th>发布机构：</th><td>示例区人民政府</td><th>成文日期：</th><td>2024-03-01</td></tr>
  <tr><th>标&nbsp;&nbsp;题：</th><td colspan="3">示例区数字经济实施方案</td></tr>
  <tr><th>发文字号：</th><td>示府发〔2024〕1号</td><th>发布日期：</th><td>2024-03-01</td></tr>
</table>
<h1 class="title">示例区数字经济实施方案</h1>
<div class="info"><span>发布日期：2024-03-01</span><span>来源：示例区人民政府</span></div>
<div class="TRS_Editor">
<p>为推进数字经济工作，制定本方案。</p>
<p>1. 建设数字经济平台。到2025年建成10个数字经济示范点。（责任单位：区数据局）</p>
</div></div>
<div class="footer"><p>示例区人民政府办公室 主办</p></div>
</body></html>"""


def test_short_article_is_not_taken_for_the_info_box() -> None:
    """The wrapper around table, info line and text has one label more than the table;
    it must not be removed as the info box (the article text went with it)."""
    ex = read_html(SHORT_ARTICLE.encode())
    assert ex.paragraphs[0] == "为推进数字经济工作，制定本方案。"
    assert any("责任单位：区数据局" in p for p in ex.paragraphs)
    assert ex.meta["doc_number"] == "示府发〔2024〕1号"
    assert "索引号" not in "\n".join(ex.paragraphs)


def test_attachments() -> None:
    ex = read_html(page("xxgk_info_table.html"))
    assert ex.meta["attachments"] == [
        {
            "url": "./P020221220384953216743.pdf",
            "name": "永川区元宇宙产业发展三年行动计划（2023-2025年）.pdf",
            "ext": "pdf",
        },
        {"url": "/zwgk/zcwj/W020221220384953.docx", "name": "政策解读.docx", "ext": "docx"},
        {"url": "../../files/yc_2022_22.wps", "name": "附件2 重点任务分工表", "ext": "wps"},
        {"url": "download.jsp?id=88", "name": "附件3 项目清单", "ext": None},
    ]


def test_body_found_by_text_density_under_heavy_navigation() -> None:
    ex = read_html(page("proposal_reply_nav.html"))
    assert ex.paragraphs[0] == "渝北大数据函〔2023〕25号"
    assert ex.paragraphs[-1] == "（联系人：蒋薇薇，电话81924857）"
    text = "\n".join(ex.paragraphs)
    assert "常务会议" not in text and "相关文章" not in text and "栏目" not in text
    assert ex.meta["title"] == "关于区政协十六届二次会议提案第343号的复函"


def test_block_elements_and_br_break_paragraphs() -> None:
    html = (
        "<html><body><div class='TRS_Editor'>"
        "<h2>一、总体要求</h2><p>第一段<br>第二段</p><div>第三段<span>续</span></div>"
        "<ul><li>第四项</li><li>第五项</li></ul>"
        "<table><tr><th>单位</th><th>任务</th></tr><tr><td>区大数据局</td><td>建设平台</td></tr></table>"
        "<p>元宇宙\n   产业</p>"
        "<p>关闭落后产能，分享发展经验。</p><p>【打印本页】</p><p>上一篇：关于某事的通知</p>"
        "</div></body></html>"
    ).encode()
    assert read_html(html).paragraphs == [
        "一、总体要求",
        "第一段",
        "第二段",
        "第三段续",
        "第四项",
        "第五项",
        "单位\t任务",
        "区大数据局\t建设平台",
        "元宇宙产业",
        "关闭落后产能，分享发展经验。",
    ]


def test_meta_charset_and_inline_info_pairs() -> None:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        "<title>关于做好元宇宙工作的通知|某区政府</title></head><body>"
        "<div class='xxgk'><p>索引号：001/2023-1 发布机构：区经济信息委、区财政局</p>"
        "<p>发文日期：2023年3月5日 文号：某府办〔2023〕5号</p></div>"
        "<div id='zoom'><p>各街道办事处，区政府各部门：现将有关事项通知如下。</p></div>"
        "</body></html>"
    ).encode("gbk")
    ex = read_html(html)
    assert ex.meta == {
        "title": "关于做好元宇宙工作的通知",
        "index_no": "001/2023-1",
        "issuers": ["区经济信息委", "区财政局"],
        "date": "2023-03-05",
        "doc_number": "某府办〔2023〕5号",
    }
    assert ex.paragraphs == ["各街道办事处，区政府各部门：现将有关事项通知如下。"]


def test_info_pairs_label_then_value_lines() -> None:
    lines = ["索 引 号：", "115/2022-1", "成文日期", "2022-12-15", "主题分类：", "工业"]
    assert info_pairs(lines) == [("index_no", "115/2022-1"), ("date", "2022-12-15")]


def test_iso_date() -> None:
    assert iso_date("2022年12月5日") == "2022-12-05"
    assert iso_date("2022-12-20 10:30:00") == "2022-12-20"
    assert iso_date("2022/1/2") == "2022-01-02"
    assert iso_date("2022-13-40") is None
    assert iso_date("无") is None


def test_absurd_nesting_returns_quickly() -> None:
    depth = 100_000
    html = ("<html><body>" + "<div>" * depth + "深层正文" + "</div>" * depth).encode()
    start = time.monotonic()
    ex = read_html(html)
    assert time.monotonic() - start < 20
    assert ex.paragraphs == ["深层正文"]
