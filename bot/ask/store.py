"""Briefed threads and their questions, in the bot's SQLite database (migration 4).

Every row carries the team id. Statements are short and autocommit, on a connection the
caller owns (the job queue's in the bot, one of its own for the CLI), like ChannelSettings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from bot.ask.models import Answer, Turn

#: Earlier turns read back per thread; the token budget trims further.
HISTORY_ROWS = 20


@dataclass(frozen=True)
class ThreadArticle:
    """An article briefed in a thread: what questions in that thread are answered from."""

    key: str
    title: str | None
    url: str | None
    text: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class AskStore:
    """Reads and writes ask_threads and ask_questions."""

    def __init__(self, conn: Any) -> None:  # sqlite3 or bot.store.db.PgConnection
        self.conn = conn

    def remember_thread(
        self, *, team: str, channel: str, thread_ts: str, key: str, title: str | None,
        url: str | None, text: str,
    ) -> None:  # fmt: skip
        """Store the article a brief in this thread was written from (latest text wins)."""
        self.conn.execute(
            "INSERT INTO ask_threads (team, channel, thread_ts, key, title, url, article_text,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            # The target is named so PostgreSQL (fleet mode) accepts the upsert too.
            " ON CONFLICT (team, channel, thread_ts, key) DO UPDATE SET"
            " title=excluded.title, url=excluded.url, article_text=excluded.article_text",
            (team, channel, thread_ts, key, title, url, text, _now()),
        )

    def articles(self, *, team: str, channel: str, thread_ts: str) -> list[ThreadArticle]:
        rows = self.conn.execute(
            "SELECT key, title, url, article_text FROM ask_threads"
            " WHERE team=? AND channel=? AND thread_ts=? ORDER BY created_at, key",
            (team, channel, thread_ts),
        ).fetchall()
        return [ThreadArticle(r["key"], r["title"], r["url"], r["article_text"]) for r in rows]

    def has_thread(self, *, team: str, channel: str, thread_ts: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM ask_threads WHERE team=? AND channel=? AND thread_ts=? LIMIT 1",
            (team, channel, thread_ts),
        ).fetchone()
        return row is not None

    def answer_for(self, *, team: str, channel: str, question_ts: str) -> Answer | None:
        """The stored answer to one question message (a rerun posts it without asking again)."""
        row = self.conn.execute(
            "SELECT answer_json FROM ask_questions WHERE team=? AND channel=? AND question_ts=?",
            (team, channel, question_ts),
        ).fetchone()
        if row is None:
            return None
        try:
            return Answer.model_validate_json(row["answer_json"])
        except ValidationError:
            return None

    def record_answer(
        self, answer: Answer, *, team: str, channel: str, thread_ts: str, question_ts: str
    ) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO ask_questions (team, channel, thread_ts, question_ts, question,"
            " answer_json, engine, model, tokens_in, tokens_out, cost_usd, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                team, channel, thread_ts, question_ts, answer.question, answer.model_dump_json(),
                answer.engine, answer.model, answer.tokens_in, answer.tokens_out,
                answer.cost_usd, _now(),
            ),
        )  # fmt: skip

    def history(
        self, *, team: str, channel: str, thread_ts: str, before: str | None = None
    ) -> list[Turn]:
        """Earlier answered turns in the thread, oldest first (only those before ``before``)."""
        rows = self.conn.execute(
            "SELECT question, answer_json FROM ask_questions"
            " WHERE team=? AND channel=? AND thread_ts=?"
            " AND (CAST(? AS TEXT) IS NULL OR question_ts < ?)"
            " ORDER BY created_at DESC LIMIT ?",
            (team, channel, thread_ts, before, before, HISTORY_ROWS),
        ).fetchall()
        turns: list[Turn] = []
        for row in reversed(rows):
            try:
                answer = Answer.model_validate_json(row["answer_json"])
            except ValidationError:
                continue
            shown = answer.answer if answer.answered else "The article doesn't say."
            turns.append(Turn(question=row["question"], answer=shown))
        return turns

    def forget_channel(self, *, team: str, channel: str) -> int:
        """Delete a channel's stored questions, answers and article text; questions deleted."""
        self.conn.execute("DELETE FROM ask_threads WHERE team=? AND channel=?", (team, channel))
        cur = self.conn.execute(
            "DELETE FROM ask_questions WHERE team=? AND channel=?", (team, channel)
        )
        return cur.rowcount

    def purge_older_than(self, cutoff: datetime) -> int:
        stamp = cutoff.astimezone(UTC).isoformat(timespec="microseconds")
        a = self.conn.execute("DELETE FROM ask_threads WHERE created_at < ?", (stamp,)).rowcount
        b = self.conn.execute("DELETE FROM ask_questions WHERE created_at < ?", (stamp,)).rowcount
        return a + b
