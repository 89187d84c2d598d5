"""Issue 12, item 5: a listing of 100k links ends within its deadline and a memory cap, queues
at most ``max_links`` and records the overflow. Runs in a process of its own so its peak
RSS is this crawl's alone."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LINKS = 100_000
#: Peak RSS of the crawling process (the interpreter and imports take ~100 MB of it).
MEMORY_CAP_MB = 400
DEADLINE_S = 60


def _listing() -> bytes:
    rows = "".join(
        f'<li><a href="/xxgk/t2024_{i}.html">关于印发第{i}号工作方案的通知</a>'
        f"<span>2024-01-{1 + i % 28:02d}</span></li>"
        for i in range(LINKS)
    )
    return f'<html><head><meta charset="utf-8"></head><body><ul>{rows}</ul></body></html>'.encode()


@pytest.fixture(scope="module")
def listing_site() -> Iterator[str]:
    body = _listing()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/xxgk/index.html"
    server.shutdown()
    server.server_close()


CHILD = """
import json, resource, sys, time
from flows.fetch import Fetcher
from flows.sources import SourceConfig, crawl_listing
config = SourceConfig(name="huge", url=sys.argv[1], max_links=50, max_pages=3)
start = time.monotonic()
with Fetcher(allow_private=True, respect_robots=False, per_host_interval=0) as fetcher:
    crawl = crawl_listing(fetcher, config)
print(json.dumps({
    "seconds": time.monotonic() - start,
    "links": len(crawl.items),
    "overflow": crawl.overflow,
    "truncated": crawl.truncated,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def test_a_100k_link_listing_is_capped_in_time_and_memory(listing_site: str) -> None:
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, listing_site],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S * 2,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(result)  # the figures for the report
    assert result["links"] == 50
    assert result["overflow"] > 0 and result["truncated"]
    assert result["peak_mb"] < MEMORY_CAP_MB, result
    assert time.monotonic() - started < DEADLINE_S, result
