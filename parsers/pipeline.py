"""bytes -> Extracted (readers) -> ParsedDocument (structure)."""

from __future__ import annotations

from parsers.readers.registry import extract
from parsers.schema import ParsedDocument
from parsers.structure import build_document


def parse_bytes(data: bytes, filename: str | None = None) -> ParsedDocument:
    """Parse trusted bytes in this process."""
    return build_document(extract(data, filename=filename))
