"""A durable job queue in the bot's SQLite database: one row per brief to post.

A job's id is its identity (team, channel, message ts, normalized URL or text hash), so a
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
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.errors import ConfigError
from bot.models import Source
from bot.store import db
from bot.store.keys import normalize_url

JobState = Literal["queued", "running", "done", "failed"]

#: Claims a job gets, across restarts: ``claim()`` counts each one durably when it is made,
#: so a job that kills or stalls the process (a poison page) stops after this many.
MAX_ATTEMPTS = 5

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

    @property
    def exhausted(self) -> bool:
        """Claimed more than MAX_ATTEMPTS times: earlier runs died or stalled; don't run it."""
        return self.attempts > MAX_ATTEMPTS


#: Hands new (or re-due) job ids to an outside queue engine inside the transaction that
#: stored them: ``dispatch(conn, job_ids, not_before)`` (bot/fleet/queue.py).
Dispatch = Callable[[Any, list[str], float | None], None]


def connect(path: str) -> Any:
    """An autocommit connection to the Store's database, tuned for short writes from one loop.

    ``path`` is a SQLite file or a ``postgresql://`` URL (``Store.path``).
    """
    if db.is_postgres(path):
        return db.PgConnection(path)
    if path == ":memory:":
        raise ConfigError(
            "The Slack bot needs a database file for its job queue, not an in-memory one.",
            hint="Set DATABASE_URL to sqlite:///path/to/briefbot.db (or unset it).",
        )
    return db.connect(path, busy_timeout_ms=10_000)


class JobQueue:
    """The jobs table: enqueue once, claim atomically, record progress, finish."""

    def __init__(self, conn: Any, *, dispatch: Dispatch | None = None) -> None:
        self.conn = conn
        #: Set in fleet mode: jobs then run on the queue engine, not on a JobRunner.
        self.dispatch = dispatch
        # PostgreSQL tables have no rowid; the id breaks created_at ties there.
        self._tiebreak = "id" if getattr(conn, "dialect", "") == "postgresql" else "rowid"

    @classmethod
    def open(cls, path: str, *, dispatch: Dispatch | None = None) -> JobQueue:
        """Open the queue in the database at ``path`` (``Store.open`` migrated it)."""
        return cls(connect(path), dispatch=dispatch)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with db.transaction(self.conn) as conn:
            yield conn

    def enqueue(self, job: NewJob) -> bool:
        """Store a job unless one with the same identity exists; True if it was new."""
        return self.enqueue_many([job])[0]

    def enqueue_many(self, jobs: Iterable[NewJob]) -> list[bool]:
        """Store several jobs in one transaction; True for each one that was new."""
        now = time.time()
        rows = [(j.id, j.event_id, j.kind, json.dumps(j.payload), now, now) for j in jobs]
        if len(rows) == 1 and self.dispatch is None:  # one statement, its own transaction
            return [self.conn.execute(_INSERT, rows[0]).rowcount == 1]
        with self._tx() as conn:
            new = [conn.execute(_INSERT, row).rowcount == 1 for row in rows]
            if self.dispatch is not None and any(new):
                # Same transaction: the identity and its queued run commit together.
                self.dispatch(conn, [r[0] for r, n in zip(rows, new, strict=True) if n], None)
            return new

    def claim(self) -> Job | None:
        """Atomically take the oldest due queued job and mark it running, or None."""
        token = uuid.uuid4().hex
        now = time.time()
        row = self.conn.execute(
            "UPDATE jobs SET state='running', claim=?, attempts=attempts+1, updated_at=?"  # noqa: S608
            " WHERE id = (SELECT id FROM jobs WHERE state='queued' AND not_before <= ?"
            f" ORDER BY created_at, {self._tiebreak} LIMIT 1)"
            " AND state='queued' RETURNING *",
            (token, now, now),
        ).fetchone()
        return _job(row) if row is not None else None

    def claim_id(self, job_id: str) -> Job | None:
        """Take one job by id for a queue-engine worker; None if it is finished already.

        A ``running`` row is taken over too: the engine hands a job to one worker at a
        time, so a running row it hands out again belongs to a worker that died.
        """
        row = self.conn.execute(
            "UPDATE jobs SET state='running', claim=?, attempts=attempts+1, updated_at=?"
            " WHERE id=? AND state IN ('queued', 'running') RETURNING *",
            (uuid.uuid4().hex, time.time(), job_id),
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
        due = time.time() + delay
        self._requeue(job, "state='queued', claim=NULL, not_before=?, error=?", due, error[:2000])

    def release(self, job: Job) -> None:
        """Hand a job back untouched (shutdown); it runs again on the next start."""
        self._requeue(job, "state='queued', claim=NULL")

    def _requeue(self, job: Job, assignments: str, *values: Any) -> None:
        if self.dispatch is None:
            self._update(job, assignments, *values)
            return
        with self._tx() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {assignments}, updated_at=? WHERE id=? AND claim IS ?",  # noqa: S608
                (*values, time.time(), job.id, job.claim),
            )
            if cur.rowcount == 1:
                due = values[0] if "not_before" in assignments else None
                self.dispatch(conn, [job.id], due)

    def recover(self) -> int:
        """Requeue jobs a killed process left running; returns how many.

        Call once at start, before workers run: one process owns a SQLite database. A job
        that has had its ``MAX_ATTEMPTS`` claims is requeued too, so the next claim finds it
        over the cap and gives up with a message in its thread (see ``Job.exhausted``).
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


# --- the rest of Briefbot's reads and writes of the jobs table ----------------------------
# Privacy, digests, rate limits and uninstall need the table too; the SQL stays here, so
# the table has one owner. Each takes the caller's connection (its transaction, its lock).


def forget_finished(conn: Any, *, team: str, channel: str) -> int:
    """Delete a channel's finished jobs (queued and running ones answer someone now)."""
    return int(
        conn.execute(
            "DELETE FROM jobs WHERE state IN ('done', 'failed')"
            " AND json_extract(payload, '$.channel') = ? AND json_extract(payload, '$.team') = ?",
            (channel, team),
        ).rowcount
    )


def delete_team(conn: Any, team: str) -> int:
    """Delete every job of a workspace (it uninstalled the app)."""
    return int(
        conn.execute("DELETE FROM jobs WHERE json_extract(payload, '$.team') = ?", (team,)).rowcount
    )


def briefs_asked(conn: Any, *, field: str, value: str, team: str, since: float) -> int:
    """Articles asked for since ``since`` by one user or in one channel (a command counts each)."""
    row = conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN kind = 'command'"
        " THEN json_array_length(payload, '$.sources') ELSE 1 END), 0) FROM jobs"
        " WHERE created_at > ? AND kind IN ('brief', 'thread', 'command')"
        " AND json_extract(payload, ?) = ? AND json_extract(payload, '$.team') = ?",
        (since, f"$.{field}", value, team),
    ).fetchone()
    return int(row[0])


def known_ids(conn: Any, ids: list[str]) -> set[str]:
    """Which of ``ids`` are stored already."""
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT id FROM jobs WHERE id IN ({marks})", ids)  # noqa: S608
    return {r[0] for r in rows}


def _job(row: Any) -> Job:
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
