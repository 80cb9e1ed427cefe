"""The SQLite store: migrations, the brief cache, history, usage and retention."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ConfigError
from bot.models import Brief, BriefMeta, Participant, Topic
from bot.store import MIGRATIONS, Migration, Store, cache_key, normalize_url
from bot.store.migrations import apply_migrations, check_sequence

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def brief(title: str = "Budget vote", **meta: Any) -> Brief:
    return Brief(
        title=title,
        url="https://example.com/budget",
        summary="The council passed the budget.",
        participants=[Participant(name="Mayor Lee", role="mayor", evidence="Lee said")],
        topics=[Topic(name="Schools", evidence="schools get more", verified=False)],
        meta=BriefMeta(**{"engine": "openai", "model": "gpt-4o-mini", **meta}),
    )


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open("sqlite:///:memory:") as opened:
        yield opened


# --- opening and migrations ----------------------------------------------------------


def test_open_creates_dirs_and_migrates_idempotently(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "briefbot.db"
    url = f"sqlite:///{path}"
    with Store.open(url) as first:
        first.put_brief("k1", brief(), url=None, title="t", created_at=T0)
        assert first.pragma("user_version") == len(MIGRATIONS)
    with Store.open(url) as second:  # opening again applies nothing and keeps data
        assert second.pragma("user_version") == len(MIGRATIONS)
        assert second.get_brief("k1") is not None
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT version, description FROM schema_migrations").fetchall()
    conn.close()
    assert rows == [(m.version, m.description) for m in MIGRATIONS]


def test_file_database_uses_wal_and_busy_timeout(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'b.db'}") as store:
        assert store.pragma("journal_mode") == "wal"
        assert store.pragma("busy_timeout") == 5000


def test_settings_database_url_opens(make_settings: Any) -> None:
    settings = make_settings()
    with Store.open(settings.database_url) as store:
        assert Path(store.path) == settings.data_dir / "briefbot.db"
        assert Path(store.path).is_file()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://db/x",
        "sqlite:/relative.db",
        "sqlite:///",
        "briefbot.db",
    ],
)
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match=r"must be sqlite:///path/to/file\.db or postgresql://"):
        Store.open(url)


def test_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="Cannot use the database"):
        Store.open(f"sqlite:///{junk}")


def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    steps = [
        *MIGRATIONS,
        Migration(
            len(MIGRATIONS) + 1, "half broken", "CREATE TABLE test_a (x); CREATE TABLE test_oops ("
        ),
    ]
    with pytest.raises(sqlite3.Error):
        apply_migrations(conn, steps)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "test_a" not in tables and "brief_log" in tables
    conn.close()


def test_appended_migration_applies_once(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    steps = [
        *MIGRATIONS,
        Migration(
            len(MIGRATIONS) + 1,
            "a later step",
            "-- comments are fine\nCREATE TABLE test_later (id TEXT PRIMARY KEY, note TEXT"
            " DEFAULT 'a;b'); CREATE TRIGGER test_later_t AFTER INSERT ON test_later"
            " BEGIN SELECT 1; SELECT 2; END;",
        ),
    ]
    assert apply_migrations(conn) == len(MIGRATIONS)
    assert apply_migrations(conn, steps) == len(steps)
    assert apply_migrations(conn, steps) == len(steps)
    assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(steps)
    conn.close()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with Store.open(f"sqlite:///{path}"):
        pass
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ConfigError, match="schema is version 99"):
        Store.open(f"sqlite:///{path}")


def test_migration_versions_are_sequential() -> None:
    check_sequence(MIGRATIONS)
    with pytest.raises(RuntimeError, match="expected 2"):
        check_sequence([MIGRATIONS[0], Migration(3, "gap", "SELECT 1")])


# --- cache keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.COM/a/b/", "https://example.com/a/b"),
        ("HTTPS://example.com:443/", "https://example.com/"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&utm_Medium=y&id=3", "https://example.com/a?id=3"),
        ("https://e.com/a?b=2&a=1", "https://e.com/a?a=1&b=2"),
        (
            "https://e.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ref=5&igshid=6&spm=7&q=ok",
            "https://e.com/a?q=ok",
        ),
        ("https://e.com/a?q=a+b&empty=", "https://e.com/a?empty=&q=a%20b"),
        ("https://e.com/a?utm_source=x", "https://e.com/a"),
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
        ("  https://e.com/Path/  ", "https://e.com/Path"),
        ("not a url", "not a url"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_normalize_url_is_order_insensitive() -> None:
    assert normalize_url("https://e.com/?x=1&y=2&utm_campaign=z") == normalize_url(
        "https://E.com/?utm_campaign=q&y=2&x=1#top"
    )


KEY_ARGS: dict[str, Any] = {
    "url": "https://example.com/a?utm_source=x",
    "content_hash": "abc",
    "engine": "openai",
    "model": "gpt-4o-mini",
    "prompt_version": "brief-v3",
}


@pytest.mark.parametrize(
    "change",
    [
        {"prompt_version": "brief-v4"},
        {"model": "gpt-4o"},
        {"model": None},
        {"engine": "offline"},
        {"url": "https://example.com/b"},
        {"url": None},
    ],
)
def test_cache_key_changes_with_what_shapes_the_brief(change: dict[str, Any]) -> None:
    assert cache_key(**{**KEY_ARGS, **change}) != cache_key(**KEY_ARGS)


def test_cache_key_uses_normalized_url_or_content_hash() -> None:
    same = {**KEY_ARGS, "url": "HTTPS://EXAMPLE.com/a#frag", "content_hash": "other"}
    assert cache_key(**same) == cache_key(**KEY_ARGS)
    text = {**KEY_ARGS, "url": None}
    assert cache_key(**{**text, "content_hash": "x"}) != cache_key(**{**text, "content_hash": "y"})
    assert len(cache_key(**KEY_ARGS)) == 64


# --- the cache and the log -----------------------------------------------------------


def test_brief_round_trips(store: Store) -> None:
    original = brief(tokens_in=1200, tokens_out=300, cost_usd=0.0004, prompt_version="v3")
    assert store.get_brief("k") is None
    store.put_brief(
        "k",
        original,
        url="https://example.com/budget",
        title="Budget vote",
        team="T1",
        channel="C1",
        article_text="The council passed the budget.",
    )
    cached = store.get_brief("k")
    assert cached is not None
    assert cached.meta.cached is True
    assert cached.model_copy(update={"meta": original.meta}) == original
    assert cached.meta.model_copy(update={"cached": False}) == original.meta


def test_putting_a_cached_brief_logs_it_without_cost(store: Store) -> None:
    store.put_brief(
        "k",
        brief("First", tokens_in=100, cost_usd=0.01),
        url=None,
        title="First",
        team="T1",
        channel="C1",
        created_at=T0,
    )
    hit = store.get_brief("k")
    assert hit is not None
    store.put_brief(
        "k",
        hit,
        url=None,
        title="First",
        team="T1",
        channel="C2",
        created_at=T0 + timedelta(hours=1),
    )
    assert [s.channel for s in store.recent_briefs()] == ["C2", "C1"]
    assert [s.cached for s in store.recent_briefs()] == [True, False]
    usage = store.usage_summary(team="T1", since=T0)
    assert usage == {"briefs": 2, "cached": 1, "tokens_in": 100, "tokens_out": 0, "cost_usd": 0.01}


def test_recent_briefs_filters_and_orders(store: Store) -> None:
    for i, (team, channel) in enumerate([("T1", "C1"), ("T1", "C2"), ("T2", "C3"), ("T1", "C1")]):
        store.put_brief(
            f"k{i}",
            brief(f"B{i}"),
            url=f"https://e.com/{i}",
            title=f"B{i}",
            team=team,
            channel=channel,
            created_at=T0 + timedelta(hours=i),
        )
    assert [s.title for s in store.recent_briefs()] == ["B3", "B2", "B1", "B0"]
    assert [s.title for s in store.recent_briefs(team="T1")] == ["B3", "B1", "B0"]
    assert [s.title for s in store.recent_briefs(channel="C1")] == ["B3", "B0"]
    assert [s.title for s in store.recent_briefs(since=T0 + timedelta(hours=2))] == ["B3", "B2"]
    assert [s.title for s in store.recent_briefs(team="T1", limit=1)] == ["B3"]
    newest = store.recent_briefs()[0]
    assert newest.brief.title == "B3" and newest.url == "https://e.com/3"
    assert newest.created_at == T0 + timedelta(hours=3)
    assert newest.team == "T1" and newest.key == "k3"


def test_naive_datetimes_are_utc(store: Store) -> None:
    store.put_brief("k", brief(), url=None, title=None, created_at=datetime(2025, 3, 1, 9, 0))
    assert store.recent_briefs()[0].created_at == T0
    assert len(store.recent_briefs(since=datetime(2025, 3, 1, 9, 0))) == 1


def test_usage_summary(store: Store) -> None:
    rows = [("T1", 1000, 200, 0.25, 0), ("T1", 500, 100, 0.5, 1), ("T2", 9, 9, 9.0, 2)]
    for i, (team, tin, tout, cost, hours) in enumerate(rows):
        meta = {"tokens_in": tin, "tokens_out": tout, "cost_usd": cost}
        store.put_brief(
            f"k{i}",
            brief(**meta),
            url=None,
            title=None,
            team=team,
            created_at=T0 + timedelta(hours=hours),
        )
    assert store.usage_summary(team="T1", since=T0) == {
        "briefs": 2,
        "cached": 0,
        "tokens_in": 1500,
        "tokens_out": 300,
        "cost_usd": 0.75,
    }
    assert store.usage_summary(team=None, since=T0)["briefs"] == 3
    assert store.usage_summary(team="T1", since=T0 + timedelta(hours=1))["tokens_in"] == 500
    assert store.usage_summary(team="nobody", since=T0) == {
        "briefs": 0,
        "cached": 0,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_usd": 0.0,
    }


def test_purge_older_than(store: Store) -> None:
    for i in range(4):
        store.put_brief(f"k{i}", brief(), url=None, title=None, created_at=T0 + timedelta(days=i))
    assert store.purge_older_than(T0 + timedelta(days=2)) == 4  # 2 log rows + 2 cache rows
    assert store.get_brief("k0") is None and store.get_brief("k1") is None
    assert store.get_brief("k2") is not None
    assert len(store.recent_briefs()) == 2
    assert store.purge_older_than(T0) == 0


def test_forget_channel(store: Store) -> None:
    store.put_brief(
        "shared",
        brief(),
        url=None,
        title=None,
        channel="C1",
        created_at=T0,
        article_text="private pasted text",
    )
    store.put_brief("mine", brief(), url=None, title=None, channel="C1", created_at=T0)
    store.put_brief("other", brief(), url=None, title=None, channel="C2", created_at=T0)
    hit = store.get_brief("shared")
    assert hit is not None
    store.put_brief("shared", hit, url=None, title=None, channel="C2", created_at=T0)
    assert store.forget_channel("C1") == 2
    assert [s.key for s in store.recent_briefs(channel="C1")] == []
    # The cached text is gone with the channel that pasted it; other channels keep history.
    assert store.get_brief("shared") is None and store.get_brief("mine") is None
    assert store.get_brief("other") is not None
    assert sorted(s.key for s in store.recent_briefs(channel="C2")) == ["other", "shared"]
    assert store.forget_channel("C1") == 0


def test_concurrent_writers_share_one_store(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store:
        errors: list[BaseException] = []

        def write(worker: int) -> None:
            try:
                for i in range(25):
                    store.put_brief(
                        f"w{worker}-{i}", brief(), url=None, title=None, channel=f"C{worker}"
                    )
                    store.recent_briefs(channel=f"C{worker}", limit=5)
            except BaseException as exc:  # surfaced below, in the test thread
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(store.recent_briefs(limit=1000)) == 150


def test_two_stores_on_one_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with Store.open(url) as a, Store.open(url) as b:
        a.put_brief("k", brief(), url=None, title=None)
        assert b.get_brief("k") is not None
        b.forget_channel("nothing")
        assert len(a.recent_briefs()) == 1


def test_pg_sql_rewrites_only_the_sqlite_spellings() -> None:
    """The PostgreSQL shim: placeholders, upserts, JSON fields; literals stay as written."""
    from bot.store.db import pg_sql

    assert pg_sql("INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING *") == (
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING RETURNING *"
    )
    assert pg_sql("SELECT 'why?', a FROM t WHERE b LIKE 'x%' AND c IS ?") == (
        "SELECT 'why?', a FROM t WHERE b LIKE 'x%%' AND c IS NOT DISTINCT FROM %s"
    )
    assert pg_sql("SELECT json_extract(payload, '$.team') FROM jobs") == (
        "SELECT (payload::jsonb ->> 'team') FROM jobs"
    )
    assert pg_sql("BEGIN IMMEDIATE") == "BEGIN"
    ddl = pg_sql("CREATE TABLE x (id INTEGER PRIMARY KEY AUTOINCREMENT)")
    assert "BIGSERIAL PRIMARY KEY" in ddl
