"""Legacy Word (.doc) and WPS files (OLE2 containers), read by converting to DOCX.

We do not parse the binary formats ourselves: LibreOffice does it far better. When it is
not installed we refuse the file with a message that says how to fix that.
An OLE2 container holding an ``EncryptedPackage`` stream is a password-protected
DOCX/XLSX (Office wraps encrypted OOXML in OLE2), so it is reported as encrypted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from parsers.errors import EncryptedDocument, ParseError, ResourceLimitExceeded, UnsupportedFormat
from parsers.readers.base import Extracted
from parsers.readers.sniff import ENCRYPTED_PACKAGE

#: Seconds LibreOffice may take to convert one file.
CONVERT_TIMEOUT_S = 60


def soffice_path() -> str | None:
    """The LibreOffice binary on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(data: bytes, soffice: str, timeout_s: float = CONVERT_TIMEOUT_S) -> bytes:
    """Run ``soffice --headless --convert-to docx`` in a private temp dir and profile."""
    with tempfile.TemporaryDirectory(prefix="radar-legacy-") as tmp:
        src = Path(tmp, "input.doc")
        src.write_bytes(data)
        outdir = Path(tmp, "out")
        outdir.mkdir()
        # A private profile: concurrent conversions with a shared profile lock each other out.
        profile = Path(tmp, "profile").as_uri()
        cmd = [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx",
            "--outdir",
            str(outdir),
            str(src),
        ]
        env = dict(os.environ, HOME=tmp)
        try:
            subprocess.run(
                cmd, capture_output=True, timeout=timeout_s, check=False, env=env, cwd=tmp
            )
        except subprocess.TimeoutExpired:
            raise ResourceLimitExceeded(
                f"legacy Word/WPS conversion took longer than {timeout_s:.0f} s"
            ) from None
        out = outdir / "input.docx"
        if not out.exists():
            raise ParseError("legacy Word/WPS file: LibreOffice could not convert it")
        return out.read_bytes()


def read_legacy(data: bytes) -> Extracted:
    if ENCRYPTED_PACKAGE in data:  # the OLE directory entry of an encrypted OOXML package
        raise EncryptedDocument("encrypted Office document (password-protected DOCX)")
    soffice = soffice_path()
    if soffice is None:
        raise UnsupportedFormat("legacy Word/WPS file: install LibreOffice to read it")
    from parsers.readers.docx import read_docx

    extracted = read_docx(convert_to_docx(data, soffice))
    extracted.format = "legacy"
    return extracted
