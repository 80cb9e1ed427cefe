"""Digest runs end to end over loopback Slack: exactly once, catch-up, DST, threads, commands.

Time is injected (``now`` or a fake clock), never slept through. Posts go through the
real slack_sdk AsyncWebClient to the fake Slack Web API, which validates Block Kit.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.digest.delivery import RunResult, run_due, scheduler_loop
from bot.digest.schedule import Subscription
from bot.digest.store import DigestStore
from bot.digest.subscriptions import handle_digest_command
from bot.models import Brief, BriefMeta, NextStep, Participant, Topic
from bot.slack.pacing import ChannelPacer
from bot.store import Store
from tests.fakes.slack import FakeSlack
from tests.test_slack_jobs import SimulatedClock

LONDON = ZoneInfo("Europe/London")
TEAM = "T1"


def at_london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(allow_private_networks=True)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings.database_url) as s:
        yield s


def client_for(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(base_url=slack.api_url, token="xoxb-test")


def subscribe(
    store: Store,
    channel: str,
    *,
    at: str = "08:00",
    cadence: str = "daily",
    tz: str = "Europe/London",
    since: datetime,
) -> None:
    hour, minute = map(int, at.split(":"))
    sub = Subscription(team=TEAM, channel=channel, cadence=cadence, at=time(hour, minute), tz=tz)  # type: ignore[arg-type]
    DigestStore.for_store(store).set_subscription(sub, by="U1", now=since)


def top_level(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages_in(channel) if m.get("thread_ts") in (None, m["ts"])]


def brief_for(
    i: int, *, topic: str = "harbour", person: str = "Maria Lindqvist", long: bool = False
) -> Brief:
    detail = " with a gist long enough to fill a line, as real ones do" * 3 if long else ""
    return Brief(
        title=f"Story {i}: {topic} news" + (" from a long and winding headline" if long else ""),
        url=f"https://news.example/story-{i}",
        summary=f"Story {i} reports on the {topic}{detail}. It has more detail.",
        participants=[Participant(name=person, evidence=person)],
        topics=[Topic(name=topic, evidence=topic)],
        next_steps=[NextStep(action=f"Vote {i}", when="March 20", evidence="x")],
        meta=BriefMeta(engine="offline"),
    )


def seed_brief(
    store: Store, i: int, *, channel: str, at: datetime, thread_ts: str | None = None, **kw: Any
) -> int:
    """A brief the Slack bot posted in ``channel`` at ``at``, in thread ``thread_ts``."""
    brief = brief_for(i, **kw)
    log_id = store.put_brief(
        f"key-{channel}-{i}",
        brief,
        url=brief.url,
        title=brief.title,
        team=TEAM,
        channel=channel,
        created_at=at,
    )
    if thread_ts is not None:
        # What the poster records once the brief is in its thread (bot/slack/poster.py).
        store.mark_posted(
            log_id, job_id=f"job-{channel}-{i}", channel=channel, thread_ts=thread_ts,
            message_ts=f"{thread_ts}1",
        )  # fmt: skip
    return log_id


class FakeClock:
    """Time that moves only when the scheduler sleeps; stops the loop at ``until``."""

    def __init__(self, start: datetime, *, until: datetime) -> None:
        self.t, self.until = start, until
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.t

    async def sleep(self, seconds: float, stop: asyncio.Event) -> None:
        self.sleeps.append(seconds)
        self.t += timedelta(seconds=seconds)
        if self.t >= self.until:
            stop.set()


# --- exactly once ---------------------------------------------------------------------


async def test_two_schedulers_on_one_database_post_each_slot_once(
    slack: FakeSlack, settings: Settings
) -> None:
    channels = ["C1", "C2", "C3"]
    with Store.open(settings.database_url) as a, Store.open(settings.database_url) as b:
        for channel in channels:
            subscribe(a, channel, since=at_london(2026, 3, 1, 12))
        results: list[RunResult] = []
        for day in (2, 3, 4):
            for minute in (0, 1):  # both instances tick twice around the slot
                now = at_london(2026, 3, day, 8, minute)
                pair = await asyncio.gather(
                    run_due(settings, a, client_for(slack), now=now),
                    run_due(settings, b, client_for(slack), now=now),
                )
                results += pair[0] + pair[1]
    posts = slack.calls_to("chat.postMessage")
    assert len(posts) == len(channels) * 3
    assert sorted(r.slot_key for r in results if r.status == "posted") == sorted(
        f"{TEAM}:{c}:2026-03-0{d}:08:00" for c in channels for d in (2, 3, 4)
    )
    assert {r.status for r in results} <= {"posted", "taken"}


def test_two_processes_in_threads_post_each_slot_once(slack: FakeSlack, settings: Settings) -> None:
    with Store.open(settings.database_url) as setup:
        for channel in ("C1", "C2", "C3", "C4"):
            subscribe(setup, channel, since=at_london(2026, 3, 1, 12))
    now = at_london(2026, 3, 2, 8)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def process() -> None:
        try:
            with Store.open(settings.database_url) as store:
                start.wait()
                asyncio.run(run_due(settings, store, client_for(slack), now=now))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=process) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(slack.calls_to("chat.postMessage")) == 4
    assert all(len(top_level(slack, c)) == 1 for c in ("C1", "C2", "C3", "C4"))


async def test_a_dead_claimers_slot_is_taken_over_after_its_lease(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    subscribe(store, "C1", since=at_london(2026, 3, 1, 12))
    slot_at = at_london(2026, 3, 2, 8)
    dstore = DigestStore.for_store(store)
    # Another process claimed the slot and died before posting.
    assert dstore.claim(
        f"{TEAM}:C1:2026-03-02:08:00",
        team=TEAM,
        channel="C1",
        kind="scheduled",
        slot_at=slot_at,
        now=slot_at,
        lease=timedelta(minutes=15),
    )
    assert [
        r.status
        for r in await run_due(
            settings, store, client_for(slack), now=slot_at + timedelta(minutes=5)
        )
    ] == ["taken"]
    assert slack.calls_to("chat.postMessage") == []
    [result] = await run_due(
        settings, store, client_for(slack), now=slot_at + timedelta(minutes=20)
    )
    assert (result.status, result.late) == ("posted", True)
    assert (
        await run_due(settings, store, client_for(slack), now=slot_at + timedelta(minutes=21)) == []
    )
    assert len(slack.calls_to("chat.postMessage")) == 1


# --- restarts and catch-up ------------------------------------------------------------


async def test_restart_inside_the_catch_up_window_posts_one_late_digest(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    subscribe(store, "C1", since=at_london(2026, 2, 27, 12))
    seed_brief(store, 1, channel="C1", at=at_london(2026, 3, 1, 15))
    # Down since Friday: Saturday and Sunday are past the window; Monday 08:00 is not (90 min).
    results = await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 9, 30))
    assert [(r.slot_key[-16:], r.status, r.late) for r in results] == [
        ("2026-02-28:08:00", "skipped", False),
        ("2026-03-01:08:00", "skipped", False),
        ("2026-03-02:08:00", "posted", True),
    ]
    [post] = top_level(slack, "C1")
    assert "Posted late: this digest was due at 08:00 (Europe/London)" in json.dumps(post["blocks"])
    assert await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 9, 31)) == []
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_restart_outside_the_catch_up_window_posts_nothing(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    subscribe(store, "C1", since=at_london(2026, 3, 1, 12))
    seed_brief(store, 1, channel="C1", at=at_london(2026, 3, 1, 15))
    results = await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 10, 1))
    assert [(r.status, r.error) for r in results] == [
        ("skipped", "missed: the bot was offline past the catch-up window")
    ]
    assert slack.calls_to("chat.postMessage") == []
    assert await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 11)) == []
    show = await handle_digest_command(
        "digest show",
        settings=settings,
        store=store,
        team=TEAM,
        channel="C1",
        user_tz=None,
        client=None,
        now=at_london(2026, 3, 2, 11),
    )
    assert "Last digest: skipped" in show
    # The skipped day's brief is not lost: it goes into the next digest.
    await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 3, 8))
    [post] = top_level(slack, "C1")
    assert "Story 1" in json.dumps(post["blocks"])


# --- the scheduler loop with a fake clock (DST, weekdays) -------------------------------


async def test_scheduler_loop_keeps_local_time_across_the_spring_change(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    subscribe(store, "C1", since=at_london(2026, 3, 26, 12))
    clock = FakeClock(at_london(2026, 3, 27, 7, 59, 30), until=at_london(2026, 3, 31, 12))
    await scheduler_loop(
        settings, store, client_for(slack), clock=clock, stop=asyncio.Event(), poll=86_400
    )
    runs = DigestStore.for_store(store).runs(TEAM, "C1", limit=10)
    posted_at = sorted(r.done_at.astimezone(LONDON).isoformat() for r in runs if r.done_at)
    assert posted_at == [
        "2026-03-27T08:00:00+00:00",
        "2026-03-28T08:00:00+00:00",  # GMT
        "2026-03-29T08:00:00+01:00",
        "2026-03-30T08:00:00+01:00",
        "2026-03-31T08:00:00+01:00",  # BST
    ]
    assert {r.status for r in runs} == {"posted"} and not any(r.late for r in runs)
    assert len(clock.sleeps) < 20  # it slept until each slot; it didn't spin


async def test_scheduler_loop_weekdays_skip_the_weekend(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    subscribe(
        store,
        "C1",
        at="07:30",
        cadence="weekdays",
        tz="America/New_York",
        since=datetime(2026, 3, 6, 5, tzinfo=UTC),
    )
    ny = ZoneInfo("America/New_York")
    clock = FakeClock(
        datetime(2026, 3, 6, 7, tzinfo=ny).astimezone(UTC),
        until=datetime(2026, 3, 10, 9, tzinfo=ny).astimezone(UTC),
    )
    await scheduler_loop(
        settings, store, client_for(slack), clock=clock, stop=asyncio.Event(), poll=86_400
    )
    runs = DigestStore.for_store(store).runs(TEAM, "C1", limit=10)
    # Friday, Monday (EDT starts on Sunday 8 March) and Tuesday; no Saturday or Sunday.
    assert sorted(r.slot_key.split(":", 2)[2] for r in runs) == [
        "2026-03-06:07:30",
        "2026-03-09:07:30",
        "2026-03-10:07:30",
    ]
    assert len(top_level(slack, "C1")) == 3


# --- what the digest holds --------------------------------------------------------------


async def test_digest_rolls_up_the_channels_briefs_with_permalinks(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    subscribe(store, "C1", since=at_london(2026, 3, 1, 12))
    seed_brief(store, 1, channel="C1", at=at_london(2026, 3, 1, 15), thread_ts="1772377200.000100")
    seed_brief(store, 2, channel="C1", at=at_london(2026, 3, 1, 16), thread_ts="1772380800.000200")
    seed_brief(
        store, 3, channel="C1", at=at_london(2026, 3, 1, 17), topic="tariffs", person="Piyush Goyal"
    )
    seed_brief(store, 4, channel="C2", at=at_london(2026, 3, 1, 15))  # another channel
    seed_brief(store, 5, channel="C1", at=at_london(2026, 2, 27, 9))  # before the last day
    [result] = await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 8))
    assert (result.status, result.articles) == ("posted", 3)
    [post] = top_level(slack, "C1")
    text = json.dumps(post["blocks"])
    assert "Digest for Monday 2 March 2026" in text
    assert "Story 1" in text and "Story 2" in text and "Story 3" in text
    assert "Story 4" not in text and "Story 5" not in text
    # Each brief links to its own reply in its thread.
    assert "https://fake.slack.com/archives/C1/p17723772000001001|brief" in text
    assert "https://fake.slack.com/archives/C1/p17723808000002001|brief" in text
    assert "2 articles on harbour, with Maria Lindqvist in more than one." in text
    assert "Next steps" in text and "Fri 20 Mar" in text
    assert post["text"].startswith("Digest for Monday 2 March 2026: 3 articles")
    assert slack.calls_to("chat.postMessage")[0].params.get("unfurl_links") in (
        False,
        "false",
        "0",
        0,
    )


async def test_the_permalink_is_the_recorded_thread_not_a_guess(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    """Two jobs briefed one URL in two threads; the second job finished first.

    The old digest matched briefs to the job queue's finished jobs by URL, oldest finish
    first, and so linked the first brief to the second thread. The log now says where.
    """
    subscribe(store, "C1", since=at_london(2026, 3, 1, 12))
    first = at_london(2026, 3, 1, 15)
    seed_brief(store, 7, channel="C1", at=first, thread_ts="1772377200.000100")
    # The same article again, 10 s later, in another thread (from the cache, so quicker).
    log_id = store.put_brief(
        "key-C1-7b", brief_for(7), url=brief_for(7).url, title="Story 7", team=TEAM,
        channel="C1", created_at=first + timedelta(seconds=10),
    )  # fmt: skip
    store.mark_posted(
        log_id, job_id="job-C1-7b", channel="C1", thread_ts="1772377210.000900",
        message_ts="1772377210.000901",
    )  # fmt: skip
    [result] = await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 8))
    assert (result.status, result.articles) == ("posted", 1)  # one article, shown once
    text = json.dumps(top_level(slack, "C1")[0]["blocks"])
    assert "https://fake.slack.com/archives/C1/p17723772000001001|brief" in text
    assert "p1772377210000901" not in text


async def test_a_digest_keeps_the_channels_pace_with_the_briefs_posted_there(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    """The digest posts through the poster's pacer and marks its parts like a job's."""
    clock = SimulatedClock()
    pacer = ChannelPacer(1.0, clock=clock, sleep=clock.sleep)
    for channel in ("C1", "C2"):
        subscribe(store, channel, since=at_london(2026, 3, 1, 12))
    for i in range(40):  # enough for a digest in several messages
        seed_brief(store, i, channel="C1", at=at_london(2026, 3, 1, 13) + timedelta(minutes=i),
                   long=True)  # fmt: skip
    await pacer.wait("C1")  # the poster has just put a brief in C1
    results = await run_due(
        settings, store, client_for(slack), now=at_london(2026, 3, 2, 8), pacer=pacer
    )
    assert sorted(r.status for r in results) == ["posted", "posted"]
    posts = slack.calls_to("chat.postMessage")
    in_c1 = [c for c in posts if c.params["channel"] == "C1"]
    assert len(in_c1) >= 2
    # Every C1 post waited its second (behind the brief, then behind each other); C2 never.
    assert clock.sleeps == [1.0] * len(in_c1)
    parts = [c.params["metadata"]["event_payload"]["part"] for c in in_c1]
    assert parts == list(range(len(in_c1)))


async def test_forty_articles_continue_in_the_thread(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    subscribe(store, "C1", since=at_london(2026, 3, 1, 9))
    for i in range(40):
        seed_brief(
            store,
            i,
            channel="C1",
            at=at_london(2026, 3, 1, 7) + timedelta(minutes=10 * i),
            thread_ts=f"17723{i:05d}.000100",
            topic=f"topic {i % 6}",
            person=f"Person {i % 9}",
            long=True,
        )
    [result] = await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 8))
    assert (result.status, result.articles) == ("posted", 40)
    posts = slack.calls_to("chat.postMessage")
    assert len(posts) >= 2 and all(call.ok for call in posts)  # the fake validates Block Kit
    [parent] = top_level(slack, "C1")
    replies = slack.thread("C1", parent["ts"])
    assert len(replies) == len(posts) - 1
    shown = json.dumps([parent["blocks"], *(r["blocks"] for r in replies)])
    assert all(f"Story {i}: " in shown for i in range(40))
    assert all(len(m["blocks"]) <= 50 for m in [parent, *replies])


@pytest.mark.parametrize(("mode", "posts"), [("line", 1), ("skip", 0)])
async def test_an_empty_day(
    make_settings: Callable[..., Settings], slack: FakeSlack, mode: str, posts: int
) -> None:
    settings = make_settings(digest_empty=mode)
    with Store.open(settings.database_url) as store:
        subscribe(store, "C1", since=at_london(2026, 3, 1, 12))
        [result] = await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 8))
        assert result.status == ("posted" if mode == "line" else "empty")
        assert len(slack.calls_to("chat.postMessage")) == posts
        if posts:
            assert (
                "Nothing new since Saturday 28 February 2026." in top_level(slack, "C1")[0]["text"]
            )
        # Either way the slot is settled: never retried.
        assert (
            await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 8, 5)) == []
        )


async def test_slack_errors_are_recorded_not_retried(
    slack: FakeSlack, settings: Settings, store: Store
) -> None:
    slack.add_channel("C9", is_member=False)
    subscribe(store, "C9", since=at_london(2026, 3, 1, 12))
    [result] = await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 8))
    assert (result.status, result.error) == ("failed", "Slack said not_in_channel")
    assert await run_due(settings, store, client_for(slack), now=at_london(2026, 3, 2, 8, 1)) == []


# --- /brief digest ... ------------------------------------------------------------------


async def test_digest_commands(slack: FakeSlack, settings: Settings, store: Store) -> None:
    now = at_london(2026, 3, 2, 10)

    async def say(text: str, *, user_tz: str | None = "Europe/London", channel: str = "C1") -> str:
        return await handle_digest_command(
            text,
            settings=settings,
            store=store,
            team=TEAM,
            channel=channel,
            user_tz=user_tz,
            client=client_for(slack),
            user="U1",
            now=now,
        )

    assert (await say("digest show")).startswith("No digest is scheduled here.")
    assert await say("digest daily 08:00 Asia/Kolkata") == (
        "Digest on: every day at 08:00 (Asia/Kolkata). The next one arrives Tuesday 3 March "
        "2026 at 08:00. Add feeds with `/brief follow <RSS or Atom URL>`."
    )
    reply = await say("digest weekdays 7:30", user_tz="America/New_York")
    assert reply.startswith("Digest on: on weekdays at 07:30 (America/New_York).")
    assert "I don't know your time zone" in await say("digest daily 08:00", user_tz=None)
    assert "“25:00” isn't a time of day" in await say("digest daily 25:00")
    assert "isn't a time zone I know" in await say("digest daily 08:00 Mars/Olympus")
    show = await say("digest show")
    assert show.startswith(
        "Digest: on weekdays at 07:30 (America/New_York); next Monday 2 March 2026 at 07:30."
    )

    seed_brief(store, 1, channel="C1", at=now - timedelta(hours=1))
    assert await say("digest now") == "Posted the digest (1 article)."
    assert len(top_level(slack, "C1")) == 1
    assert "Last digest: posted" in await say("digest show")
    # The next scheduled digest starts from the manual one: nothing new since.
    ny_slot = datetime(2026, 3, 2, 7, 30, tzinfo=ZoneInfo("America/New_York"))
    [result] = await run_due(settings, store, client_for(slack), now=ny_slot)
    assert result.articles == 0

    slack.add_channel("C9", is_member=False)
    assert "invite me to the channel" in await say("digest now", channel="C9")
    assert (
        await say("digest off")
        == "Digests are off for this channel. Feeds stay followed (`/brief feeds`)."
    )
    assert "no digest scheduled" in await say("digest off")
    assert "didn't understand" in await say("digest sometimes")


async def test_digest_now_on_an_empty_day_with_skip_replies_instead_of_posting(
    make_settings: Callable[..., Settings], slack: FakeSlack
) -> None:
    settings = make_settings(digest_empty="skip")
    with Store.open(settings.database_url) as store:
        subscribe(store, "C1", since=at_london(2026, 3, 1, 12))
        reply = await handle_digest_command(
            "digest now",
            settings=settings,
            store=store,
            team=TEAM,
            channel="C1",
            user_tz=None,
            client=client_for(slack),
            now=at_london(2026, 3, 2, 10),
        )
    assert reply == "Nothing new since Saturday 28 February 2026."
    assert slack.calls_to("chat.postMessage") == []
