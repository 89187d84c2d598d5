"""Plain-text reader: one paragraph per non-empty line; Markdown pipe tables as tables.

Lines are never joined: a TXT file's line breaks are the author's paragraph breaks
(our TXT seeds are the reference the other formats are compared with). Text that is
Markdown (YAML front matter, pipe tables) goes to the Markdown reader, which removes the
syntax and keeps the same one-line-one-paragraph rule.
"""

from __future__ import annotations

from parsers.readers.base import Extracted
from parsers.readers.markdown import looks_like_markdown, read_markdown
from parsers.readers.md_tables import read_pipe_tables
from parsers.text import clean_paragraphs, decode_text


def read_txt(data: bytes) -> Extracted:
    text = decode_text(data)
    if looks_like_markdown(text):
        return read_markdown(data)
    lines, tables = read_pipe_tables(text.splitlines())
    return Extracted(format="txt", paragraphs=clean_paragraphs(lines), tables=tables)
