"""``app_uninstalled`` and ``tokens_revoked``: delete the workspace's tokens and all its data.

Every table with a ``team`` column is found from the database's own catalogue, so a
table a later migration adds is covered without a change here; jobs keep the team in
their payload, and cached briefs the team used go too (they may hold its pasted text).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.jobs import delete_team
from bot.store import Store

log = logging.getLogger(__name__)


def team_tables(store: Store) -> list[str]:
    """Tables with a ``team`` column, from the catalogue (SQLite or PostgreSQL)."""
    if store.is_postgres:
        rows = store._query(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'team'"
            " AND table_schema = current_schema() ORDER BY table_name"
        )
        return [str(r[0]) for r in rows]
    tables = [r[0] for r in store._query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return sorted(
        t for t in tables
        if any(c[1] == "team" for c in store._query(f'PRAGMA table_info("{t}")'))
    )  # fmt: skip


def forget_team(*, store: Store, team: str) -> dict[str, int]:
    """Delete everything stored for ``team`` in one transaction; rows deleted per table."""
    tables = team_tables(store)
    deleted: dict[str, int] = {}
    with store._tx() as conn:
        deleted["brief_cache"] = conn.execute(
            "DELETE FROM brief_cache WHERE key IN (SELECT key FROM brief_log WHERE team = ?)",
            (team,),
        ).rowcount
        for table in tables:  # names from the catalogue, never from input
            deleted[table] = conn.execute(
                f'DELETE FROM "{table}" WHERE team = ?',  # noqa: S608
                (team,),
            ).rowcount
        deleted["jobs"] = delete_team(conn, team)
    return deleted


def register(app: AsyncApp, *, store: Store, installations: Any) -> None:
    """The two events that end an install; Bolt acks after the deletion commits."""

    async def gone(body: dict[str, Any]) -> None:
        team = str(body.get("team_id") or "")
        if not team:
            return
        enterprise = body.get("enterprise_id")
        await installations.async_delete_all(enterprise_id=enterprise, team_id=team)
        deleted = await asyncio.to_thread(forget_team, store=store, team=team)
        log.info("workspace %s: uninstalled; deleted %d stored rows", team, sum(deleted.values()))

    app.event("app_uninstalled")(gone)
    app.event("tokens_revoked")(gone)
