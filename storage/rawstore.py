"""Raw bytes, content-addressed under ``RADAR_HOME/raw/ab/cd/<sha256>``.

Files rather than a blobs table: documents are often megabytes of PDF, which bloat SQLite
pages and PostgreSQL backups alike, the same bytes are kept once whatever series they belong
to, and a file named by its hash is immutable, so writing it before the database commits is
harmless (a failed ingest leaves at most an unreferenced file, never a wrong one). Writes go
to a temporary file in the same directory and are moved in place with ``os.replace``, so a
reader never sees half a file. (With PostgreSQL and several hosts, ``RADAR_HOME`` must be
shared storage.)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from storage.settings import load_settings


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_path(digest: str, root: Path | None = None) -> Path:
    base = root if root is not None else load_settings().raw_dir
    return base / digest[:2] / digest[2:4] / digest


def put_raw(data: bytes, root: Path | None = None) -> tuple[str, Path]:
    """Store ``data`` (once) and return its sha256 and path."""
    digest = sha256(data)
    path = raw_path(digest, root)
    if path.exists() and path.stat().st_size == len(data):
        return digest, path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest, path


def get_raw(digest: str, root: Path | None = None) -> bytes:
    return raw_path(digest, root).read_bytes()
