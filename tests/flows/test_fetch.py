"""The HTTP client against a real local site: charsets, validators, retries, limits, robots."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC

import pytest

from flows.fetch import (
    CachedState,
    Fetcher,
    FetchFailed,
    FetchRefused,
    MemoryFetchState,
    NotModified,
    SourceUnavailable,
    decode_html,
)
from flows.site_fixture import FixtureSite, build_demo_site
from flows.sources import SourceConfig, crawl_listing, parse_listing
from tests.flows.conftest import SEEDS


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as running:
        yield running


def client(**kwargs: object) -> Fetcher:
    options: dict[str, object] = {
        "allow_private": True,
        "per_host_interval": 0,
        "retries": 2,
        "backoff": 0.01,
        "timeout": (1, 1),
    }
    options.update(kwargs)
    return Fetcher(**options)  # type: ignore[arg-type]


# -- charsets ----------------------------------------------------------------------------------


def test_gbk_listing_without_charset_gives_correct_titles(site: FixtureSite) -> None:
    demo = build_demo_site(site, SEEDS)
    with client() as fetcher:
        result = fetcher.get(demo.listing_url)
    assert result.charset is None
    assert b"charset" not in result.content.lower()
    html = decode_html(result.content, result.charset)
    items, _ = parse_listing(html, result.url, SourceConfig(name="demo", url=demo.listing_url))
    assert [i.title for i in items] == [
        "重庆市渝北区大数据应用发展管理局关于区政协十六届二次会议提案第343号的复函",
        "永川 提前布局元宇宙产业 打造重庆元宇宙中心",
    ]


def test_pagination_reads_both_listing_pages(site: FixtureSite) -> None:
    demo = build_demo_site(site, SEEDS)
    config = SourceConfig(name="demo", url=demo.listing_url)
    with client() as fetcher:
        crawl = crawl_listing(fetcher, config)
    assert [p.url for p in crawl.pages] == demo.listing_pages
    assert {i.url for i in crawl.items} == set(demo.articles.values())
    dates = {i.url: i.date for i in crawl.items}
    assert dates[demo.articles["001"]] == "2022-10-12"  # written 2022年10月12日 on page 2
    assert dates[demo.articles["004"]] == "2023-05-05"


def test_meta_gb2312_article_decodes_gbk_only_characters(site: FixtureSite) -> None:
    body = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    body += "</head><body><p>朱镕基同志〔2023〕</p></body></html>"
    site.publish("/a.html", body.encode("gbk"), "text/html", charset_header=False)
    with client() as fetcher:
        result = fetcher.get(site.url("/a.html"))
    assert "朱镕基同志〔2023〕" in decode_html(result.content, result.charset)


@pytest.mark.parametrize(
    ("content", "declared", "expected"),
    [
        ("政策文件".encode("gbk"), "utf-8", "政策文件"),  # the header lies
        ("政策文件".encode("gbk"), "GB2312", "政策文件"),
        ("政策文件".encode("gb18030"), None, "政策文件"),
        ("\ufeff政策文件".encode(), "gbk", "政策文件"),  # BOM wins
        (
            '<meta charset="utf-8"><p>政策</p>'.encode(),
            "ISO-8859-1",  # servers' default, not knowledge: the meta tag wins
            "政策",
        ),
    ],
)
def test_decode_html(content: bytes, declared: str | None, expected: str) -> None:
    assert expected in decode_html(content, declared)


# -- conditional requests ----------------------------------------------------------------------


def test_etag_gives_not_modified_with_one_request(site: FixtureSite) -> None:
    site.publish("/doc.html", "<p>通知</p>".encode(), "text/html")
    with client() as fetcher:
        first = fetcher.get(site.url("/doc.html"))
        assert first.etag and first.last_modified
        assert first.content_hash == hashlib.sha256("<p>通知</p>".encode()).hexdigest()
        assert first.fetched_at.tzinfo is UTC and first.from_cache is False
        site.clear_requests()
        with pytest.raises(NotModified) as caught:
            fetcher.get(site.url("/doc.html"))
    (request,) = site.requests  # robots.txt is cached: exactly one request
    assert request.status == 304
    assert request.headers["If-None-Match"] == first.etag
    assert caught.value.state == first.state


def test_if_modified_since_alone_gives_not_modified(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>v1</p>", "text/html")
    state = MemoryFetchState()
    with client(state=state) as fetcher:
        first = fetcher.get(site.url("/doc.html"))
        state.put(site.url("/doc.html"), CachedState(None, first.last_modified, None))
        with pytest.raises(NotModified):
            fetcher.get(site.url("/doc.html"))
    assert "If-None-Match" not in site.requests_for("/doc.html")[-1].headers


def test_unchanged_content_hash_gives_not_modified(site: FixtureSite) -> None:
    site.publish("/plain.html", b"<p>same</p>", "text/html", validators=False)
    with client() as fetcher:
        fetcher.get(site.url("/plain.html"))
        with pytest.raises(NotModified, match="hash"):
            fetcher.get(site.url("/plain.html"))
        site.publish("/plain.html", b"<p>changed</p>", "text/html", validators=False)
        assert fetcher.get(site.url("/plain.html")).content == b"<p>changed</p>"
    assert [r.status for r in site.requests_for("/plain.html")] == [200, 200, 200]


def test_changed_page_is_fetched_again(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>v1</p>", "text/html")
    with client() as fetcher:
        fetcher.get(site.url("/doc.html"))
        site.publish("/doc.html", b"<p>v2</p>", "text/html")
        assert fetcher.get(site.url("/doc.html")).content == b"<p>v2</p>"
        assert fetcher.get(site.url("/doc.html"), conditional=False).content == b"<p>v2</p>"


def test_remember_false_leaves_state_until_remembered(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>v1</p>", "text/html")
    state = MemoryFetchState()
    url = site.url("/doc.html")
    with client(state=state) as fetcher:
        result = fetcher.get(url, remember=False)
        assert state.get(url) is None
        assert fetcher.get(url, remember=False).content == b"<p>v1</p>"  # not skipped
        fetcher.remember(result)
        assert state.get(url) == result.state
        with pytest.raises(NotModified):
            fetcher.get(url)


# -- failures and retries ----------------------------------------------------------------------


def test_server_error_is_retried_then_unavailable(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    site.set_failing("/doc.html", 500)
    with client(retries=2) as fetcher, pytest.raises(SourceUnavailable) as caught:
        fetcher.get(site.url("/doc.html"))
    assert caught.value.status == 500
    assert len(site.requests_for("/doc.html")) == 3  # first try + 2 retries


def test_transient_server_error_recovers(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    site.set_failing("/doc.html", 503, times=2)
    with client(retries=3) as fetcher:
        assert fetcher.get(site.url("/doc.html")).content == b"<p>x</p>"
    assert [r.status for r in site.requests_for("/doc.html")] == [503, 503, 200]


def test_retry_after_is_honoured(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    site.set_failing("/doc.html", 429, retry_after=1, times=1)
    with client(retries=1, backoff=0.01) as fetcher:
        started = time.monotonic()
        fetcher.get(site.url("/doc.html"))
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3


def test_retry_after_is_capped(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    site.set_failing("/doc.html", 503, retry_after=3600, times=1)
    with client(retries=1, max_retry_after=0.2) as fetcher:
        started = time.monotonic()
        fetcher.get(site.url("/doc.html"))
    assert time.monotonic() - started < 1.5


def test_slow_page_times_out_as_unavailable(site: FixtureSite) -> None:
    site.publish("/slow.html", b"<p>x</p>", "text/html")
    site.set_slow("/slow.html", 3)
    with client(timeout=(1, 0.3), retries=1) as fetcher:
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match="timeout"):
            fetcher.get(site.url("/slow.html"))
    assert time.monotonic() - started < 2
    assert len(site.requests_for("/slow.html")) == 2


def test_client_error_fails_without_retries(site: FixtureSite) -> None:
    with client(retries=3) as fetcher, pytest.raises(FetchFailed) as caught:
        fetcher.get(site.url("/missing.html"))
    assert caught.value.status == 404
    assert len(site.requests_for("/missing.html")) == 1


# -- limits ------------------------------------------------------------------------------------


def test_declared_size_over_limit_is_refused(site: FixtureSite) -> None:
    site.publish("/big.pdf", b"%PDF" + b"0" * 200_000, "application/pdf")
    with client(max_bytes=100_000) as fetcher, pytest.raises(FetchRefused, match="limit"):
        fetcher.get(site.url("/big.pdf"))


def test_streamed_size_over_limit_is_refused(site: FixtureSite) -> None:
    site.publish("/big.pdf", b"%PDF" + b"0" * 300_000, "application/pdf", send_length=False)
    with client(max_bytes=100_000) as fetcher, pytest.raises(FetchRefused, match="exceeds"):
        fetcher.get(site.url("/big.pdf"))


def test_decompression_bomb_is_cut_off(site: FixtureSite) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)  # ~5 KB on the wire, 5 MB decoded
    site.publish("/bomb.html", bomb, "text/html", headers={"Content-Encoding": "gzip"})
    site.publish("/small.html", gzip.compress(b"<p>ok</p>"), headers={"Content-Encoding": "gzip"})
    with client(max_bytes=1_000_000) as fetcher:
        assert fetcher.get(site.url("/small.html")).content == b"<p>ok</p>"
        with pytest.raises(FetchRefused, match="exceeds"):
            fetcher.get(site.url("/bomb.html"))


def test_redirects_are_followed_up_to_the_limit(site: FixtureSite) -> None:
    site.publish("/final.html", b"<p>here</p>", "text/html")
    site.set_redirect("/a", "/b", 301)
    site.set_redirect("/b", site.url("/final.html"), 302)
    site.set_redirect("/loop", "/loop")
    with client(max_redirects=3) as fetcher:
        result = fetcher.get(site.url("/a"))
        assert (result.url, result.content) == (site.url("/final.html"), b"<p>here</p>")
        with pytest.raises(FetchRefused, match="more than 3 redirects"):
            fetcher.get(site.url("/loop"))
    assert len(site.requests_for("/loop")) == 4


# -- robots.txt, identity, politeness --------------------------------------------------------


def test_robots_disallow_is_refused(site: FixtureSite) -> None:
    site.publish("/private/doc.html", b"<p>x</p>", "text/html")
    site.publish("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    with client() as fetcher, pytest.raises(FetchRefused, match="robots"):
        fetcher.get(site.url("/private/doc.html"))
    assert site.requests_for("/private/doc.html") == []


def test_robots_rules_for_our_agent(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    robots = b"User-agent: policy-radar\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    site.publish("/robots.txt", robots, "text/plain")
    with client(user_agent="policy-radar/9 (+http://x)") as fetcher:
        with pytest.raises(FetchRefused, match="robots"):
            fetcher.get(site.url("/doc.html"))
    with client(user_agent="policy-radar/9", respect_robots=False) as fetcher:
        assert fetcher.get(site.url("/doc.html")).status == 200


def test_failing_robots_means_allowed(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    site.set_failing("/robots.txt", 500)
    with client(retries=0) as fetcher:
        assert fetcher.get(site.url("/doc.html")).status == 200


def test_user_agent_names_the_product(site: FixtureSite, monkeypatch) -> None:
    monkeypatch.setenv("RADAR_BASE_URL", "https://radar.example.org")
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    with Fetcher(allow_private=True, per_host_interval=0) as fetcher:
        fetcher.get(site.url("/doc.html"))
    agent = site.requests_for("/doc.html")[0].headers["User-Agent"]
    assert agent.startswith("policy-radar/") and "(+https://radar.example.org)" in agent


def test_private_networks_setting_comes_from_the_environment(
    site: FixtureSite, monkeypatch
) -> None:
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    monkeypatch.setenv("RADAR_ALLOW_PRIVATE_NETWORKS", "1")
    with Fetcher(per_host_interval=0) as fetcher:
        assert fetcher.get(site.url("/doc.html")).status == 200
    monkeypatch.setenv("RADAR_ALLOW_PRIVATE_NETWORKS", "0")
    with Fetcher(per_host_interval=0) as fetcher, pytest.raises(FetchRefused):
        fetcher.get(site.url("/doc.html"))


def test_per_host_interval_spaces_requests(site: FixtureSite) -> None:
    site.publish("/doc.html", b"<p>x</p>", "text/html")
    with client(per_host_interval=0.25, respect_robots=False) as fetcher:
        started = time.monotonic()
        for _ in range(3):
            fetcher.get(site.url("/doc.html"), conditional=False)
        elapsed = time.monotonic() - started
    assert elapsed >= 0.5  # three starts, two intervals


def test_per_host_concurrency_cap(site: FixtureSite) -> None:
    site.publish("/slow.html", b"<p>x</p>", "text/html")
    site.set_slow("/slow.html", 0.2)
    errors: list[BaseException] = []
    with client(per_host_concurrency=1, respect_robots=False) as fetcher:

        def worker() -> None:
            try:
                fetcher.get(site.url("/slow.html"), conditional=False)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(3)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    assert not errors
    assert elapsed >= 0.6  # one at a time: 3 x 0.2 s


def test_a_gbk_page_served_as_latin1_decodes_like_the_parser_does() -> None:
    """Servers send ``charset=iso-8859-1`` by default; iso-8859-1 decodes any byte, so
    trusting it gave mojibake. The fetch path now uses the parser's decoder."""
    from parsers.text import decode_text

    page = "<html><body><p>关于印发成都市元宇宙产业发展行动方案的通知</p></body></html>"
    data = page.encode("gbk")
    assert decode_html(data, "ISO-8859-1") == page == decode_text(data)
