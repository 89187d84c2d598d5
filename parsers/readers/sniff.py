"""Decide a file's kind from its bytes, never from its name.

Government sites serve PDFs as ``.htm``, Word files as ``.pdf`` and GBK text as
``application/octet-stream``; the name and the Content-Type are hints at best.
"""

from __future__ import annotations

import io
import re
import zipfile

from parsers.errors import ParseError, UnsupportedFormat
from parsers.text import bom_encoding, decode_lenient

PDF_MAGIC = b"%PDF-"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The stream name an encrypted OOXML package carries inside its OLE2 container.
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")

_HTML_START = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|div|p|title|table|script|link|!--)[\s>/]",
    re.IGNORECASE,
)
#: C0 control characters that never occur in real text files.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _strip_bom_and_space(head: bytes) -> bytes:
    bom = bom_encoding(head)
    if bom is not None:
        name, skip = bom
        if name.startswith(("utf-16", "utf-32")):
            # Re-encode the start as ASCII-compatible bytes for the HTML test.
            head = head[skip:].decode(name, errors="ignore").encode("utf-8", errors="ignore")
        else:
            head = head[skip:]
    return head.lstrip(b" \t\r\n\x0c")


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ParseError(f"corrupt zip archive ({exc})") from None
    if "word/document.xml" in names:
        return "docx"
    raise UnsupportedFormat("zip archive without word/document.xml (not a Word document)")


_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def _binary(head: bytes) -> bool:
    """More than 1% C0 control bytes: not a text/HTML file whatever tags it contains."""
    return len(_CONTROL_BYTES.findall(head)) > len(head) // 100


def looks_like_text(data: bytes) -> bool:
    """True if the bytes decode as UTF-8/UTF-16(BOM)/GB18030, bar a few bad bytes
    (``parsers.text.decode_lenient``), without control codes."""
    sample = data[:65536]
    bom = bom_encoding(sample)
    candidates = [bom[0]] if bom else ["utf-8", "gb18030"]
    for name in candidates:
        if bom:
            try:
                text = sample[bom[1] :].decode(name)
            except UnicodeDecodeError:
                continue
        else:
            # A few bad bytes (a stray byte, a sample cut inside a character) are still text.
            decoded = decode_lenient(sample, name)
            if decoded is None:
                continue
            text = decoded[0]
        if not text.strip():
            continue
        if len(_CONTROL.findall(text)) <= len(text) // 1000:
            return True
    return False


def sniff(data: bytes) -> str:
    """Return the reader kind for ``data``: "pdf", "docx", "legacy", "html" or "txt"."""
    if not data:
        raise ParseError("empty file")
    head = data[:1024]
    if PDF_MAGIC in head:
        return "pdf"
    if data.startswith(ZIP_MAGICS):
        return _zip_kind(data)
    if data.startswith(OLE2_MAGIC):
        return "legacy"
    start = _strip_bom_and_space(head)
    if not start:
        raise ParseError("empty file (only whitespace)")
    if _HTML_START.search(start) and not _binary(start):
        return "html"
    if looks_like_text(data):
        return "txt"
    raise UnsupportedFormat("unknown binary format (not PDF, DOCX, DOC/WPS, HTML or text)")


def quick_kind(data: bytes) -> str:
    """The kind :func:`sniff` most likely returns, judged from the first KiB alone (no scan
    of the whole file, no error): what the sandbox worker uses to import a file's reader
    before it starts timing the file (see ``parsers.sandbox``)."""
    head = data[:1024]
    if PDF_MAGIC in head:
        return "pdf"
    if data.startswith(ZIP_MAGICS):
        return "docx"
    if data.startswith(OLE2_MAGIC):
        return "legacy"
    start = _strip_bom_and_space(head)
    if start and _HTML_START.search(start) and not _binary(start):
        return "html"
    return "txt"
