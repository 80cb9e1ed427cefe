"""Fetching over real loopback HTTP: redirects, size caps, deadlines, charsets, errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.config import Settings
from bot.errors import BlockedAddressError, FetchError, InputError, TooLargeError
from bot.ingest.fetch import fetch
from tests.fakes.web import ARTICLE_HTML, FakeWeb, article_pdf

CAP = 1_000_000


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # Loopback is private, so these tests lift the guard (test_ssrf.py covers the guard).
    return make_settings(allow_private_networks=True, fetch_timeout=1.0, fetch_max_bytes=CAP)


async def test_article_page(web: FakeWeb, settings: Settings) -> None:
    got = await fetch(web.url("/article"), settings)
    assert got.status == 200
    assert got.content_type == "text/html"
    assert got.charset == "utf-8"
    assert got.body == ARTICLE_HTML.encode()
    assert got.url == got.final_url == web.url("/article")
    assert got.redirects == []


async def test_sends_a_real_user_agent_and_accept_headers(web: FakeWeb, settings: Settings) -> None:
    await fetch(web.url("/article?ua"), settings)
    headers = next(h for path, h in web.requests if path == "/article?ua")
    assert headers["User-Agent"] == settings.user_agent
    assert headers["Accept"].startswith("text/html")
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert "Authorization" not in headers and "Cookie" not in headers


async def test_gzip_body_is_decoded(web: FakeWeb, settings: Settings) -> None:
    got = await fetch(web.url("/article.gz"), settings)
    assert got.body == ARTICLE_HTML.encode()


async def test_redirect_chain_is_followed_and_recorded(web: FakeWeb, settings: Settings) -> None:
    got = await fetch(web.url("/redirect/chain"), settings)
    assert got.final_url == web.url("/article")
    assert got.redirects == [
        web.url("/redirect/chain2"),
        web.url("/redirect/301"),
        web.url("/article"),
    ]
    assert got.url == web.url("/redirect/chain")


async def test_five_hops_are_fine_six_are_too_many(web: FakeWeb, settings: Settings) -> None:
    got = await fetch(web.url("/hops/5"), settings)
    assert got.final_url == web.url("/hops/0")
    with pytest.raises(FetchError, match="redirects more than 5 times"):
        await fetch(web.url("/hops/6"), settings)


async def test_redirect_loop(web: FakeWeb, settings: Settings) -> None:
    with pytest.raises(FetchError, match="redirects in a loop"):
        await fetch(web.url("/loop/a"), settings)


async def test_redirect_to_cloud_metadata_is_refused_even_when_private_is_allowed(
    web: FakeWeb, settings: Settings
) -> None:
    with pytest.raises(BlockedAddressError) as err:
        await fetch(web.url("/to-metadata"), settings)
    assert "169.254.169.254" in str(err.value)
    assert "stay refused even with BRIEFBOT_ALLOW_PRIVATE_NETWORKS=1" in str(err.value)


async def test_redirect_to_another_scheme_is_refused(web: FakeWeb, settings: Settings) -> None:
    with pytest.raises(InputError, match=r"only reads http\(s\) links"):
        await fetch(web.url("/to-file"), settings)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/missing", "HTTP 404, page not found"),
        ("/forbidden", "HTTP 403, the site refused access (login or paywall?)"),
        ("/error", "HTTP 500, the site had an error, try later"),
    ],
)
async def test_http_errors_say_what_happened(
    web: FakeWeb, settings: Settings, path: str, words: str
) -> None:
    with pytest.raises(FetchError) as err:
        await fetch(web.url(path), settings)
    assert words in str(err.value)
    assert web.url(path) in str(err.value)


async def test_content_length_over_the_cap_is_refused_before_reading(
    web: FakeWeb, settings: Settings
) -> None:
    with pytest.raises(TooLargeError) as err:
        await fetch(web.url("/huge?size=50000000"), settings)
    assert "larger than Briefbot's 1 MB limit" in str(err.value)


async def test_streamed_body_over_the_cap_is_cut_off(web: FakeWeb, settings: Settings) -> None:
    # No Content-Length: only counting the streamed bytes can stop this one.
    with pytest.raises(TooLargeError, match="1 MB limit"):
        await fetch(web.url("/huge?size=50000000&chunked=1"), settings)


async def test_body_just_under_the_cap_is_read(web: FakeWeb, settings: Settings) -> None:
    got = await fetch(web.url(f"/huge?size={CAP}&chunked=1"), settings)
    assert len(got.body) == CAP


async def test_gzip_bomb_is_refused_on_decoded_size(web: FakeWeb, settings: Settings) -> None:
    # ~30 KB on the wire, 30 MB decoded.
    with pytest.raises(TooLargeError, match="1 MB limit"):
        await fetch(web.url("/bomb"), settings)


@pytest.mark.timeout(30)  # without a total deadline the drip would outlast this
async def test_slow_drip_body_hits_the_total_deadline(web: FakeWeb, settings: Settings) -> None:
    # Each byte arrives well within any read timeout; only a total deadline stops it.
    with pytest.raises(FetchError) as err:
        await fetch(web.url("/slow?interval=0.02"), settings)
    assert "took longer than 1 s" in str(err.value)


async def test_refused_connection(settings: Settings) -> None:
    with FakeWeb() as gone:
        url = gone.url("/article")
    with pytest.raises(FetchError, match=r"Couldn't connect to 127\.0\.0\.1"):
        await fetch(url, settings)


async def test_pdf_bytes_arrive_intact(web: FakeWeb, settings: Settings) -> None:
    got = await fetch(web.url("/article.pdf"), settings)
    assert got.content_type == "application/pdf"
    assert got.body == article_pdf()


async def test_unresolvable_host(settings: Settings) -> None:
    from bot.ingest.ssrf import Network

    async def no_such_host(host: str, port: int) -> list[str]:
        return []

    with pytest.raises(FetchError, match=r"Couldn't find host nowhere\.example"):
        await fetch("http://nowhere.example/", settings, network=Network(resolver=no_such_host))
