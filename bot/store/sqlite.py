"""The Store: SQLite through a URL, a brief cache and a log of delivered briefs.

Synchronous by design (async callers use ``asyncio.to_thread``). One connection per
Store, shared across threads behind a lock; WAL lets other processes read meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from bot.errors import ConfigError
from bot.models import Brief
from bot.store.db import (
    BUSY_TIMEOUT_MS,
    PgConnection,
    connect,
    is_postgres,
    private_file,
    redact_url,
    sqlite_path,
    transaction,
)
from bot.store.migrations import apply_migrations, schema_version


@dataclass(frozen=True)
class StoredBrief:
    """A delivered brief as the log keeps it."""

    id: int
    key: str
    brief: Brief
    url: str | None
    title: str | None
    team: str | None
    channel: str | None
    cached: bool
    created_at: datetime
    #: Where the Slack poster put it (migration 6); None for briefs it did not post.
    job_id: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None


def _stamp(moment: datetime) -> str:
    """A sortable UTC timestamp; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class Store:
    """Briefbot's storage. Open with :meth:`open`; use as a context manager or close()."""

    def __init__(self, conn: Any, *, path: str) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (creating and migrating as needed) the database behind ``url``."""
        if is_postgres(url):
            return cls._open_postgres(url.strip())
        path = sqlite_path(url.strip())
        if path != ":memory:":
            try:
                private_file(Path(path).expanduser())
            except OSError as exc:
                raise ConfigError(
                    f"Cannot create the database directory for {path}: {exc.strerror}.",
                    hint="Point DATABASE_URL or BRIEFBOT_DATA_DIR at a writable place.",
                ) from None
            path = str(Path(path).expanduser())
        try:
            conn = connect(path, busy_timeout_ms=BUSY_TIMEOUT_MS)
        except sqlite3.OperationalError as exc:  # missing dir, no permission, locked
            raise ConfigError(
                f"Cannot open the database {path}: {exc}.",
                hint="Check DATABASE_URL and the file's permissions.",
            ) from None
        except sqlite3.DatabaseError as exc:  # the file is not a SQLite database
            raise ConfigError(
                f"Cannot use the database {path}: {exc}.",
                hint="Check that DATABASE_URL points at a Briefbot SQLite database.",
            ) from None
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            apply_migrations(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ConfigError(
                f"Cannot use the database {path}: {exc}.",
                hint="Check that DATABASE_URL points at a Briefbot SQLite database.",
            ) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path=path)

    @classmethod
    def _open_postgres(cls, url: str) -> Store:
        try:
            conn = PgConnection(url)
        except ImportError:
            raise ConfigError(
                "DATABASE_URL points at PostgreSQL but the driver is not installed.",
                hint="pip install 'briefbot[fleet]'.",
            ) from None
        except Exception as exc:  # psycopg.OperationalError: refused, no such db, auth
            raise ConfigError(
                f"Cannot connect to PostgreSQL at {redact_url(url)}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}.",
                hint="Check DATABASE_URL (host, port, database, user) and that PostgreSQL runs.",
            ) from None
        try:
            apply_migrations(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path=url)

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.path)

    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """One write transaction, serialised with every other use of the connection."""
        with self._lock, transaction(self._conn) as conn:
            yield conn

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def pragma(self, name: str) -> Any:
        """Read one PRAGMA (journal_mode, user_version...), for health checks and tests."""
        if not name.isidentifier():
            raise ValueError(f"not a pragma name: {name!r}")
        return self._query(f"PRAGMA {name}")[0][0]

    # --- the brief cache ---------------------------------------------------------------

    def get_brief(self, key: str) -> Brief | None:
        """The cached brief for ``key``, marked ``meta.cached``; None when absent or stale."""
        rows = self._query("SELECT brief_json FROM brief_cache WHERE key = ?", (key,))
        if not rows:
            return None
        try:
            brief = Brief.model_validate_json(rows[0]["brief_json"])
        except ValidationError:
            return None  # written by an older, incompatible model: treat as a miss
        return brief.model_copy(update={"meta": brief.meta.model_copy(update={"cached": True})})

    def cached_article_text(self, key: str) -> str | None:
        """The article text cached with ``key``'s brief (a link's repeat needs no fetch)."""
        rows = self._query("SELECT article_text FROM brief_cache WHERE key = ?", (key,))
        return rows[0]["article_text"] if rows else None

    def put_brief(
        self,
        key: str,
        brief: Brief,
        *,
        url: str | None,
        title: str | None,
        team: str | None = None,
        channel: str | None = None,
        article_text: str | None = None,
        created_at: datetime | None = None,
        cache: bool = True,
    ) -> int:
        """Record a delivered brief; cache it unless it came from the cache (or cache=False).

        Call this for every brief posted, cached or not: the log drives history, digests
        and usage. A cached brief (``meta.cached``) is logged with zero tokens and cost,
        and leaves the cache entry as it was. Returns the log row's id (see ``mark_posted``).
        """
        stamp = _stamp(created_at or datetime.now(UTC))
        meta = brief.meta
        fresh = brief.model_copy(update={"meta": meta.model_copy(update={"cached": False})})
        with self._tx() as conn:
            if cache and not meta.cached:
                conn.execute(
                    "INSERT INTO brief_cache (key, url, title, brief_json, article_text,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET url = excluded.url,"
                    " title = excluded.title, brief_json = excluded.brief_json,"
                    " article_text = excluded.article_text, created_at = excluded.created_at",
                    (key, url, title, fresh.model_dump_json(), article_text, stamp),
                )
            row = conn.execute(
                "INSERT INTO brief_log (key, url, title, team, channel, brief_json, engine,"
                " model, cached, tokens_in, tokens_out, cost_usd, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    key,
                    url,
                    title,
                    team,
                    channel,
                    brief.model_dump_json(),
                    meta.engine,
                    meta.model,
                    int(meta.cached),
                    0 if meta.cached else meta.tokens_in,
                    0 if meta.cached else meta.tokens_out,
                    0.0 if meta.cached else meta.cost_usd,
                    stamp,
                ),
            ).fetchone()
        return int(row["id"])

    def mark_posted(
        self, log_id: int, *, job_id: str, channel: str, thread_ts: str, message_ts: str
    ) -> None:
        """Record the job, channel and thread (and the brief's own message) it was posted in."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE brief_log SET job_id = ?, channel = ?, thread_ts = ?, message_ts = ?"
                " WHERE id = ?",
                (job_id, channel, thread_ts, message_ts, log_id),
            )

    def recent_briefs(
        self,
        *,
        team: str | None = None,
        channel: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[StoredBrief]:
        """Delivered briefs, newest first, optionally by team, channel and time."""
        where, params = self._filters(team=team, channel=channel, since=since)
        rows = self._query(
            "SELECT id, key, url, title, team, channel, brief_json, cached, created_at,"  # noqa: S608
            " job_id, thread_ts, message_ts"
            f" FROM brief_log{where} ORDER BY created_at DESC, id DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        out: list[StoredBrief] = []
        for row in rows:
            try:
                brief = Brief.model_validate_json(row["brief_json"])
            except ValidationError:
                continue  # an incompatible old row: skip it rather than fail a digest
            out.append(
                StoredBrief(
                    id=row["id"],
                    key=row["key"],
                    brief=brief,
                    url=row["url"],
                    title=row["title"],
                    team=row["team"],
                    channel=row["channel"],
                    cached=bool(row["cached"]),
                    created_at=datetime.fromisoformat(row["created_at"]),
                    job_id=row["job_id"],
                    thread_ts=row["thread_ts"],
                    message_ts=row["message_ts"],
                )
            )
        return out

    def usage_summary(self, *, team: str | None, since: datetime) -> dict[str, Any]:
        """Briefs delivered and model spend since ``since``; ``team=None`` means all teams."""
        where, params = self._filters(team=team, since=since)
        row = self._query(
            "SELECT COUNT(*) AS briefs, COALESCE(SUM(cached), 0) AS cached,"  # noqa: S608
            " COALESCE(SUM(tokens_in), 0) AS tokens_in,"
            " COALESCE(SUM(tokens_out), 0) AS tokens_out,"
            f" COALESCE(SUM(cost_usd), 0.0) AS cost_usd FROM brief_log{where}",
            params,
        )[0]
        return {
            "briefs": int(row["briefs"]),
            "cached": int(row["cached"]),
            "tokens_in": int(row["tokens_in"]),
            "tokens_out": int(row["tokens_out"]),
            "cost_usd": round(float(row["cost_usd"]), 6),
        }

    def question_tokens(self, *, team: str, since: datetime) -> int:
        """Model tokens (in + out) spent answering the team's questions since ``since``."""
        row = self._query(
            "SELECT COALESCE(SUM(tokens_in + tokens_out), 0) FROM ask_questions"
            " WHERE team = ? AND created_at >= ?",
            (team, _stamp(since)),
        )[0]
        return int(row[0])

    # The WHERE text is built only from the fixed clauses below; values are always bound.
    @staticmethod
    def _filters(
        *, team: str | None = None, channel: str | None = None, since: datetime | None = None
    ) -> tuple[str, tuple[Any, ...]]:
        clauses: list[str] = []
        params: list[Any] = []
        if team is not None:
            clauses.append("team = ?")
            params.append(team)
        if channel is not None:
            clauses.append("channel = ?")
            params.append(channel)
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(_stamp(since))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    # --- retention -----------------------------------------------------------------------

    def purge_older_than(self, cutoff: datetime) -> int:
        """Delete log rows and cache entries created before ``cutoff``; return rows deleted."""
        stamp = _stamp(cutoff)
        with self._tx() as conn:
            logged = conn.execute("DELETE FROM brief_log WHERE created_at < ?", (stamp,))
            cached = conn.execute("DELETE FROM brief_cache WHERE created_at < ?", (stamp,))
            return logged.rowcount + cached.rowcount

    def forget_channel(self, channel: str) -> int:
        """Delete a channel's briefs and the cached text they came from; return briefs deleted.

        Cache entries the channel used go too, even if other channels shared them: pasted
        text may be private, and a cache entry can always be rebuilt.
        """
        with self._tx() as conn:
            conn.execute(
                "DELETE FROM brief_cache WHERE key IN"
                " (SELECT key FROM brief_log WHERE channel = ?)",
                (channel,),
            )
            return conn.execute("DELETE FROM brief_log WHERE channel = ?", (channel,)).rowcount
