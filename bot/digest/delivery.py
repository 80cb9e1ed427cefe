"""Run digests: claim due slots, compose, post, record. Used by the Slack app and the CLI.

Each slot is claimed in storage before any work (bot.digest.store), so two bot processes
sharing a database post it once. After downtime, the newest missed slot inside the
catch-up window is posted marked late; older or out-of-window slots are recorded as
skipped. Time comes from the caller (``now``) or an injectable clock, so tests never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.config import Settings
from bot.digest.compose import Digest, assemble
from bot.digest.gather import Gathered, gather_articles
from bot.digest.render import build_digest_messages, empty_line
from bot.digest.schedule import Slot, Subscription, due_slots, next_slot, slot_fate
from bot.digest.store import DigestStore, RunKind, RunStatus, Scheduled
from bot.digest.synthesis import synthesize
from bot.render.block_kit import SlackMessage
from bot.slack.pacing import ChannelPacer
from bot.slack.posting import marker, post_message
from bot.store import Store

log = logging.getLogger(__name__)

#: A claim not moved to "posting" within this long belongs to a dead process.
LEASE = timedelta(minutes=15)
#: The scheduler looks again at least this often (new subscriptions, changed times).
POLL_SECONDS = 60.0
SUBSCRIPTION_CONCURRENCY = 4
#: The first digest also covers the day before the schedule was set.
FIRST_DIGEST_SPAN = timedelta(days=1)
#: However long since the last digest, look back no further than this.
MAX_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class RunResult:
    slot_key: str
    channel: str
    #: posted, empty, skipped, failed, or taken (another process has the slot).
    status: RunStatus | Literal["taken"]
    late: bool = False
    ts: str | None = None
    articles: int = 0
    model_calls: int = 0
    error: str | None = None
    #: For an empty day left unposted: the "Nothing new since ..." line.
    note: str | None = None


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float, stop: asyncio.Event) -> None: ...


class SystemClock:
    """Wall-clock time; sleeps end early when ``stop`` is set."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)


# --- composing -----------------------------------------------------------------------


async def _since(dstore: DigestStore, team: str | None, channel: str, *, now: datetime) -> datetime:
    """Where the digest starts: the last digest, else the day before the schedule began.

    Slots skipped while the bot was down don't lose their briefs: the next digest
    reaches back to the last one that was actually handled (at most MAX_LOOKBACK).
    """
    if team is None:
        return now - FIRST_DIGEST_SPAN
    last = await asyncio.to_thread(dstore.last_digest_at, team, channel)
    if last is not None:
        return last
    found = await asyncio.to_thread(dstore.subscription, team, channel)
    start = found.created_at if found else now
    return max(start - FIRST_DIGEST_SPAN, now - MAX_LOOKBACK)


async def compose_digest(
    settings: Settings, store: Store, *, team: str | None, channel: str, now: datetime,
    day: datetime | None = None, client: AsyncWebClient | None = None,
    late_note: str | None = None,
) -> tuple[Digest, Gathered, int]:  # fmt: skip
    """The digest the channel would get now: (digest, what was gathered, model calls)."""
    since = await _since(DigestStore.for_store(store), team, channel, now=now)
    gathered = await gather_articles(
        settings, store, team=team, channel=channel, since=since, now=now, client=client
    )
    calls = gathered.model_calls
    notes = ([late_note] if late_note else []) + gathered.notes
    local_day = (day or now).date()
    themes = None
    how: Literal["offline", "openai", "none"] = "offline" if gathered.articles else "none"
    articles = gathered.articles
    if settings.engine_name() == "openai" and len(articles) >= 2:
        synthesis = await synthesize(settings, articles)
        if synthesis is not None:
            calls += synthesis.calls
            if synthesis.themes is not None:
                themes, how = synthesis.themes, "openai"
    digest = assemble(
        articles, channel=channel, day=local_day, since=since, themes=themes,
        synthesis=how, notes=notes, late=late_note is not None,
    )  # fmt: skip
    return digest, gathered, calls


async def preview(
    settings: Settings, store: Store, *, channel: str, now: datetime,
    client: AsyncWebClient | None = None,
) -> Digest:  # fmt: skip
    """What the channel would get now; claims nothing, marks nothing seen."""
    dstore = DigestStore.for_store(store)
    team = await asyncio.to_thread(dstore.channel_team, channel)
    found = await asyncio.to_thread(dstore.subscription, team, channel) if team else None
    local = now.astimezone(found.sub.zone) if found else now
    digest, _, _ = await compose_digest(
        settings, store, team=team, channel=channel, now=now, day=local, client=client
    )
    return digest


# --- posting -------------------------------------------------------------------------


async def post_messages(
    client: AsyncWebClient, channel: str, messages: list[SlackMessage], *,
    pacer: ChannelPacer, owner: str,
) -> tuple[str, list[str]]:  # fmt: skip
    """Post the first message in the channel and the rest in its thread; (ts, reply ts).

    Through the poster's own path: paced with the channel's briefs, each part marked.
    """
    ts = await post_message(
        client, pacer, channel, messages[0], thread_ts=None, metadata=marker(owner, 0)
    )
    replies: list[str] = []
    for part, message in enumerate(messages[1:], start=1):
        replies.append(
            await post_message(
                client, pacer, channel, message, thread_ts=ts, metadata=marker(owner, part)
            )
        )
    return ts, replies


def _late_note(slot: Slot, sub: Subscription) -> str:
    local = slot.at.astimezone(ZoneInfo(sub.tz))
    return (
        f"Posted late: this digest was due at {local:%H:%M} ({sub.tz}) while Briefbot was offline."
    )


async def run_slot(
    settings: Settings, store: Store, client: AsyncWebClient, *, slot: Slot,
    sub: Subscription | None, now: datetime, late: bool = False,
    pacer: ChannelPacer | None = None,
) -> RunResult:  # fmt: skip
    """Claim one slot, then compose, post and record its digest; never posts a slot twice.

    ``pacer``: the Slack poster's, so the digest keeps the channel's pace with its briefs.
    """
    dstore = DigestStore.for_store(store)
    kind: RunKind = "manual" if slot.manual else "scheduled"
    claim = await asyncio.to_thread(
        dstore.claim, slot.key, team=slot.team, channel=slot.channel, kind=kind,
        slot_at=slot.at, now=now, lease=LEASE,
    )  # fmt: skip
    if claim is None:
        return RunResult(slot.key, slot.channel, "taken")

    async def finish(status: RunStatus, **fields: Any) -> None:
        await asyncio.to_thread(
            dstore.finish, slot.key, claim, status=status, now=now, late=late, **fields
        )

    calls = 0
    try:
        digest, gathered, calls = await compose_digest(
            settings, store, team=slot.team, channel=slot.channel, now=now,
            day=datetime.combine(slot.local_date, slot.local_time), client=client,
            late_note=_late_note(slot, sub) if late and sub else None,
        )  # fmt: skip
        messages = build_digest_messages(digest)
    except Exception as exc:
        log.exception("digest for %s could not be composed", slot.channel)
        error = f"{type(exc).__name__}: {exc}"
        await finish("failed", error=error)
        return RunResult(slot.key, slot.channel, "failed", late, model_calls=calls, error=error)
    articles = digest.articles
    if digest.is_empty and settings.digest_empty == "skip":
        await finish("empty")
        return RunResult(
            slot.key, slot.channel, "empty", late, model_calls=calls, note=empty_line(digest)
        )
    # Only the claim holder gets past this line, and only once: a slot that fails from
    # here on is recorded as failed, never retried (Slack may already show part of it).
    if not await asyncio.to_thread(dstore.begin_posting, slot.key, claim):
        return RunResult(slot.key, slot.channel, "taken")
    try:
        pacer = pacer or ChannelPacer(settings.channel_post_interval)
        ts, replies = await post_messages(
            client, slot.channel, messages, pacer=pacer, owner=f"digest:{slot.key}"
        )
    except Exception as exc:
        if isinstance(exc, SlackApiError):
            error = f"Slack said {exc.response.get('error', 'error')}"
            log.warning("digest for %s not posted: %s", slot.channel, error)
        else:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("digest for %s not posted", slot.channel)
        await finish("failed", articles=articles, error=error)
        return RunResult(slot.key, slot.channel, "failed", late, None, articles, calls, error)
    await asyncio.to_thread(dstore.mark_seen, slot.team, slot.channel, gathered.seen, now=now)
    await finish("posted", ts=ts, reply_ts=replies, articles=articles)
    log.info(
        "digest posted channel=%s slot=%s articles=%d late=%s model_calls=%d",
        slot.channel, slot.key, articles, late, calls,
    )  # fmt: skip
    return RunResult(slot.key, slot.channel, "posted", late, ts, articles, calls)


async def run_now(
    settings: Settings, store: Store, client: AsyncWebClient, *, team: str, channel: str,
    now: datetime, pacer: ChannelPacer | None = None,
) -> RunResult:  # fmt: skip
    """A digest on demand (``/brief digest now``); it counts as the channel's last digest."""
    dstore = DigestStore.for_store(store)
    found = await asyncio.to_thread(dstore.subscription, team, channel)
    sub = found.sub if found else None
    local = now.astimezone(sub.zone) if sub else now
    # Its own identity (the moment asked): it never takes the morning's slot.
    slot = Slot(team, channel, local.date(), local.time(), now, manual=True)
    result = await run_slot(settings, store, client, slot=slot, sub=sub, now=now, pacer=pacer)
    metrics.record_digest(result.status)
    return result


# --- scheduling ----------------------------------------------------------------------


async def _run_subscription(
    settings: Settings, store: Store, client: AsyncWebClient, sub: Subscription,
    updated_at: datetime, *, now: datetime, pacer: ChannelPacer | None,
) -> list[RunResult]:  # fmt: skip
    dstore = DigestStore.for_store(store)
    catch_up = timedelta(minutes=settings.digest_catchup_minutes)
    last = await asyncio.to_thread(dstore.last_slot_at, sub.team, sub.channel)
    # Slots before the schedule was (re)set are not owed.
    floor = max(last, updated_at) if last else updated_at
    slots = due_slots(sub, now=now, last_run=floor, catch_up=catch_up)
    fates = [(slot, slot_fate(slot, now=now, catch_up=catch_up)) for slot in slots]
    postable = [slot for slot, fate in fates if fate != "skip"]
    target = postable[-1] if postable else None
    results: list[RunResult] = []
    for slot, fate in fates:
        if slot is target:
            continue
        reason = (
            "missed: the bot was offline past the catch-up window"
            if fate == "skip"
            else "superseded by a later slot"
        )
        if await asyncio.to_thread(
            dstore.skip, slot.key, team=slot.team, channel=slot.channel, slot_at=slot.at,
            now=now, reason=reason,
        ):  # fmt: skip
            log.info("digest slot %s skipped: %s", slot.key, reason)
            results.append(RunResult(slot.key, slot.channel, "skipped", error=reason))
    if target is not None:
        late = slot_fate(target, now=now, catch_up=catch_up) == "late"
        results.append(
            await run_slot(
                settings, store, client, slot=target, sub=sub, now=now, late=late, pacer=pacer
            )
        )
    return results


#: Multi-workspace installs: the client holding a team's token (bot/fleet/oauth.py).
TeamClients = Callable[[str], Awaitable[AsyncWebClient]]


async def run_due(
    settings: Settings, store: Store, client: AsyncWebClient, *, now: datetime,
    clients: TeamClients | None = None, pacer: ChannelPacer | None = None,
) -> list[RunResult]:  # fmt: skip
    """Run every digest slot due at ``now`` (once each, across processes)."""
    pacer = pacer or ChannelPacer(settings.channel_post_interval)
    dstore = DigestStore.for_store(store)
    subs = await asyncio.to_thread(dstore.subscriptions)
    limiter = asyncio.Semaphore(SUBSCRIPTION_CONCURRENCY)

    async def one(found: Scheduled) -> list[RunResult]:
        async with limiter:
            try:
                poster = await clients(found.sub.team) if clients else client
                return await _run_subscription(
                    settings, store, poster, found.sub, found.updated_at, now=now, pacer=pacer
                )
            except Exception:
                log.exception("digest scheduling failed for %s", found.sub.channel)
                return []

    batches = await asyncio.gather(*(one(found) for found in subs))
    results = [result for batch in batches for result in batch]
    for result in results:
        metrics.record_digest(result.status)
    return results


def seconds_until_next(
    subs: list[Subscription], now: datetime, *, poll: float = POLL_SECONDS
) -> float:
    """How long the scheduler may sleep: until the next slot, at most ``poll``."""
    if not subs:
        return poll
    soonest = min(next_slot(sub, now) for sub in subs)
    return max(1.0, min(poll, (soonest - now).total_seconds()))


async def scheduler_loop(
    settings: Settings, store: Store, client: AsyncWebClient, *,
    clock: Clock | None = None, stop: asyncio.Event, poll: float = POLL_SECONDS,
    clients: TeamClients | None = None, pacer: ChannelPacer | None = None,
) -> None:  # fmt: skip
    """Run due digests until ``stop`` is set; the Slack app starts this as a task.

    It sleeps until the next slot, but at most ``poll`` seconds, so schedules set by
    another process are picked up.
    """
    clock = clock or SystemClock()
    pacer = pacer or ChannelPacer(settings.channel_post_interval)
    dstore = DigestStore.for_store(store)
    while not stop.is_set():
        now = clock.now()
        try:
            await run_due(settings, store, client, now=now, clients=clients, pacer=pacer)
            subs = [found.sub for found in await asyncio.to_thread(dstore.subscriptions)]
            delay = seconds_until_next(subs, now, poll=poll)
        except Exception:
            log.exception("digest scheduler tick failed")
            delay = poll
        await clock.sleep(delay, stop)
