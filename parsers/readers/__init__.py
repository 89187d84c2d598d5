"""Format readers: bytes -> :class:`Extracted` (paragraph text plus container metadata).

Readers are registered by kind in ``READERS``; ``sniff`` picks the kind from the bytes,
never from the file name.
"""
