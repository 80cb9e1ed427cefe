"""Feeds for digests: RSS and Atom over loopback, seen-before, caps, broken feeds, commands."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.digest.feeds import (
    FeedError,
    check_feed_url,
    collect_new_items,
    parse_feed,
    read_feed,
)
from bot.digest.store import DigestStore
from bot.digest.subscriptions import handle_feed_command
from bot.errors import BlockedAddressError, InputError
from bot.store import Store
from tests.fakes.web import FakeWeb

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
NOW = datetime(2026, 3, 3, 8, tzinfo=UTC)
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
ATOM_TYPE = {"Content-Type": "application/atom+xml"}


def fixture(name: str, base: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"__BASE__", base.encode())


def rss(items: list[tuple[str, str]], *, base: str) -> bytes:
    """A small RSS document of (guid, title) items, links under base."""
    body = "".join(
        f'<item><title>{title}</title><link>{base}/a/{guid}</link><guid isPermaLink="false">'
        f"{guid}</guid><pubDate>Mon, 02 Mar 2026 0{i % 10}:00:00 GMT</pubDate></item>"
        for i, (guid, title) in enumerate(items)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    return f"{head}{body}</channel></rss>".encode()


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as server:
        base = server.url("").rstrip("/")
        server.add("/feeds/herald.rss", fixture("coastal-herald.rss.xml", base), headers=RSS_TYPE)
        server.add(
            "/feeds/ministry.atom", fixture("transport-ministry.atom.xml", base), headers=ATOM_TYPE
        )
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(allow_private_networks=True)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings.database_url) as s:
        yield s


async def test_rss_2_0_with_namespaces_cdata_and_guids(web: FakeWeb, settings: Settings) -> None:
    base = web.url("").rstrip("/")
    feed = await read_feed(web.url("/feeds/herald.rss"), settings)
    assert feed.title == "The Coastal Herald – Business"
    first, second, third, fourth = feed.items
    assert (
        first.title == "Halden port and dockworkers agree pay deal after three-week strike"
    )  # CDATA
    assert first.link == f"{base}/articles/halden-pay-deal?utm_source=rss&utm_medium=rss"
    assert first.published == datetime(2026, 3, 3, 5, 40, tzinfo=UTC)
    assert first.summary.startswith("The Port of Halden and the dockworkers’ union")  # no tags
    # An opaque guid and the link (tracking parameters dropped) both identify the entry.
    assert first.keys == (f"id:{base}/?p=48211", f"link:{base}/articles/halden-pay-deal")
    assert third.keys == (f"link:{base}/articles/hauliers-support",)  # no guid: link only
    assert (
        third.summary
        == "Ingrid Solberg wants help for small hauliers who lost work during the strike."
    )
    assert fourth.keys[0] == "id:coastal-herald-48190"
    assert second.feed_title == feed.title


async def test_atom_with_xml_base_html_and_xhtml_content(web: FakeWeb, settings: Settings) -> None:
    base = web.url("").rstrip("/")
    feed = await read_feed(web.url("/feeds/ministry.atom"), settings)
    assert feed.title == "Ministry of Transport: press releases"
    review, consultation, _ = feed.items
    assert review.title == "Minister welcomes Halden agreement & announces review"
    assert review.link == f"{base}/articles/strike-review"  # relative href, resolved by xml:base
    assert review.published == datetime(2026, 3, 3, 5, 30, tzinfo=UTC)  # +01:00 -> UTC
    assert "critical infrastructure" in review.summary and "<b>" not in review.summary
    assert consultation.published == datetime(2026, 3, 2, 12, tzinfo=UTC)  # updated only
    assert consultation.keys[0] == "id:tag:transport.example,2026-03-02:/press/port-fees"


async def test_new_items_only_across_runs_by_id_or_link(
    web: FakeWeb, settings: Settings, store: Store
) -> None:
    dstore = DigestStore.for_store(store)
    dstore.follow("T1", "C1", web.url("/feeds/herald.rss"), by="U1", now=NOW)
    dstore.follow("T1", "C1", web.url("/feeds/ministry.atom"), by="U1", now=NOW)
    first = await collect_new_items(settings, dstore, team="T1", channel="C1", now=NOW)
    titles = [item.title for item in first.items]
    # 4 + 3 entries; the Atom copy of the handling-fees story (same link) is shown once.
    assert len(titles) == 6
    assert titles.count("Shipping lines warn of higher handling fees at Halden") == 1
    assert first.notes == []
    dstore.mark_seen("T1", "C1", first.seen, now=NOW)

    again = await collect_new_items(settings, dstore, team="T1", channel="C1", now=NOW)
    assert again.items == []

    # The publisher re-issues one story under a new guid (same link) and adds a new one.
    base = web.url("").rstrip("/")
    doc = (
        fixture("coastal-herald.rss.xml", base)
        .replace(f"{base}/?p=48211".encode(), b"urn:reissued:48211")
        .replace(
            b"<item>",
            (
                "<item><title>Union members ratify the deal</title>"
                f"<link>{base}/articles/ratified</link>"
                "<pubDate>Wed, 04 Mar 2026 07:00:00 +0000</pubDate></item><item>"
            ).encode(),
            1,
        )
    )
    web.add("/feeds/herald.rss", doc, headers=RSS_TYPE)
    third = await collect_new_items(settings, dstore, team="T1", channel="C1", now=NOW)
    assert [item.title for item in third.items] == ["Union members ratify the deal"]


async def test_cap_per_feed_keeps_the_newest_and_says_so(
    web: FakeWeb, make_settings: Callable[..., Settings], store: Store
) -> None:
    settings = make_settings(allow_private_networks=True, digest_feed_cap=2)
    dstore = DigestStore.for_store(store)
    dstore.follow("T1", "C1", web.url("/feeds/herald.rss"), by=None, now=NOW)
    batch = await collect_new_items(settings, dstore, team="T1", channel="C1", now=NOW)
    assert [item.title for item in batch.items] == [
        "Halden port and dockworkers agree pay deal after three-week strike",
        "Shipping lines warn of higher handling fees at Halden",
    ]
    assert batch.notes == [
        "The Coastal Herald – Business: 2 more new items not shown (at most 2 per feed)."
    ]
    # The backlog over the cap is marked seen with the rest: it never floods a later digest.
    dstore.mark_seen("T1", "C1", batch.seen, now=NOW)
    later = await collect_new_items(settings, dstore, team="T1", channel="C1", now=NOW)
    assert later.items == [] and later.notes == []


async def test_broken_feeds_never_block_the_digest(
    web: FakeWeb, settings: Settings, store: Store
) -> None:
    web.add(
        "/feeds/down", b"<h1>Internal error</h1>", status=500, headers={"Content-Type": "text/html"}
    )
    web.add(
        "/blog",
        b'<!doctype html><html><head><link rel="alternate" type="application/rss+xml" '
        b'href="/feeds/herald.rss"></head><body>A blog</body></html>',
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    web.add(
        "/feeds/garbage", b"\x00\x01 not <xml at all", headers={"Content-Type": "application/xml"}
    )
    dstore = DigestStore.for_store(store)
    for path in ("/feeds/down", "/blog", "/feeds/garbage", "/feeds/ministry.atom"):
        dstore.follow("T1", "C1", web.url(path), by=None, now=NOW)
    batch = await collect_new_items(settings, dstore, team="T1", channel="C1", now=NOW)
    assert len(batch.items) == 3  # the good feed still counts
    assert len(batch.notes) == 3
    notes = " | ".join(batch.notes)
    assert f"Couldn't fetch {web.url('/feeds/down')}: HTTP 500" in notes
    assert f"{web.url('/blog')} is a web page, not an RSS or Atom feed." in notes
    assert f"{web.url('/feeds/garbage')} isn't a valid RSS or Atom feed" in notes
    # /brief feeds shows each feed's last problem.
    errors = {f.url.rsplit("/", 1)[1]: f.last_error for f in dstore.feeds("T1", "C1")}
    assert errors["ministry.atom"] is None and "HTTP 500" in (errors["down"] or "")


async def test_a_ten_thousand_entry_feed_is_capped_and_cheap(
    web: FakeWeb, settings: Settings, store: Store
) -> None:
    base = web.url("").rstrip("/")
    huge = rss([(f"g{i}", f"Entry {i}") for i in range(10_000)], base=base)
    web.add("/feeds/huge", huge, headers=RSS_TYPE)
    dstore = DigestStore.for_store(store)
    dstore.follow("T1", "C1", web.url("/feeds/huge"), by=None, now=NOW)
    batch = await collect_new_items(settings, dstore, team="T1", channel="C1", now=NOW)
    assert len(batch.items) == settings.digest_feed_cap == 10
    # The parse itself (in a worker process when collected) trims before feedparser: CPU
    # time here, not wall time, so load can't fail it. feedparser alone takes ~5 s on all
    # 10,000 entries.
    started = time.process_time()
    feed = parse_feed(huge, url=f"{base}/feeds/huge")
    took = time.process_time() - started
    assert feed.truncated and len(feed.items) < 10_000
    assert took < 2.0, f"took {took:.2f} s of CPU"


def test_trimmed_huge_feeds_stay_well_formed() -> None:
    doc = rss([(f"g{i}", f"Entry {i}") for i in range(500)], base="https://wire.example")
    feed = parse_feed(doc, url="https://wire.example/feed", scan=50)
    assert feed.truncated and len(feed.items) == 50
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        + b"".join(b"<entry><id>e%d</id><title>T%d</title></entry>" % (i, i) for i in range(300))
        + b"</feed>"
    )
    assert len(parse_feed(atom, url="https://a.example/", scan=20).items) == 20


def test_feedparser_is_never_handed_a_file_name(tmp_path: Path) -> None:
    # Given bare bytes, feedparser tries them as a path first: a "feed" whose body is a
    # local path must not read that file.
    local = tmp_path / "secret.xml"
    local.write_bytes(rss([("s1", "Secret local entry")], base="https://x.example"))
    with pytest.raises(FeedError):
        parse_feed(str(local).encode(), url="https://evil.example/feed")


async def test_feeds_go_through_the_ssrf_guard(
    web: FakeWeb, make_settings: Callable[..., Settings]
) -> None:
    with pytest.raises(BlockedAddressError):
        await read_feed(web.url("/feeds/herald.rss"), make_settings())  # loopback is private


def test_feed_urls_from_slack_text() -> None:
    assert (
        check_feed_url("<https://a.example/feed.xml|a.example/feed.xml>")
        == "https://a.example/feed.xml"
    )
    assert check_feed_url(" https://a.example/rss ") == "https://a.example/rss"
    with pytest.raises(InputError, match="isn't a feed link"):
        check_feed_url("ftp://a.example/feed")


async def test_follow_unfollow_and_list(web: FakeWeb, settings: Settings, store: Store) -> None:
    async def say(text: str) -> str:
        return await handle_feed_command(
            text, settings=settings, store=store, team="T1", channel="C1", user="U1", now=NOW
        )

    herald = web.url("/feeds/herald.rss")
    assert (await say("feeds")).startswith("This channel follows no feeds.")
    reply = await say(f"follow <{herald}>")
    assert reply.startswith(f"Following <{herald}|The Coastal Herald – Business>")
    assert "already follows" in await say(f"follow {herald}")
    # A web page that names its feed: the feed is followed instead.
    web.add(
        "/blog",
        b'<html><head><link rel="alternate" type="application/atom+xml" '
        b'href="/feeds/ministry.atom"></head></html>',
        headers={"Content-Type": "text/html"},
    )
    reply = await say(f"follow {web.url('/blog')}")
    assert "is a web page; this is the feed it names" in reply
    listing = await say("feeds")
    assert listing.startswith("This channel follows 2 feeds:")
    assert "Ministry of Transport: press releases" in listing
    # Errors are replies, not exceptions.
    assert "HTTP 404" in await say(f"follow {web.url('/nope.xml')}")
    assert "isn't a feed link" in await say("follow not-a-url")
    assert "didn't understand" in await say("follow")
    assert (await say(f"unfollow {herald}")) == f"Unfollowed {herald}."
    assert "doesn't follow" in await say(f"unfollow {herald}")
