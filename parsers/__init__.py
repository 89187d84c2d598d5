"""Pure document parsing: bytes in, :class:`ParsedDocument` out.

Nothing in this package touches a database, the network or Prefect, so it can be
tested and benchmarked on its own and run inside a resource-limited subprocess.
"""

from parsers.errors import (
    EncryptedDocument,
    NeedsOCR,
    ParseError,
    RadarError,
    ResourceLimitExceeded,
    UnsupportedFormat,
)
from parsers.schema import PARSER_VERSION, ParsedDocument, Proposal, Target, Task, Unit

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
