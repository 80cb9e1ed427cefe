"""Upgrading a database written at an older schema version keeps every stored brief."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.engines.offline import build_brief
from bot.models import Article, Brief
from bot.store import MIGRATIONS, Store
from bot.store.migrations import apply_migrations, schema_version

STORIES = [
    (
        "https://news.example/harbour",
        "The harbour board of Lindvik voted on Monday to delay the container terminal by two "
        "years. Board chair Ingrid Solberg said the delay gives both sides time to agree on "
        "retraining. Union leader Tomas Berg said the union would strike in March unless the "
        "board put its promises in writing. The city council reviews the budget on 12 March.",
    ),
    (
        "https://news.example/steel",
        "Nordstal and Baltic Iron agreed to merge their rolling mills, creating the region's "
        "largest steelmaker. Chief executive Maria Lindqvist said no plant would close before "
        "2027. Regulators at the competition authority said they would open an inquiry, and "
        "the works council of the Gdansk mill demanded a written job guarantee by June.",
    ),
    (
        None,
        "Trade ministers met in Geneva for two days of talks on tariffs for solar panels. "
        "Commissioner Ines Weber warned that the dispute could spread to wind turbines. Her "
        "counterpart Raj Patel disputed the claim and proposed a joint review. Both sides "
        "agreed to meet again in September and to publish a draft framework before then.",
    ),
]
TEAM = "T1"


def _old_database(path: Path, version: int) -> None:
    """A database as a Briefbot at schema ``version`` left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert apply_migrations(conn, MIGRATIONS[:version]) == version
    finally:
        conn.close()


def _store_at_old_version(path: Path) -> Store:
    """The real brief writer over the old schema, without upgrading it."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return Store(conn, path=str(path))


@pytest.mark.parametrize("old_version", range(1, len(MIGRATIONS)))
def test_upgrade_keeps_every_stored_brief(tmp_path: Path, old_version: int) -> None:
    db = tmp_path / "briefbot.db"
    _old_database(db, old_version)
    written: list[tuple[str, Brief, bool]] = []
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    with _store_at_old_version(db) as old:
        assert int(old.pragma("user_version")) == old_version
        for i, (url, text) in enumerate(STORIES):
            brief = build_brief(Article(text=text, url=url))
            key = f"key-{i}"
            old.put_brief(key, brief, url=url, title=f"Story {i}", team=TEAM, channel="C1",
                          article_text=text, created_at=start + timedelta(minutes=i))  # fmt: skip
            written.append((key, brief, False))
        # A repeat delivery from the cache is logged too (cached=1, no cost).
        cached = old.get_brief("key-0")
        assert cached is not None
        old.put_brief("key-0", cached, url=STORIES[0][0], title="Story 0", team=TEAM,
                      channel="C2", created_at=start + timedelta(hours=1))  # fmt: skip
        written.append(("key-0", cached, True))

    with Store.open(f"sqlite:///{db}") as store:
        assert int(store.pragma("user_version")) == len(MIGRATIONS)
        log = store.recent_briefs(team=TEAM, limit=100)
        # Every delivered brief is still there, in order, and reads back as written.
        assert len(log) == len(written)
        for stored, (key, brief, was_cached) in zip(reversed(log), written, strict=True):
            assert stored.key == key
            assert stored.cached is was_cached
            assert stored.brief.summary == brief.summary
            assert stored.brief.model_dump(exclude={"meta"}) == brief.model_dump(exclude={"meta"})
        # The cache still answers for every fresh brief.
        for key, brief, was_cached in written:
            if not was_cached:
                hit = store.get_brief(key)
                assert hit is not None and hit.summary == brief.summary
        usage = store.usage_summary(team=TEAM, since=start - timedelta(days=1))
        assert usage["briefs"] == len(written) and usage["cached"] == 1

    # Opening again changes nothing: migrations are idempotent.
    conn = sqlite3.connect(db)
    try:
        assert schema_version(conn) == len(MIGRATIONS)
        history = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        assert history == list(range(1, len(MIGRATIONS) + 1))
        assert conn.execute("SELECT COUNT(*) FROM brief_log").fetchone()[0] == len(written)
    finally:
        conn.close()
    with Store.open(f"sqlite:///{db}") as again:
        assert len(again.recent_briefs(team=TEAM, limit=100)) == len(written)


@pytest.mark.postgres
@pytest.mark.parametrize("old_version", range(1, len(MIGRATIONS)))
def test_postgres_upgrade_keeps_every_stored_brief(pg_url: str, old_version: int) -> None:
    """The same steps upgrade a PostgreSQL database written at any older version."""
    from bot.store.db import PgConnection

    conn = PgConnection(pg_url)
    assert apply_migrations(conn, MIGRATIONS[:old_version]) == old_version
    old = Store(conn, path=pg_url)  # the real brief writer over the old schema
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    written = []
    for i, (url, text) in enumerate(STORIES):
        brief = build_brief(Article(text=text, url=url))
        old.put_brief(f"key-{i}", brief, url=url, title=f"Story {i}", team=TEAM, channel="C1",
                      article_text=text, created_at=start + timedelta(minutes=i))  # fmt: skip
        written.append(brief)
    old.close()
    with Store.open(pg_url) as store:
        assert store.schema_version() == len(MIGRATIONS)
        log = store.recent_briefs(team=TEAM, limit=100)
        assert [b.brief.summary for b in reversed(log)] == [b.summary for b in written]
        assert all(store.get_brief(f"key-{i}") is not None for i in range(len(STORIES)))
