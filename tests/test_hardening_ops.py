"""Issue 15, findings 5 and 8, through the fake Slack: the Home tab and intake limits."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.access import USER_REFUSED
from bot.config import Settings
from bot.models import Brief, Source
from bot.slack import intake
from bot.slack.jobs import JobQueue
from bot.slack.limits import JobRate
from bot.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack, event_callback, slash_command_payload
from tests.fakes.web import FakeWeb
from tests.test_slack_support import bot_running, bot_settings, briefs_in, is_brief, paste

STORIES = {"C1": "Public harbour story", "G1": "Private merger story", "D5": "DM pay story"}


def _brief(title: str) -> Brief:
    return Brief.model_validate(
        {"title": title, "summary": "s", "meta": {"engine": "openai", "model": "gpt-4o-mini",
                                                  "tokens_in": 1200, "tokens_out": 300}}
    )  # fmt: skip


# --- finding 5: the Home tab -----------------------------------------------------------


async def test_home_tab_lists_only_briefs_the_viewer_may_see(
    make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, allowed_users="U1,U2")
    fake.add_private_channel("G1", members=["U1", "UBOT"])
    fake.add_private_channel("D5", members=["U2", "UBOT"])
    async with bot_running(settings, fake) as bot:
        for channel, title in STORIES.items():
            bot.deps.store.put_brief(f"k-{channel}", _brief(title), url=None, title=title,
                                     team="T1", channel=channel)  # fmt: skip
        for user in ("U1", "U2", "U9"):
            opened = {"type": "app_home_opened", "user": user, "channel": "D0", "tab": "home"}
            fake.send_envelope("events_api", event_callback(opened))
        await fake.await_for(lambda f: {"U1", "U2", "U9"} <= set(f.views))
    seen = {u: str(fake.views[u]["blocks"]) for u in ("U1", "U2", "U9")}
    shown = {u: {c for c, title in STORIES.items() if title in text} for u, text in seen.items()}
    assert shown == {"U1": {"C1", "G1"}, "U2": {"C1", "D5"}, "U9": set()}
    # The workspace's token spend is for allowed users only.
    assert "*Tokens*" in seen["U1"] and "*Tokens*" not in seen["U9"]
    assert USER_REFUSED in seen["U9"]
    asked = {c.params.get("channel") for c in fake.calls_to("conversations.members")}
    assert asked == {"G1", "D5"}  # public channels need no membership check


# --- finding 8: links per message and briefs per hour ------------------------------------


def _notes(fake: FakeSlack, channel: str, ts: str) -> list[str]:
    return [m["text"] for m in fake.thread(channel, ts) if not is_brief(m) and m["ts"] != ts]


async def test_a_message_with_many_links_briefs_the_first_few_and_says_so(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, max_links_per_message=3)
    links = " ".join(f"<{web.url('/article')}?n={i}>" for i in range(40))
    async with bot_running(settings, fake) as bot:
        ts, envelope = paste(fake, f"reading list: {links}")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", ts)) == 3, timeout=30)
        await fake.await_for(lambda f: any("skipped" in n for n in _notes(f, "C1", ts)))
        stored = bot.deps.queue.conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    assert stored == 4  # three briefs and the note: not forty jobs
    [note] = [n for n in _notes(fake, "C1", ts) if "skipped" in n]
    assert "40 links" in note and "first 3" in note and "other 37" in note
    assert "BRIEFBOT_MAX_LINKS_PER_MESSAGE" in note


async def test_slash_brief_with_many_links_says_what_it_skipped(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, max_links_per_message=2)
    text = " ".join(f"{web.url('/article')}?s={i}" for i in range(6))
    async with bot_running(settings, fake) as bot:
        eid = fake.send_envelope("slash_commands", slash_command_payload(text=text))
        await fake.await_for(lambda f: eid in f.acks)
        [payload] = [r[0] for r in bot.deps.queue.conn.execute("SELECT payload FROM jobs")]
    answer = fake.acks[eid]["payload"]
    assert answer["response_type"] == "ephemeral"
    assert "6 links" in answer["text"] and "other 4" in answer["text"]
    assert payload.count("?s=") == 2


async def test_hourly_rate_per_user_and_channel_tells_whoever_asked(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, user_briefs_per_hour=3,
                            channel_briefs_per_hour=4)  # fmt: skip
    two = lambda tag: f"<{web.url('/article')}?{tag}=1> <{web.url('/article')}?{tag}=2>"  # noqa: E731
    async with bot_running(settings, fake) as bot:
        _, first = paste(fake, two("a"), user="U1")
        fake.send_envelope("events_api", first)
        _, second = paste(fake, two("b"), user="U1")  # only one more fits U1's 3
        fake.send_envelope("events_api", second)
        await fake.await_for(lambda f: len(f.ephemerals) == 1)
        fake.send_envelope("events_api", first)  # Slack retrying: no new job, no new note
        _, third = paste(fake, two("c"), user="U2")  # the channel has room for one more
        fake.send_envelope("events_api", third)
        await fake.await_for(lambda f: len(f.ephemerals) == 2)
        await fake.await_for(lambda f: len([m for m in f.messages_in("C1") if is_brief(m)]) == 4,
                             timeout=30)  # fmt: skip
        briefs = bot.deps.queue.conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    assert briefs == 4
    mine, channel = fake.ephemerals
    assert mine["user"] == "U1" and "You have reached the limit of 3" in mine["text"]
    assert (
        "1 link was not briefed" in mine["text"] and "BRIEFBOT_USER_BRIEFS_PER_HOUR" in mine["text"]
    )
    assert channel["user"] == "U2" and "This channel has reached the limit of 4" in channel["text"]


def test_the_rate_window_rolls_over_without_waiting(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    with Store.open(settings.database_url) as store:
        queue = JobQueue.open(store.path)
        where = intake.Where("T1", "C1", "1.0")
        sources = [Source(kind="url", value=f"https://e.example/{i}") for i in range(4)]
        jobs = intake.capped_briefs(where, "1.0", sources, origin="paste", user="U1")
        queue.enqueue_many(jobs)
        later = [intake.brief_job(where, "2.0", s, origin="paste", user="U1") for s in sources]
        now = JobRate(queue.conn, per_user=4, per_channel=100)
        in_an_hour = JobRate(queue.conn, per_user=4, per_channel=100,
                             clock=lambda: time.time() + 3601)  # fmt: skip
        assert now.admit(later, team="T1", user="U1", channel="C1").jobs == []
        assert len(in_an_hour.admit(later, team="T1", user="U1", channel="C1").jobs) == 4
        queue.close()
