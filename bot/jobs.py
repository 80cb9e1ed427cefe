"""A durable job queue in the bot's SQLite database: one row per brief to post.

A job's id is its identity (team, channel, message ts, normalised URL or text hash), so a
second delivery of the same request is an ``INSERT OR IGNORE`` that changes nothing. Rows
move ``queued -> running -> done | failed``; a row left ``running`` by a killed process is
requeued by :meth:`JobQueue.recover` on the next start. The table is created by
migration 2 in ``bot/store/migrations.py``. Every call is one short statement
in autocommit mode, cheap enough to run on the event loop (WAL, ``synchronous=NORMAL``:
a committed row survives a killed process; only an OS crash can lose the last commits).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.errors import ConfigError
from bot.models import Source
from bot.store import db
from bot.store.keys import normalize_url

JobState = Literal["queued", "running", "done", "failed"]

_INSERT = (
    "INSERT OR IGNORE INTO jobs (id, event_id, kind, payload, state, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, 'queued', ?, ?)"
)


def source_key(source: Source) -> str:
    """The part of a job identity that names what is briefed."""
    if source.kind == "url":
        return normalize_url(source.value)
    digest = hashlib.sha256(" ".join(source.value.split()).encode("utf-8")).hexdigest()
    return f"{source.kind}:{digest[:32]}"


def job_identity(team: str, channel: str, anchor: str, what: str) -> str:
    """One job per (team, channel, message or thread anchor, thing briefed)."""
    return f"{team}:{channel}:{anchor}:{what}"


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue."""

    id: str
    kind: str
    payload: dict[str, Any]
    event_id: str | None = None


@dataclass(frozen=True)
class Job:
    """A job as stored."""

    id: str
    kind: str
    payload: dict[str, Any]
    state: JobState
    attempts: int
    claim: str | None
    placeholder_ts: str | None
    reply_ts: list[str] = field(default_factory=list)
    event_id: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    error: str | None = None


def connect(path: str) -> sqlite3.Connection:
    """An autocommit connection to the Store's file, tuned for short writes from one loop."""
    if path == ":memory:":
        raise ConfigError(
            "The Slack bot needs a database file for its job queue, not an in-memory one.",
            hint="Set DATABASE_URL to sqlite:///path/to/briefbot.db (or unset it).",
        )
    return db.connect(path, busy_timeout_ms=10_000)


class JobQueue:
    """The jobs table: enqueue once, claim atomically, record progress, finish."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, path: str) -> JobQueue:
        """Open the queue in the database file at ``path`` (``Store.open`` migrated it)."""
        return cls(connect(path))

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with db.transaction(self.conn) as conn:
            yield conn

    def enqueue(self, job: NewJob) -> bool:
        """Store a job unless one with the same identity exists; True if it was new."""
        return self.enqueue_many([job])[0]

    def enqueue_many(self, jobs: Iterable[NewJob]) -> list[bool]:
        """Store several jobs in one transaction; True for each one that was new."""
        now = time.time()
        rows = [(j.id, j.event_id, j.kind, json.dumps(j.payload), now, now) for j in jobs]
        if len(rows) == 1:  # the common case: one statement, its own transaction
            return [self.conn.execute(_INSERT, rows[0]).rowcount == 1]
        with self._tx() as conn:
            return [conn.execute(_INSERT, row).rowcount == 1 for row in rows]

    def claim(self) -> Job | None:
        """Atomically take the oldest due queued job and mark it running, or None."""
        token = uuid.uuid4().hex
        now = time.time()
        row = self.conn.execute(
            "UPDATE jobs SET state='running', claim=?, attempts=attempts+1, updated_at=?"
            " WHERE id = (SELECT id FROM jobs WHERE state='queued' AND not_before <= ?"
            " ORDER BY created_at, rowid LIMIT 1) AND state='queued' RETURNING *",
            (token, now, now),
        ).fetchone()
        return _job(row) if row is not None else None

    def next_due(self) -> float | None:
        """When the earliest queued job becomes due (epoch seconds), or None."""
        row = self.conn.execute("SELECT MIN(not_before) FROM jobs WHERE state='queued'").fetchone()
        return row[0] if row and row[0] is not None else None

    def get(self, job_id: str) -> Job | None:
        row = self.conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _job(row) if row is not None else None

    def set_placeholder(self, job: Job, ts: str) -> None:
        """Remember the message a job posted first, so a rerun updates it instead."""
        self._update(job, "placeholder_ts=?", ts)

    def set_replies(self, job: Job, ts_list: list[str]) -> None:
        """Remember the continuation messages a job posted in the thread."""
        self._update(job, "reply_ts=?", json.dumps(ts_list))

    def finish(self, job: Job) -> None:
        self._update(job, "state='done', error=NULL")

    def fail(self, job: Job, error: str) -> None:
        self._update(job, "state='failed', error=?", error[:2000])

    def retry_later(self, job: Job, *, delay: float, error: str) -> None:
        """Put a running job back in the queue, due after ``delay`` seconds."""
        self._update(
            job,
            "state='queued', claim=NULL, not_before=?, error=?",
            time.time() + delay,
            error[:2000],
        )

    def release(self, job: Job) -> None:
        """Hand a job back untouched (shutdown); it runs again on the next start."""
        self._update(job, "state='queued', claim=NULL")

    def recover(self) -> int:
        """Requeue jobs a killed process left running; returns how many.

        Call once at start, before workers run: one process owns a SQLite database.
        """
        cur = self.conn.execute(
            "UPDATE jobs SET state='queued', claim=NULL, updated_at=? WHERE state='running'",
            (time.time(),),
        )
        return cur.rowcount

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {state: n for state, n in rows}

    def prune(self, *, older_than: float) -> int:
        """Forget finished jobs older than ``older_than`` seconds (retries come within minutes)."""
        cur = self.conn.execute(
            "DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated_at < ?",
            (time.time() - older_than,),
        )
        return cur.rowcount

    def _update(self, job: Job, assignments: str, *values: Any) -> None:
        # The claim token guards against a stale worker writing over a reclaimed job.
        self.conn.execute(
            f"UPDATE jobs SET {assignments}, updated_at=? WHERE id=? AND claim IS ?",  # noqa: S608
            (*values, time.time(), job.id, job.claim),
        )


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        claim=row["claim"],
        placeholder_ts=row["placeholder_ts"],
        reply_ts=json.loads(row["reply_ts"] or "[]"),
        event_id=row["event_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        error=row["error"],
    )
