"""Every store on PostgreSQL: the same migrations and SQL as SQLite, on a real server."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.digest.store import DigestStore
from bot.retention import forget_channel
from bot.slack.channels import ChannelSettings
from bot.slack.jobs import JobQueue, NewJob
from bot.store import MIGRATIONS, Store
from bot.store.copy import copy_database
from bot.store.migrations import apply_migrations
from tests.test_migrations_upgrade import STORIES, TEAM
from tests.test_store import brief

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_store_migrates_once_and_round_trips(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        assert store.is_postgres and store.schema_version() == len(MIGRATIONS)
        store.put_brief("k1", brief(tokens_in=10, tokens_out=5), url="https://a.example/x",
                        title="t", team="T1", channel="C1", created_at=T0)  # fmt: skip
        hit = store.get_brief("k1")
        assert hit is not None and hit.meta.cached
        store.put_brief("k1", hit, url="https://a.example/x", title="t", team="T1",
                        channel="C2", created_at=T0 + timedelta(minutes=1))  # fmt: skip
    with Store.open(pg_url) as again:  # a second open applies nothing and keeps the data
        assert again.schema_version() == len(MIGRATIONS)
        assert [b.channel for b in again.recent_briefs(team="T1")] == ["C2", "C1"]
        usage = again.usage_summary(team="T1", since=T0 - timedelta(days=1))
        assert usage == {"briefs": 2, "cached": 1, "tokens_in": 10, "tokens_out": 5,
                         "cost_usd": 0.0}  # fmt: skip
        assert again.purge_older_than(T0 + timedelta(seconds=30)) == 2  # log row + cache row


def test_replicas_starting_together_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            Store.open(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store.open(pg_url) as store:
        rows = store._query("SELECT version FROM schema_migrations ORDER BY version")
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]


def test_job_identity_is_unique_across_connections(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        a, b = JobQueue.open(store.path), JobQueue.open(store.path)
        job = NewJob(id="T1:C1:1.0:u", kind="brief", payload={"team": "T1", "channel": "C1"})
        assert a.enqueue(job) is True
        assert b.enqueue(job) is False  # a duplicate delivery at another replica
        claimed = b.claim_id(job.id)
        assert claimed is not None and claimed.attempts == 1
        b.set_placeholder(claimed, "111.1")
        b.finish(claimed)
        assert a.claim_id(job.id) is None  # done: a late rerun does nothing
        assert a.get(job.id).placeholder_ts == "111.1"  # type: ignore[union-attr]
        gone = forget_channel(store=store, queue=a, team="T1", channel="C1")
        assert gone.jobs == 1
        a.close()
        b.close()


def test_digest_slot_is_claimed_once_and_settings_persist(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        first = DigestStore._open(store)
        second = DigestStore._open(store)
        kw = {"team": "T1", "channel": "C1", "kind": "scheduled", "slot_at": T0, "now": T0,
              "lease": timedelta(minutes=5)}  # fmt: skip
        token = first.claim("T1:C1:slot", **kw)  # type: ignore[arg-type]
        assert token is not None
        assert second.claim("T1:C1:slot", **kw) is None  # type: ignore[arg-type]
        assert second.begin_posting("T1:C1:slot", "not-mine") is False
        assert first.begin_posting("T1:C1:slot", token) is True
        here = ChannelSettings(JobQueue.open(store.path).conn, auto_default=True)
        there = ChannelSettings(JobQueue.open(store.path).conn, auto_default=True)  # a replica
        assert there.auto_brief("T1", "C1") is True
        here.set_auto_brief("T1", "C1", False, user="U")  # `/brief off` lands on another replica
        assert there.auto_brief("T1", "C1") is False and there.auto_brief("T1", "C2") is True


@pytest.mark.parametrize("old_version", range(1, len(MIGRATIONS) + 1))
def test_sqlite_file_at_any_version_copies_into_postgres(
    tmp_path: Path, pg_url: str, old_version: int
) -> None:
    """`briefbot db copy`: an old SQLite file is upgraded, then every row lands in PG."""
    from bot.engines.offline import build_brief
    from bot.models import Article

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    apply_migrations(conn, MIGRATIONS[:old_version])
    conn.close()
    with Store.open(f"sqlite:///{db}") as old:
        for i, (url, text) in enumerate(STORIES):
            old.put_brief(f"key-{i}", build_brief(Article(text=text, url=url)), url=url,
                          title=f"Story {i}", team=TEAM, channel="C1", article_text=text,
                          created_at=T0 + timedelta(minutes=i))  # fmt: skip
        JobQueue.open(old.path).enqueue(NewJob(id="T1:C1:9.9:x", kind="brief", payload={}))
    copied = {c.table: c.rows for c in copy_database(f"sqlite:///{db}", pg_url)}
    assert copied["brief_log"] == len(STORIES) and copied["jobs"] == 1
    again = {c.table: c.rows for c in copy_database(f"sqlite:///{db}", pg_url)}
    assert again == copied  # re-running skips rows already there
    with Store.open(pg_url) as pg:
        log = pg.recent_briefs(team=TEAM, limit=100)
        assert [b.title for b in log] == [f"Story {i}" for i in reversed(range(len(STORIES)))]
        assert pg.get_brief("key-0") is not None
        # New rows get ids after the copied ones.
        pg.put_brief("key-new", brief(), url=None, title="new", team=TEAM, channel="C1")
        assert pg.recent_briefs(team=TEAM, limit=1)[0].id == len(STORIES) + 1


def test_questions_are_stored_per_team_on_postgres(pg_url: str) -> None:
    from bot.ask.models import Answer
    from bot.ask.store import AskStore

    with Store.open(pg_url) as store:
        ask = AskStore(JobQueue.open(store.path).conn)
        for team in ("T1", "T2"):
            ask.remember_thread(team=team, channel="C1", thread_ts="1.0", key="k", title="t",
                                url=None, text=f"text of {team}")  # fmt: skip
        ask.remember_thread(team="T1", channel="C1", thread_ts="1.0", key="k", title="t2",
                            url=None, text="newer")  # fmt: skip
        assert [a.text for a in ask.articles(team="T1", channel="C1", thread_ts="1.0")] == ["newer"]
        answer = Answer(question="Who?", answer="Ines Weber.", answered=True, engine="offline")
        ask.record_answer(answer, team="T1", channel="C1", thread_ts="1.0", question_ts="2.0")
        assert [t.question for t in ask.history(team="T1", channel="C1", thread_ts="1.0")] == [
            "Who?"
        ]
        assert ask.history(team="T2", channel="C1", thread_ts="1.0") == []


def test_identity_and_queued_run_commit_together(pg_url: str) -> None:
    """A defer that fails rolls the identity back, so Slack's retry enqueues it again."""
    from bot.fleet.queue import build_queue_app, dispatcher, ensure_schema

    def broken(conn: object, ids: list[str], at: float | None) -> None:
        raise ConnectionError("the queue went away mid-transaction")

    job = NewJob(id="T1:C1:5.0:u", kind="brief", payload={"team": "T1", "channel": "C1"})
    with Store.open(pg_url) as store:
        failing = JobQueue.open(store.path, dispatch=broken)
        with pytest.raises(ConnectionError):
            failing.enqueue(job)
        assert failing.get(job.id) is None  # no identity without its queued run
        working = JobQueue.open(store.path, dispatch=dispatcher(build_queue_app(pg_url)))
        ensure_schema(working.conn)
        assert working.enqueue(job) is True  # the retry is new, not a duplicate
        assert working.enqueue(job) is False
        deferred = working.conn.execute(
            "SELECT COUNT(*) FROM procrastinate_jobs WHERE args ->> 'job_id' = ?", (job.id,)
        ).fetchone()[0]
        assert deferred == 1  # one run queued for one identity, however often it arrives


def test_hourly_rates_count_jobs_per_user_and_team_on_postgres(pg_url: str) -> None:
    """The rate limiter's JSON queries (a bound path, an array length) run on PostgreSQL."""
    from bot.models import Source
    from bot.slack import intake
    from bot.slack.limits import JobRate

    with Store.open(pg_url) as store:
        queue = JobQueue.open(store.path)
        where = intake.Where("T1", "C1", "1.0")
        sources = [Source(kind="url", value=f"https://e.example/{i}") for i in range(3)]
        queue.enqueue_many(intake.capped_briefs(where, "1.0", sources, origin="paste", user="U1"))
        later = [intake.brief_job(where, "2.0", s, origin="paste", user="U1") for s in sources]
        rate = JobRate(queue.conn, per_user=4, per_channel=100)
        assert len(rate.admit(later, team="T1", user="U1", channel="C1").jobs) == 1
        # Another workspace's user with the same id has used nothing.
        other = [intake.brief_job(intake.Where("T2", "C1", "1.0"), "2.0", s, origin="paste",
                                  user="U1") for s in sources]  # fmt: skip
        assert len(rate.admit(other, team="T2", user="U1", channel="C1").jobs) == 3
