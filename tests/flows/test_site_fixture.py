"""The fixture government site itself: HTTP behaviour and the demo content built from seeds."""

from __future__ import annotations

import hashlib
import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.fetch import decode_html
from flows.site_fixture import (
    DEFAULT_SEEDS_DIR,
    FixtureSite,
    build_demo_site,
    publish_revision,
)
from flows.sources import SourceConfig, find_attachments, parse_listing
from tests.flows.conftest import SEEDS


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as running:
        yield running


def request(
    site: FixtureSite, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_publish_serves_with_validators_and_304(site: FixtureSite) -> None:
    url = site.publish("/a.html", "<p>公告</p>".encode(), "text/html")
    assert url == site.base_url + "/a.html" and site.base_url.startswith("http://127.0.0.1:")
    status, headers, body = request(site, "/a.html")
    assert (status, body) == (200, "<p>公告</p>".encode())
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert request(site, "/a.html", {"If-None-Match": etag})[0] == 304
    assert request(site, "/a.html", {"If-Modified-Since": modified})[0] == 304
    assert request(site, "/a.html", {"If-None-Match": '"other"'})[0] == 200
    site.publish("/a.html", b"<p>v2</p>", "text/html")
    assert request(site, "/a.html", {"If-None-Match": etag})[0] == 200
    assert request(site, "/a.html", {"If-Modified-Since": modified})[0] == 200


def test_republishing_identical_bytes_keeps_validators(site: FixtureSite) -> None:
    site.publish("/a.html", b"<p>x</p>", "text/html")
    before = site.page("/a.html")
    site.publish("/a.html", b"<p>x</p>", "text/html")
    assert site.page("/a.html") == before


def test_options_charset_validators_length(site: FixtureSite) -> None:
    site.publish("/gbk.html", "政策".encode("gbk"), "text/html", charset_header=False)
    site.publish("/plain.html", b"x", "text/html", validators=False)
    site.publish("/stream.bin", b"y" * 1000, "application/octet-stream", send_length=False)
    assert request(site, "/gbk.html")[1]["Content-Type"] == "text/html"
    headers = request(site, "/plain.html")[1]
    assert "ETag" not in headers and "Last-Modified" not in headers
    _status, headers, body = request(site, "/stream.bin")
    assert "Content-Length" not in headers and body == b"y" * 1000


def test_failing_slow_redirect_and_robots(site: FixtureSite) -> None:
    site.publish("/a.html", b"ok", "text/plain")
    site.set_failing("/a.html", 503, retry_after=2, times=1)
    status, headers, _ = request(site, "/a.html")
    assert (status, headers["Retry-After"]) == (503, "2")
    assert request(site, "/a.html")[0] == 200
    site.set_failing("/a.html")
    assert [request(site, "/a.html")[0] for _ in range(2)] == [500, 500]
    site.clear_failing("/a.html")
    site.set_slow("/a.html", 0.3)
    started = time.monotonic()
    assert request(site, "/a.html")[0] == 200
    assert time.monotonic() - started >= 0.3
    site.set_redirect("/old", "/a.html", 301)
    status, headers, _ = request(site, "/old")
    assert (status, headers["Location"]) == (301, "/a.html")
    assert b"Disallow: /private/" in request(site, "/robots.txt")[2]
    assert request(site, "/nope")[0] == 404


def test_request_log(site: FixtureSite) -> None:
    site.publish("/a.html", b"x", "text/html")
    request(site, "/a.html?x=1", {"User-Agent": "probe"})
    request(site, "/a.html", method="HEAD")
    log = site.requests_for("/a.html")
    assert [(r.path, r.method, r.status) for r in log] == [
        ("/a.html?x=1", "GET", 200),
        ("/a.html", "HEAD", 200),
    ]
    assert log[0].headers["User-Agent"] == "probe"
    assert site.downloads("/a.html") == 1
    site.clear_requests()
    assert site.requests == []


def test_root_dir_is_served(tmp_path: Path) -> None:
    (tmp_path / "xxgk").mkdir()
    (tmp_path / "xxgk" / "index.html").write_bytes("<p>目录</p>".encode("gbk"))
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    with FixtureSite(tmp_path) as running:
        status, headers, body = request(running, "/xxgk/index.html")
        assert (status, headers["Content-Type"], body) == (
            200,
            "text/html",
            "<p>目录</p>".encode("gbk"),
        )
        assert request(running, "/a.pdf")[1]["Content-Type"] == "application/pdf"


# -- the demo site -----------------------------------------------------------------------------


def listing(site: FixtureSite, url: str) -> tuple[list[str], str | None, bytes]:
    path = url.removeprefix(site.base_url)
    _, _, body = request(site, path)
    items, next_url = parse_listing(
        decode_html(body, None), url, SourceConfig(name="demo", url=url)
    )
    return [i.url for i in items], next_url, body


def test_demo_site_layout(site: FixtureSite) -> None:
    demo = build_demo_site(site, SEEDS)
    assert set(demo.articles) == {"001", "002", "003", "004"}
    page1, next1, raw = listing(site, demo.listing_url)
    page2, next2, _ = listing(site, demo.listing_pages[1])
    assert b"charset" not in raw.lower()  # GBK with no declaration anywhere
    assert "政策文件".encode("gbk") in raw
    assert page1 == [demo.articles["004"], demo.articles["003"]]
    assert next1 == demo.listing_pages[1]
    assert page2 == [demo.articles["002"], demo.articles["001"]]
    assert next2 is None
    # The 渝北 plan page: GBK declared only by a gb2312 meta tag, seed text in TRS_Editor.
    _status, headers, body = request(site, demo.articles["001"].removeprefix(site.base_url))
    assert headers["Content-Type"] == "text/html"
    html = decode_html(body, None)
    assert 'class="TRS_Editor"' in html and "索" in html and "成文日期" in html
    assert "（一）推动产业集群化发展" in html
    # The 成都 plan: UTF-8, the plan in the body.
    _, headers, body = request(site, demo.articles["002"].removeprefix(site.base_url))
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "元宇宙产业发展行动方案（2022—2025年）" in body.decode()


def test_revision_is_a_cover_note_with_the_v2_pdf(site: FixtureSite) -> None:
    demo = build_demo_site(site, SEEDS)
    page2_etag = site.page(demo.listing_pages[1].removeprefix(site.base_url)).etag  # type: ignore[union-attr]
    revised = publish_revision(site, SEEDS)
    page1, _, _ = listing(site, demo.listing_url)
    assert page1[0] == revised.articles["002-rev"]
    assert page1[1:] == [demo.articles["004"], demo.articles["003"]]
    assert site.page(demo.listing_pages[1].removeprefix(site.base_url)).etag == page2_etag  # type: ignore[union-attr]
    _, _, body = request(site, revised.articles["002-rev"].removeprefix(site.base_url))
    html = body.decode()
    assert "关于印发成都市元宇宙产业发展行动方案（2022—2025年）（修订版）的通知" in html
    assert "成办发〔2023〕18号" in html and "2023年5月30日" in html
    (attachment,) = find_attachments(
        html, revised.articles["002-rev"], SourceConfig(name="d", url=demo.listing_url)
    )
    assert attachment[0] == revised.attachments["002-rev"]
    _status, headers, pdf = request(site, attachment[0].removeprefix(site.base_url))
    assert headers["Content-Type"].startswith("application/pdf")
    expected = (SEEDS / "002_152408040e809265_v2.pdf").read_bytes()
    assert hashlib.sha256(pdf).digest() == hashlib.sha256(expected).digest()


def test_bundled_seeds_match_the_test_fixtures() -> None:
    """The demo's copies must stay the seed files (a drifted copy would make demo != tests)."""
    bundled = sorted(p.name for p in DEFAULT_SEEDS_DIR.iterdir())
    assert bundled
    for name in bundled:
        assert (DEFAULT_SEEDS_DIR / name).read_bytes() == (SEEDS / name).read_bytes(), name


def test_demo_site_defaults_to_bundled_seeds(site: FixtureSite) -> None:
    demo = build_demo_site(site)
    assert request(site, demo.articles["003"].removeprefix(site.base_url))[0] == 200
