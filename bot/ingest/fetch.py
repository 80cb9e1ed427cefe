"""Fetch one web page safely: SSRF-guarded, size-capped, deadline-bound, redirects by hand."""

from __future__ import annotations

import asyncio
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urlsplit

import httpx

from bot.config import Settings
from bot.errors import FetchError, TooLargeError
from bot.ingest.ssrf import GuardedTransport, Network, check_url

log = logging.getLogger(__name__)

ACCEPT = (
    "text/html,application/xhtml+xml;q=0.9,application/pdf;q=0.8,"
    "text/plain;q=0.7,text/markdown;q=0.7,*/*;q=0.1"
)
# Only what we can inflate ourselves under the size cap (so no br/zstd).
ACCEPT_ENCODING = "gzip, deflate"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PASTE_HINT = "Paste the article text instead."
_INFLATE_STEP = 256 * 1024
# "http:" or "https:" then anything but exactly two slashes ("http:169.254.169.254").
_LOCATION = "x-briefbot-location"
_SCHEME_NO_AUTHORITY = re.compile(r"^(https?):/{0,3}(?=[^/])", re.IGNORECASE)


@dataclass
class Fetched:
    """The body of the final response, decoded from gzip/deflate, plus where it came from."""

    url: str
    final_url: str
    status: int
    content_type: str | None
    charset: str | None
    body: bytes
    redirects: list[str] = field(default_factory=list)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


def _too_large(url: str, cap: int) -> TooLargeError:
    return TooLargeError(
        f"The page at {url} is larger than Briefbot's {_mb(cap)} limit.",
        hint="Paste the part you want briefed instead.",
    )


def status_error(status: int, url: str) -> FetchError:
    """A human message for an HTTP error status."""
    if status in (404, 410):
        what = "page not found"
        hint = "Check the link for typos, or paste the article text instead."
    elif status in (401, 403, 407, 451):
        what = "the site refused access (login or paywall?)"
        hint = _PASTE_HINT
    elif status == 429:
        what = "the site is limiting requests, try later"
        hint = "Try again in a few minutes, or paste the article text."
    elif status >= 500:
        what = "the site had an error, try later"
        hint = "Try again later, or paste the article text."
    else:
        what = "the site rejected the request"
        hint = _PASTE_HINT
    return FetchError(f"Couldn't fetch {url}: HTTP {status}, {what}.", hint=hint)


class _Inflater:
    """Incremental gzip/deflate decoding that never produces more than it is allowed."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._z = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        """Decode data in small pieces, stopping once ``limit`` bytes have come out."""
        if not self._started and self._encoding == "deflate":
            self._started = True
            # Some servers send raw deflate without the zlib header the spec asks for.
            if data and (data[0] & 0x0F != 8 or int.from_bytes(data[:2], "big") % 31):
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        # max_length bounds what even a tiny, highly compressed chunk (a bomb) can expand
        # to, and small steps keep a piece and the body from both holding the cap.
        produced = 0
        while data and produced < limit:
            piece = self._z.decompress(data, min(_INFLATE_STEP, limit - produced))
            produced += len(piece)
            data = self._z.unconsumed_tail
            yield piece
            if not piece and not data:
                break

    def flush(self) -> bytes:
        return self._z.flush()


def _inflater(content_encoding: str | None, url: str) -> _Inflater | None:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    raise FetchError(
        f"The site at {url} sent the page compressed as {', '.join(codings)}, "
        "which Briefbot can't read.",
        hint=_PASTE_HINT,
    )


async def _read_capped(response: httpx.Response, url: str, cap: int) -> bytes:
    """The decoded body, refused as soon as it (or its compressed form) passes the cap."""
    length = response.headers.get("content-length", "").strip()
    if length.isdigit() and int(length) > cap:
        raise _too_large(url, cap)
    inflater = _inflater(response.headers.get("content-encoding"), url)
    body = bytearray()
    received = 0
    try:
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > cap:
                raise _too_large(url, cap)
            pieces = inflater.feed(chunk, cap - len(body) + 1) if inflater else (chunk,)
            for piece in pieces:
                body += piece
                if len(body) > cap:
                    raise _too_large(url, cap)
        if inflater:
            body += inflater.flush()
    except zlib.error:
        raise FetchError(
            f"The site at {url} sent a damaged compressed page.", hint=_PASTE_HINT
        ) from None
    if len(body) > cap:
        raise _too_large(url, cap)
    return bytes(body)


async def _take_location(response: httpx.Response) -> None:
    """Hide Location from httpx: it builds a redirect request even when not following, and
    raises InvalidURL (not an HTTPError) on ``http:host``. _follow reads it from here instead.
    """
    if "location" in response.headers:
        response.headers[_LOCATION] = response.headers["location"]
        del response.headers["location"]


def _lenient_location(location: str) -> str:
    """A Location read the loosest way a client might: ``\\`` as ``/``, and ``http:host`` or
    ``http:/host`` as ``http://host``; so the guard judges the host a lenient client would dial.
    """
    fixed = location.strip().replace("\\", "/")
    match = _SCHEME_NO_AUTHORITY.match(fixed)
    if match:
        fixed = f"{match.group(1)}://{fixed[match.end() :]}"
    return fixed


def _content_type(header: str | None) -> tuple[str | None, str | None]:
    """(media type, charset) from a Content-Type header, both lowercased."""
    if not header:
        return None, None
    msg = Message()
    msg["content-type"] = header
    charset = msg.get_param("charset")
    return msg.get_content_type().lower(), (
        charset.strip().lower() if isinstance(charset, str) else None
    )


async def _follow(client: httpx.AsyncClient, url: str, settings: Settings) -> Fetched:
    allow = settings.allow_private_networks
    current = check_url(url, allow_private=allow)
    seen = {str(current)}
    redirects: list[str] = []
    while True:
        async with client.stream("GET", current) as response:
            location = response.headers.get(_LOCATION)
            if response.status_code in _REDIRECTS and location:
                try:
                    target = current.join(_lenient_location(location))
                except httpx.InvalidURL:
                    raise FetchError(
                        f"{current} redirects to a link that isn't valid.", hint=_PASTE_HINT
                    ) from None
                nxt = check_url(str(target), allow_private=allow)
                if str(nxt) in seen:
                    raise FetchError(
                        f"{url} redirects in a loop, so there's no page to read.",
                        hint="Open it in a browser and send the link it ends up on.",
                    )
                if len(redirects) >= settings.fetch_max_redirects:
                    raise FetchError(
                        f"{url} redirects more than {settings.fetch_max_redirects} times.",
                        hint="Open it in a browser and send the link it ends up on.",
                    )
                seen.add(str(nxt))
                redirects.append(str(nxt))
                current = nxt
                continue
            if response.status_code >= 400:
                raise status_error(response.status_code, str(current))
            if not 200 <= response.status_code < 300:
                raise FetchError(
                    f"Couldn't fetch {current}: the site answered HTTP {response.status_code}.",
                    hint=_PASTE_HINT,
                )
            body = await _read_capped(response, str(current), settings.fetch_max_bytes)
            media_type, charset = _content_type(response.headers.get("content-type"))
            return Fetched(
                url=url,
                final_url=str(current),
                status=response.status_code,
                content_type=media_type,
                charset=charset,
                body=body,
                redirects=redirects,
            )


def _display_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


async def fetch(url: str, settings: Settings, *, network: Network | None = None) -> Fetched:
    """GET url and return the final page; raise a user-safe error on any failure."""
    transport = GuardedTransport(
        network or Network(), allow_private=settings.allow_private_networks
    )
    timeout = httpx.Timeout(settings.fetch_timeout, connect=settings.fetch_connect_timeout)
    headers = {
        "User-Agent": settings.user_agent,
        "Accept": ACCEPT,
        "Accept-Encoding": ACCEPT_ENCODING,
        "Accept-Language": "en;q=1.0, *;q=0.5",
    }
    host = _display_host(url)
    try:
        # The one deadline for the whole fetch: connect, redirects, and a slow-drip body.
        async with (
            asyncio.timeout(settings.fetch_timeout),
            httpx.AsyncClient(
                transport=transport,
                headers=headers,
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,
                event_hooks={"response": [_take_location]},
            ) as client,
        ):
            return await _follow(client, url, settings)
    except httpx.ConnectTimeout:
        raise FetchError(
            f"{host} didn't answer within {settings.fetch_connect_timeout:g} s.",
            hint="Check the link, or try again later.",
        ) from None
    except (TimeoutError, httpx.TimeoutException):
        raise FetchError(
            f"{host} took longer than {settings.fetch_timeout:g} s to send the page.",
            hint="Try again later, or paste the article text.",
        ) from None
    except httpx.ConnectError as exc:
        log.info("connect failed for %s: %s", url, exc)
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise FetchError(
                f"{host} has an invalid security (TLS) certificate, so Briefbot won't read it.",
                hint="Paste the article text instead.",
            ) from None
        raise FetchError(
            f"Couldn't connect to {host}.", hint="Check the link, or try again later."
        ) from None
    except httpx.HTTPError as exc:
        log.info("fetch failed for %s: %r", url, exc)
        raise FetchError(
            f"Couldn't fetch {url}: the connection failed ({type(exc).__name__}).",
            hint="Try again later, or paste the article text.",
        ) from None
