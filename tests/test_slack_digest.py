"""Digests through the real Bolt app over the fake Slack: subscribe, feeds, digest now, schedule.

Socket Mode envelopes carry the slash commands; the offline engine briefs; articles and
feeds come from a loopback web server. The scheduler's clock is injected and moved by
the test, so nothing waits for 08:00.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.digest.schedule import next_slot
from bot.digest.store import DigestStore
from bot.slack.scopes import API_METHOD_SCOPES
from bot.slack.serve import running
from bot.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack, slash_command_payload
from tests.fakes.web import ARTICLE_CANONICAL, ARTICLE_TITLE, FakeWeb
from tests.test_slack_support import bot_running, bot_settings, briefs_in, paste

FIXTURES = Path(__file__).parent / "fixtures"
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
#: The coastal-herald feed's items -> the article text each one's page serves.
FEED_PAGES = {
    "/articles/halden-pay-deal": "port_strike.txt",
    "/articles/handling-fees": "trade_talks.txt",
    "/articles/hauliers-support": "nurses_dispute.txt",
    "/articles/dredging": "steel_merger.txt",
}
FEED_TITLES = [
    "Halden port and dockworkers agree pay deal after three-week strike",
    "Shipping lines warn of higher handling fees at Halden",
    "Mayor asks ministry for emergency support for hauliers",
    "Harbour dredging: residents ask about the fishing grounds",
]
_trigger_ids = itertools.count(1)


def page(text: str) -> str:
    """An article page: the first line is the headline, blank lines part paragraphs."""
    title, *paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack
    # Whatever a test made the bot do, it only called methods the manifest has scopes for.
    called = {c.method for c in slack.calls} - {"apps.connections.open"}  # app-level token
    assert called <= set(API_METHOD_SCOPES), called - set(API_METHOD_SCOPES)


@pytest.fixture(scope="module")
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as server:
        base = server.url("").rstrip("/")
        rss = (FIXTURES / "feeds" / "coastal-herald.rss.xml").read_bytes()
        server.add("/feeds/herald.rss", rss.replace(b"__BASE__", base.encode()), headers=RSS_TYPE)
        for path, name in FEED_PAGES.items():
            server.add(
                path, page((FIXTURES / name).read_text()), headers={"Content-Type": "text/html"}
            )
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI) -> Settings:
    return bot_settings(make_settings, fake, llm, engine="offline")


async def brief_command(
    fake: FakeSlack, text: str, *, user: str = "U1", channel: str = "C1"
) -> dict[str, Any]:
    """Send ``/brief <text>``; the reply the user sees, from the ack or the response_url."""
    url = fake.response_url()
    rid = url.rsplit("/", 1)[-1]
    payload = slash_command_payload(
        text=text, user_id=user, channel_id=channel, response_url=url,
        trigger_id=f"t{next(_trigger_ids)}",
    )  # fmt: skip
    eid = fake.send_envelope("slash_commands", payload)

    def answered(f: FakeSlack) -> bool:
        acked = f.acks.get(eid)
        return bool(acked and acked["payload"]) or any(r["id"] == rid for r in f.responses)

    await fake.await_for(answered, timeout=15.0)
    ack = fake.acks[eid]["payload"]
    if ack:
        return dict(ack)
    [response] = [r["body"] for r in fake.responses if r["id"] == rid]
    return dict(response)


def digests_in(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """Top-level posts of the bot that are digests (briefs and placeholders live in threads)."""
    return [
        m
        for m in fake.messages_in(channel)
        if m.get("user") == fake.bot_user_id
        and m.get("thread_ts", m["ts"]) == m["ts"]
        and m["text"].startswith("Digest for ")
    ]


def block_text(message: dict[str, Any]) -> str:
    """Every piece of text in a message's blocks, in order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(found)


def private(reply: dict[str, Any]) -> str:
    assert reply["response_type"] == "ephemeral", reply
    return str(reply["text"])


# --- subscribing ----------------------------------------------------------------------


async def test_subscribe_show_and_turn_off_answer_privately(
    settings: Settings, fake: FakeSlack
) -> None:
    async with bot_running(settings, fake) as bot:
        on = private(await brief_command(fake, "digest daily 08:00 Europe/London"))
        show = private(await brief_command(fake, "digest show"))
        found = DigestStore.for_store(bot.deps.store).subscription("T1", "C1")
        off = private(await brief_command(fake, "digest off"))
        after = private(await brief_command(fake, "digest"))
    assert on.startswith("Digest on: every day at 08:00 (Europe/London)"), on
    assert "The next one arrives" in on and "/brief follow" in on
    assert show.startswith("Digest: every day at 08:00 (Europe/London); next "), show
    assert "Feeds followed: 0." in show
    assert found is not None and found.sub.tz == "Europe/London"
    assert off.startswith("Digests are off for this channel.")
    assert after.startswith("No digest is scheduled here.")
    # A zone was named every time: the user's profile was never asked.
    assert fake.calls_to("users.info") == []
    assert fake.calls_to("chat.postMessage") == []


async def test_without_a_zone_the_users_slack_time_zone_is_used(
    settings: Settings, fake: FakeSlack
) -> None:
    fake.add_user("U7", tz="America/New_York", tz_offset=-18000)
    async with bot_running(settings, fake) as bot:
        ny = private(await brief_command(fake, "digest weekdays 7:30", user="U7", channel="C7"))
        london = private(await brief_command(fake, "digest daily 08:00", user="U8", channel="C8"))
        fake.fail_next("users.info", error="user_not_found")
        utc = private(await brief_command(fake, "digest daily 06:15", user="U9", channel="C9"))
        dstore = DigestStore.for_store(bot.deps.store)
        zones = {c: dstore.subscription("T1", c) for c in ("C7", "C8", "C9")}
    assert ny.startswith("Digest on: on weekdays at 07:30 (America/New_York)"), ny
    assert london.startswith("Digest on: every day at 08:00 (Europe/London)"), london  # the default
    assert utc.startswith("Digest on: every day at 06:15 (UTC)"), utc
    assert "couldn't read your time zone from Slack, so this schedule uses UTC" in utc
    assert {c: z.sub.tz for c, z in zones.items() if z} == {
        "C7": "America/New_York",
        "C8": "Europe/London",
        "C9": "UTC",
    }
    assert [c.params["user"] for c in fake.calls_to("users.info")] == ["U7", "U8", "U9"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest sometimes", "I didn't understand “digest sometimes”"),
        ("digest daily 25:00", "Use 24-hour HH:MM"),
        ("digest daily", "Say what time the daily digest should arrive"),
        ("digest daily 08:00 Mars/Olympus", "“Mars/Olympus” isn't a time zone I know"),
        ("follow", "I didn't understand that feed command"),
        ("follow not-a-url", "isn't a feed link"),
    ],
)
async def test_mistakes_get_the_fix_privately_and_change_nothing(
    text: str, expected: str, settings: Settings, fake: FakeSlack
) -> None:
    async with bot_running(settings, fake) as bot:
        reply = private(await brief_command(fake, text))
        dstore = DigestStore.for_store(bot.deps.store)
        assert dstore.subscription("T1", "C1") is None and dstore.feeds("T1", "C1") == []
    assert expected in reply, reply
    assert fake.calls_to("users.info") == []  # a bad command never costs a Slack call
    assert fake.calls_to("chat.postMessage") == []


# --- digest now -----------------------------------------------------------------------


async def test_digest_now_rolls_up_the_channels_briefs_with_links_to_their_threads(
    settings: Settings, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"worth a read <{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", ts)) == 1, timeout=15.0)
        reply = private(await brief_command(fake, "digest now"))
    [brief] = briefs_in(fake, "C1", ts)
    [digest] = digests_in(fake, "C1")
    text = block_text(digest)
    assert reply == "Posted the digest (1 article)."
    assert ARTICLE_TITLE in text
    assert f"<{ARTICLE_CANONICAL}|{ARTICLE_TITLE}>" in text  # the title links to the source
    thread_link = f"https://fake.slack.com/archives/C1/p{brief['ts'].replace('.', '')}"
    assert thread_link in text
    assert [c.params["message_ts"] for c in fake.calls_to("chat.getPermalink")] == [brief["ts"]]
    assert llm.chat_requests == []  # the offline engine briefed and synthesised


async def test_followed_feed_items_go_in_the_digest_once(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    herald = web.url("/feeds/herald.rss")
    async with bot_running(settings, fake):
        follow = private(await brief_command(fake, f"follow <{herald}>"))
        listed = private(await brief_command(fake, "feeds"))
        first = private(await brief_command(fake, "digest now"))
        second = private(await brief_command(fake, "digest now"))
        unfollow = private(await brief_command(fake, f"unfollow {herald}"))
        after = private(await brief_command(fake, "feeds"))
    assert follow.startswith(f"Following <{herald}|The Coastal Herald – Business>"), follow
    assert listed.startswith("This channel follows 1 feed:") and herald in listed
    assert first == "Posted the digest (4 articles).", first
    [with_items, nothing_new] = digests_in(fake, "C1")
    text = block_text(with_items)
    for title in FEED_TITLES:
        assert title in text
    assert web.url("/articles/handling-fees") in text
    # Seen items are not repeated: the next digest has nothing new.
    assert second == "Posted the digest (0 articles)."
    assert "Nothing new since" in nothing_new["text"]
    assert not any(title in block_text(nothing_new) for title in FEED_TITLES)
    assert unfollow == f"Unfollowed {herald}."
    assert after.startswith("This channel follows no feeds.")


# --- the scheduler inside `briefbot serve` -----------------------------------------------


class SteppedClock:
    """Time the test sets; the scheduler sleeps until the test moves it (or stop is set)."""

    def __init__(self, start: datetime) -> None:
        self.t = start
        self.sleeps = 0
        self._cond = asyncio.Condition()
        self._wake = asyncio.Event()

    def now(self) -> datetime:
        return self.t

    async def sleep(self, seconds: float, stop: asyncio.Event) -> None:
        self._wake = asyncio.Event()
        async with self._cond:
            self.sleeps += 1
            self._cond.notify_all()
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def asleep(self, times: int) -> None:
        """Wait (bounded) until the scheduler has gone to sleep ``times`` times."""
        async with self._cond:
            await asyncio.wait_for(self._cond.wait_for(lambda: self.sleeps >= times), 10.0)

    def move_to(self, moment: datetime) -> None:
        self.t = moment
        self._wake.set()


async def test_the_scheduler_in_serve_posts_a_due_digest_exactly_once(
    settings: Settings, fake: FakeSlack
) -> None:
    clock = SteppedClock(datetime.now(UTC))
    async with running_with(settings, fake, clock) as store:
        await clock.asleep(1)  # the first tick: nothing scheduled yet
        private(await brief_command(fake, "digest daily 08:00 Europe/London"))
        found = DigestStore.for_store(store).subscription("T1", "C1")
        assert found is not None
        slot = next_slot(found.sub, datetime.now(UTC))
        clock.move_to(slot - timedelta(seconds=30))
        await clock.asleep(2)
        before = digests_in(fake, "C1")
        for seconds in (5, 60, 600):  # ticks at and after the slot, as a restless poll would
            clock.move_to(slot + timedelta(seconds=seconds))
            await clock.asleep(clock.sleeps + 1)
        runs = DigestStore.for_store(store).runs("T1", "C1", limit=10)
    assert before == []
    [digest] = digests_in(fake, "C1")
    assert "Nothing new since" in digest["text"]
    [run] = runs
    assert (run.status, run.late, run.slot_at) == ("posted", False, slot)
    assert run.ts == digest["ts"]
    # running() stopped the loop and waited for it on the way out.
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "digest-scheduler"]


@contextlib.asynccontextmanager
async def running_with(
    settings: Settings, fake: FakeSlack, clock: SteppedClock
) -> AsyncIterator[Store]:
    """The bot in socket mode with its digest scheduler on ``clock``; yields its store."""
    async with running(settings, mode="socket", port=0, digest_clock=clock) as bot:
        await fake.await_for(lambda f: f.socket_clients() >= 1)
        yield bot.deps.store
