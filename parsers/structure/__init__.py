"""Structure stage: cleaned paragraphs -> metadata, outline, tasks, units, targets.

The entry point is :func:`build_document`; the pieces live in small modules named for
what they find (``metadata``, ``outline``, ``units``, ``tasks``) and read their vocabulary
from ``parsers/data/structure.toml``.
"""

from parsers.structure.build import build_document

__all__ = ["build_document"]
