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
from bot.digest.store import stamp
from bot.slack.jobs import JobQueue, forget_finished
from bot.store import Store

log = logging.getLogger(__name__)

#: How often ``serve`` purges (it also purges once at start).
PURGE_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class Purged:
    """Rows deleted by one purge."""

    briefs: int  # brief log rows and cache entries (the cache holds the article text)
    jobs: int
    digest: int = 0  # feed entries shown and digest runs (what was posted, and when)


@dataclass(frozen=True)
class Forgotten:
    """Rows deleted by ``/brief forget``."""

    briefs: int
    jobs: int
    questions: int = 0
    digest: int = 0


#: The digest's history tables and the column that dates a row. Followed feeds and the
#: schedule are settings (like /brief off) and stay; /brief unfollow and digest off remove them.
_DIGEST_HISTORY = (("digest_seen", "seen_at"), ("digest_runs", "created_at"))


def _purge_digest_history(conn: sqlite3.Connection, cutoff: datetime) -> int:
    gone = 0
    for table, column in _DIGEST_HISTORY:
        # Table and column names come from the constant above, never from input.
        gone += conn.execute(f"DELETE FROM {table} WHERE {column} < ?",  # noqa: S608
                             (stamp(cutoff),)).rowcount  # fmt: skip
    return gone


def _forget_digest_history(conn: sqlite3.Connection, *, team: str, channel: str) -> int:
    gone = 0
    for table, _ in _DIGEST_HISTORY:
        gone += conn.execute(f"DELETE FROM {table} WHERE team = ? AND channel = ?",  # noqa: S608
                             (team, channel)).rowcount  # fmt: skip
    return gone


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
    digest = _purge_digest_history(queue.conn, cutoff)
    if briefs or jobs or digest:
        log.info("retention: purged %d brief row(s), %d job(s) and %d digest row(s) older "
                 "than %d days", briefs, jobs, digest, days)  # fmt: skip
    return Purged(briefs, jobs, digest)


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
    jobs = forget_finished(queue.conn, team=team, channel=channel)
    digest = _forget_digest_history(queue.conn, team=team, channel=channel)
    return Forgotten(briefs=briefs, jobs=jobs, questions=questions, digest=digest)
