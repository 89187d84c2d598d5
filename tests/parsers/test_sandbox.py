"""The sandbox: a reused, resource-limited worker that survives whatever a file does."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parsers.errors import ResourceLimitExceeded, UnsupportedFormat
from parsers.pipeline import parse_bytes
from parsers.sandbox import DEFAULT_LIMITS, Limits, ParserPool, _shared_pool, parse_untrusted

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"
MiB = 1024 * 1024
NESTED = ("<html><body>" + "<div>" * 100_000 + "深层正文" + "</div>" * 100_000).encode()


@pytest.fixture(scope="module")
def pool() -> Iterator[ParserPool]:
    with ParserPool() as p:
        yield p


def test_defaults() -> None:
    assert DEFAULT_LIMITS == Limits(max_bytes=64 * MiB, timeout_s=30, memory_bytes=1024 * MiB)


@pytest.mark.parametrize(
    "name", ["002_152408040e809265.pdf", "004_2276e3ffef9e3d8c.docx", "000_569c03692071d7e0.txt"]
)
def test_same_result_as_in_process(pool: ParserPool, name: str) -> None:
    data = (SEEDS / name).read_bytes()
    assert pool.parse(data, name).to_json_dict() == parse_bytes(data, name).to_json_dict()


def test_worker_is_reused(pool: ParserPool) -> None:
    data = (SEEDS / "001_d2f5901a87c294b7.txt").read_bytes()
    pool.parse(data)
    pid = pool.pid
    for _ in range(3):
        pool.parse(data)
    assert pool.pid == pid


def test_errors_come_back_as_the_same_class(pool: ParserPool) -> None:
    with pytest.raises(UnsupportedFormat, match=r"^x\.png: unknown binary format"):
        pool.parse(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "x.png")
    assert pool.pid is not None  # a named error does not cost the worker


def test_over_max_bytes_never_reaches_a_worker() -> None:
    with ParserPool(Limits(max_bytes=100)) as small:
        with pytest.raises(ResourceLimitExceeded, match="over the"):
            small.parse(b"x" * 101, "big.txt")
        assert small.pid is None


def test_timeout_kills_and_replaces_the_worker() -> None:
    with ParserPool(Limits(timeout_s=0.3)) as slow:
        slow.parse("预热".encode())
        first = slow.pid
        start = time.monotonic()
        with pytest.raises(
            ResourceLimitExceeded, match=r"^nested\.html: parsing took longer than 0\.3 s"
        ):
            slow.parse(NESTED, "nested.html")
        assert time.monotonic() - start < 5
        assert slow.pid is None
        assert slow.parse("通知\n正文".encode()).source_format in (None, "txt")
        assert slow.pid not in (None, first)


def test_dead_worker_is_reported_and_replaced() -> None:
    with ParserPool() as victim:
        victim.parse("预热".encode())
        pid = victim.pid
        assert pid is not None
        timer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))
        timer.start()
        try:
            with pytest.raises(ResourceLimitExceeded, match="exceeded the memory limit"):
                victim.parse(NESTED, "nested.html")
        finally:
            timer.cancel()
        assert victim.parse("通知".encode()) is not None
        assert victim.pid != pid


def test_memory_limit_is_enforced_in_the_worker() -> None:
    data = ("元宇宙产业发展行动计划，到2025年产业规模达到1500亿元。\n" * 600_000).encode()
    with ParserPool(Limits(memory_bytes=150 * MiB)) as tight:
        tight.parse("预热".encode())
        with pytest.raises(ResourceLimitExceeded, match=r"exceeded the memory limit \(150 MiB\)"):
            tight.parse(data, "big.txt")
        assert tight.parse("通知".encode()) is not None


def test_parse_untrusted_uses_a_shared_pool() -> None:
    data = (SEEDS / "004_2276e3ffef9e3d8c.pdf").read_bytes()
    doc = parse_untrusted(data, "reply.pdf")
    assert doc.to_json_dict() == parse_bytes(data).to_json_dict()
    shared = _shared_pool(DEFAULT_LIMITS)
    pid = shared.pid
    assert pid is not None  # the call above ran in the shared pool's worker ...
    parse_untrusted(data, "reply.pdf")
    assert _shared_pool(DEFAULT_LIMITS) is shared  # ... and the next call reuses it
    assert shared.pid == pid
