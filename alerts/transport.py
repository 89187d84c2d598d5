"""How an email leaves: SMTP (``RADAR_SMTP_URL``) or the embedded ``.eml`` outbox.

A transport is used as a context manager around a batch, so SMTP opens one connection and
reuses it for every message of the batch (reconnecting only after a failure). Each
transport maps its failures onto :class:`TemporaryDeliveryError` (connection refused,
timeouts, 4xx replies: retry later) or :class:`PermanentDeliveryError` (5xx: give up), which
is all the dispatcher needs to know.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import tempfile
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import parse_qs, unquote, urlsplit

from alerts.errors import AlertError, PermanentDeliveryError, TemporaryDeliveryError
from storage.settings import Settings

DEFAULT_TIMEOUT = 30.0


class Transport(Protocol):
    """Sends one message; opened once per batch (``with transport: …``)."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None: ...


def envelope_address(value: str) -> str:
    """``policy-radar <radar@x.org>`` -> ``radar@x.org`` (the SMTP envelope wants a bare address)."""
    pairs = getaddresses([value])
    return pairs[0][1] if pairs and pairs[0][1] else value.strip()


# -- outbox ---------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def eml_name(message_id: str) -> str:
    """File name for a Message-ID: a resend overwrites the same file instead of duplicating it."""
    return _UNSAFE.sub("_", message_id.strip("<>")) + ".eml"


class OutboxTransport:
    """The embedded default: each email becomes ``RADAR_HOME/outbox/<message-id>.eml``.

    Written to a temporary file and renamed, so a reader never sees half an email; named by
    Message-ID, so sending the same delivery twice leaves one file.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        message_id = str(message.get("Message-ID") or "")
        if not message_id:
            raise PermanentDeliveryError("message has no Message-ID")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            data = message.as_bytes()
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.directory / eml_name(message_id))
        except OSError as exc:
            raise TemporaryDeliveryError(f"outbox {self.directory}: {exc}") from exc


# -- SMTP -----------------------------------------------------------------------------


class SmtpTransport:
    """SMTP with one connection per batch; ``smtps://`` for implicit TLS, ``starttls`` option."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_mode: str = "none",  # none | smtps | starttls
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        local_hostname: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_mode = ssl_mode
        self.username = username
        self.password = password
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None
        #: How many connections were opened (benchmarks and tests check reuse).
        self.connections_opened = 0

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        """``smtp://user:pass@host:587?starttls=1&timeout=10`` or ``smtps://host``."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in {"smtp", "smtps"}:
            raise AlertError(f"RADAR_SMTP_URL {parts.scheme}://…: use smtp:// or smtps://")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        # ``?starttls`` alone means yes.
        starttls = query.get("starttls", "no").lower() in {"", "1", "true", "yes", "on"}
        ssl_mode = "smtps" if scheme == "smtps" else ("starttls" if starttls else "none")
        port = parts.port or (465 if scheme == "smtps" else (587 if starttls else 25))
        return cls(
            parts.hostname or "127.0.0.1",
            port,
            ssl_mode=ssl_mode,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", DEFAULT_TIMEOUT)),
        )

    # -- connection --------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        # Loading the CA store costs ~30 ms: only when TLS is used.
        context = ssl.create_default_context() if self.ssl_mode != "none" else None
        conn: smtplib.SMTP
        if self.ssl_mode == "smtps":
            conn = smtplib.SMTP_SSL(
                self.host,
                self.port,
                timeout=self.timeout,
                context=context,
                local_hostname=self.local_hostname,
            )
        else:
            conn = smtplib.SMTP(
                self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
            )
            if self.ssl_mode == "starttls":
                conn.ehlo()
                conn.starttls(context=context)
                conn.ehlo()
        if conn.sock is not None:
            # Commands and the message end are small writes; without NODELAY each waits for
            # the server's delayed ACK, which makes a reused connection slower than new ones.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.username:
            conn.login(self.username, self.password or "")
        self.connections_opened += 1
        return conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.close()
        except OSError:
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            try:
                conn.close()
            except OSError:
                pass

    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        """Send one message on the batch connection, classifying any failure."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            refused = self._conn.send_message(message, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in exc.recipients.items())
            raise _classify(min(codes) if codes else 550, f"recipient refused: {detail}") from exc
        except smtplib.SMTPResponseException as exc:
            # Sender refused, data refused, auth failed, 421 on connect …
            self._reset()
            raise _classify(exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
            self._drop()
            raise TemporaryDeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        except TimeoutError as exc:
            self._drop()
            raise TemporaryDeliveryError(f"SMTP {self.host}:{self.port}: timed out") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TemporaryDeliveryError(
                f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}"
            ) from exc
        if refused:
            detail = "; ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in refused.items())
            codes = [c for c, _ in refused.values()]
            raise _classify(min(codes), f"recipient refused: {detail}")

    def _reset(self) -> None:
        """After a refused transaction keep the connection if it still answers RSET."""
        if self._conn is None:
            return
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(value.split())


def _classify(code: int, message: str) -> TemporaryDeliveryError | PermanentDeliveryError:
    if 400 <= code < 500:
        return TemporaryDeliveryError(message)
    return PermanentDeliveryError(message)


def transport_from_settings(settings: Settings) -> Transport:
    """SMTP when ``RADAR_SMTP_URL`` is set, else the ``.eml`` outbox under ``RADAR_HOME``."""
    if settings.smtp_url:
        return SmtpTransport.from_url(settings.smtp_url)
    return OutboxTransport(settings.outbox_dir)
