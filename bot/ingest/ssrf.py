"""SSRF guard: resolve once, refuse non-public addresses, and connect to the checked IP.

The check runs inside the connection itself (an httpcore network backend), so every
connection httpx opens, including each redirect hop, is checked; and because we dial
the validated IP rather than the name, a DNS answer that changes between check and
connect (rebinding) can't slip through. TLS still verifies the hostname: httpcore passes
the URL's host as SNI to ``start_tls`` whatever address the stream is connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpcore
import httpx
import idna

from bot.errors import BlockedAddressError, FetchError, InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: host, port -> the IP addresses (as strings) the host resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]
#: ip, port, connect timeout -> an open stream to exactly that address.
Connector = Callable[[str, int, float | None], Awaitable[httpcore.AsyncNetworkStream]]

BLOCKED_HINT = "Ask an admin to set BRIEFBOT_ALLOW_PRIVATE_NETWORKS=1 if this is an intranet page."
NEVER_HINT = (
    "Link-local and cloud-metadata addresses stay refused even with "
    "BRIEFBOT_ALLOW_PRIVATE_NETWORKS=1; paste the article text instead."
)
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# Ranges that are not public whatever a given Python's is_global says (its tables have
# changed between patch releases, so we don't lean on them alone).
_BLOCKED_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/96", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
        "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
        "168.63.129.16/32", "::ffff:0:0:0/96",  # a cloud's host endpoint; SIIT (RFC 6145)
    )
)  # fmt: skip
# Refused even when private networks are allowed: cloud metadata services live on
# link-local addresses (169.254.169.254, fd00:ec2::254), and no web page is on these.
_NEVER_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32",
              "::/128", "fe80::/10", "fd00:ec2::254/128", "ff00::/8",
              # Metadata and host endpoints off link-local: 100.100.100.200 (in CGNAT space),
              # 168.63.129.16 (a cloud's wire server) and 192.0.0.192 (another's metadata).
              "100.100.100.200/32", "168.63.129.16/32", "192.0.0.192/32")
)  # fmt: skip
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 8215 local-use NAT64 (/48): the IPv4 address sits in bytes 6-7 and 9-10 (RFC 6052).
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# RFC 6145 IPv4-translated addresses (SIIT): ::ffff:0:a.b.c.d.
_SIIT = ipaddress.IPv6Network("::ffff:0:0:0/96")
_V4_PART = re.compile(r"^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")
_MAX_ADDRESSES = 4


def blocked(shown: str) -> BlockedAddressError:
    """The one message for every refused address."""
    return BlockedAddressError(
        f"That link points at a private or local network address ({shown}), "
        "which Briefbot doesn't fetch.",
        hint=BLOCKED_HINT,
    )


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or ip in _SIIT:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64_LOCAL:
        packed = ip.packed
        return ipaddress.IPv4Address(packed[6:8] + packed[9:11])
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if int(ip) >> 32 == 0 and int(ip) > 1:  # IPv4-compatible (::a.b.c.d), not :: or ::1
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses, including any embedded IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64:
        # DNS64 answers for IPv4-only sites on IPv6-only networks: judge the IPv4 inside.
        return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if any(ip in net for net in _BLOCKED_NETS if net.version == ip.version):
        return False
    if (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    ):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False
        embedded = _embedded_v4(ip)
        return embedded is None or is_public(embedded)
    return True


def _v4_part(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if part.startswith("0") and len(part) > 1:
        return int(part, 8)
    return int(part)


def _loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """inet_aton spellings: '2130706433', '0x7f.1', '0177.0.0.1', '127.1' -> 127.0.0.1."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_V4_PART.match(p) for p in parts):
        return None
    *head, last = (_v4_part(p) for p in parts)
    tail_bytes = 5 - len(parts)  # the last part fills every byte the others don't
    if any(v > 255 for v in head) or last >= 256**tail_bytes:
        return None
    number = 0
    for v in head:
        number = number << 8 | v
    return ipaddress.IPv4Address(number << 8 * tail_bytes | last)


def ip_literal(host: str) -> IPAddress | None:
    """The address a host spells directly (any IPv4 spelling, bracketed IPv6), else None."""
    bare = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        return _loose_ipv4(bare)


def canonical_host(host: str) -> str:
    """Lowercase ASCII host without trailing dots, mapped the way browsers map IDNs."""
    bare = host.strip().strip("[]").rstrip(".").lower()
    if not bare:
        raise InputError("That link has no host name.", hint="Check the link for typos.")
    if ":" in bare:  # IPv6 literal
        return bare
    try:
        if not bare.isascii():
            bare = idna.encode(bare, uts46=True).decode("ascii")
        elif "xn--" in bare:
            # Punycode can decode to text that maps back to a local name or an address.
            decoded = ".".join(
                label[4:].encode("ascii").decode("punycode") if label.startswith("xn--") else label
                for label in bare.split(".")
            )
            mapped = idna.encode(decoded, uts46=True).decode("ascii")
            if ip_literal(mapped) is not None or is_local_name(mapped):
                return mapped
    except (idna.IDNAError, UnicodeError, ValueError):
        raise InputError(
            f"That link's host name isn't valid: {host}", hint="Check the link for typos."
        ) from None
    return bare


def is_local_name(host: str) -> bool:
    """localhost and its variants (RFC 6761): always this machine, whatever DNS says."""
    name = host.rstrip(".").lower()
    return name in _LOCAL_NAMES or name.endswith(".localhost")


def _never(ip: IPAddress) -> bool:
    embedded = _embedded_v4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return any(ip in net for net in _NEVER_NETS if net.version == ip.version) or (
        embedded is not None and _never(embedded)
    )


def check_ip(ip: IPAddress, *, shown: str, allow_private: bool) -> None:
    """Raise BlockedAddressError unless the address is public (or the guard is lifted)."""
    spelled = str(ip)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        spelled = f"::ffff:{ip.ipv4_mapped}"  # how people write these, not ::ffff:7f00:1
    label = spelled if shown in (str(ip), spelled) else f"{shown} = {spelled}"
    if _never(ip):
        error = blocked(label)
        error.hint = NEVER_HINT
        raise error
    if not allow_private and not is_public(ip):
        raise blocked(label)


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """Refuse bad schemes, credentials and literal non-public hosts; return a normalized URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InputError(
            f"That link isn't valid: {url}", hint="Check the link for typos."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InputError(
            f"Briefbot only reads http(s) links, not {scheme or 'this kind of'} links.",
            hint="Send a web link (https://...), or paste the article text.",
        )
    if "@" in parts.netloc:
        raise InputError(
            "That link has a user name or password in it, and Briefbot never sends credentials.",
            hint="Remove the part before '@' from the link, or paste the article text.",
        )
    if port == 0:
        raise InputError(f"That link's port isn't valid: {url}", hint="Check the link.")
    host = canonical_host(parts.hostname or "")
    if not allow_private and is_local_name(host):
        raise blocked(host)
    literal = ip_literal(host)
    if literal is not None:
        check_ip(literal, shown=host, allow_private=allow_private)
        host = str(literal)  # httpx refuses some spellings browsers accept (0177.0.0.1)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{port}"
    try:
        return httpx.URL(urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")))
    except httpx.InvalidURL:
        raise InputError(
            f"That link isn't valid: {url}", hint="Check the link for typos."
        ) from None


async def system_resolver(host: str, port: int) -> list[str]:
    """Every A and AAAA address of host, via getaddrinfo in the loop's thread pool."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def tcp_connector(
    ip: str, port: int, connect_timeout: float | None
) -> httpcore.AsyncNetworkStream:
    """Open a TCP stream to exactly this IP (no name lookup happens here)."""
    return await httpcore.AnyIOBackend().connect_tcp(ip, port, timeout=connect_timeout)


@lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """Verifying TLS context with certifi's roots, built once (loading roots is slow)."""
    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class Network:
    """How fetches reach the network. Tests swap in a fake resolver and connector."""

    resolver: Resolver = system_resolver
    connector: Connector = tcp_connector
    ssl_context: ssl.SSLContext | None = None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, validate every address, then connect to a validated IP."""

    def __init__(self, network: Network, *, allow_private: bool) -> None:
        self._network = network
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int) -> list[str]:
        """The validated addresses to try for host; raise if any address is not public."""
        name = canonical_host(host)
        literal = ip_literal(name)
        if literal is not None:
            check_ip(literal, shown=name, allow_private=self._allow_private)
            return [str(literal)]
        if not self._allow_private and is_local_name(name):
            raise blocked(name)
        addresses = await self._network.resolver(name, port)
        if not addresses:
            raise FetchError(f"Couldn't find host {name}.", hint="Check the link for typos.")
        checked: list[str] = []
        for address in addresses:
            try:
                ip = ipaddress.ip_address(address.split("%", 1)[0])
            except ValueError:
                raise blocked(f"{name} = {address}") from None
            # One bad address refuses the host: an attacker picks which one we'd dial.
            check_ip(ip, shown=name, allow_private=self._allow_private)
            checked.append(str(ip))
        return checked

    # httpcore's interface names the parameter ``timeout``; we must keep its signature.
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolve(host, port)
        error: Exception | None = None
        for ip in addresses[:_MAX_ADDRESSES]:
            try:
                stream = await self._network.connector(ip, port, timeout)
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                error = exc
                continue
            return stream
        assert error is not None  # resolve() returns at least one address
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError("Briefbot doesn't fetch from local sockets.")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request mapping, errors, streaming) over the guarded backend."""

    def __init__(self, network: Network, *, allow_private: bool) -> None:
        context = network.ssl_context or default_ssl_context()
        # No proxies, no .netrc: a proxy would resolve names itself and dodge the guard.
        super().__init__(verify=context, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(network, allow_private=allow_private),
        )
