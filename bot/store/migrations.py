"""Versioned schema migrations, applied in order when a Store opens.

How to add a step (e.g. for the Slack job queue or digests):

1. Append a ``Migration`` to ``MIGRATIONS`` below with the next version number
   (versions are 1, 2, 3, ... with no gaps) and a one-line description.
2. ``sql`` may hold several statements separated by ``;``. It runs in one transaction
   together with the version bump, so a failing step leaves the database untouched.
3. Append only. Never edit, reorder or delete a step that has been released: databases
   in the field have already applied it. To change a table, add a new step that alters it.

The applied version lives in ``PRAGMA user_version``; ``schema_migrations`` keeps a
human-readable history (version, description, applied_at). On PostgreSQL the same steps
run through ``bot.store.db.pg_sql`` (write SQLite's dialect; it translates) and the
version is the history table's highest row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.errors import ConfigError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "brief cache and brief log",
        """
        CREATE TABLE schema_migrations (
            version     INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at  TEXT NOT NULL
        );
        -- One row per cache key: the brief to reuse, plus the text it was written from.
        CREATE TABLE brief_cache (
            key          TEXT PRIMARY KEY,
            url          TEXT,
            title        TEXT,
            brief_json   TEXT NOT NULL,
            article_text TEXT,
            created_at   TEXT NOT NULL
        );
        CREATE INDEX brief_cache_created ON brief_cache (created_at);
        -- One row per brief delivered (fresh or from cache): history, digests and usage.
        CREATE TABLE brief_log (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            key        TEXT NOT NULL,
            url        TEXT,
            title      TEXT,
            team       TEXT,
            channel    TEXT,
            brief_json TEXT NOT NULL,
            engine     TEXT NOT NULL,
            model      TEXT,
            cached     INTEGER NOT NULL DEFAULT 0,
            tokens_in  INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cost_usd   REAL NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE INDEX brief_log_created ON brief_log (created_at);
        CREATE INDEX brief_log_team_created ON brief_log (team, created_at);
        CREATE INDEX brief_log_channel_created ON brief_log (channel, created_at);
        CREATE INDEX brief_log_key ON brief_log (key);
        """,
    ),
    Migration(
        2,
        "slack job queue and per-channel settings",
        """
        -- One row per brief (or /brief request) to post; id is the job's identity, so a
        -- repeated delivery is an INSERT OR IGNORE that changes nothing (bot/slack/jobs.py).
        CREATE TABLE jobs (
            id             TEXT PRIMARY KEY,
            event_id       TEXT,
            kind           TEXT NOT NULL,
            payload        TEXT NOT NULL,
            state          TEXT NOT NULL DEFAULT 'queued'
                           CHECK (state IN ('queued', 'running', 'done', 'failed')),
            attempts       INTEGER NOT NULL DEFAULT 0,
            claim          TEXT,
            placeholder_ts TEXT,
            reply_ts       TEXT NOT NULL DEFAULT '[]',
            not_before     REAL NOT NULL DEFAULT 0,
            created_at     REAL NOT NULL,
            updated_at     REAL NOT NULL,
            error          TEXT
        );
        CREATE INDEX jobs_by_state ON jobs (state, not_before, created_at);
        CREATE INDEX jobs_by_event ON jobs (event_id);
        -- Per-channel switches; a missing row or NULL means the configured default.
        CREATE TABLE channel_settings (
            team       TEXT NOT NULL,
            channel    TEXT NOT NULL,
            auto_brief INTEGER,
            updated_by TEXT,
            updated_at REAL NOT NULL,
            PRIMARY KEY (team, channel)
        );
        """,
    ),
    Migration(
        3,
        "digest subscriptions, feeds, seen entries and claimed slots",
        """
        -- One schedule per channel (bot/digest/store.py).
        CREATE TABLE digest_subscriptions (
            team       TEXT NOT NULL,
            channel    TEXT NOT NULL,
            cadence    TEXT NOT NULL CHECK (cadence IN ('daily', 'weekdays')),
            local_time TEXT NOT NULL,
            tz         TEXT NOT NULL,
            created_by TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (team, channel)
        );
        -- Feeds a channel follows, with the last fetch problem for /brief feeds.
        CREATE TABLE digest_feeds (
            team       TEXT NOT NULL,
            channel    TEXT NOT NULL,
            url        TEXT NOT NULL,
            title      TEXT,
            added_by   TEXT,
            added_at   TEXT NOT NULL,
            fetched_at TEXT,
            last_error TEXT,
            PRIMARY KEY (team, channel, url)
        );
        -- Feed entries already in a channel's digest, by id and by link.
        CREATE TABLE digest_seen (
            team      TEXT NOT NULL,
            channel   TEXT NOT NULL,
            feed_url  TEXT NOT NULL,
            entry_key TEXT NOT NULL,
            seen_at   TEXT NOT NULL,
            PRIMARY KEY (team, channel, feed_url, entry_key)
        );
        -- One row per slot, inserted before any work: the primary key makes a slot's
        -- digest post once, however many processes share the database.
        CREATE TABLE digest_runs (
            slot_key    TEXT PRIMARY KEY,
            team        TEXT NOT NULL,
            channel     TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual')),
            slot_at     TEXT NOT NULL,
            status      TEXT NOT NULL
                        CHECK (status IN ('claimed', 'posting', 'posted', 'empty',
                                          'skipped', 'failed')),
            claim       TEXT,
            lease_until TEXT,
            late        INTEGER NOT NULL DEFAULT 0,
            ts          TEXT,
            reply_ts    TEXT NOT NULL DEFAULT '[]',
            articles    INTEGER NOT NULL DEFAULT 0,
            error       TEXT,
            created_at  TEXT NOT NULL,
            done_at     TEXT
        );
        CREATE INDEX digest_runs_by_channel ON digest_runs (team, channel, slot_at);
        """,
    ),
    Migration(
        4,
        "ask the article: briefed threads, questions and answers, channel question mode",
        """
        -- The article behind each brief posted in a thread, so a question in that thread
        -- is answered from stored text, never fetched again (bot/ask/store.py).
        CREATE TABLE ask_threads (
            team         TEXT NOT NULL,
            channel      TEXT NOT NULL,
            thread_ts    TEXT NOT NULL,
            key          TEXT NOT NULL,
            title        TEXT,
            url          TEXT,
            article_text TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            PRIMARY KEY (team, channel, thread_ts, key)
        );
        CREATE INDEX ask_threads_created ON ask_threads (created_at);
        -- One row per question answered (keyed by the question's message), with its usage.
        CREATE TABLE ask_questions (
            team        TEXT NOT NULL,
            channel     TEXT NOT NULL,
            thread_ts   TEXT NOT NULL,
            question_ts TEXT NOT NULL,
            question    TEXT NOT NULL,
            answer_json TEXT NOT NULL,
            engine      TEXT NOT NULL,
            model       TEXT,
            tokens_in   INTEGER NOT NULL DEFAULT 0,
            tokens_out  INTEGER NOT NULL DEFAULT 0,
            cost_usd    REAL NOT NULL DEFAULT 0,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (team, channel, question_ts)
        );
        CREATE INDEX ask_questions_thread ON ask_questions (team, channel, thread_ts);
        CREATE INDEX ask_questions_team_created ON ask_questions (team, created_at);
        -- 'any': plain replies in a brief's thread are questions; NULL or 'mention': only
        -- replies that mention the bot.
        ALTER TABLE channel_settings ADD COLUMN questions TEXT;
        """,
    ),
    Migration(
        5,
        "channel language for model briefs",
        """
        -- /brief settings language <code>; NULL means BRIEFBOT_LANGUAGE (bot/slack/channels.py).
        ALTER TABLE channel_settings ADD COLUMN language TEXT;
        """,
    ),
    Migration(
        6,
        "where each brief was posted",
        """
        -- Written by the Slack poster once the brief is in its thread (bot/slack/poster.py),
        -- so the digest links to the right message instead of guessing from the job queue.
        -- NULL: not posted by the Slack bot (CLI, feed items) or logged before this step.
        ALTER TABLE brief_log ADD COLUMN job_id TEXT;
        ALTER TABLE brief_log ADD COLUMN thread_ts TEXT;
        ALTER TABLE brief_log ADD COLUMN message_ts TEXT;
        """,
    ),
]


def check_sequence(migrations: Sequence[Migration]) -> None:
    """Raise unless versions run 1, 2, 3, ... in list order."""
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"Migration {migration.description!r} has version {migration.version}, "
                f"expected {expected}: versions must run 1, 2, 3, ... in list order."
            )


def _statements(sql: str) -> list[str]:
    """Split a script into complete statements (CREATE TRIGGER bodies stay whole)."""
    statements: list[str] = []
    buffer = ""
    parts = sql.split(";")
    for index, part in enumerate(parts):
        buffer += part + (";" if index < len(parts) - 1 else "")
        # complete_statement knows about quotes and BEGIN...END, so a ";" inside either
        # keeps accumulating.
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    code = [line for line in buffer.splitlines() if not line.strip().startswith("--")]
    if "".join(code).strip():
        statements.append(buffer.strip())  # unterminated: let SQLite report it
    return statements


def _is_pg(conn: Any) -> bool:
    return getattr(conn, "dialect", "sqlite") == "postgresql"


def schema_version(conn: Any) -> int:
    """The applied version: ``PRAGMA user_version`` on SQLite, the history table on PG."""
    if not _is_pg(conn):
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    # The catalogue through a plain query (a fresh snapshot), not to_regclass's cache:
    # a replica that waited on the migration lock must see the table the winner made.
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE tablename ="
        " 'schema_migrations' AND schemaname = current_schema())"
    ).fetchone()
    if not row[0]:
        return 0
    found = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(found[0])


def apply_migrations(conn: Any, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply pending steps, each in its own transaction; return the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``): transactions here
    are explicit, so DDL and the version bump commit or roll back together.
    """
    check_sequence(migrations)
    latest = len(migrations)
    for migration in migrations:
        if schema_version(conn) >= migration.version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _is_pg(conn):
                # PostgreSQL DDL is transactional but not serialised: replicas starting
                # together queue on one advisory lock (any constant of ours will do).
                conn.execute("SELECT pg_advisory_xact_lock(4242013)")
            # Another process may have migrated while we waited for the write lock.
            if schema_version(conn) >= migration.version:
                conn.execute("COMMIT")
                continue
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, datetime.now(UTC).isoformat()),
            )
            if not _is_pg(conn):
                # PRAGMA takes no parameters; the version is an int from our own list.
                conn.execute(f"PRAGMA user_version = {int(migration.version)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    current = schema_version(conn)
    if current > latest:
        raise ConfigError(
            f"The database schema is version {current}, newer than this Briefbot knows ({latest}).",
            hint="Upgrade Briefbot, or point DATABASE_URL at another database.",
        )
    return current
