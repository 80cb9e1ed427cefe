"""Collect a channel's digest material: briefs posted since the last digest, new feed items.

Briefs come from the brief log, which records the thread and message each was posted in
(the poster writes it); those become permalinks with ``chat.getPermalink``. Feed
items that have no brief yet are briefed first through BriefService: bounded
concurrency, and cached like any other brief.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.digest.compose import DigestArticle
from bot.digest.feeds import FeedItem, collect_new_items
from bot.digest.store import DigestStore
from bot.errors import BriefbotError
from bot.models import Source
from bot.service import BriefService
from bot.store import Store, StoredBrief, normalize_url

log = logging.getLogger(__name__)

#: More than this in one digest is a wall nobody reads; the newest are kept.
MAX_ARTICLES = 80
PERMALINK_CONCURRENCY = 8


@dataclass
class Gathered:
    articles: list[DigestArticle] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Feed entries to mark seen once the digest is posted.
    seen: list[tuple[str, str]] = field(default_factory=list)
    #: Model calls spent briefing feed items.
    model_calls: int = 0


def _url_key(url: str | None) -> str | None:
    return normalize_url(url) if url else None


async def permalinks(
    client: AsyncWebClient | None, channel: str, briefs: Sequence[StoredBrief]
) -> dict[int, str]:
    """Permalinks to each brief's own message (or its thread), by brief log id."""
    posted: dict[int, str] = {}
    for b in briefs:
        if ts := b.message_ts or b.thread_ts:
            posted[b.id] = ts
    if client is None or not posted:
        return {}
    limiter = asyncio.Semaphore(PERMALINK_CONCURRENCY)

    async def one(ts: str) -> str | None:
        async with limiter:
            try:
                resp = await client.chat_getPermalink(channel=channel, message_ts=ts)
            except SlackApiError as exc:
                log.info("no permalink for %s in %s: %s", ts, channel, exc)
                return None
            link = resp.get("permalink")
            return str(link) if link else None

    ids = list(posted)
    links = await asyncio.gather(*(one(posted[i]) for i in ids))
    return {i: link for i, link in zip(ids, links, strict=True) if link}


async def channel_briefs(
    store: Store, client: AsyncWebClient | None, *,
    team: str | None, channel: str, since: datetime,
) -> list[DigestArticle]:  # fmt: skip
    """Briefs delivered in the channel since ``since``, oldest first, one per article."""
    logged = await asyncio.to_thread(
        store.recent_briefs, team=team, channel=channel, since=since, limit=MAX_ARTICLES * 3
    )
    logged.reverse()
    unique: list[StoredBrief] = []
    keys: set[str] = set()
    for row in logged:
        key = _url_key(row.brief.url or row.url) or row.key
        if key not in keys:
            keys.add(key)
            unique.append(row)
    links = await permalinks(client, channel, unique)
    return [
        DigestArticle(
            title=row.brief.title or row.title or row.url or "Untitled",
            url=row.brief.url or row.url,
            brief=row.brief,
            permalink=links.get(row.id),
        )
        for row in unique
    ]


async def brief_feed_items(
    settings: Settings, store: Store, items: Sequence[FeedItem]
) -> tuple[list[DigestArticle], int, int]:
    """Brief feed items (cached briefs cost nothing); (articles, model calls, unreadable)."""
    if not items:
        return [], 0, 0
    service = BriefService(settings, store=store)
    limiter = asyncio.Semaphore(settings.llm_concurrency)

    async def one(item: FeedItem) -> tuple[DigestArticle, int, bool]:
        fallback = DigestArticle(
            title=item.title, url=item.link, brief=None, origin="feed", feed=item.feed_title,
            fallback_gist=item.summary,
        )  # fmt: skip
        if not item.link:
            return fallback, 0, False
        async with limiter:
            try:
                # No team/channel: these are not briefs posted in the channel.
                result = await service.brief(Source(kind="url", value=item.link))
            except BriefbotError as exc:
                log.info("feed item %s not briefed: %s", item.link, exc)
                return fallback, 0, True
            except Exception:
                log.exception("feed item %s not briefed", item.link)
                return fallback, 0, True
        brief = result.brief
        article = DigestArticle(
            title=item.title or brief.title or item.link, url=item.link, brief=brief,
            origin="feed", feed=item.feed_title,
        )  # fmt: skip
        return article, brief.meta.llm_calls, False

    try:
        done = await asyncio.gather(*(one(item) for item in items))
    finally:
        await service.engine.aclose()
    return [a for a, _, _ in done], sum(c for _, c, _ in done), sum(bad for _, _, bad in done)


async def gather_articles(
    settings: Settings, store: Store, *, team: str | None, channel: str, since: datetime,
    now: datetime, client: AsyncWebClient | None,
) -> Gathered:  # fmt: skip
    """Everything new for the channel's digest, with footer notes for what went wrong."""
    dstore = DigestStore.for_store(store)
    out = Gathered()
    out.articles = await channel_briefs(store, client, team=team, channel=channel, since=since)
    if team is None:
        return out
    batch = await collect_new_items(settings, dstore, team=team, channel=channel, now=now)
    out.notes.extend(batch.notes)
    out.seen = batch.seen
    known = {_url_key(a.url) for a in out.articles} - {None}
    fresh = [item for item in batch.items if _url_key(item.link) not in known]
    room = max(0, MAX_ARTICLES - len(out.articles))
    if len(fresh) > room:
        out.notes.append(f"{len(fresh) - room} more feed items were left out of a full digest.")
        fresh = fresh[:room]
    articles, calls, unreadable = await brief_feed_items(settings, store, fresh)
    out.articles.extend(articles)
    out.model_calls = calls
    if unreadable:
        s = "s" if unreadable != 1 else ""
        out.notes.append(
            f"{unreadable} feed item{s} couldn't be read; the feed's summary is shown."
        )
    if len(out.articles) > MAX_ARTICLES:
        dropped = len(out.articles) - MAX_ARTICLES
        out.articles = out.articles[dropped:]
        out.notes.append(f"The {dropped} oldest briefs were left out of a full digest.")
    return out
