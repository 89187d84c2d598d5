"""Named exceptions of the alerts package.

Delivery code decides between "try again later" and "give up" by exception type alone,
so every transport maps its own failures onto :class:`TemporaryDeliveryError` or
:class:`PermanentDeliveryError` before the dispatcher sees them.
"""

from __future__ import annotations

from parsers.errors import RadarError


class AlertError(RadarError):
    """Base of every error the alerts package raises on purpose."""


class InvalidEmail(AlertError):
    """An address we refuse to store (no ``@``, control characters, absurd length)."""


class InvalidFilter(AlertError):
    """A subscription filter we cannot use (unknown change kind, unknown mode)."""


class RateLimited(AlertError):
    """Too many sign-ups for one address or from one IP: protects third parties from mail bombs."""


class InvalidToken(AlertError):
    """A confirm/unsubscribe/manage token that is forged, expired, or no longer applies."""


class SubscriptionNotFound(AlertError):
    """No subscription matches the address (and id) given."""


class DeliveryError(AlertError):
    """Sending one email failed; subclasses say whether retrying can help."""


class TemporaryDeliveryError(DeliveryError):
    """Timeout, dropped connection, SMTP 4xx: retry later with backoff."""


class PermanentDeliveryError(DeliveryError):
    """A 5xx about this one recipient or message (550/553 on RCPT): retrying cannot help, the
    delivery goes dead with this reason."""


class OperatorDeliveryError(DeliveryError):
    """The relay or our configuration is broken for every message (535 wrong password, TLS
    failure, connection refused, a relay-wide 554): no delivery is at fault, so none is
    marked dead or spends an attempt; they wait, and the operator is told."""
