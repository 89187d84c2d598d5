"""Find Flate decompression bombs in a PDF before pdfium inflates them.

A content stream of a gigabyte of spaces compresses to ~1 MB. pdfium would inflate it
in full (and, under the sandbox's memory limit, abort). We scan the raw file for
``stream`` bodies of at least ``MIN_STREAM`` compressed bytes, inflate a small sample
of each, and only when the sample is suspiciously compressible (ratio above
``SUSPICIOUS_RATIO``) count the whole stream's inflated size against a budget. Normal
streams (fonts, text) cost a 16 KiB sample; the sandbox's memory limit stays the
backstop for anything cleverer.
"""

from __future__ import annotations

import zlib

from parsers.errors import ResourceLimitExceeded

MiB = 1024 * 1024
#: Streams smaller than this cannot inflate past ~MIN_STREAM * 1032 bytes: not checked.
MIN_STREAM = 32 * 1024
SAMPLE = 16 * 1024
SUSPICIOUS_RATIO = 50
#: Total inflated bytes allowed across suspicious streams.
BUDGET = 512 * MiB


def _stream_bodies(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every ``stream … endstream`` body (bytes.find: regex is 50x slower)."""
    out: list[tuple[int, int]] = []
    pos = 0
    while True:
        i = data.find(b"stream", pos)
        if i < 0:
            return out
        pos = i + 6
        if data[i - 3 : i] == b"end":
            continue
        if data[pos : pos + 2] == b"\r\n":
            start = pos + 2
        elif data[pos : pos + 1] in (b"\n", b"\r"):
            start = pos + 1
        else:
            continue
        end = data.find(b"endstream", start)
        if end < 0:
            end = len(data)
        out.append((start, end))
        pos = end + 9


def _inflated_size(body: bytes, budget: int) -> int:
    """Inflated size of a zlib stream, counting at most ``budget + 1`` bytes."""
    d = zlib.decompressobj()
    total = 0
    buf = body
    try:
        while total <= budget:
            out = d.decompress(buf, 16 * MiB)
            total += len(out)
            buf = d.unconsumed_tail
            if not out and not buf:
                break
    except zlib.error:
        pass  # corrupt data: pdfium will decide what to do with it
    return total


def check_flate_bombs(data: bytes, budget: int = BUDGET) -> None:
    """Raise ResourceLimitExceeded if Flate streams would inflate past ``budget`` bytes."""
    used = 0
    for start, end in _stream_bodies(data):
        if end - start < MIN_STREAM:
            continue
        head = data[max(0, start - 520) : start]
        if b"Fl" not in head[max(head.rfind(b"<<"), 0) :]:
            continue  # not Flate-encoded (or no dictionary in sight)
        body = data[start:end]
        try:
            sample = zlib.decompressobj().decompress(body[:SAMPLE], SAMPLE * SUSPICIOUS_RATIO)
        except zlib.error:
            continue
        if len(sample) < SAMPLE * SUSPICIOUS_RATIO:
            continue
        used += _inflated_size(body, budget - used)
        if used > budget:
            raise ResourceLimitExceeded(
                f"PDF decompression bomb: streams inflate past {budget // MiB} MiB"
            )
