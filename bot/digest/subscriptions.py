"""``/brief digest ...`` and ``/brief follow|unfollow|feeds``: parse, act, reply.

The Slack router calls these after its ack and shows the returned text ephemerally.
Every reply is user-safe: errors come back as actionable sentences, never tracebacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.digest.delivery import run_now
from bot.digest.feeds import FeedError, check_feed_url, read_feed
from bot.digest.render import long_date
from bot.digest.schedule import EXAMPLE, Subscription, next_slot, parse_schedule_command, parse_zone
from bot.digest.store import DigestStore
from bot.errors import BriefbotError, InputError
from bot.sanitize import link, sanitize_slack
from bot.slack.pacing import ChannelPacer
from bot.store import Store

log = logging.getLogger(__name__)

FEEDS_USAGE = "`/brief follow <RSS or Atom URL>`, `/brief unfollow <URL>` or `/brief feeds`."
_STATES = {"empty": "nothing new", "claimed": "in progress"}
UNEXPECTED = "Something went wrong on Briefbot's side; it is in the log. Try again in a minute."


def _when(moment: datetime, sub: Subscription) -> str:
    local = moment.astimezone(sub.zone)
    return f"{long_date(local.date())} at {local:%H:%M}"


async def _guard(action: Callable[[], Awaitable[str]], what: str) -> str:
    """Run a command; user-safe errors become the reply, anything else a generic line."""
    try:
        return await action()
    except BriefbotError as exc:
        return str(exc)
    except Exception:
        log.exception("%s failed", what)
        return UNEXPECTED


async def handle_digest_command(
    text: str, *, settings: Settings, store: Store, team: str, channel: str,
    user_tz: str | None, client: AsyncWebClient | None, user: str | None = None,
    now: datetime | None = None, pacer: ChannelPacer | None = None,
) -> str:  # fmt: skip
    """Handle ``digest daily 08:00 [Area/City] | weekdays 07:30 | off | now | show``."""
    moment = now or datetime.now(UTC)
    dstore = DigestStore.for_store(store)

    async def act() -> str:
        cmd = parse_schedule_command(text)
        if cmd.action == "schedule":
            assert cmd.cadence is not None and cmd.at is not None
            tz = cmd.tz or (parse_zone(user_tz) if user_tz else None)
            if tz is None:
                raise InputError(
                    "I don't know your time zone.",
                    hint="Add one to the command, e.g. `/brief digest daily 08:00 Europe/London`.",
                )
            sub = Subscription(team=team, channel=channel, cadence=cmd.cadence, at=cmd.at, tz=tz)
            await asyncio.to_thread(dstore.set_subscription, sub, by=user, now=moment)
            feeds = await asyncio.to_thread(dstore.feeds, team, channel)
            tip = "" if feeds else " Add feeds with `/brief follow <RSS or Atom URL>`."
            return (
                f"Digest on: {sub.describe()}. The next one arrives "
                f"{_when(next_slot(sub, moment), sub)}.{tip}"
            )
        if cmd.action == "off":
            if await asyncio.to_thread(dstore.remove_subscription, team, channel):
                return "Digests are off for this channel. Feeds stay followed (`/brief feeds`)."
            return "This channel has no digest scheduled; nothing to turn off."
        if cmd.action == "now":
            if client is None:
                raise InputError("Digests can only be posted from Slack.")
            result = await run_now(
                settings, store, client, team=team, channel=channel, now=moment, pacer=pacer
            )
            if result.status == "posted":
                n = result.articles
                return f"Posted the digest ({n} article{'s' if n != 1 else ''})."
            if result.status == "empty":
                return result.note or "Nothing new since the last digest."
            if result.error and "not_in_channel" in result.error:
                return "I couldn't post here: invite me to the channel first (`/invite @Briefbot`)."
            return f"I couldn't post the digest ({result.error or result.status}). Try again soon."
        return await _show(dstore, team=team, channel=channel, now=moment)

    return await _guard(act, "digest command")


async def _show(dstore: DigestStore, *, team: str, channel: str, now: datetime) -> str:
    found = await asyncio.to_thread(dstore.subscription, team, channel)
    feeds = await asyncio.to_thread(dstore.feeds, team, channel)
    runs = await asyncio.to_thread(dstore.runs, team, channel, limit=1)
    lines: list[str] = []
    if found is None:
        lines.append(f"No digest is scheduled here. Start one with {EXAMPLE}.")
    else:
        sub = found.sub
        lines.append(f"Digest: {sub.describe()}; next {_when(next_slot(sub, now), sub)}.")
    lines.append(
        f"Feeds followed: {len(feeds)}" + (" (`/brief feeds` lists them)." if feeds else ".")
    )
    if runs:
        last = runs[0]
        when = last.done_at or last.slot_at
        state = _STATES.get(last.status, last.status)
        detail = (
            f" ({sanitize_slack(last.error)})" if last.error and last.status != "posted" else ""
        )
        late = ", late" if last.late else ""
        lines.append(f"Last digest: {state}{late}, {when:%Y-%m-%d %H:%M} UTC{detail}.")
    return "\n".join(lines)


async def handle_feed_command(
    text: str, *, settings: Settings, store: Store, team: str, channel: str,
    user: str | None = None, now: datetime | None = None,
) -> str:  # fmt: skip
    """Handle ``follow <url>``, ``unfollow <url>`` and ``feeds``."""
    moment = now or datetime.now(UTC)
    dstore = DigestStore.for_store(store)
    words = text.split(maxsplit=1)
    verb = words[0].lower() if words else ""
    arg = words[1].strip() if len(words) > 1 else ""

    async def act() -> str:
        if verb == "feeds" and not arg:
            return await _list_feeds(dstore, team=team, channel=channel)
        if verb == "follow" and arg:
            return await _follow(settings, dstore, check_feed_url(arg), team, channel, user, moment)
        if verb == "unfollow" and arg:
            url = check_feed_url(arg)
            if await asyncio.to_thread(dstore.unfollow, team, channel, url):
                return f"Unfollowed {sanitize_slack(url, keep_urls=[url])}."
            return (
                f"This channel doesn't follow {sanitize_slack(url, keep_urls=[url])}. "
                "`/brief feeds` lists the ones it does."
            )
        raise InputError("I didn't understand that feed command.", hint=f"Use {FEEDS_USAGE}")

    return await _guard(act, "feed command")


async def _follow(
    settings: Settings, dstore: DigestStore, url: str, team: str, channel: str,
    user: str | None, now: datetime,
) -> str:  # fmt: skip
    note = ""
    try:
        feed = await read_feed(url, settings)
    except FeedError as exc:
        if not exc.alternates:
            raise
        # A site's home page that names its feed: follow the feed.
        feed = await read_feed(exc.alternates[0], settings)
        note = f" ({sanitize_slack(url, keep_urls=[url])} is a web page; this is the feed it names)"
        url = exc.alternates[0]
    except BriefbotError as exc:
        raise BriefbotError(
            f"I couldn't read that feed: {exc.message}",
            hint="Check the URL, or try again later.",
        ) from None
    added = await asyncio.to_thread(dstore.follow, team, channel, url, by=user, now=now)
    if not added:
        return f"This channel already follows {link(url, feed.title or url)}."
    await asyncio.to_thread(
        dstore.feed_fetched, team, channel, url, title=feed.title, error=None, now=now
    )
    schedule = await asyncio.to_thread(dstore.subscription, team, channel)
    tip = "" if schedule else f" Schedule a digest with {EXAMPLE}."
    return f"Following {link(url, feed.title or url)}{note}. New items go in the digest.{tip}"


async def _list_feeds(dstore: DigestStore, *, team: str, channel: str) -> str:
    feeds = await asyncio.to_thread(dstore.feeds, team, channel)
    if not feeds:
        return f"This channel follows no feeds. Add one with {FEEDS_USAGE.split(',')[0]}."
    lines = [f"This channel follows {len(feeds)} feed{'s' if len(feeds) != 1 else ''}:"]
    for feed in feeds:
        name = sanitize_slack(feed.title) + " — " if feed.title else ""
        problem = f" ⚠ {sanitize_slack(feed.last_error)}" if feed.last_error else ""
        lines.append(f"• {name}{sanitize_slack(feed.url, keep_urls=[feed.url])}{problem}")
    return "\n".join(lines)
