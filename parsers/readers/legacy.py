"""Legacy Word (.doc) and WPS files (OLE2 containers), read by converting to DOCX.

We do not parse the binary formats ourselves: LibreOffice does it far better. When it is
not installed we refuse the file with a message that says how to fix that.
An OLE2 container holding an ``EncryptedPackage`` stream is a password-protected
DOCX/XLSX (Office wraps encrypted OOXML in OLE2), so it is reported as encrypted.

LibreOffice runs with **no network**: a document can link an image by URL (an INCLUDEPICTURE
field), and converting it made LibreOffice send OPTIONS, HEAD and GET to that URL — a request
to any address, around the fetcher's SSRF guard (issue 12). Profile settings do not stop it
(``BlockUntrustedRefererLinks`` and "never update links" still let HEAD through, tried on 7.4),
so the conversion runs in a fresh network namespace (``unshare -n``, or ``unshare -rn`` as an
unprivileged user), where not even loopback is up. Where no namespace can be made (a container
without user namespaces) the file is refused, unless the operator sets
``RADAR_LIBREOFFICE_NETWORK=allow``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from parsers.errors import EncryptedDocument, ParseError, ResourceLimitExceeded, UnsupportedFormat
from parsers.readers.base import Extracted
from parsers.readers.sniff import ENCRYPTED_PACKAGE

#: Seconds LibreOffice may take to convert one file.
CONVERT_TIMEOUT_S = 60


#: ``RADAR_LIBREOFFICE_NETWORK=allow`` lets LibreOffice run without a network namespace.
NETWORK_ENV = "RADAR_LIBREOFFICE_NETWORK"


def soffice_path() -> str | None:
    """The LibreOffice binary on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@lru_cache(maxsize=1)
def no_network_prefix() -> tuple[str, ...] | None:
    """The command prefix that runs a program without network (``unshare -n`` as root,
    ``unshare -rn`` otherwise), or None when this system cannot make a network namespace."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for flags in ("-n", "-rn"):
        try:
            probe = subprocess.run(
                [unshare, flags, "true"], capture_output=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return (unshare, flags)
    return None


def _isolation() -> tuple[str, ...]:
    prefix = no_network_prefix()
    if prefix is not None:
        return prefix
    if os.environ.get(NETWORK_ENV, "").strip().lower() == "allow":
        return ()
    raise UnsupportedFormat(
        "legacy Word/WPS file: LibreOffice cannot be cut off from the network here (unshare -n"
        f" failed), and a linked image would make it fetch URLs; set {NETWORK_ENV}=allow to"
        " convert anyway"
    )


def convert_to_docx(data: bytes, soffice: str, timeout_s: float = CONVERT_TIMEOUT_S) -> bytes:
    """Run ``soffice --headless --convert-to docx`` in a private temp dir and profile, in a
    network namespace of its own (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="radar-legacy-") as tmp:
        src = Path(tmp, "input.doc")
        src.write_bytes(data)
        outdir = Path(tmp, "out")
        outdir.mkdir()
        # A private profile: concurrent conversions with a shared profile lock each other out.
        profile = Path(tmp, "profile").as_uri()
        cmd = [
            *_isolation(),
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
