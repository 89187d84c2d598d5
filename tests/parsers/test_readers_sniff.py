"""The format comes from the bytes, never the name."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from parsers.errors import ParseError, UnsupportedFormat
from parsers.readers.registry import READERS, extract
from parsers.readers.sniff import sniff

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"


def _zip(names: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in names.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ((SEEDS / "000_569c03692071d7e0.pdf").read_bytes(), "pdf"),
        (b"\r\n  junk before the header %PDF-1.7\n", "pdf"),
        ((SEEDS / "000_569c03692071d7e0.docx").read_bytes(), "docx"),
        ((SEEDS / "000_569c03692071d7e0.txt").read_bytes(), "txt"),
        ("通知\r\n第二行".encode("gb2312"), "txt"),
        ("\ufeff通知".encode("utf-16"), "txt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "legacy"),
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
        (b"\xef\xbb\xbf\n  <html lang='zh'>", "html"),
        ("<meta charset=gbk><div>通知</div>".encode("gbk"), "html"),
        ("<!-- TRS -->\n<p>正文</p>".encode(), "html"),
        ("\ufeff<html><p>utf-16 页</p>".encode("utf-16"), "html"),
    ],
)
def test_sniff(data: bytes, kind: str) -> None:
    assert sniff(data) == kind


def test_name_is_ignored() -> None:
    data = (SEEDS / "004_2276e3ffef9e3d8c.pdf").read_bytes()
    assert extract(data, filename="reply.html").format == "pdf"


def test_empty() -> None:
    with pytest.raises(ParseError, match="empty file"):
        sniff(b"")


def test_zip_without_word_document() -> None:
    data = _zip({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"})
    with pytest.raises(UnsupportedFormat, match=r"zip archive without word/document\.xml"):
        sniff(data)


@pytest.mark.parametrize(
    "data",
    [
        os.urandom(4096),
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        b"GIF89a" + bytes(range(256)),
        bytes(1024),
    ],
)
def test_binary_is_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedFormat):
        sniff(data)


def test_registry_has_every_kind() -> None:
    assert set(READERS) == {"pdf", "docx", "html", "txt", "legacy"}


def test_extract_names_the_file_in_errors() -> None:
    with pytest.raises(UnsupportedFormat, match=r"^scan\.png: unknown binary format"):
        extract(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, filename="scan.png")
