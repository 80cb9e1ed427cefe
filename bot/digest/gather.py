"""Collect a channel's digest material: briefs posted since the last digest, new feed items.

Briefs come from the brief log; their Slack threads from the job queue's finished jobs
(matched by URL, else by time), turned into permalinks with ``chat.getPermalink``. Feed
items that have no brief yet are briefed first through BriefService: bounded
concurrency, and cached like any other brief.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.digest.compose import DigestArticle
from bot.digest.feeds import FeedItem, collect_new_items
from bot.digest.store import BriefThread, DigestStore
from bot.errors import BriefbotError
from bot.models import Source
from bot.service import BriefService
from bot.store import Store, StoredBrief, normalize_url

log = logging.getLogger(__name__)

#: More than this in one digest is a wall nobody reads; the newest are kept.
MAX_ARTICLES = 80
#: A job finishes moments after its brief is logged; beyond this they are not the same.
THREAD_MATCH_WINDOW = timedelta(minutes=10)
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


def match_threads(
    briefs: Sequence[StoredBrief], threads: Sequence[BriefThread]
) -> dict[int, BriefThread]:
    """Brief log id -> the thread it was posted in: same URL first, else nearest after."""
    free = list(threads)
    found: dict[int, BriefThread] = {}
    for brief in briefs:
        urls = {_url_key(brief.url), _url_key(brief.brief.url)} - {None}
        match = next(
            (t for t in free if t.source_kind == "url" and _url_key(t.source_value) in urls), None
        )
        if match is None:
            # Redirects and pasted text: the job that finished soonest after the brief.
            after = [
                t
                for t in free
                if timedelta(seconds=-5) <= t.finished_at - brief.created_at <= THREAD_MATCH_WINDOW
            ]
            match = min(after, key=lambda t: t.finished_at - brief.created_at, default=None)
        if match is not None:
            free.remove(match)
            found[brief.id] = match
    return found


async def permalinks(
    client: AsyncWebClient | None, channel: str, threads: dict[int, BriefThread]
) -> dict[int, str]:
    """Permalinks to each brief's own message (or its thread), by brief log id."""
    if client is None or not threads:
        return {}
    limiter = asyncio.Semaphore(PERMALINK_CONCURRENCY)

    async def one(thread: BriefThread) -> str | None:
        async with limiter:
            try:
                resp = await client.chat_getPermalink(
                    channel=channel, message_ts=thread.message_ts or thread.thread_ts
                )
            except SlackApiError as exc:
                log.info("no permalink for %s in %s: %s", thread.thread_ts, channel, exc)
                return None
            link = resp.get("permalink")
            return str(link) if link else None

    ids = list(threads)
    links = await asyncio.gather(*(one(threads[i]) for i in ids))
    return {i: link for i, link in zip(ids, links, strict=True) if link}


async def channel_briefs(
    store: Store, dstore: DigestStore, client: AsyncWebClient | None, *,
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
    threads = (
        await asyncio.to_thread(dstore.brief_threads, team, channel, since=since) if team else []
    )
    links = await permalinks(client, channel, match_threads(unique, threads))
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
    out.articles = await channel_briefs(
        store, dstore, client, team=team, channel=channel, since=since
    )
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
