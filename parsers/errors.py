"""Narrow, named exceptions.

Callers decide on retries and messages by type: a ``ParseError`` is the document's fault
and retrying will not help; ``UnsupportedFormat`` means we refuse the kind of file.
Every message is meant to be shown to a user on one line after the file name.
"""


class RadarError(Exception):
    """Base of every error policy-radar raises on purpose."""


class UnsupportedFormat(RadarError):
    """The bytes are not a format we read (or a legacy one we cannot convert here)."""


class ParseError(RadarError):
    """The file claims a format we read but its content cannot be parsed."""


class NeedsOCR(ParseError):
    """A PDF without a usable text layer (scanned images or ``(cid:N)`` glyph garbage)."""


class EncryptedDocument(ParseError):
    """A password-protected PDF or DOCX."""


class ResourceLimitExceeded(ParseError):
    """Parsing hit the size, time or memory limit (decompression bombs, absurd nesting)."""
