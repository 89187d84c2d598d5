"""Header hygiene: document values end up in Subject and friends, so they must not smuggle lines.

A title containing ``\r\nBcc: …`` would otherwise add a header; we drop CR, LF, NUL and the
other C0/C1 control characters and fold runs of whitespace, before the value reaches
``email.message``.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s{2,}")


def clean_header(value: object, *, max_len: int = 300) -> str:
    """One safe header line: control characters become a space, length bounded."""
    text = _CONTROL.sub(" ", str(value if value is not None else ""))
    text = _SPACES.sub(" ", text).strip()
    if len(text) > max_len:
        text = text[: max_len - 1].rstrip() + "…"
    return text


def domain_of(address: str) -> str:
    """``policy-radar <radar@example.org>`` -> ``example.org`` (``localhost`` if none)."""
    match = re.search(r"@([A-Za-z0-9.-]+)", address or "")
    return match.group(1).lower().strip(".") if match else "localhost"
