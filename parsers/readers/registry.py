"""Readers registered by kind; :func:`extract` sniffs the bytes and dispatches.

A dict rather than an if/elif chain, so a new format is one entry (and tests can list
what is supported).
"""

from __future__ import annotations

from parsers.errors import RadarError, UnsupportedFormat
from parsers.readers.base import Extracted, Reader
from parsers.readers.docx import read_docx
from parsers.readers.html import read_html
from parsers.readers.legacy import read_legacy
from parsers.readers.pdf import read_pdf
from parsers.readers.sniff import sniff
from parsers.readers.txt import read_txt

READERS: dict[str, Reader] = {
    "pdf": read_pdf,
    "docx": read_docx,
    "html": read_html,
    "txt": read_txt,
    "legacy": read_legacy,
}


def _named(filename: str | None, exc: RadarError) -> RadarError:
    """The same exception class with the file name in front of the message."""
    if not filename:
        return exc
    return type(exc)(f"{filename}: {exc}")


def extract(data: bytes, *, filename: str | None = None) -> Extracted:
    """Sniff ``data`` and run the matching reader (``filename`` only labels errors)."""
    try:
        kind = sniff(data)
        reader = READERS.get(kind)
        if reader is None:
            raise UnsupportedFormat(f"no reader for {kind!r} files")
        return reader(data)
    except RadarError as exc:
        raise _named(filename, exc) from None
