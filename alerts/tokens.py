"""Signed links for confirm / unsubscribe / manage.

``URLSafeTimedSerializer`` signs ``[subscription id, email]`` with ``RADAR_SECRET`` and a salt
per purpose, so a token minted for "manage" cannot be replayed as "unsubscribe" and a
forged or edited token fails the signature check. Whether a *valid* token still applies
(e.g. a confirm token for a subscription that was unsubscribed meanwhile) is decided by the
caller against the database, never by the token alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from alerts.errors import InvalidToken

Purpose = Literal["confirm", "unsubscribe", "manage"]

_SALTS: dict[str, str] = {
    "confirm": "radar.alerts.confirm.v1",
    "unsubscribe": "radar.alerts.unsubscribe.v1",
    "manage": "radar.alerts.manage.v1",
}

#: Confirm links expire (a stale sign-up should be redone); unsubscribe links in old emails
#: must keep working for a long time (RFC 8058 expects them to), so they get a year.
MAX_AGE: dict[str, int] = {
    "confirm": 7 * 24 * 3600,
    "unsubscribe": 366 * 24 * 3600,
    "manage": 366 * 24 * 3600,
}


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    subscription_id: int
    email: str


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    if purpose not in _SALTS:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(secret, salt=_SALTS[purpose])


def make_token(secret: str, purpose: Purpose, subscription_id: int, email: str) -> str:
    return str(_serializer(secret, purpose).dumps([int(subscription_id), email]))


def read_token(
    secret: str, purpose: Purpose, token: str, *, max_age: int | None = None
) -> TokenClaims:
    """Verify signature, salt and age; raise :class:`InvalidToken` with a one-line reason."""
    try:
        data = _serializer(secret, purpose).loads(
            token, max_age=MAX_AGE[purpose] if max_age is None else max_age
        )
    except SignatureExpired:
        raise InvalidToken(f"{purpose} link has expired") from None
    except BadSignature:
        raise InvalidToken(f"{purpose} link is not valid") from None
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not isinstance(data[0], int)
        or not isinstance(data[1], str)
    ):
        raise InvalidToken(f"{purpose} link is not valid")
    return TokenClaims(purpose=purpose, subscription_id=data[0], email=data[1])
