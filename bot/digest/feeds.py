"""RSS and Atom feeds for digests: fetched through the SSRF-safe fetcher, parsed by feedparser.

feedparser never touches the network or the disk here: it gets the fetched bytes as a
stream (given a bare ``bytes`` it would try them as a file name first). A huge feed is
cut after its first entries before parsing, since feedparser takes seconds per 10,000.
A feed that is down, is a web page or is malformed becomes a note for the digest footer.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import html
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.config import Settings
from bot.digest.store import DigestStore
from bot.errors import BriefbotError, InputError
from bot.ingest.fetch import fetch
from bot.ingest.sandbox import parser_pool
from bot.store import normalize_url

log = logging.getLogger(__name__)

#: Entries read per feed, newest first in practice; the rest of a huge feed is never parsed.
MIN_SCAN = 200
_CLOSE_ENTRY = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
_ROOT = re.compile(rb"<((?:[\w.-]+:)?)(rss|feed|RDF)\b", re.IGNORECASE)
# A tag holds no "<", and a name starts after a non-name char: otherwise "<" * 20,000 or
# "a" + "-" * 20,000 made each position rescan the rest (quadratic, tens of seconds).
_TAGS = re.compile(r"<[^<>]*>")
_ALTERNATE = re.compile(r"<link\b[^<>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""(?<![\w-])([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as plain text."""

    feed_url: str
    feed_title: str | None
    title: str
    link: str | None
    summary: str
    published: datetime | None
    #: Its identities for "seen before": ``id:<guid>``, ``link:<normalized url>``.
    keys: tuple[str, ...]


@dataclass
class ParsedFeed:
    url: str
    title: str | None
    items: list[FeedItem]
    #: Entries beyond the scan limit, never parsed.
    truncated: bool = False


@dataclass
class FeedBatch:
    """What a digest takes from a channel's feeds."""

    items: list[FeedItem] = field(default_factory=list)
    #: Footer notes: feeds that failed and feeds over the cap.
    notes: list[str] = field(default_factory=list)
    #: Every (feed_url, entry_key) read this time, shown or over the cap: marked seen
    #: once the digest is posted, so a backlog never floods later digests.
    seen: list[tuple[str, str]] = field(default_factory=list)
    #: Per feed: (url, title or None, error message or None), for /brief feeds.
    status: list[tuple[str, str | None, str | None]] = field(default_factory=list)


class FeedError(BriefbotError):
    """The document is not a usable RSS or Atom feed."""

    code = "bad_feed"

    def __init__(
        self, message: str, *, hint: str | None = None, alternates: list[str] | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        #: Feeds a web page advertises, when the URL was a page rather than a feed.
        self.alternates = alternates or []


def plain(text: str | None, limit: int | None = None) -> str:
    """HTML fragment -> one line of text."""
    out = " ".join(html.unescape(_TAGS.sub(" ", text or "")).split())
    if limit is not None and len(out) > limit:
        out = out[: limit - 1].rstrip() + "…"
    return out


def trim_feed(body: bytes, limit: int) -> tuple[bytes, bool]:
    """The document cut after its ``limit``-th entry and closed again; (body, was_cut)."""
    ends = _CLOSE_ENTRY.finditer(body)
    cut = None
    for count, match in enumerate(ends, start=1):
        if count == limit:
            cut = match.end()
            break
    if cut is None or _CLOSE_ENTRY.search(body, cut) is None:
        return body, False
    root = _ROOT.search(body)
    if root is None:
        return body, False
    prefix, name = root.group(1), root.group(2).lower()
    if name == b"rss":
        closing = b"</channel></" + prefix + b"rss>"
    elif name == b"feed":
        closing = b"</" + prefix + b"feed>"
    else:
        closing = b"</" + prefix + root.group(2) + b">"
    return body[:cut] + closing, True


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    head = body[:1024].lstrip().lower()
    return (content_type or "").startswith(("text/html", "application/xhtml")) or head.startswith(
        (b"<!doctype html", b"<html")
    )


def feed_links(page: str, base: str) -> list[str]:
    """RSS/Atom links a web page advertises (``<link rel="alternate" type=...>``)."""
    from urllib.parse import urljoin

    found: list[str] = []
    for tag in _ALTERNATE.findall(page):
        attrs = {m[0].lower(): m[1] or m[2] or m[3] for m in _ATTR.findall(tag)}
        if (
            "alternate" in attrs.get("rel", "").lower().split()
            and attrs.get("type", "").lower() in _FEED_TYPES
            and attrs.get("href")
        ):
            found.append(urljoin(base, html.unescape(attrs["href"])))
    return found


def _published(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError):
        return None


def _item(entry: Any, *, feed_url: str, feed_title: str | None) -> FeedItem | None:
    link = entry.get("link") or None
    if link is not None and not link.lower().startswith(("http://", "https://")):
        link = None
    title = plain(entry.get("title"), 300) or (link or "")
    if not title:
        return None
    keys: list[str] = []
    if entry.get("id"):
        keys.append(f"id:{entry['id'].strip()}")
    if link:
        keys.append(f"link:{normalize_url(link)}")
    if not keys:
        keys.append("title:" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:32])
    return FeedItem(
        feed_url=feed_url,
        feed_title=feed_title,
        title=title,
        link=link,
        summary=plain(entry.get("summary") or entry.get("description"), 600),
        published=_published(entry),
        keys=tuple(keys),
    )


def parse_feed(
    body: bytes, *, url: str, content_type: str | None = None, scan: int = MIN_SCAN
) -> ParsedFeed:
    """Parse a fetched RSS/Atom document; FeedError if it isn't one."""
    trimmed, truncated = trim_feed(body, scan)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(trimmed), response_headers=headers)
    if not parsed.entries and not parsed.get("version"):
        if _looks_like_html(body, content_type):
            alternates = feed_links(body[:200_000].decode("utf-8", "replace"), url)
            hint = (
                f"Its feed looks like {alternates[0]}: follow that instead."
                if alternates
                else "Follow the site's feed URL (often /feed, /rss or /atom.xml)."
            )
            raise FeedError(
                f"{url} is a web page, not an RSS or Atom feed.", hint=hint, alternates=alternates
            )
        reason = str(parsed.get("bozo_exception") or "no entries").split("\n")[0][:120]
        raise FeedError(
            f"{url} isn't a valid RSS or Atom feed ({reason}).",
            hint="Check the feed URL in a browser or a feed validator.",
        )
    title = plain(parsed.feed.get("title"), 120) or None
    items = [
        item
        for entry in parsed.entries[:scan]
        if (item := _item(entry, feed_url=url, feed_title=title)) is not None
    ]
    return ParsedFeed(url=url, title=title, items=items, truncated=truncated)


async def read_feed(url: str, settings: Settings, *, scan: int = MIN_SCAN) -> ParsedFeed:
    """Fetch (SSRF-guarded) and parse one feed; BriefbotError with a user-safe message."""
    fetched = await fetch(url, settings)
    # feedparser (sgmllib's regexes, expat) can't be interrupted: parse in a worker process
    # under the same deadline as pages, so a hostile feed can't stall the bot.
    return await parser_pool().run(
        parse_feed, fetched.body, url=fetched.final_url, content_type=fetched.content_type,
        scan=scan, budget=settings.parse_timeout, what=f"the feed at {fetched.final_url}",
    )  # fmt: skip


def check_feed_url(text: str) -> str:
    """The URL from ``follow <url>`` (Slack wraps links as ``<url|label>``); InputError if none."""
    raw = text.strip()
    if raw.startswith("<") and raw.endswith(">"):
        raw = raw[1:-1].split("|", 1)[0]
    if not re.match(r"^https?://[^\s/]+", raw, re.IGNORECASE):
        raise InputError(
            f"“{text.strip()[:100]}” isn't a feed link.",
            hint="Give the RSS or Atom URL, e.g. `/brief follow https://example.com/feed.xml`.",
        )
    return raw


def newest_unseen(
    feed: ParsedFeed, seen: set[str], *, cap: int
) -> tuple[list[FeedItem], list[FeedItem]]:
    """(new items to show, newest first and at most ``cap``; new items over the cap)."""
    fresh = [item for item in feed.items if not seen.intersection(item.keys)]
    oldest = datetime.min.replace(tzinfo=UTC)
    # Stable sort: undated entries keep the feed's own order, after dated ones.
    fresh.sort(key=lambda item: item.published or oldest, reverse=True)
    return fresh[:cap], fresh[cap:]


FEED_CONCURRENCY = 4


async def collect_new_items(
    settings: Settings, dstore: DigestStore, *, team: str, channel: str, now: datetime
) -> FeedBatch:
    """New entries of the channel's feeds, at most the cap per feed; failures become notes."""
    feeds = await asyncio.to_thread(dstore.feeds, team, channel)
    cap = settings.digest_feed_cap
    scan = max(MIN_SCAN, cap * 4)
    limiter = asyncio.Semaphore(FEED_CONCURRENCY)

    async def one(url: str) -> ParsedFeed | BaseException:
        async with limiter:
            try:
                return await read_feed(url, settings, scan=scan)
            except Exception as exc:  # one bad feed must never block the digest
                return exc

    results = await asyncio.gather(*(one(feed.url) for feed in feeds))
    batch = FeedBatch()
    links: set[str] = set()
    for feed, result in zip(feeds, results, strict=True):
        if isinstance(result, BaseException):
            if isinstance(result, BriefbotError):
                message = result.message
            else:
                log.warning("feed %s failed unexpectedly", feed.url, exc_info=result)
                message = f"Couldn't read the feed {feed.url} (an unexpected error; see the log)."
            batch.notes.append(message)
            batch.status.append((feed.url, None, message))
            continue
        batch.status.append((feed.url, result.title, None))
        seen = await asyncio.to_thread(
            dstore.seen, team, channel, feed.url, (k for item in result.items for k in item.keys)
        )
        shown, over = newest_unseen(result, seen, cap=cap)
        for item in shown:
            link = normalize_url(item.link) if item.link else None
            if link is None or link not in links:  # the same story in two feeds: once
                batch.items.append(item)
            if link:
                links.add(link)
        batch.seen.extend((feed.url, key) for item in [*shown, *over] for key in item.keys)
        if over:
            name = result.title or feed.url
            batch.notes.append(
                f"{name}: {len(over)} more new item{'s' if len(over) != 1 else ''} not shown "
                f"(at most {cap} per feed)."
            )
    for url, title, error in batch.status:
        await asyncio.to_thread(
            dstore.feed_fetched, team, channel, url, title=title, error=error, now=now
        )
    return batch
