"""Issue 12, item 5: a response and a poll end within their deadlines, whatever the server.

Real sockets on 127.0.0.1: a slowloris that drips its body (or its headers) one byte every
0.2 s never trips the read timeout, so only the watchdog deadline ends the request.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from flows.fetch import DeadlineExceeded, Fetcher


class Slowloris:
    """Answers every connection by dripping ``head`` then an endless body, byte by byte."""

    def __init__(self, *, drip_headers: bool) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.drip_headers = drip_headers
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
        try:
            conn.recv(65536)
            if not self.drip_headers:
                conn.sendall(head)
                head = b""
            for byte in head + b"x" * 100000:
                if self.stop.is_set():
                    break
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture(params=[False, True], ids=["body", "headers"])
def slowloris(request: pytest.FixtureRequest) -> Iterator[Slowloris]:
    server = Slowloris(drip_headers=request.param)
    yield server
    server.close()


def _fetcher(**kw: object) -> Fetcher:
    options = {
        "allow_private": True,
        "respect_robots": False,
        "per_host_interval": 0,
        "retries": 2,
        "backoff": 0.1,
        "timeout": (1.0, 1.0),  # each byte arrives well within the read timeout
        **kw,
    }
    return Fetcher(**options)  # type: ignore[arg-type]


def test_a_dripping_server_is_cut_off_at_the_response_deadline(slowloris: Slowloris) -> None:
    with _fetcher(response_deadline=2.0) as fetcher:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match="within 2 s"):
            fetcher.get(f"http://127.0.0.1:{slowloris.port}/doc.html")
        elapsed = time.monotonic() - started
    assert elapsed < 4.0, elapsed  # the deadline, not 100000 bytes x 0.2 s
    assert slowloris.connections == 1  # a slow-drip server is not retried


def test_a_poll_deadline_bounds_every_request_of_the_poll(slowloris: Slowloris) -> None:
    with _fetcher(response_deadline=60.0) as fetcher:
        fetcher.set_poll_deadline(1.5)
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            fetcher.get(f"http://127.0.0.1:{slowloris.port}/a.html")
        with pytest.raises(DeadlineExceeded, match="poll's deadline has passed"):
            fetcher.get(f"http://127.0.0.1:{slowloris.port}/b.html")
        assert time.monotonic() - started < 3.5
