"""``check_port_free``: a listener is refused, the TIME_WAIT of a stopped serve is not."""

from __future__ import annotations

import socket

import pytest

from flows.service import ServeError, check_port_free


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_port_with_a_listener_is_refused() -> None:
    with _listener() as sock:
        port = sock.getsockname()[1]
        with pytest.raises(ServeError, match=f"port {port} on 127.0.0.1 is in use"):
            check_port_free(port, "web", "RADAR_WEB_PORT")


def test_port_left_in_time_wait_by_a_stopped_server_is_free() -> None:
    """The server side closes first (as a stopping server does), so its port is in
    TIME_WAIT for a minute; a restart must not be refused for it."""
    server = _listener()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()  # server side first: TIME_WAIT on 127.0.0.1:port
    client.recv(1)
    client.close()
    server.close()
    check_port_free(port, "web", "RADAR_WEB_PORT")
