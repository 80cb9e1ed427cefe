"""Per-channel switches (auto-briefs on link paste), in the bot's SQLite database."""

from __future__ import annotations

import time
from typing import Any


class ChannelSettings:
    """Reads and writes the channel_settings table; unset channels use the default.

    Reads are cached: every message event asks, and only /brief on|off (through this
    object, in the one process that owns the database) changes the answer. On PostgreSQL
    (fleet mode) other replicas write too, so reads are not cached there.
    """

    def __init__(self, conn: Any, *, auto_default: bool) -> None:
        self.conn = conn
        self.auto_default = auto_default
        self._auto: dict[tuple[str, str], bool] = {}
        self._questions: dict[tuple[str, str], bool] = {}
        # Fleet mode: other replicas change settings too, so every read asks PostgreSQL.
        self._shared = getattr(conn, "dialect", "sqlite") == "postgresql"
        self._language: dict[tuple[str, str], str | None] = {}

    def auto_brief(self, team: str, channel: str) -> bool:
        """Whether a link pasted in this channel is briefed without being asked."""
        key = (team, channel)
        if self._shared or key not in self._auto:
            row = self.conn.execute(
                "SELECT auto_brief FROM channel_settings WHERE team=? AND channel=?", key
            ).fetchone()
            self._auto[key] = self.auto_default if row is None or row[0] is None else bool(row[0])
        return self._auto[key]

    def set_auto_brief(self, team: str, channel: str, on: bool, *, user: str | None) -> None:
        self._auto[(team, channel)] = on
        self.conn.execute(
            "INSERT INTO channel_settings (team, channel, auto_brief, updated_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (team, channel) DO UPDATE SET"
            " auto_brief=excluded.auto_brief, updated_by=excluded.updated_by,"
            " updated_at=excluded.updated_at",
            (team, channel, int(on), user, time.time()),
        )

    # --- questions in a brief's thread (bot.slack.questions) ----------------------------

    def questions_any(self, team: str, channel: str) -> bool:
        """Whether plain replies in a brief's thread are questions (else only @mentions)."""
        key = (team, channel)
        if self._shared or key not in self._questions:
            row = self.conn.execute(
                "SELECT questions FROM channel_settings WHERE team=? AND channel=?", key
            ).fetchone()
            self._questions[key] = row is not None and row[0] == "any"
        return self._questions[key]

    def set_questions_any(self, team: str, channel: str, on: bool, *, user: str | None) -> None:
        self._questions[(team, channel)] = on
        self.conn.execute(
            "INSERT INTO channel_settings (team, channel, questions, updated_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (team, channel) DO UPDATE SET"
            " questions=excluded.questions, updated_by=excluded.updated_by,"
            " updated_at=excluded.updated_at",
            (team, channel, "any" if on else "mention", user, time.time()),
        )

    # --- the language model briefs are written in (/brief settings language) ----------

    def language(self, team: str, channel: str) -> str | None:
        """The channel's brief language (ISO code), or None for the configured default."""
        key = (team, channel)
        if self._shared or key not in self._language:
            row = self.conn.execute(
                "SELECT language FROM channel_settings WHERE team=? AND channel=?", key
            ).fetchone()
            self._language[key] = None if row is None else row[0]
        return self._language[key]

    def set_language(self, team: str, channel: str, code: str | None, *, user: str | None) -> None:
        """Set the channel's language; None goes back to the default."""
        self._language[(team, channel)] = code
        self.conn.execute(
            "INSERT INTO channel_settings (team, channel, language, updated_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (team, channel) DO UPDATE SET"
            " language=excluded.language, updated_by=excluded.updated_by,"
            " updated_at=excluded.updated_at",
            (team, channel, code, user, time.time()),
        )
