"""Issue 12: one bad byte no longer loses a GB-family document (a few become U+FFFD, with a
warning); a file in another encoding is not forced through."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from parsers import parse_bytes
from parsers.text import decode_lenient, decode_text

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "002_152408040e809265.txt"


def _with_bad_byte(data: bytes, after: bytes = b"\n") -> bytes:
    """Insert 0xFF (never valid in GB18030 or UTF-8) after the first ``after``."""
    cut = data.index(after) + len(after)
    return data[:cut] + b"\xff" + data[cut:]


def test_gb18030_text_with_one_bad_byte_parses(caplog: pytest.LogCaptureFixture) -> None:
    text = SEED.read_text(encoding="utf-8")
    clean = parse_bytes(text.encode("gb18030"), "plan.txt")
    bad = _with_bad_byte(text.encode("gb18030"))
    with caplog.at_level(logging.WARNING, logger="parsers.text"):
        parsed = parse_bytes(bad, "plan.txt")
    assert parsed.title == clean.title
    assert len(parsed.tasks) == len(clean.tasks) > 0
    assert any("undecodable" in r.getMessage() for r in caplog.records)


def test_gbk_page_with_a_stray_byte_keeps_its_title_and_tasks() -> None:
    body = SEED.read_text(encoding="utf-8").splitlines()
    html = (
        '<html><head><meta charset="gb2312"><title>'
        + body[0]
        + "</title></head><body>"
        + "".join(f"<p>{line}</p>" for line in body if line.strip())
        + "</body></html>"
    )
    clean = parse_bytes(html.encode("gb18030"), "page.html")
    parsed = parse_bytes(_with_bad_byte(html.encode("gb18030"), b"<body><p>"), "page.html")
    assert parsed.title == clean.title == body[0].strip()
    assert len(parsed.tasks) == len(clean.tasks) > 0


def test_many_bad_bytes_are_not_forced() -> None:
    assert decode_lenient(bytes(range(128, 256)) * 4, "utf-8") is None
    text, bad = decode_lenient("政务公开".encode("gb18030") + b"\xff" + "要点".encode("gb18030") * 200, "gb18030") or ("", 0)  # fmt: skip
    assert bad == 1 and text.startswith("政务公开\ufffd要点")
    assert decode_text("第三项".encode("gb18030")) == "第三项"
