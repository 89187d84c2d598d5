"""Issue 12: LibreOffice converting a .doc with a linked image makes no network request.

The .doc is made here (flat ODT -> .doc with LibreOffice): its image is an INCLUDEPICTURE
link to an HTTP server on 127.0.0.1 that counts requests. Converted without isolation,
LibreOffice sends OPTIONS/HEAD/GET to it (the control); read through the parser, 0 requests.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from parsers import parse_bytes
from parsers.readers.legacy import no_network_prefix, soffice_path

pytestmark = [
    pytest.mark.skipif(
        soffice_path() is None,
        reason="LibreOffice is not installed (apt-get install -y libreoffice-writer-nogui)",
    ),
    pytest.mark.skipif(
        no_network_prefix() is None,
        reason="this system cannot make a network namespace (unshare -n / -rn failed)",
    ),
]

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415478da63f8cfc000000301010018dd8db40000000049454e44ae426082"
)

FODT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:body><office:text>
<text:p>关于印发测试工作方案的通知</text:p>
<text:p><draw:frame draw:name="img1" text:anchor-type="as-char" svg:width="1cm" svg:height="1cm">
<draw:image xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/>
</draw:frame></text:p>
<text:p>一、重点任务</text:p>
<text:p>（一）建设数据中心。（责任单位：区大数据局）</text:p>
</office:text></office:body></office:document>
"""


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - one server per test, reset by the fixture

    def _answer(self, body: bytes) -> None:
        self.hits.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(PNG)

    def do_HEAD(self) -> None:
        self._answer(b"")

    def do_OPTIONS(self) -> None:
        self._answer(b"")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def image_server() -> Iterator[tuple[str, list[str]]]:
    _Counter.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/linked.png", _Counter.hits
    server.shutdown()
    server.server_close()


def _soffice(args: list[str], tmp: Path, *, isolated: bool) -> None:
    prefix = list(no_network_prefix() or ()) if isolated else []
    cmd = [*prefix, soffice_path() or "soffice", f"-env:UserInstallation={(tmp / 'p').as_uri()}"]
    subprocess.run(
        [*cmd, "--headless", "--norestore", *args], capture_output=True, timeout=120, check=False
    )


def _linked_doc(url: str, tmp: Path) -> Path:
    src = tmp / "linked.fodt"
    src.write_text(FODT.format(url=url), encoding="utf-8")
    _soffice(["--convert-to", "doc", "--outdir", str(tmp), str(src)], tmp, isolated=True)
    doc = tmp / "linked.doc"
    assert doc.exists() and url.encode("utf-16-le") in doc.read_bytes()
    return doc


def test_a_linked_image_is_never_fetched(
    image_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, hits = image_server
    doc = _linked_doc(url, tmp_path)
    assert hits == []
    # The control: LibreOffice on its own does fetch the linked image.
    control = tmp_path / "control"
    control.mkdir()
    _soffice(["--convert-to", "docx", "--outdir", str(control), str(doc)], control, isolated=False)
    assert any(h.startswith(("HEAD", "GET")) for h in hits), hits
    hits.clear()
    parsed = parse_bytes(doc.read_bytes(), "linked.doc")
    assert hits == []
    assert parsed.title and "测试工作方案" in parsed.title
