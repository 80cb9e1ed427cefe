"""Privacy: purge stored briefs, article text and finished jobs past the retention period,
and forget one channel's stored briefs and requests on demand (``/brief forget``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.ask.store import AskStore
from bot.config import Settings
from bot.jobs import JobQueue
from bot.store import Store

log = logging.getLogger(__name__)

#: How often ``serve`` purges (it also purges once at start).
PURGE_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class Purged:
    """Rows deleted by one purge."""

    briefs: int  # brief log rows and cache entries (the cache holds the article text)
    jobs: int


@dataclass(frozen=True)
class Forgotten:
    """Rows deleted by ``/brief forget``."""

    briefs: int
    jobs: int
    questions: int = 0


def purge(
    settings: Settings, *, store: Store, queue: JobQueue, now: datetime | None = None
) -> Purged:
    """Delete what is older than BRIEFBOT_RETENTION_DAYS (nothing when it is 0)."""
    days = settings.retention_days
    if days <= 0:
        return Purged(0, 0)
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    briefs = store.purge_older_than(cutoff)
    briefs += AskStore(queue.conn).purge_older_than(cutoff)  # threads' article text, Q&A
    # Finished jobs hold the pasted text or link they briefed; queued and running ones
    # are still being answered and stay.
    jobs = queue.prune(older_than=(datetime.now(UTC) - cutoff).total_seconds())
    if briefs or jobs:
        log.info("retention: purged %d brief row(s) and %d job(s) older than %d days",
                 briefs, jobs, days)  # fmt: skip
    return Purged(briefs, jobs)


async def purge_forever(
    settings: Settings, *, store: Store, queue: JobQueue, interval: float = PURGE_INTERVAL_SECONDS
) -> None:
    """Purge every ``interval`` seconds until cancelled; a failed purge is logged and retried."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(purge, settings, store=store, queue=queue)
        except sqlite3.Error:
            log.exception("retention purge failed; trying again in %.0fs", interval)


def start(
    settings: Settings, *, store: Store, queue: JobQueue,
    spawn: Callable[[Coroutine[Any, Any, None]], None],
) -> Purged:  # fmt: skip
    """Purge now, then hourly in the background (``spawn`` runs the loop); for ``serve``."""
    done = purge(settings, store=store, queue=queue)
    if settings.retention_days > 0:
        spawn(purge_forever(settings, store=store, queue=queue))
    return done


def forget_channel(*, store: Store, queue: JobQueue, team: str, channel: str) -> Forgotten:
    """Delete a channel's stored briefs (and the article text behind them) and finished jobs.

    Queued and running jobs are left to finish: they are answering someone right now.
    """
    briefs = store.forget_channel(channel)
    questions = AskStore(queue.conn).forget_channel(team=team, channel=channel)
    cur = queue.conn.execute(
        "DELETE FROM jobs WHERE state IN ('done', 'failed')"
        " AND json_extract(payload, '$.channel') = ? AND json_extract(payload, '$.team') = ?",
        (channel, team),
    )
    return Forgotten(briefs=briefs, jobs=cur.rowcount, questions=questions)
