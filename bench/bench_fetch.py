"""Fetching benchmark: what a poll costs, cold and unchanged, and listing parse speed.

    python bench/bench_fetch.py            # full run
    python bench/bench_fetch.py --smoke    # a second or two

Measured against the local demo site (flows.site_fixture) with the politeness interval set
to 0, so the figures are the client's own overhead (guard, robots, validators, hashing,
decoding, discovery), not the network's:

1. cold poll: listing pages + every article (200s);
2. unchanged re-poll: how many requests and how long (goal: one 304 per listing, nothing else);
3. parse_listing on a generated TRS listing of N items (items/s);
4. the address guard's check of a URL with a literal IP (checks/s).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.ssrf import SSRFGuard  # noqa: E402
from flows.fetch import Fetcher, NotModified  # noqa: E402
from flows.site_fixture import FixtureSite, build_demo_site  # noqa: E402
from flows.sources import SourceConfig, crawl_listing, parse_listing  # noqa: E402


def poll(fetcher: Fetcher, config: SourceConfig) -> tuple[int, int]:
    crawl = crawl_listing(fetcher, config)
    fetched = 0
    for item in crawl.items:
        try:
            fetcher.get(item.url)
            fetched += 1
        except NotModified:
            pass
    return len(crawl.items), fetched


def bench_polls(rounds: int) -> dict[str, float]:
    cold_times, warm_times, warm_requests = [], [], []
    for _ in range(rounds):
        with FixtureSite() as site:
            demo = build_demo_site(site)
            config = SourceConfig(name="demo", url=demo.listing_url)
            with Fetcher(allow_private=True, per_host_interval=0, user_agent="bench") as fetcher:
                started = time.perf_counter()
                poll(fetcher, config)
                cold_times.append(time.perf_counter() - started)
                site.clear_requests()
                started = time.perf_counter()
                poll(fetcher, config)
                warm_times.append(time.perf_counter() - started)
                warm_requests.append(len(site.requests))
    return {
        "cold_ms": 1000 * min(cold_times),
        "warm_ms": 1000 * min(warm_times),
        "warm_requests": max(warm_requests),
    }


def bench_listing(items: int) -> float:
    rows = "\n".join(
        f'<li><a href="./2023{(i % 12) + 1:02d}/t2023{(i % 12) + 1:02d}01_{i}.html" '
        f'title="关于印发第{i}号行动方案的通知">关于印发第{i}号行动方案的通知</a>'
        f"<span>2023-{(i % 12) + 1:02d}-01</span></li>"
        for i in range(items)
    )
    html = (
        '<html><body><div class="header"><ul class="nav"><li><a href="/">首页</a></li></ul></div>'
        f'<ul class="list">{rows}</ul><script>createPageHTML(9, 0, "index", "html");</script>'
        "</body></html>"
    )
    base = "http://www.example.gov.cn/xxgk/index.html"
    config = SourceConfig(name="b", url=base)
    started = time.perf_counter()
    found, next_url = parse_listing(html, base, config)
    elapsed = time.perf_counter() - started
    assert len(found) == items and next_url
    return items / elapsed


def bench_guard(n: int) -> float:
    guard = SSRFGuard(allow_private=False)
    started = time.perf_counter()
    for _ in range(n):
        guard.check("https://93.184.216.34/xxgk/index.html")
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a couple of seconds")
    args = parser.parse_args()
    rounds, items, checks = (1, 100, 2000) if args.smoke else (5, 1000, 50000)
    polls = bench_polls(rounds)
    print(f"cold poll of the demo site (2 listing pages + 4 articles): {polls['cold_ms']:.0f} ms")
    print(f"unchanged re-poll: {polls['warm_requests']:.0f} request(s), {polls['warm_ms']:.1f} ms")
    print(f"parse_listing, {items}-item TRS listing: {bench_listing(items):,.0f} items/s")
    print(f"address guard, literal IP: {bench_guard(checks):,.0f} checks/s")


if __name__ == "__main__":
    main()
