"""Plain-text reader: one paragraph per non-empty line; Markdown pipe tables as tables.

Lines are never joined: a TXT file's line breaks are the author's paragraph breaks
(our TXT seeds are the reference the other formats are compared with).
"""

from __future__ import annotations

from parsers.readers.base import Extracted
from parsers.readers.md_tables import read_pipe_tables
from parsers.text import clean_paragraphs, decode_text


def read_txt(data: bytes) -> Extracted:
    text = decode_text(data)
    lines, tables = read_pipe_tables(text.splitlines())
    return Extracted(format="txt", paragraphs=clean_paragraphs(lines), tables=tables)
