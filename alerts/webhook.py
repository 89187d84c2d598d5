"""The JSON webhook channel: a subscription with ``webhook_url`` gets its alerts as an HTTP
POST of JSON instead of an email (the address still receives the confirmation email, so
double opt-in holds, and owns the manage link).

The body is ``radar.alert/1``: the same sections the email renders (built once, formatted
per channel), signed with ``X-Radar-Signature: sha256=<HMAC of the body with RADAR_SECRET>``
so the receiver can tell it came from us. The target must be a public http(s) host unless
``RADAR_ALLOW_PRIVATE_NETWORKS=1`` (a subscriber must not make the server POST into its own
intranet): the fetcher's address guard (:mod:`alerts.ssrf`) resolves the host, refuses if any
address is non-public and pins the connection to the checked address, so a DNS answer that
changes between check and connect (rebinding) cannot redirect the POST. Redirects are not
followed. 5xx and network errors are retried like SMTP 4xx,
other non-2xx answers are permanent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from alerts.errors import InvalidFilter, PermanentDeliveryError, TemporaryDeliveryError
from alerts.render import SectionView

if TYPE_CHECKING:
    from alerts.ssrf import Resolver

SCHEMA = "radar.alert/1"
TIMEOUT_SECONDS = 10.0


def check_webhook_url(url: str | None) -> str | None:
    """A clean http(s) URL with a host and no credentials, or ``None`` for an empty one."""
    value = (url or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidFilter(f"{value[:80]!r}: a webhook must be an http(s) URL with a host")
    if parts.username or parts.password or len(value) > 2000:
        raise InvalidFilter(f"{value[:80]!r}: no credentials in the URL, at most 2000 characters")
    return value


def payload(
    sections: Sequence[SectionView], *, subject: str, filters: str, manage_url: str
) -> dict[str, Any]:
    """The ``radar.alert/1`` body: one entry per change set, alerts then infos."""
    return {
        "schema": SCHEMA,
        "subject": subject,
        "filters": filters,
        "manage_url": manage_url,
        "change_sets": [dataclasses.asdict(s) for s in sections],
    }


def post(
    url: str,
    body: dict[str, Any],
    *,
    secret: str,
    delivery_id: str,
    allow_private: bool,
    resolver: Resolver | None = None,
) -> None:
    """POST ``body`` to ``url``; raises Temporary/PermanentDeliveryError when it fails.

    ``resolver`` plays DNS in tests (as for the fetcher); production uses ``getaddrinfo``.
    """
    data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    signature = hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "policy-radar webhook",
        "X-Radar-Delivery": delivery_id,
        "X-Radar-Signature": f"sha256={signature}",
    }
    # Here, not at the top: every ingest imports this module (and so requests would load), few post.
    import requests

    from alerts.ssrf import FetchRefused, PinnedAdapter, SSRFGuard, UnresolvableHost

    adapter = PinnedAdapter(SSRFGuard(allow_private=allow_private, resolver=resolver))
    with requests.Session() as session:
        session.trust_env = False  # a proxy would connect by name, around the pinned address
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        try:
            resp = session.post(
                url, data=data, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
            )
        except UnresolvableHost as exc:
            raise TemporaryDeliveryError(f"webhook: {exc}") from exc
        except FetchRefused as exc:
            raise PermanentDeliveryError(f"webhook refused (non-public or unsafe): {exc}") from exc
        except requests.RequestException as exc:
            raise TemporaryDeliveryError(f"webhook {url}: {type(exc).__name__}: {exc}") from exc
    if 200 <= resp.status_code < 300:
        return
    reason = f"webhook {url} answered {resp.status_code}"
    if resp.status_code >= 500 or resp.status_code in (408, 429):
        raise TemporaryDeliveryError(reason)
    raise PermanentDeliveryError(reason)
