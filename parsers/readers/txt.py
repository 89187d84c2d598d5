"""Plain-text reader: one paragraph per non-empty line.

Lines are never joined: a TXT file's line breaks are the author's paragraph breaks
(our TXT seeds are the reference the other formats are compared with).
"""

from __future__ import annotations

from parsers.readers.base import Extracted
from parsers.text import clean_paragraphs, decode_text


def read_txt(data: bytes) -> Extracted:
    text = decode_text(data)
    return Extracted(format="txt", paragraphs=clean_paragraphs(text.splitlines()))
