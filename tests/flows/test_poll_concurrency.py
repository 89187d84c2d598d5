"""Issue 12, item 5: one slow site does not stall the others; one host is polled by one
poll at a time; per-source caps are validated like every other sources.toml key."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from flows.poll_flow import poll_concurrently
from flows.sources import SourceConfig, SourcesError, load_sources


def _config(name: str, host: str) -> SourceConfig:
    return SourceConfig(name=name, url=f"https://{host}/list.html")


def test_a_slow_host_does_not_stall_the_others() -> None:
    configs = [
        _config("slow", "slow.gov.cn"),
        _config("a", "a.gov.cn"),
        _config("b", "b.gov.cn"),
        _config("slow-2", "slow.gov.cn"),
    ]
    finished: dict[str, float] = {}
    active: dict[str, int] = {}
    overlap: list[str] = []
    lock = threading.Lock()
    start = time.monotonic()

    def poll(config: SourceConfig) -> dict[str, object]:
        host = config.url.split("/")[2]
        with lock:
            active[host] = active.get(host, 0) + 1
            if active[host] > 1:
                overlap.append(host)
        time.sleep(1.0 if host.startswith("slow") else 0.05)
        with lock:
            active[host] -= 1
            finished[config.name] = time.monotonic() - start
        if config.name == "b":
            raise RuntimeError("site down")
        return {"source": config.name}

    reports = poll_concurrently(configs, poll)
    assert [r["source"] for r in reports] == ["slow", "a", "b", "slow-2"]
    assert "RuntimeError: site down" in str(reports[2]["error"])
    assert finished["a"] < 0.9 and finished["b"] < 0.9  # not behind the slow site
    assert finished["slow-2"] >= 2.0  # the slow host's sources ran one after another
    assert overlap == []


def test_caps_are_checked_in_sources_toml(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[sources]]\nname = "x"\nurl = "https://x.gov.cn/"\nmax_links = 0\n', encoding="utf-8"
    )
    with pytest.raises(SourcesError, match="'max_links' must be an integer from 1"):
        load_sources(path)
    path.write_text(
        '[defaults]\nmax_links = 30\npoll_deadline = 600\n[[sources]]\nname = "x"\n'
        'url = "https://x.gov.cn/"\n',
        encoding="utf-8",
    )
    [config] = load_sources(path)
    assert (config.max_links, config.poll_deadline) == (30, 600)
