"""Assemble the RFC 5322 message: headers (cleaned), a text part and an HTML alternative.

Bulk-mail etiquette that mail providers check: ``List-Unsubscribe`` with an https link and a
mailto, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058) so the provider's
"unsubscribe" button works without a browser, and a stable ``Message-ID`` so a resend after a
crash is recognisable as the same message.
"""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from typing import Any

from alerts.headers import clean_header
from alerts.render import RenderedEmail

#: Headers whose value is a long ASCII URL list.
_URL_HEADERS = frozenset({"list-unsubscribe"})


class _MailPolicy(email.policy.EmailPolicy):
    """SMTP policy, except that URL headers may use the full 998-octet line.

    With the 78-column limit the stdlib folds a long URL by turning it into RFC 2047 encoded
    words, which mail clients do not decode in ``List-Unsubscribe``; the Subject keeps the
    normal limit so its encoded words stay within RFC 2047's 75 characters.
    """

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:
        if name.lower() in _URL_HEADERS and self.max_line_length != 998:
            wide = self.clone(max_line_length=998)
            return wide._fold(name, value, refold_binary)  # type: ignore[attr-defined,no-any-return]
        return super()._fold(name, value, refold_binary)  # type: ignore[misc,no-any-return]


_POLICY = _MailPolicy(linesep="\r\n")


def message_id_for(key: str, domain: str) -> str:
    """``<radar.{key}@{domain}>``: deterministic, so the same delivery always has the same id."""
    safe_key = "".join(ch for ch in key if ch.isalnum() or ch in ".-_")
    return f"<radar.{safe_key}@{clean_header(domain) or 'localhost'}>"


def _from_header(sender: str) -> Address | str:
    pairs = getaddresses([clean_header(sender)])
    if pairs and "@" in pairs[0][1]:
        name, addr = pairs[0]
        user, _, domain = addr.rpartition("@")
        return Address(display_name=clean_header(name), username=user, domain=domain)
    return clean_header(sender)


def compose(
    rendered: RenderedEmail,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    unsubscribe_url: str | None = None,
    unsubscribe_mailto: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """One ``multipart/alternative`` message; every header value passes :func:`clean_header`."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = _from_header(sender)
    msg["To"] = clean_header(recipient)
    msg["Subject"] = clean_header(rendered.subject)
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = clean_header(message_id)
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        links = [f"<{clean_header(unsubscribe_url)}>"]
        if unsubscribe_mailto:
            links.append(f"<{clean_header(unsubscribe_mailto)}>")
        msg["List-Unsubscribe"] = ", ".join(links)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # base64 keeps the message 7-bit clean for any relay (no 8BITMIME/SMTPUTF8 needed).
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="base64")
    return msg
