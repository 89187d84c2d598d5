"""Bad, hostile and broken files, each through ``parse_untrusted``: the exact error class,
a message naming the problem, done within 30 s, and the parent's memory untouched.

Every bad file is generated here (nothing big is committed): the bombs are built from a
raw deflate stream of spaces repeated with sync flushes, so a 1 GiB payload costs ~1 MB
and a fraction of a second to make, and never exists uncompressed in this process.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from parsers.errors import (
    EncryptedDocument,
    NeedsOCR,
    ParseError,
    RadarError,
    ResourceLimitExceeded,
    UnsupportedFormat,
)
from parsers.readers.legacy import soffice_path
from parsers.sandbox import parse_untrusted
from tests.parsers.test_readers_docx import make_docx, p

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"
MiB = 1024 * 1024


# Generators -----------------------------------------------------------------------------


def deflate_spaces(mib: int) -> tuple[bytes, int, int]:
    """Raw deflate of ``mib`` MiB of spaces, plus its Adler-32 and CRC-32."""
    chunk = b" " * MiB
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(chunk) + c.flush(zlib.Z_SYNC_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_SYNC_FLUSH)
    assert again == c.compress(chunk) + c.flush(zlib.Z_SYNC_FLUSH)  # steady state
    tail = c.flush()
    adler, crc = 1, 0
    for _ in range(mib):
        adler = zlib.adler32(chunk, adler)
        crc = zlib.crc32(chunk, crc)
    return first + again * (mib - 1) + tail, adler, crc


def build_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF with a correct xref table from object bodies numbered 1..n."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer + b">>\n")
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


_PAGE_TREE = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
]


def flate_bomb_pdf(mib: int = 1024) -> bytes:
    raw, adler, _ = deflate_spaces(mib)
    z = b"\x78\xda" + raw + struct.pack(">I", adler)
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(z) + z + b"\nendstream"
    return build_pdf([*_PAGE_TREE, stream])


def encrypted_pdf() -> bytes:
    """Standard security handler (RC4, R2) whose user password is not empty."""
    content = b"BT /F1 12 Tf 72 720 Td (secret) Tj ET"
    stream = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    o_entry = bytes(range(32)).hex().encode()
    u_entry = bytes(range(32, 64)).hex().encode()
    encrypt = (
        b"<< /Filter /Standard /V 1 /R 2 /O <" + o_entry + b"> /U <" + u_entry + b"> /P -44 >>"
    )
    file_id = b"0123456789abcdef0123456789abcdef"
    return build_pdf(
        [*_PAGE_TREE, stream, encrypt],
        trailer=b"/Encrypt 5 0 R /ID [<" + file_id + b"> <" + file_id + b">] ",
    )


def image_only_pdf() -> bytes:
    """A seed page rendered to pixels and wrapped in a PDF: what a scanner produces."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument((SEEDS / "004_2276e3ffef9e3d8c.pdf").read_bytes())
    image = doc[0].render(scale=1).to_pil().convert("RGB")
    doc.close()
    buf = io.BytesIO()
    image.save(buf, format="PDF", resolution=72.0)
    return buf.getvalue()


def docx_zip_bomb(mib: int = 1024) -> bytes:
    """A valid DOCX whose word/document.xml inflates to ``mib`` MiB (of spaces)."""
    raw, _, crc = deflate_spaces(mib)
    size = mib * MiB
    base = make_docx(p("正文"))
    out = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        entries = [
            (i.filename, zf.read(i)) for i in zf.infolist() if i.filename != "word/document.xml"
        ]
    central = []

    def local(name: bytes, method: int, crc32: int, csize: int, usize: int, data: bytes) -> None:
        offset = out.tell()
        out.write(
            struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc32, csize, usize, len(name), 0
            )
        )
        out.write(name + data)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0,
                crc32,
                csize,
                usize,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )

    for name, data in entries:
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        cdata = comp.compress(data) + comp.flush()
        local(name.encode(), 8, zlib.crc32(data), len(cdata), len(data), cdata)
    local(b"word/document.xml", 8, crc, len(raw), size, raw)
    cd_offset = out.tell()
    for entry in central:
        out.write(entry)
    cd_size = out.tell() - cd_offset
    out.write(
        struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), cd_size, cd_offset, 0
        )
    )
    return out.getvalue()


def zip_not_word() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.csv", "区县,数量\n永川,15\n")
        zf.writestr("readme.txt", "not a document")
    return buf.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


# Harness --------------------------------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@pytest.fixture
def guarded() -> Iterator[Callable[..., RadarError]]:
    """Run parse_untrusted expecting an error; check the time and the parent's memory."""
    parse_untrusted("预热".encode(), "warmup.txt")  # start the worker outside the timing
    before = _rss()

    def run(data: bytes, filename: str, expected: type[RadarError], match: str) -> RadarError:
        start = time.monotonic()
        with pytest.raises(RadarError) as info:
            parse_untrusted(data, filename)
        elapsed = time.monotonic() - start
        assert type(info.value) is expected, f"{type(info.value).__name__}: {info.value}"
        message = str(info.value)
        assert message.startswith(f"{filename}: ")
        assert match in message, message
        assert "\n" not in message
        assert elapsed < 30, f"took {elapsed:.1f} s"
        return info.value

    yield run
    assert _rss() - before < 256 * MiB
    assert _rss() < 1024 * MiB


# Tests ----------------------------------------------------------------------------------


def test_empty_file(guarded: Callable[..., RadarError]) -> None:
    guarded(b"", "empty.pdf", ParseError, "empty file")


def test_random_bytes(guarded: Callable[..., RadarError]) -> None:
    guarded(os.urandom(64 * 1024), "random.bin", UnsupportedFormat, "unknown binary format")


def test_truncated_pdf(guarded: Callable[..., RadarError]) -> None:
    data = (SEEDS / "002_152408040e809265.pdf").read_bytes()
    guarded(data[: len(data) // 2], "truncated.pdf", ParseError, "corrupt or truncated PDF")


def test_encrypted_pdf(guarded: Callable[..., RadarError]) -> None:
    guarded(encrypted_pdf(), "locked.pdf", EncryptedDocument, "password")


def test_image_only_pdf_needs_ocr(guarded: Callable[..., RadarError]) -> None:
    guarded(image_only_pdf(), "scan.pdf", NeedsOCR, "no text layer: needs OCR")


def test_pdf_flate_bomb(guarded: Callable[..., RadarError]) -> None:
    data = flate_bomb_pdf()
    assert len(data) < 2 * MiB
    guarded(data, "bomb.pdf", ResourceLimitExceeded, "decompression bomb")


def test_docx_zip_bomb(guarded: Callable[..., RadarError]) -> None:
    data = docx_zip_bomb()
    assert len(data) < 2 * MiB
    guarded(data, "bomb.docx", ResourceLimitExceeded, "zip bomb")


def test_zip_that_is_not_word(guarded: Callable[..., RadarError]) -> None:
    guarded(zip_not_word(), "data.docx", UnsupportedFormat, "zip archive without word/document.xml")


def test_binary_garbage_named_html(guarded: Callable[..., RadarError]) -> None:
    garbage = bytes((i * 7919 + 13) % 256 for i in range(32 * 1024))
    guarded(garbage, "page.html", UnsupportedFormat, "unknown binary format")


def test_unknown_format_png(guarded: Callable[..., RadarError]) -> None:
    guarded(PNG + bytes(range(256)) * 8, "photo.png", UnsupportedFormat, "unknown binary format")


def test_oversized_input_refused_before_parsing(guarded: Callable[..., RadarError]) -> None:
    guarded(b" " * (64 * MiB + 1), "huge.txt", ResourceLimitExceeded, "over the 64 MiB limit")


def test_absurdly_nested_html() -> None:
    """100k nested <div>: a result (or a named error), quickly, and the worker survives."""
    depth = 100_000
    html = (
        "<html><body>" + "<div>" * depth + "深层正文：元宇宙产业发展" + "</div>" * depth
    ).encode()
    start = time.monotonic()
    try:
        doc = parse_untrusted(html, "nested.html")
    except RadarError as exc:
        assert isinstance(exc, ResourceLimitExceeded | ParseError), exc
    else:
        assert doc.source_format in (None, "html")
    assert time.monotonic() - start < 30
    assert parse_untrusted("通知\n正文".encode(), "after.txt") is not None


@pytest.mark.skipif(
    soffice_path() is None,
    reason="LibreOffice is not installed: legacy .doc/.wps files are refused",
)
def test_legacy_doc_is_converted(tmp_path: Path) -> None:
    soffice = soffice_path() or ""
    src = tmp_path / "seed.docx"
    src.write_bytes((SEEDS / "004_2276e3ffef9e3d8c.docx").read_bytes())
    subprocess.run(
        [soffice, "--headless", "--convert-to", "doc", "--outdir", str(tmp_path), str(src)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    doc = parse_untrusted((tmp_path / "seed.doc").read_bytes(), "seed.doc")
    assert doc.proposal is not None and doc.proposal.number == "343"


def test_legacy_doc_without_libreoffice_is_refused_by_name() -> None:
    if soffice_path() is not None:
        pytest.skip("LibreOffice is installed")
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)
    with pytest.raises(UnsupportedFormat, match="install LibreOffice"):
        parse_untrusted(ole2, "old.doc")


def test_encrypted_docx_in_ole_container() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(EncryptedDocument, match="encrypted Office document"):
        parse_untrusted(ole2 + bytes(2048), "locked.docx")
