"""Readers registered by kind; :func:`extract` sniffs the bytes and dispatches.

A dict rather than an if/elif chain, so a new format is one entry (and tests can list
what is supported).
"""

from __future__ import annotations

from importlib import import_module

from parsers.errors import RadarError, UnsupportedFormat
from parsers.readers.base import Extracted, Reader
from parsers.readers.sniff import quick_kind, sniff

#: Each kind's reader: (module, function), imported on the kind's first file.
READER_MODULES: dict[str, tuple[str, str]] = {
    "pdf": ("parsers.readers.pdf", "read_pdf"),
    "docx": ("parsers.readers.docx", "read_docx"),
    "html": ("parsers.readers.html", "read_html"),
    "txt": ("parsers.readers.txt", "read_txt"),
    "legacy": ("parsers.readers.legacy", "read_legacy"),
}


def _lazy(module: str, name: str) -> Reader:
    """A reader whose module is imported on its first file: a PDF never pays for bs4/lxml,
    a TXT never for pdfium (the sandbox worker keeps what it imported warm)."""

    def read(data: bytes) -> Extracted:
        reader: Reader = getattr(import_module(module), name)
        return reader(data)

    read.__name__ = name
    return read


READERS: dict[str, Reader] = {kind: _lazy(*where) for kind, where in READER_MODULES.items()}


def load_reader(data: bytes) -> None:
    """Import the reader ``data`` will most likely need (its module's first import: pdfium,
    lxml), so that a caller timing the parse times the parse, not the import."""
    import_module(READER_MODULES[quick_kind(data)][0])


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
