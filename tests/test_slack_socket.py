"""The bot in Socket Mode against the fake Slack: acks, briefs in threads, exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.errors import ConfigError
from bot.slack import notices, slash
from bot.slack.jobs import Job, JobQueue, NewJob
from bot.slack.poster import METADATA_TYPE
from bot.slack.scopes import API_METHOD_SCOPES
from bot.slack.serve import running
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import (
    FakeSlack,
    app_mention_event,
    event_callback,
    message_shortcut_payload,
    slash_command_payload,
)
from tests.fakes.web import ARTICLE_TITLE, FakeWeb
from tests.test_slack_jobs import SimulatedClock
from tests.test_slack_support import bot_running, bot_settings, briefs_in, is_brief, paste


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack
    # Whatever a test made the bot do, it only called methods the manifest has scopes for.
    called = {c.method for c in slack.calls} - {"apps.connections.open"}  # app-level token
    assert called <= set(API_METHOD_SCOPES), called - set(API_METHOD_SCOPES)


def _acked(envelope_id: str) -> Callable[[FakeSlack], bool]:
    return lambda f: envelope_id in f.acks


def _updated(n: int) -> Callable[[FakeSlack], bool]:
    return lambda f: len([c for c in f.calls_to("chat.update") if c.ok]) >= n


async def test_link_paste_gets_a_placeholder_then_the_brief_in_its_thread(
    settings: Settings, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"worth a read <{web.url('/article')}>")
        eid = fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))

    [post] = fake.calls_to("chat.postMessage")
    assert fake.acks[eid]["at"] < post.at  # acked first, then the work
    assert post.params["thread_ts"] == ts
    assert post.params["text"].startswith("Reading ")
    assert post.params["unfurl_links"] is False and post.params["unfurl_media"] is False
    [update] = fake.calls_to("chat.update")
    assert update.params["ts"] == post.response["ts"]
    [reply] = fake.thread("C1", ts)
    assert is_brief(reply) and ARTICLE_TITLE in reply["text"]
    assert len(llm.chat_requests) == 1


async def test_every_envelope_is_acked_before_its_work_starts(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake):
        ids = []
        for i in range(10):
            _, envelope = paste(fake, f"no links here, message {i}")
            ids.append(fake.send_envelope("events_api", envelope))
        ids.append(fake.send_envelope("slash_commands", slash_command_payload(text="help")))
        message = {"ts": fake.add_message("C1", text="plain words to brief, a few of them")}
        message["text"] = "plain words to brief, a few of them"
        ids.append(fake.send_envelope("interactive", message_shortcut_payload(message=message)))
        await fake.await_for(lambda f: set(ids) <= f.acks.keys())
        await fake.await_for(_updated(1))

    # Slack wants each ack within 3 s: the bot acks first and works after, so no brief
    # can hold an ack back. Proven by order, not by a wall-clock bound (the latency is a
    # figure of bench/bench_slack.py): every ack, the shortcut's included, came before
    # the shortcut's first post.
    first_post = min(call.at for call in fake.calls_to("chat.postMessage"))
    assert all(fake.acks[i]["at"] < first_post for i in ids)


async def test_the_same_event_delivered_four_times_gives_one_brief(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake) as bot:
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        first = [
            fake.send_envelope("events_api", envelope, retry_attempt=n, retry_reason=reason)
            for n, reason in [(0, ""), (1, "timeout")]
        ]
        await fake.await_for(lambda f: set(first) <= f.acks.keys())
        await fake.await_for(_updated(1))
        # Retries that arrive after the brief is posted are recognised too.
        late = [
            fake.send_envelope("events_api", envelope, retry_attempt=n, retry_reason="timeout")
            for n in (2, 3)
        ]
        await fake.await_for(lambda f: set(late) <= f.acks.keys())
        assert bot.deps.queue.counts() in ({"done": 1}, {"running": 1})

    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(briefs_in(fake, "C1", ts)) == 1


IGNORED: dict[str, dict[str, Any]] = {
    "own message": {"user": "UBOT"},
    "another bot": {"bot_id": "B999", "subtype": "bot_message"},
    "an edit": {"subtype": "message_changed"},
    "a deletion": {"subtype": "message_deleted"},
    "someone joining": {"subtype": "channel_join"},
    "a thread reply": {"thread_ts": "1600000000.000100"},
    "a direct message": {"channel_type": "im"},
}


@pytest.mark.parametrize("change", list(IGNORED.values()), ids=list(IGNORED))
async def test_messages_that_are_not_new_link_pastes_are_ignored(
    change: dict[str, Any], settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake) as bot:
        _, envelope = paste(fake, f"<{web.url('/article')}>", **change)
        eid = fake.send_envelope("events_api", envelope)
        await fake.await_for(_acked(eid))
        # The listener decides before it acks: nothing was queued, nothing will be posted.
        assert bot.deps.queue.counts() == {}
    assert fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    "text",
    [
        "<https://myteam.slack.com/archives/C1/p1700000000000100>",
        "<https://www.youtube.com/watch?v=dQw4w9WgXcQ>",
        "<https://example.com/photo.jpg|holiday>",
        "<mailto:someone@example.com|someone@example.com>",
    ],
)
async def test_slack_and_media_links_are_not_briefed(
    text: str, settings: Settings, fake: FakeSlack
) -> None:
    async with bot_running(settings, fake) as bot:
        _, envelope = paste(fake, f"see {text}")
        await fake.await_for(_acked(fake.send_envelope("events_api", envelope)))
        assert bot.deps.queue.counts() == {}
    assert fake.calls_to("chat.postMessage") == []


async def test_several_links_get_one_brief_each_in_the_same_thread(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}> and <{web.url('/article.txt')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(2))
    assert len(briefs_in(fake, "C1", ts)) == 2


async def test_brief_off_stops_auto_briefs_in_that_channel_only(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake) as bot:
        off = fake.send_envelope("slash_commands", slash_command_payload(text="off"))
        await fake.await_for(_acked(off))
        assert "turned off" in fake.acks[off]["payload"]["text"]
        assert fake.acks[off]["payload"]["response_type"] == "in_channel"

        _, envelope = paste(fake, f"<{web.url('/article')}>")
        await fake.await_for(_acked(fake.send_envelope("events_api", envelope)))
        assert bot.deps.queue.counts() == {}

        ts, envelope = paste(fake, f"<{web.url('/article')}>", channel="C2")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
        assert len(briefs_in(fake, "C2", ts)) == 1

        on = fake.send_envelope("slash_commands", slash_command_payload(text="on"))
        await fake.await_for(_acked(on))
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(2))
        assert len(briefs_in(fake, "C1", ts)) == 1


async def test_slash_brief_posts_who_asked_then_the_brief_under_it(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake):
        payload = slash_command_payload(text=web.url("/article"), user_id="U7")
        eid = fake.send_envelope("slash_commands", payload)
        await fake.await_for(_updated(1))

    assert not (fake.acks[eid]["payload"] or {}).get("text")  # nothing ephemeral to say
    top = [m for m in fake.messages_in("C1") if m.get("thread_ts") in (None, m["ts"])]
    [asked] = top
    assert asked["text"].startswith("<@U7> asked for a brief of <http://127.0.0.1")
    assert len(briefs_in(fake, "C1", asked["ts"])) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Paste a link"),
        ("help", "Paste a link"),
        ("frobnicate", "I don't know `/brief frobnicate`"),
        ("settings", "Auto-briefs for pasted links: *on*"),
        ("<https://www.youtube.com/watch?v=x>", "not links to Slack, images or videos"),
    ],
)
async def test_slash_brief_help_settings_and_mistakes_answer_privately(
    text: str, expected: str, settings: Settings, fake: FakeSlack
) -> None:
    async with bot_running(settings, fake) as bot:
        eid = fake.send_envelope("slash_commands", slash_command_payload(text=text))
        await fake.await_for(_acked(eid))
        assert bot.deps.queue.counts() == {}
    ack = fake.acks[eid]["payload"]
    assert ack["response_type"] == "ephemeral"
    assert expected in ack["text"]
    assert fake.calls_to("chat.postMessage") == []


async def test_shortcut_briefs_a_messages_links_or_else_its_text_in_its_thread(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    link_text = f"from yesterday <{web.url('/article')}>"
    link_msg = {"ts": fake.add_message("C1", text=link_text), "text": link_text}
    words = (
        "The council approved the harbour budget on Monday after a long debate that ran "
        "past midnight. Mayor Ingrid Solberg said the vote would let repairs to the north "
        "pier start in June, while opposition leader Per Hansen warned that the cost of "
        "dredging had been underestimated and asked the port authority to publish its "
        "figures before the summer recess."
    )
    text_msg = {"ts": fake.add_message("C1", text=words), "text": words}
    async with bot_running(settings, fake):
        url = fake.response_url()
        for message in (link_msg, text_msg):
            payload = message_shortcut_payload(message=message, response_url=url)
            fake.send_envelope("interactive", payload)
        await fake.await_for(_updated(2))
    assert len(briefs_in(fake, "C1", link_msg["ts"])) == 1
    assert len(briefs_in(fake, "C1", text_msg["ts"])) == 1


async def test_mention_in_a_thread_briefs_the_parents_link_there(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    parent = fake.add_message("C1", text=f"<{web.url('/article')}>")
    reply = fake.add_message("C1", text="<@UBOT> brief this please", thread_ts=parent)
    mention = app_mention_event("<@UBOT> brief this please", ts=reply, thread_ts=parent)
    async with bot_running(settings, fake):
        fake.send_envelope("events_api", event_callback(mention))
        await fake.await_for(_updated(1))
    assert len(briefs_in(fake, "C1", parent)) == 1


async def test_mention_with_a_link_and_the_paste_of_it_give_one_brief(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    text = f"<@UBOT> <{web.url('/article')}>"
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, text)
        mention = app_mention_event(text, ts=ts)
        ids = [
            fake.send_envelope("events_api", envelope),
            fake.send_envelope("events_api", event_callback(mention)),
        ]
        await fake.await_for(lambda f: set(ids) <= f.acks.keys())
        await fake.await_for(_updated(1))
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(briefs_in(fake, "C1", ts)) == 1


async def test_errors_replace_the_placeholder_with_a_short_message(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/missing')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    [reply] = fake.thread("C1", ts)
    assert reply["text"].startswith(":warning:")
    assert "Traceback" not in reply["text"] and not is_brief(reply)


async def test_an_unexpected_failure_says_sorry_and_keeps_the_details_in_the_log(
    settings: Settings, fake: FakeSlack, web: FakeWeb, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("internal detail: db password is hunter2")

    # A fault injected at the service boundary; everything after it is the real bot.
    monkeypatch.setattr("bot.service.BriefService.brief", broken)
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    [reply] = fake.thread("C1", ts)
    assert "Something went wrong on our side" in reply["text"]
    assert "hunter2" not in str(reply)
    assert "hunter2" in caplog.text


async def test_slack_429_is_honoured_and_nothing_is_posted_twice(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    posts = fake.calls_to("chat.postMessage")
    assert [c.status for c in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 1.0  # Retry-After was honoured
    assert len(fake.thread("C1", ts)) == 1


async def test_an_update_slack_calls_too_long_falls_back_to_plain_text(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    fake.fail_next("chat.update", error="msg_too_long")
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    [reply] = fake.thread("C1", ts)
    assert ARTICLE_TITLE in reply["text"] and not reply.get("blocks")


async def test_a_resumed_job_adopts_the_placeholder_its_killed_run_posted(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    """Kill point: placeholder posted, process killed before its ts was stored."""
    ts = fake.add_message("C1", text=f"<{web.url('/article')}>")
    job_id = f"T1:C1:{ts}:{web.url('/article')}"
    payload = {
        "team": "T1", "channel": "C1", "thread_ts": ts, "origin": "paste", "user": "U1",
        "source": {"kind": "url", "value": web.url("/article"), "label": None},
    }  # fmt: skip
    from bot.store import Store

    with Store.open(settings.database_url) as store:
        queue = JobQueue.open(store.path)
        queue.enqueue(NewJob(id=job_id, kind="brief", payload=payload))
        claimed = queue.claim()  # the killed run: running, attempts=1, no placeholder_ts
        assert isinstance(claimed, Job) and claimed.placeholder_ts is None
        queue.close()
    # What the killed run did just before dying: post its placeholder, marked as its own.
    killed_run = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    marker = {"event_type": METADATA_TYPE, "event_payload": {"job": job_id, "part": 0}}
    posted = await killed_run.chat_postMessage(
        channel="C1", thread_ts=ts, text="Reading…", metadata=marker
    )
    placeholder = posted["ts"]
    calls_before = len(fake.calls_to("chat.postMessage"))

    async with bot_running(settings, fake):
        await fake.await_for(_updated(1))

    assert len(fake.calls_to("chat.postMessage")) == calls_before
    assert [c.params["ts"] for c in fake.calls_to("chat.update")] == [placeholder]
    assert len(briefs_in(fake, "C1", ts)) == 1


async def test_the_same_article_in_another_channel_comes_from_the_cache(
    settings: Settings, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    async with bot_running(settings, fake):
        for n, channel in enumerate(("C1", "C2"), start=1):
            _, envelope = paste(fake, f"<{web.url('/article')}>", channel=channel)
            fake.send_envelope("events_api", envelope)
            await fake.await_for(_updated(n))
    assert len(llm.chat_requests) == 1
    assert len([m for m in fake.messages_in("C2") if is_brief(m)]) == 1


async def test_the_brief_log_records_the_job_and_thread_each_brief_went_to(
    settings: Settings, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    """The digest links to these; a cached repeat in another thread records its own."""
    async with bot_running(settings, fake) as bot:
        pasted = []
        for n, channel in enumerate(("C1", "C2"), start=1):
            ts, envelope = paste(fake, f"<{web.url('/article')}>", channel=channel)
            pasted.append((channel, ts))
            fake.send_envelope("events_api", envelope)
            await fake.await_for(lambda f, n=n: bot.deps.queue.counts() == {"done": n})
        logged = bot.deps.store.recent_briefs(limit=10)
        jobs = [bot.deps.queue.get(b.job_id or "") for b in logged]
    assert sorted((b.channel, b.thread_ts) for b in logged) == sorted(pasted)
    assert [b.cached for b in logged] == [True, False]  # the repeat came from the cache
    for b, job in zip(logged, jobs, strict=True):
        assert job is not None and job.placeholder_ts == b.message_ts
        assert (job.payload["channel"], job.payload["thread_ts"]) == (b.channel, b.thread_ts)
        [reply] = fake.thread(job.payload["channel"], job.payload["thread_ts"])
        assert reply["ts"] == b.message_ts and is_brief(reply)


async def test_thirty_links_are_all_briefed_at_the_channels_pace(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    interval = 0.1
    settings = bot_settings(
        make_settings, fake, llm, channel_post_interval=interval, max_links_per_message=30
    )
    links = " ".join(f"<{web.url('/article')}?n={i}>" for i in range(30))
    clock = SimulatedClock()
    async with bot_running(settings, fake) as bot:
        # The bot's own pacer, on simulated time: every post waits for it, or it would
        # not have slept; no wall clock decides this test.
        assert bot.deps.pacer is not None
        bot.deps.pacer.clock, bot.deps.pacer.sleep = clock, clock.sleep
        ts, envelope = paste(fake, f"reading list: {links}")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(30), timeout=30)

    posts = fake.calls_to("chat.postMessage")
    assert len(posts) == 30
    # 30 posts in one channel: each after the first waited one interval of its own.
    assert len(clock.sleeps) >= 29 and all(s <= interval + 1e-9 for s in clock.sleeps)
    assert clock.now - clock.start >= 29 * interval - 1e-6
    assert len(briefs_in(fake, "C1", ts)) == 30


async def test_app_home_shows_help_recent_briefs_and_usage(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake):
        _, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
        opened = {"type": "app_home_opened", "user": "U5", "channel": "D5", "tab": "home"}
        fake.send_envelope("events_api", event_callback(opened))
        await fake.await_for(lambda f: "U5" in f.views)
    text = str(fake.views["U5"]["blocks"])
    assert "Paste a link" in text
    assert ARTICLE_TITLE in text
    assert "*Briefs*\\n1" in text


async def test_shutdown_hands_a_running_job_back_for_the_next_start(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr("bot.slack.serve.SHUTDOWN_GRACE_SECONDS", 0.1)
    llm.delay = 5.0
    settings = bot_settings(make_settings, fake, llm)
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(f.calls_to("chat.postMessage")) == 1)
    llm.delay = 0.0
    async with bot_running(settings, fake):
        await fake.await_for(_updated(1))
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(briefs_in(fake, "C1", ts)) == 1


async def test_other_areas_can_add_subcommands_and_text_starting_with_one_is_briefed(
    settings: Settings, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def echo(deps: Any, body: dict[str, Any], args: str) -> slash.Reply:
        return slash.Reply(notices.text_message(f"echo: {args}"))

    monkeypatch.setitem(slash.SUBCOMMANDS, "echo", slash.Subcommand(echo, takes_args=True))
    later_one = slash.Subcommand(echo, takes_args=True, after_ack=True)
    monkeypatch.setitem(slash.SUBCOMMANDS, "later", later_one)
    words = "help wanted: " + "the harbour council met again on Monday to talk about pay " * 6
    url = fake.response_url()
    async with bot_running(settings, fake):
        later = slash_command_payload(text="later three", response_url=url, trigger_id="t3")
        fake.send_envelope("slash_commands", later)
        await fake.await_for(lambda f: len(f.responses) == 1)
        ids = [
            fake.send_envelope("slash_commands", slash_command_payload(text="echo one two")),
            fake.send_envelope(
                "slash_commands", slash_command_payload(text=words, trigger_id="t2")
            ),
        ]
        await fake.await_for(_updated(1))
    assert fake.acks[ids[0]]["payload"]["text"] == "echo: one two"
    assert fake.responses[0]["body"]["text"] == "echo: three"
    [asked] = [m for m in fake.messages_in("C1") if "asked for a brief of" in m["text"]]
    assert "help wanted" in asked["text"]
    assert len(briefs_in(fake, "C1", asked["ts"])) == 1


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"slack_bot_token": None}, "SLACK_BOT_TOKEN is not set"),
        ({"slack_app_token": None}, "Socket mode needs SLACK_APP_TOKEN"),
        ({"slack_bot_token": "not-a-bot-token"}, "Slack rejected SLACK_BOT_TOKEN (invalid_auth)"),
    ],
)
async def test_startup_problems_are_one_line_errors_with_the_fix(
    overrides: dict[str, Any], expected: str, make_settings: Callable[..., Settings],
    fake: FakeSlack, llm: FakeOpenAI,
) -> None:  # fmt: skip
    settings = bot_settings(make_settings, fake, llm, **overrides)
    with pytest.raises(ConfigError) as err:
        async with running(settings, mode="socket", port=0):
            pass
    assert expected in str(err.value) and err.value.hint


async def test_http_mode_needs_the_signing_secret(
    make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, slack_signing_secret=None)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        async with running(settings, mode="http", port=0):
            pass
