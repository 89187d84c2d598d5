"""Pure document parsing: bytes in, :class:`ParsedDocument` out.

Nothing in this package touches a database, the network or Prefect, so it can be
tested and benchmarked on its own and run inside a resource-limited subprocess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parsers.errors import (
    EncryptedDocument,
    NeedsOCR,
    ParseError,
    RadarError,
    ResourceLimitExceeded,
    UnsupportedFormat,
)

if TYPE_CHECKING:
    from parsers.schema import PARSER_VERSION, ParsedDocument, Proposal, Target, Task, Unit

#: Imported on first use: pydantic and the schema cost most of ``radar --help``'s start-up,
#: and every ``from parsers.errors import …`` runs this file first.
_SCHEMA_NAMES = frozenset(
    {"PARSER_VERSION", "ParsedDocument", "Proposal", "Target", "Task", "Unit"}
)


def __getattr__(name: str) -> Any:
    if name in _SCHEMA_NAMES:
        from parsers import schema

        return getattr(schema, name)
    raise AttributeError(f"module 'parsers' has no attribute {name!r}")


__all__ = [
    "PARSER_VERSION",
    "EncryptedDocument",
    "NeedsOCR",
    "ParseError",
    "ParsedDocument",
    "Proposal",
    "RadarError",
    "ResourceLimitExceeded",
    "Target",
    "Task",
    "Unit",
    "UnsupportedFormat",
    "parse_bytes",
]


def parse_bytes(data: bytes, filename: str | None = None) -> ParsedDocument:
    """Parse one document in this process (trusted input; see ``parsers.sandbox`` otherwise)."""
    from parsers.pipeline import parse_bytes as _parse

    return _parse(data, filename=filename)
