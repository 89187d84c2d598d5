"""The address guard: which URLs the fetcher and the webhook channel may connect to, and where
exactly they connect.

It lives in ``alerts`` (not ``flows``) because both outbound HTTP clients need the same guard
and the layering is ``flows -> alerts -> storage -> parsers``: the fetcher (``flows.fetch``)
imports it from here, the webhook channel (``alerts.webhook``) could not import it from
``flows``. One home, so a fix to the address rules protects both.

A source URL comes from a config file, and every link and redirect after it comes from a web
page we do not control, so a hostile (or merely confused) page could point the fetcher at
``http://169.254.169.254/`` (cloud metadata), ``http://10.0.0.5/admin`` or ``http://0x7f000001/``.
The guard therefore:

1. accepts only ``http``/``https``;
2. parses the host the way ``inet_aton`` does (``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
   ``127.1`` are all 127.0.0.1 to the C library) and otherwise resolves it with ``getaddrinfo``;
3. refuses if ANY resolved address is non-public: loopback, private, link-local, CGNAT
   100.64/10, unspecified, multicast, reserved, documentation ranges, and IPv6 forms that embed
   such an IPv4 address (IPv4-mapped ``::ffff:127.0.0.1``, IPv4-compatible, 6to4, Teredo, NAT64);
4. returns the checked address so the connection is made to THAT address (the
   :class:`PinnedAdapter` below) — resolving again at connect time would let a DNS server
   answer "public" to the check and "127.0.0.1" to the connection (DNS rebinding).

``RADAR_ALLOW_PRIVATE_NETWORKS=1`` (``allow_private=True``) lifts step 3 only: intranet
deployments (and intranet webhook receivers) and local tests still get the scheme check and
address pinning.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest
from requests.adapters import HTTPAdapter

from parsers.errors import RadarError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: ``resolver(host, port) -> addresses`` (text form). Injectable so tests can play DNS.
Resolver = Callable[[str, int], Sequence[str]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = ipaddress.ip_address("169.254.169.254")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")


class FetchRefused(RadarError):
    """We will not fetch this URL: unsafe address, scheme, robots.txt, size or redirect limit.

    Not retryable: the same request would be refused again. Defined here (and re-exported
    by :mod:`flows.fetch`) so the guard does not import the client.
    """

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class UnsafeAddress(FetchRefused):
    """The URL's host is, or resolves to, an address the fetcher must not reach."""


class UnresolvableHost(RadarError):
    """DNS gave no answer for the host; the fetcher reports it as the source being unavailable."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


def default_resolver(host: str, port: int) -> list[str]:
    """All addresses ``getaddrinfo`` gives for ``host`` (both families, scope ids stripped)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


def parse_inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """Parse an IPv4 literal the permissive way ``inet_aton(3)`` does, or return None.

    One to four parts separated by dots, each decimal, octal (leading ``0``) or hex
    (``0x``); the last part fills the remaining bytes: ``127.1`` -> 127.0.0.1,
    ``2130706433`` and ``0x7f000001`` -> 127.0.0.1, ``0177.0.0.1`` -> 127.0.0.1.
    These are what the C resolver turns such "host names" into, so the guard must too.
    """
    parts = text.split(".")
    if text.endswith("."):  # glibc accepts one trailing dot
        parts = parts[:-1]
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        lowered = part.lower()
        try:
            if lowered.startswith("0x"):
                value = int(lowered[2:], 16) if len(lowered) > 2 else 0
            elif len(lowered) > 1 and lowered.startswith("0"):
                value = int(lowered, 8)
            else:
                value = int(lowered, 10)
        except ValueError:
            return None
        if value < 0:
            return None
        values.append(value)
    *head, last = values
    if any(v > 0xFF for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = 0
    for v in head:
        number = (number << 8) | v
    number = (number << (8 * (4 - len(head)))) | last
    return ipaddress.IPv4Address(number)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a URL host denotes by itself (no DNS), or None if it is a name."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    bare = bare.split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if ":" in bare:
        return None
    return parse_inet_aton(bare)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses a v6 address tunnels to (mapped, 6to4, Teredo, NAT64)."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64_WELL_KNOWN:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is fine to reach.

    ``is_global`` alone is not enough on Python 3.11: it calls multicast ``ff02::1``,
    ``::7f00:1`` and ``64:ff9b::7f00:1`` global, so the embedded-IPv4 forms are unpacked and
    multicast is checked explicitly.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_unspecified:
            return "unspecified address"
        if address.is_loopback:
            return "loopback address"
        if address.is_multicast:
            return "multicast address"
        embedded = _embedded_ipv4(address)
        if embedded:
            for inner in embedded:
                reason = blocked_reason(inner)
                if reason:
                    return f"{reason} embedded in IPv6 {address}"
            if address.teredo is None:
                return None  # mapped / 6to4 / NAT64 of a public IPv4 address
        if address in _IPV4_COMPATIBLE:
            return "deprecated IPv4-compatible IPv6 address"
        if address in _NAT64_LOCAL_USE:
            return "local-use NAT64 address"
        if address.is_link_local or address.is_site_local:
            return "link-local address"
        if address.is_private or not address.is_global or address.is_reserved:
            return "private or reserved address"
        return None
    if address == _METADATA:
        return "cloud metadata address"
    if address.is_unspecified:
        return "unspecified address"
    if address.is_loopback:
        return "loopback address"
    if address.is_link_local:
        return "link-local address"
    if address in _CGNAT:
        return "shared (CGNAT) address"
    if address.is_multicast:
        return "multicast address"
    if address.is_private:
        return "private address"
    if address.is_reserved or not address.is_global:
        return "reserved address"
    return None


@dataclass(frozen=True)
class CheckedTarget:
    """A URL that passed the guard and the address its connection must use."""

    url: str
    scheme: str
    host: str  # as written in the URL, lower-cased, without brackets
    port: int
    address: str  # the pinned address to connect to


class SSRFGuard:
    """Checks URLs and picks the address to connect to; see the module docstring.

    ``connect_map`` maps a checked address to the one actually dialled. It exists only so a
    test can pretend a fixture server on 127.0.0.1 is a public host (to test the redirect
    hop check); production code never sets it.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        connect_map: Mapping[str, str] | None = None,
    ) -> None:
        self.allow_private = allow_private
        self._resolver = resolver or default_resolver
        self._connect_map = dict(connect_map or {})

    def check(self, url: str) -> CheckedTarget:
        """Validate ``url`` and return where to connect; raise :class:`FetchRefused` if not."""
        try:
            parts = urlsplit(url)
            port_in_url = parts.port
        except ValueError as exc:
            raise FetchRefused(f"{url}: malformed URL ({exc})", url=url) from None
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise FetchRefused(
                f"{url}: scheme {scheme or '(none)'!r} refused (only http and https)", url=url
            )
        host = (parts.hostname or "").lower()
        if not host:
            raise FetchRefused(f"{url}: no host in URL", url=url)
        if parts.username or parts.password:
            raise FetchRefused(f"{url}: credentials in URLs are refused", url=url)
        port = port_in_url or DEFAULT_PORTS[scheme]

        literal = parse_ip_literal(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                resolved = self._resolver(host, port)
            except (OSError, UnicodeError) as exc:
                # Not a refusal: the flows decide whether a DNS failure is retryable.
                raise UnresolvableHost(f"{url}: cannot resolve {host} ({exc})", url=url) from None
            addresses = []
            for text in resolved:
                parsed = parse_ip_literal(text)
                if parsed is None:
                    raise UnsafeAddress(f"{url}: resolver returned {text!r}", url=url)
                addresses.append(parsed)
            if not addresses:
                raise UnresolvableHost(f"{url}: {host} has no addresses", url=url)

        if not self.allow_private:
            for address in addresses:
                reason = blocked_reason(address)
                if reason:
                    raise UnsafeAddress(
                        f"{url}: {host} -> {address} is a {reason}; refused "
                        "(set RADAR_ALLOW_PRIVATE_NETWORKS=1 for intranet hosts)",
                        url=url,
                    )
        # Prefer IPv4: fixture servers and most government sites listen there.
        chosen = sorted(addresses, key=lambda a: a.version)[0]
        dial = self._connect_map.get(str(chosen), str(chosen))
        return CheckedTarget(url=url, scheme=scheme, host=host, port=port, address=dial)


_PINNED_ATTR = "_radar_checked_target"


class PinnedAdapter(HTTPAdapter):
    """A requests adapter that checks every request with the guard and dials the checked address.

    The URL (and so the ``Host`` header, TLS SNI and certificate hostname check) keeps the
    original host name; only the TCP connection goes to the pinned IP, through a urllib3 pool
    keyed by that IP with ``server_hostname``/``assert_hostname`` set to the name. Checking
    here, in ``send``, means nothing leaves the session unchecked — robots.txt fetches and
    every redirect hop included.
    """

    def __init__(self, guard: SSRFGuard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.guard = guard

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        target = self.guard.check(str(request.url))
        setattr(request, _PINNED_ATTR, target)
        if "Host" not in request.headers:
            default = DEFAULT_PORTS[target.scheme]
            host = f"[{target.host}]" if ":" in target.host else target.host
            request.headers["Host"] = host if target.port == default else f"{host}:{target.port}"
        return super().send(request, *args, **kwargs)

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        base_params, base_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        host_params: dict[str, Any] = dict(base_params)
        pool_kwargs: dict[str, Any] = dict(base_kwargs)
        target: CheckedTarget | None = getattr(request, _PINNED_ATTR, None)
        if target is None:  # pragma: no cover - send() always sets it
            raise FetchRefused(f"{request.url}: request bypassed the address guard")
        host_params["host"] = target.address
        if target.scheme == "https":
            pool_kwargs["server_hostname"] = target.host
            pool_kwargs["assert_hostname"] = target.host
        return host_params, pool_kwargs
