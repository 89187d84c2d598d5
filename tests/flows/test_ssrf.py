"""The address guard: the SSRF table, each case a test, against a real local server.

Every refusal is checked at the Fetcher level with a live FixtureSite on 127.0.0.1, and the
site's request log must stay empty: refusing *after* connecting would be too late.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence

import pytest

from alerts.ssrf import SSRFGuard, UnsafeAddress, blocked_reason, parse_inet_aton
from flows.fetch import Fetcher, FetchRefused, SourceUnavailable
from flows.site_fixture import FixtureSite

PUBLIC_IP = "93.184.216.34"


def fake_dns(table: dict[str, Sequence[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"fake DNS: no entry for {host}")
        return list(table[host])

    return resolve


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as running:
        running.publish("/page.html", "<p>内部页面</p>".encode(), "text/html")
        running.publish("/ok.html", b"<p>ok</p>", "text/html")
        yield running


def fetcher(**kwargs: object) -> Fetcher:
    options: dict[str, object] = {
        "allow_private": False,
        "per_host_interval": 0,
        "retries": 0,
        "timeout": (1, 1),
        "user_agent": "policy-radar/test",
    }
    options.update(kwargs)
    return Fetcher(**options)  # type: ignore[arg-type]


# -- the table, at the Fetcher level ----------------------------------------------------------

REFUSED_HOSTS = {
    "loopback": "127.0.0.1",
    "hex": "0x7f000001",
    "decimal": "2130706433",
    "octal": "0177.0.0.1",
    "short": "127.1",
    "ipv4_mapped_ipv6": "[::ffff:127.0.0.1]",
    "ipv6_loopback": "[::1]",
    "metadata": "169.254.169.254",
    "private_10": "10.0.0.1",
    "private_192": "192.168.1.1",
    "cgnat": "100.64.0.1",
    "unspecified": "0.0.0.0",
    "zero": "0",
    "trailing_dot": "127.0.0.1.",
    "ipv6_link_local": "[fe80::1]",
    "ipv6_unique_local": "[fd12:3456::1]",
    "name_resolving_to_loopback": "localhost",
}


@pytest.mark.parametrize("host", REFUSED_HOSTS.values(), ids=REFUSED_HOSTS.keys())
def test_private_targets_are_refused_by_default(site: FixtureSite, host: str) -> None:
    url = f"http://{host}:{site.port}/page.html"
    with fetcher() as client, pytest.raises(FetchRefused) as caught:
        client.get(url)
    assert "refused" in str(caught.value)
    assert site.requests == [], "the guard must refuse before connecting"


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://ftp.example.gov.cn/a.pdf", "gopher://x/", "javascript:alert(1)"],
)
def test_non_http_schemes_are_refused(url: str) -> None:
    with fetcher(allow_private=True) as client, pytest.raises(FetchRefused, match="scheme"):
        client.get(url)


def test_allow_private_reaches_the_local_site(site: FixtureSite) -> None:
    with fetcher(allow_private=True) as client:
        result = client.get(site.url("/page.html"))
    assert result.status == 200
    assert result.content.decode() == "<p>内部页面</p>"


def test_allow_private_keeps_scheme_and_size_limits(site: FixtureSite) -> None:
    site.publish("/big.bin", b"x" * 5000, "application/octet-stream")
    with fetcher(allow_private=True, max_bytes=1000) as client:
        with pytest.raises(FetchRefused, match="scheme"):
            client.get("file:///etc/hosts")
        with pytest.raises(FetchRefused, match="limit"):
            client.get(site.url("/big.bin"))


# -- redirects, re-checked hop by hop ----------------------------------------------------------


def test_redirect_from_public_host_to_private_address_is_refused(site: FixtureSite) -> None:
    """gov.example passes the check as a public address (the test maps the connection to
    the local site); its redirect to 127.0.0.1 must then be refused before it is followed."""
    site.set_redirect("/start", f"http://127.0.0.1:{site.port}/page.html")
    site.set_redirect("/fine", f"http://gov.example:{site.port}/ok.html")
    client = fetcher(
        resolver=fake_dns({"gov.example": [PUBLIC_IP]}),
        connect_map={PUBLIC_IP: "127.0.0.1"},
    )
    with client:
        # Control: the same setup follows a redirect that stays on the public host.
        assert client.get(f"http://gov.example:{site.port}/fine").content == b"<p>ok</p>"
        with pytest.raises(UnsafeAddress, match=r"127\.0\.0\.1"):
            client.get(f"http://gov.example:{site.port}/start")
    assert site.requests_for("/start"), "the first hop was fetched"
    assert site.requests_for("/page.html") == [], "the private hop was not"


def test_redirect_to_a_name_resolving_to_a_private_address_is_refused(site: FixtureSite) -> None:
    site.set_redirect("/start", f"http://intranet.example:{site.port}/page.html")
    client = fetcher(
        resolver=fake_dns({"gov.example": [PUBLIC_IP], "intranet.example": ["10.1.2.3"]}),
        connect_map={PUBLIC_IP: "127.0.0.1"},
    )
    with client, pytest.raises(FetchRefused, match=r"10\.1\.2\.3"):
        client.get(f"http://gov.example:{site.port}/start")


def test_redirect_to_file_scheme_is_refused(site: FixtureSite) -> None:
    site.set_redirect("/start", "file:///etc/passwd")
    with fetcher(allow_private=True) as client, pytest.raises(FetchRefused, match="redirect"):
        client.get(site.url("/start"))


# -- pinning: connect to the checked address ---------------------------------------------------


def test_connection_goes_to_the_checked_address_with_the_original_host_header(
    site: FixtureSite,
) -> None:
    client = fetcher(allow_private=True, resolver=fake_dns({"portal.example": ["127.0.0.1"]}))
    with client:
        result = client.get(f"http://portal.example:{site.port}/ok.html")
    assert result.url == f"http://portal.example:{site.port}/ok.html"
    record = site.requests_for("/ok.html")[0]
    assert record.headers["Host"] == f"portal.example:{site.port}"


def test_dns_rebinding_between_check_and_connect_is_refused(site: FixtureSite) -> None:
    answers = iter([[PUBLIC_IP]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers, ["127.0.0.1"])  # public once, loopback ever after

    with fetcher(resolver=rebinding) as client, pytest.raises(UnsafeAddress):
        client.get(f"http://rebind.example:{site.port}/page.html")
    assert site.requests == []


def test_unresolvable_host_is_unavailable_not_refused() -> None:
    with fetcher(resolver=fake_dns({})) as client, pytest.raises(SourceUnavailable):
        client.get("http://nowhere.example/")


# -- TLS with a pinned address: SNI and certificate checks use the host name ------------------


@pytest.fixture
def tls_site(tmp_path) -> Iterator[tuple[FixtureSite, str]]:
    import datetime as dt
    import ssl

    crypto = pytest.importorskip("cryptography")
    assert crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("portal.example")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / "cert.pem"
    key_file = tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    with FixtureSite(ssl_context=context) as running:
        running.publish("/ok.html", b"<p>tls ok</p>", "text/html")
        yield running, str(cert_file)


def test_https_to_a_pinned_address_verifies_the_host_name(
    tls_site: tuple[FixtureSite, str],
) -> None:
    site, ca = tls_site
    dns = fake_dns({"portal.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    with fetcher(allow_private=True, resolver=dns, verify=ca) as client:
        result = client.get(f"https://portal.example:{site.port}/ok.html")
        assert result.content == b"<p>tls ok</p>"
        # Same address, but the certificate does not name other.example: refused by TLS.
        with pytest.raises(SourceUnavailable, match="TLS"):
            client.get(f"https://other.example:{site.port}/ok.html")


# -- unit level ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("1.2.3.4", "1.2.3.4"),
        ("example.gov.cn", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("08.1.1.1", None),  # 08 is not valid octal
    ],
)
def test_parse_inet_aton(text: str, expected: str | None) -> None:
    parsed = parse_inet_aton(text)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::1",  # 6to4 embedding 127.0.0.1
        "2002:a00:1::1",  # 6to4 embedding 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::1",  # local-use NAT64
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "ff02::1",
        "::",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
    ],
)
def test_blocked_addresses(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", [PUBLIC_IP, "2606:4700::1111", "::ffff:93.184.216.34", "64:ff9b::5db8:d822"]
)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_every_resolved_address_is_checked() -> None:
    guard = SSRFGuard(resolver=fake_dns({"mixed.example": [PUBLIC_IP, "10.0.0.7"]}))
    with pytest.raises(UnsafeAddress, match=r"10\.0\.0\.7"):
        guard.check("http://mixed.example/")


def test_guard_pins_the_checked_address() -> None:
    guard = SSRFGuard(resolver=fake_dns({"www.example.gov.cn": [PUBLIC_IP]}))
    target = guard.check("https://www.example.gov.cn/xxgk/index.html")
    assert (target.host, target.port, target.address) == ("www.example.gov.cn", 443, PUBLIC_IP)


def test_credentials_in_urls_are_refused() -> None:
    guard = SSRFGuard(allow_private=True)
    with pytest.raises(FetchRefused, match="credentials"):
        guard.check("http://user:pw@127.0.0.1/")
