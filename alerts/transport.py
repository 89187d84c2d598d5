"""How an email leaves: SMTP (``RADAR_SMTP_URL``) or the embedded ``.eml`` outbox.

A transport is used as a context manager around a batch, so SMTP opens one connection and
reuses it for every message of the batch (reconnecting only after a failure). Each
transport maps its failures onto one of three errors, which is all the dispatcher needs to know:

* :class:`TemporaryDeliveryError` — timeouts, dropped connections, 4xx: retry later;
* :class:`PermanentDeliveryError` — a 5xx about this recipient (550/553 on RCPT): dead;
* :class:`OperatorDeliveryError` — a 5xx or failure that refuses *every* message (535 login,
  bad TLS, connection refused, 554 at connect/MAIL/DATA): nothing is the delivery's fault,
  so nothing dies; the deliveries wait and the operator is told.
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

from alerts.errors import (
    AlertError,
    DeliveryError,
    OperatorDeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
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
        where = f"SMTP {self.host}:{self.port}"
        try:
            if self._conn is None:
                self._conn = self._connect()
            refused = self._conn.send_message(message, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            raise _refused(exc.recipients) from exc
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            raise OperatorDeliveryError(
                f"{where}: login refused: {exc.smtp_code} {_text(exc.smtp_error)}"
                " (check the user and password in RADAR_SMTP_URL)"
            ) from exc
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPSenderRefused) as exc:
            # Refused before any recipient was named: the relay refuses *us*, not an address.
            self._drop()
            detail = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                raise TemporaryDeliveryError(f"{where}: {detail}") from exc
            raise OperatorDeliveryError(f"{where}: relay refused us: {detail}") from exc
        except smtplib.SMTPResponseException as exc:
            # DATA refused (or another reply after the recipients were accepted).
            self._reset()
            raise _classify(exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            self._drop()
            raise OperatorDeliveryError(f"{where}: {exc} (check RADAR_SMTP_URL)") from exc
        except ssl.SSLError as exc:
            self._drop()
            raise OperatorDeliveryError(f"{where}: TLS failed: {exc}") from exc
        except (ConnectionRefusedError, socket.gaierror) as exc:
            self._drop()
            raise OperatorDeliveryError(
                f"{where}: {type(exc).__name__}: {exc} (is the relay running, is the host right?)"
            ) from exc
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise TemporaryDeliveryError(f"{where}: {exc}") from exc
        except TimeoutError as exc:
            self._drop()
            raise TemporaryDeliveryError(f"{where}: timed out") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TemporaryDeliveryError(f"{where}: {type(exc).__name__}: {exc}") from exc
        if refused:
            raise _refused(refused)

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


#: RCPT replies that are about the address itself (no such user, mailbox unavailable, bad
#: syntax): that delivery is dead. Other 5xx replies to RCPT (Postfix's "554 5.7.1 Relay access
#: denied") and 554 to DATA refuse every message we would send: an operator problem.
PER_RECIPIENT_CODES = frozenset({550, 551, 552, 553})


def _classify(code: int, message: str) -> DeliveryError:
    if 400 <= code < 500:
        return TemporaryDeliveryError(message)
    if code in PER_RECIPIENT_CODES:
        return PermanentDeliveryError(message)
    return OperatorDeliveryError(message)


def _refused(recipients: dict[str, tuple[int, bytes]]) -> DeliveryError:
    codes = [code for code, _ in recipients.values()]
    detail = "; ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in recipients.items())
    return _classify(min(codes) if codes else 550, f"recipient refused: {detail}")


def transport_from_settings(settings: Settings) -> Transport:
    """SMTP when ``RADAR_SMTP_URL`` is set, else the ``.eml`` outbox under ``RADAR_HOME``."""
    if settings.smtp_url:
        return SmtpTransport.from_url(settings.smtp_url)
    return OutboxTransport(settings.outbox_dir)
