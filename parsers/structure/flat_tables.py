"""Tables flattened one cell per paragraph, rebuilt into the table model (stub)."""

from __future__ import annotations

from parsers.readers.base import Table


def recover(paragraphs: list[str]) -> tuple[list[str], list[Table]]:
    return paragraphs, []
