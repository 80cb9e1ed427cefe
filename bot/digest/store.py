"""Digest storage: subscriptions, followed feeds, seen entries and claimed slots.

The tables come from migration 3 (bot/store/migrations.py). A slot is claimed with an
``INSERT OR IGNORE`` on its identity before any work, so two processes sharing the
database post it once. A claim moves ``claimed -> posting -> posted | empty | failed``;
only the claim holder can move it to ``posting``, and a claim whose lease expired before
``posting`` (its process died while composing) can be taken over. A slot that died while
``posting`` is never retried: Slack may already show it.
"""

from __future__ import annotations

import json
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from bot.digest.schedule import Cadence, Subscription
from bot.store import Store
from bot.store.db import PgConnection, connect, is_postgres, transaction

RunStatus = Literal["claimed", "posting", "posted", "empty", "skipped", "failed"]
RunKind = Literal["scheduled", "manual"]
BUSY_TIMEOUT_S = 10.0


def stamp(moment: datetime) -> str:
    """Sortable UTC text, the same shape the brief log uses."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Scheduled:
    """A channel's subscription as stored."""

    sub: Subscription
    created_at: datetime
    #: When the schedule was last set: slots before it are not owed.
    updated_at: datetime


@dataclass(frozen=True)
class Feed:
    url: str
    title: str | None
    added_at: datetime
    fetched_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Run:
    """One slot's record."""

    slot_key: str
    team: str
    channel: str
    kind: RunKind
    slot_at: datetime
    status: RunStatus
    late: bool
    ts: str | None
    articles: int
    error: str | None
    done_at: datetime | None


class DigestStore:
    """Digest tables over a connection of their own to the Store's database file."""

    def __init__(self, conn: Any, lock: threading.Lock | None = None) -> None:
        self._conn = conn
        self._lock = lock or threading.Lock()

    @classmethod
    def for_store(cls, store: Store) -> DigestStore:
        """The digest store beside ``store`` (one per Store, reused)."""
        found = _BY_STORE.get(store)
        if found is None:
            found = cls._open(store)
            _BY_STORE[store] = found
        return found

    @classmethod
    def _open(cls, store: Store) -> DigestStore:
        if store.path == ":memory:":
            # An in-memory database exists only on the Store's own connection: share it.
            return cls(store._conn, store._lock)
        if is_postgres(store.path):
            return cls(PgConnection(store.path))
        return cls(connect(store.path, busy_timeout_ms=int(BUSY_TIMEOUT_S * 1000)))

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock, transaction(self._conn) as conn:
            yield conn

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # --- subscriptions -------------------------------------------------------------------

    def set_subscription(self, sub: Subscription, *, by: str | None, now: datetime) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO digest_subscriptions (team, channel, cadence, local_time, tz,"
                " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (team, channel) DO UPDATE SET cadence = excluded.cadence,"
                " local_time = excluded.local_time, tz = excluded.tz,"
                " updated_at = excluded.updated_at",
                (sub.team, sub.channel, sub.cadence, f"{sub.at:%H:%M}", sub.tz, by,
                 stamp(now), stamp(now)),
            )  # fmt: skip

    def remove_subscription(self, team: str, channel: str) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "DELETE FROM digest_subscriptions WHERE team = ? AND channel = ?", (team, channel)
            )
            return cur.rowcount > 0

    def subscription(self, team: str, channel: str) -> Scheduled | None:
        """The channel's schedule, if it has one."""
        rows = self._rows(
            "SELECT * FROM digest_subscriptions WHERE team = ? AND channel = ?", (team, channel)
        )
        return _subscription(rows[0]) if rows else None

    def subscriptions(self) -> list[Scheduled]:
        rows = self._rows("SELECT * FROM digest_subscriptions ORDER BY team, channel")
        return [_subscription(row) for row in rows]

    def channel_team(self, channel: str) -> str | None:
        """The team of a channel that has a schedule or follows a feed (for the CLI)."""
        rows = self._rows(
            "SELECT team FROM digest_subscriptions WHERE channel = ?"
            " UNION SELECT team FROM digest_feeds WHERE channel = ? LIMIT 1",
            (channel, channel),
        )
        return rows[0]["team"] if rows else None

    # --- feeds ---------------------------------------------------------------------------

    def follow(self, team: str, channel: str, url: str, *, by: str | None, now: datetime) -> bool:
        """Follow a feed; False if the channel already follows it."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO digest_feeds (team, channel, url, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (team, channel, url, by, stamp(now)),
            )
            return cur.rowcount == 1

    def unfollow(self, team: str, channel: str, url: str) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "DELETE FROM digest_feeds WHERE team = ? AND channel = ? AND url = ?",
                (team, channel, url),
            )
            if cur.rowcount:
                conn.execute(
                    "DELETE FROM digest_seen WHERE team = ? AND channel = ? AND feed_url = ?",
                    (team, channel, url),
                )
            return cur.rowcount > 0

    def feeds(self, team: str, channel: str) -> list[Feed]:
        rows = self._rows(
            "SELECT * FROM digest_feeds WHERE team = ? AND channel = ? ORDER BY added_at, url",
            (team, channel),
        )
        return [
            Feed(
                url=r["url"],
                title=r["title"],
                added_at=datetime.fromisoformat(r["added_at"]),
                fetched_at=_parse(r["fetched_at"]),
                last_error=r["last_error"],
            )
            for r in rows
        ]

    def feed_fetched(
        self, team: str, channel: str, url: str, *, title: str | None, error: str | None,
        now: datetime,
    ) -> None:  # fmt: skip
        with self._tx() as conn:
            conn.execute(
                "UPDATE digest_feeds SET title = COALESCE(?, title), fetched_at = ?,"
                " last_error = ? WHERE team = ? AND channel = ? AND url = ?",
                (title, stamp(now), error, team, channel, url),
            )

    def seen(self, team: str, channel: str, feed_url: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` this channel's digests have already shown for the feed."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        for i in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
            part = wanted[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self._rows(
                "SELECT entry_key FROM digest_seen WHERE team = ? AND channel = ?"  # noqa: S608
                f" AND feed_url = ? AND entry_key IN ({marks})",
                (team, channel, feed_url, *part),
            )
            found.update(r["entry_key"] for r in rows)
        return found

    def mark_seen(
        self, team: str, channel: str, entries: Iterable[tuple[str, str]], *, now: datetime
    ) -> None:
        """Remember (feed_url, entry_key) pairs as shown in this channel."""
        with self._tx() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO digest_seen (team, channel, feed_url, entry_key, seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(team, channel, feed, key, stamp(now)) for feed, key in entries],
            )

    # --- slots ---------------------------------------------------------------------------

    def claim(
        self, slot_key: str, *, team: str, channel: str, kind: RunKind, slot_at: datetime,
        now: datetime, lease: timedelta,
    ) -> str | None:  # fmt: skip
        """Claim a slot before any work; the claim token, or None if someone else has it."""
        token = uuid.uuid4().hex
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO digest_runs (slot_key, team, channel, kind, slot_at,"
                " status, claim, lease_until, created_at) VALUES (?, ?, ?, ?, ?, 'claimed',"
                " ?, ?, ?)",
                (slot_key, team, channel, kind, stamp(slot_at), token, stamp(now + lease),
                 stamp(now)),
            )  # fmt: skip
            if cur.rowcount == 1:
                return token
            # A claimer that died before posting left its lease to expire: take over.
            cur = conn.execute(
                "UPDATE digest_runs SET claim = ?, lease_until = ? WHERE slot_key = ?"
                " AND status = 'claimed' AND lease_until < ?",
                (token, stamp(now + lease), slot_key, stamp(now)),
            )
            return token if cur.rowcount == 1 else None

    def skip(
        self, slot_key: str, *, team: str, channel: str, slot_at: datetime, now: datetime,
        reason: str,
    ) -> bool:  # fmt: skip
        """Record a missed slot as skipped, unless someone holds or settled it."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO digest_runs (slot_key, team, channel, kind, slot_at,"
                " status, error, created_at, done_at) VALUES (?, ?, ?, 'scheduled', ?,"
                " 'skipped', ?, ?, ?)",
                (slot_key, team, channel, stamp(slot_at), reason, stamp(now), stamp(now)),
            )
            if cur.rowcount == 1:
                return True
            # A dead claimer's slot, now too old to post: settle it as skipped.
            cur = conn.execute(
                "UPDATE digest_runs SET status = 'skipped', error = ?, done_at = ?"
                " WHERE slot_key = ? AND status = 'claimed' AND lease_until < ?",
                (reason, stamp(now), slot_key, stamp(now)),
            )
            return cur.rowcount == 1

    def begin_posting(self, slot_key: str, claim: str) -> bool:
        """Move our claim to ``posting``; False if it was taken over meanwhile (don't post)."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE digest_runs SET status = 'posting' WHERE slot_key = ? AND claim = ?"
                " AND status = 'claimed'",
                (slot_key, claim),
            )
            return cur.rowcount == 1

    def finish(
        self, slot_key: str, claim: str, *, status: RunStatus, now: datetime, late: bool = False,
        ts: str | None = None, reply_ts: list[str] | None = None, articles: int = 0,
        error: str | None = None,
    ) -> None:  # fmt: skip
        with self._tx() as conn:
            conn.execute(
                "UPDATE digest_runs SET status = ?, late = ?, ts = ?, reply_ts = ?,"
                " articles = ?, error = ?, done_at = ? WHERE slot_key = ? AND claim = ?",
                (status, int(late), ts, json.dumps(reply_ts or []), articles,
                 error[:2000] if error else None, stamp(now), slot_key, claim),
            )  # fmt: skip

    def last_slot_at(self, team: str, channel: str) -> datetime | None:
        """The newest scheduled slot that is settled: anything but a bare claim.

        A slot still only ``claimed`` is offered again, so that if its claimer died its
        lease can expire and another process take it over.
        """
        rows = self._rows(
            "SELECT MAX(slot_at) AS at FROM digest_runs WHERE team = ? AND channel = ?"
            " AND kind = 'scheduled' AND status != 'claimed'",
            (team, channel),
        )
        return _parse(rows[0]["at"]) if rows else None

    def last_digest_at(self, team: str, channel: str) -> datetime | None:
        """When the channel last got a digest (or an empty day was handled)."""
        rows = self._rows(
            "SELECT MAX(done_at) AS at FROM digest_runs WHERE team = ? AND channel = ?"
            " AND status IN ('posted', 'empty')",
            (team, channel),
        )
        return _parse(rows[0]["at"]) if rows else None

    def runs(self, team: str, channel: str, *, limit: int = 5) -> list[Run]:
        rows = self._rows(
            "SELECT * FROM digest_runs WHERE team = ? AND channel = ?"
            " ORDER BY slot_at DESC, created_at DESC LIMIT ?",
            (team, channel, limit),
        )
        return [
            Run(
                slot_key=r["slot_key"],
                team=r["team"],
                channel=r["channel"],
                kind=r["kind"],
                slot_at=datetime.fromisoformat(r["slot_at"]),
                status=r["status"],
                late=bool(r["late"]),
                ts=r["ts"],
                articles=r["articles"],
                error=r["error"],
                done_at=_parse(r["done_at"]),
            )
            for r in rows
        ]


_BY_STORE: weakref.WeakKeyDictionary[Store, DigestStore] = weakref.WeakKeyDictionary()


def _subscription(row: Any) -> Scheduled:
    hour, minute = (int(part) for part in row["local_time"].split(":"))
    cadence: Cadence = row["cadence"]
    sub = Subscription(
        team=row["team"], channel=row["channel"], cadence=cadence, at=time(hour, minute),
        tz=row["tz"],
    )  # fmt: skip
    return Scheduled(
        sub=sub,
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )
