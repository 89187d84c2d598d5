"""sources.toml loading and listing/attachment discovery on typical government layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.sources import (
    SourceConfig,
    SourcesError,
    find_attachments,
    load_sources,
    parse_listing,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "flows" / "data" / "sources.example.toml"
BASE = "http://www.district.gov.cn/xxgk/tzgg/index.html"
CONFIG = SourceConfig(name="t", url=BASE)


# -- sources.toml ------------------------------------------------------------------------------


def test_example_file_loads() -> None:
    sources = load_sources(EXAMPLE)
    by_name = {s.name: s for s in sources}
    assert len(sources) == 4
    assert by_name["oldsite-tzgg"].encoding == "gb18030"
    assert by_name["oldsite-tzgg"].max_pages == 3  # entry beats [defaults]
    assert by_name["city-zcwj"].max_pages == 2  # from [defaults]
    assert by_name["example-custom"].link_selector == "div.news-list .item h3 > a"
    assert all(s.schedule for s in sources)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_entry_gets_defaults(tmp_path: Path) -> None:
    (source,) = load_sources(
        write(tmp_path, '[[sources]]\nname = "a"\nurl = "https://a.gov.cn/"\n')
    )
    assert source.max_pages == 3
    assert source.attachments == ("pdf", "doc", "docx", "wps", "ofd")
    assert source.domains == ("a.gov.cn",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[sources]]\nname = "a"\n', r"#1 'a': missing required key 'url'"),
        ('[[sources]]\nname = "a"\nurl = "ftp://a.gov.cn/"\n', "http"),
        (
            '[[sources]]\nname = "a"\nurl = "http://a.gov.cn/"\nlink_selecter = "a"\n',
            "unknown key.*link_selecter",
        ),
        (
            '[[sources]]\nname = "a"\nurl = "http://a.gov.cn/"\n'
            '[[sources]]\nname = "a"\nurl = "http://b.gov.cn/"\n',
            "#2 'a': duplicate name",
        ),
        ('[[sources]]\nname = "a"\nurl = "http://a.gov.cn/"\nschedule = "daily"\n', "cron"),
        ('[[sources]]\nname = "a"\nurl = "http://a.gov.cn/"\nmax_pages = 0\n', "max_pages"),
        ('[[sources]]\nname = "a"\nurl = "http://a.gov.cn/"\nencoding = "klingon"\n', "encoding"),
        ('[[sources]]\nname = "a"\nurl = "http://a.gov.cn/"\nlink_selector = "a[["\n', "CSS"),
        (
            '[[sources]]\nname = "a"\nurl = "http://a.gov.cn/"\nallowed_domains = "a.gov.cn"\n',
            "list",
        ),
        ("[[sources]\n", "invalid TOML"),
        ('[source]\nname = "a"\n', "unknown top-level"),
    ],
)
def test_errors_name_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SourcesError, match=message) as caught:
        load_sources(path)
    assert str(caught.value).startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="no such sources file"):
        load_sources(tmp_path / "nope.toml")


def test_allowed_domains_include_subdomains() -> None:
    config = SourceConfig(name="t", url=BASE, allowed_domains=("district.gov.cn",))
    assert config.allows("https://files.district.gov.cn/a.pdf")
    assert not config.allows("http://evildistrict.gov.cn/")
    assert not config.allows("javascript:void(0)")


# -- listings ----------------------------------------------------------------------------------

TRS_LISTING = """
<html><body>
<div class="header"><ul class="nav">
  <li><a href="/">首页</a></li><li><a href="/xxgk/">政府信息公开</a></li>
  <li><a href="/xxgk/tzgg/t20230101_1.html">置顶：新年致辞</a><span>2023-01-01</span></li>
</ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/xxgk/">信息公开</a></div>
<div class="main">
 <ul class="list">
  <li><a href="./202306/t20230601_1300001.html" title="关于印发成都市元宇宙产业发展行动方案（2022—2025年）（修订版）的通知">关于印发成都市元宇宙产业发展行动方案…</a><span>2023-06-01</span></li>
  <li><span class="date">[05-05]</span><a href="../zcwj/202305/t20230505_1204343.html">关于区政协十六届二次会议提案第343号的复函</a></li>
  <li><a href="http://www.district.gov.cn/xxgk/tzgg/202301/t20230110_1187001.html">永川提前布局元宇宙产业</a> 2023年1月10日</li>
  <li><a href="javascript:void(0)">不可点击的链接</a><span>2023-01-09</span></li>
  <li><a href="mailto:a@b.cn">写信给我们</a><span>2023-01-08</span></li>
  <li><a href="https://www.gov.cn/zhengce/content/2023-01/07/content_1.htm">国务院文件（外站）</a><span>2023-01-07</span></li>
  <li><a href="index.html">更多</a><span>2023-01-06</span></li>
 </ul>
 <div class="page"><a href="index.html">首页</a><a href="index.html">上一页</a><a href="index_1.html">1</a>
   <a href="index_2.html">下一页</a><a href="index_4.html">尾页</a></div>
</div>
<div class="footer"><ul><li><a href="/about.html">关于我们</a><span>2020-01-01</span></li></ul></div>
</body></html>
"""


def test_trs_listing_default_discovery() -> None:
    items, next_url = parse_listing(TRS_LISTING, BASE, CONFIG)
    assert [(i.url, i.title, i.date) for i in items] == [
        (
            "http://www.district.gov.cn/xxgk/tzgg/202306/t20230601_1300001.html",
            "关于印发成都市元宇宙产业发展行动方案（2022—2025年）（修订版）的通知",
            "2023-06-01",
        ),
        (
            "http://www.district.gov.cn/xxgk/zcwj/202305/t20230505_1204343.html",
            "关于区政协十六届二次会议提案第343号的复函",
            "2023-05-05",  # [05-05] with the year from the TRS URL
        ),
        (
            "http://www.district.gov.cn/xxgk/tzgg/202301/t20230110_1187001.html",
            "永川提前布局元宇宙产业",
            "2023-01-10",
        ),
    ]
    assert next_url == "http://www.district.gov.cn/xxgk/tzgg/index_2.html"


def test_allowed_domains_admit_other_hosts() -> None:
    config = SourceConfig(name="t", url=BASE, allowed_domains=("district.gov.cn", "gov.cn"))
    items, _ = parse_listing(TRS_LISTING, BASE, config)
    assert any(i.url.startswith("https://www.gov.cn/") for i in items)


XXGK_TABLE = """
<html><body>
<table class="xxgk-table">
 <tr><th>序号</th><th>索引号</th><th>名称</th><th>文号</th><th>发布日期</th></tr>
 <tr><td>1</td><td>11500112MB1525384X/2023-00343</td>
     <td><a href="/zwgk/zfxxgkml/202305/t20230505_1204343.html" target="_blank">重庆市渝北区大数据应用发展管理局关于区政协十六届二次会议提案第343号的复函</a></td>
     <td>渝北大数据函〔2023〕25号</td><td>2023-05-05</td></tr>
 <tr><td>2</td><td>11500112MB1525384X/2022-01150</td>
     <td><a href="/zwgk/zfxxgkml/202210/t20221012_1150221.html">重庆市渝北区元宇宙产业创新发展行动计划（2022—2024年）</a></td>
     <td></td><td>2022/10/12</td></tr>
</table>
<div id="page_div"></div>
<script>var countPage = 3; var currentPage = 0;
createPageHTML('page_div', countPage, 1, "index", "shtml", 52);</script>
</body></html>
"""


def test_xxgk_directory_table() -> None:
    base = "http://www.district.gov.cn/zwgk/zfxxgkml/index.shtml"
    items, next_url = parse_listing(XXGK_TABLE, base, SourceConfig(name="t", url=base))
    assert [(i.title[-4:], i.date) for i in items] == [
        ("号的复函", "2023-05-05"),
        ("24年）", "2022-10-12"),
    ]
    assert next_url == "http://www.district.gov.cn/zwgk/zfxxgkml/index_1.shtml"


@pytest.mark.parametrize(
    ("base", "script", "expected"),
    [
        ("http://a.gov.cn/l/index.html", 'createPageHTML(5, 0, "index", "html");', "index_1.html"),
        (
            "http://a.gov.cn/l/index_1.html",
            'createPageHTML(5, 1, "index", "html");',
            "index_2.html",
        ),
        ("http://a.gov.cn/l/index_4.html", 'createPageHTML(5, 4, "index", "html");', None),
        ("http://a.gov.cn/l/", "createPageHTML(2,0,'index','htm');", "index_1.htm"),
        ("http://a.gov.cn/l/", 'createPageHTML(1, 0, "index", "html");', None),
        (
            "http://a.gov.cn/l/index.html",
            'var n = 3; var c = 0; createPageHTML(n, c, "index", "html");',
            "index_1.html",
        ),
    ],
)
def test_trs_pager_script(base: str, script: str, expected: str | None) -> None:
    html = f"<html><body><ul></ul><script>{script}</script></body></html>"
    _, next_url = parse_listing(html, base, SourceConfig(name="t", url=base))
    assert next_url == (None if expected is None else "http://a.gov.cn/l/" + expected)


def test_pager_function_definition_is_not_a_call() -> None:
    html = "<script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){}</script>"
    assert parse_listing(html, BASE, CONFIG) == ([], None)


def test_custom_selectors() -> None:
    html = """
    <div class="news-list">
      <div class="item"><h3><a href="/a/1.shtml">第一篇文件标题</a></h3><p>摘要</p></div>
      <div class="item"><h3><a href="/a/2.shtml">第二篇文件标题</a></h3><em>2023-02-02</em></div>
    </div>
    <ul><li><a href="/other.html">不要的链接</a><span>2023-01-01</span></li></ul>
    <div class="pager"><a class="prev" href="/list_0.shtml">前</a><a class="next" href="/list_2.shtml">后</a></div>
    """
    config = SourceConfig(
        name="t",
        url="http://a.gov.cn/list_1.shtml",
        link_selector="div.news-list .item h3 > a",
        next_selector="div.pager a.next",
    )
    items, next_url = parse_listing(html, config.url, config)
    assert [i.url for i in items] == ["http://a.gov.cn/a/1.shtml", "http://a.gov.cn/a/2.shtml"]
    assert next_url == "http://a.gov.cn/list_2.shtml"


def test_listing_without_dates_takes_the_main_list() -> None:
    html = """
    <ul class="menu"><li><a href="/a">机构</a></li><li><a href="/b">政务</a></li></ul>
    <ul class="news">
      <li><a href="/d/1.html">关于开展2023年度重点任务督查的通知</a></li>
      <li><a href="/d/2.html">关于印发数字经济发展行动方案的通知</a></li>
      <li><a href="/d/3.html">关于区政协提案办理情况的复函（第12号）</a></li>
    </ul>
    <a href="/d/list_2.html">下一页</a>
    """
    items, next_url = parse_listing(html, "http://a.gov.cn/d/list.html", CONFIG_A)
    assert [i.url.rsplit("/", 1)[1] for i in items] == ["1.html", "2.html", "3.html"]
    assert all(i.date is None for i in items)
    assert next_url == "http://a.gov.cn/d/list_2.html"


CONFIG_A = SourceConfig(name="a", url="http://a.gov.cn/d/list.html")


def test_page_wrapper_class_does_not_hide_the_list() -> None:
    """A site wrapping everything in <div class="page"> still yields its items."""
    html = """<div class="page"><ul>
      <li><a href="/d/1.html">关于印发行动方案的通知</a><span>2023-03-01</span></li>
    </ul></div>"""
    items, _ = parse_listing(html, "http://a.gov.cn/d/list.html", CONFIG_A)
    assert [i.date for i in items] == ["2023-03-01"]


# -- attachments -------------------------------------------------------------------------------


def test_find_attachments() -> None:
    html = """
    <div class="TRS_Editor"><p>正文……</p></div>
    <div class="attachments">附件：
      <p><a href="./P020230601512345678901.pdf">成都市元宇宙产业发展行动方案（修订版）.pdf</a></p>
      <p><a href="/attach/download?id=77">附件2：责任分工表.docx</a></p>
      <p><a href="P020230601000000000002.OFD">附件3</a></p>
      <p><a href="./P020230601512345678901.pdf#page=2">（重复）</a></p>
      <p><a href="https://cdn.elsewhere.com/x.pdf">外站文件.pdf</a></p>
      <p><a href="./photo.jpg">图片</a></p>
    </div>
    <iframe src="/viewer/P0202306.pdf"></iframe>
    """
    base = "http://www.district.gov.cn/xxgk/tzgg/202306/t20230601_1300001.html"
    found = find_attachments(html, base, CONFIG)
    assert found == [
        (
            "http://www.district.gov.cn/xxgk/tzgg/202306/P020230601512345678901.pdf",
            "成都市元宇宙产业发展行动方案（修订版）.pdf",
        ),
        ("http://www.district.gov.cn/attach/download?id=77", "附件2：责任分工表.docx"),
        ("http://www.district.gov.cn/xxgk/tzgg/202306/P020230601000000000002.OFD", "附件3"),
        ("http://www.district.gov.cn/viewer/P0202306.pdf", "P0202306.pdf"),
    ]


def test_attachment_types_are_configurable() -> None:
    html = '<a href="a.pdf">甲</a><a href="b.xlsx">乙</a>'
    config = SourceConfig(name="t", url=BASE, attachments=("xlsx",))
    assert [t for _, t in find_attachments(html, BASE, config)] == ["乙"]
