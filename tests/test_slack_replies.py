"""What the bot says in less common cases: long briefs, no access, nothing new to brief."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.config import Settings
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.slack import (
    FakeSlack,
    app_mention_event,
    event_callback,
    message_shortcut_payload,
    slash_command_payload,
)
from tests.fakes.web import ARTICLE_PARAGRAPHS, ARTICLE_TITLE, FakeWeb
from tests.test_slack_support import bot_running, briefs_in, is_brief, paste


def _updated(n: int) -> Callable[[FakeSlack], bool]:
    return lambda f: len([c for c in f.calls_to("chat.update") if c.ok]) >= n


def _long_draft() -> dict[str, Any]:
    """A schema-valid draft long enough to need several Slack messages (quotes are verbatim)."""
    quotes = [p.split(". ")[0] for p in ARTICLE_PARAGRAPHS]
    topics = [
        {"name": f"Topic number {i}: {'the strike and its costs ' * 6}", "evidence": quotes[i % 6]}
        for i in range(90)
    ]
    return {"summary": quotes[0], "participants": [], "topics": topics, "tensions": [],
            "next_steps": []}  # fmt: skip


async def test_a_long_brief_continues_in_the_thread_in_order(
    settings: Settings, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    llm.enqueue(Reply.brief(_long_draft()))
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(f.thread("C1", ts)) >= 2 and _updated(1)(f))
        await fake.await_for(lambda f: all("Reading" not in m["text"] for m in f.thread("C1", ts)))
    thread = fake.thread("C1", ts)
    assert len(thread) >= 2
    assert is_brief(thread[0]) and ARTICLE_TITLE in thread[0]["text"]
    assert all(m["thread_ts"] == ts for m in thread)
    continued = fake.calls_to("chat.postMessage")[1:]
    assert all(c.params["unfurl_links"] is False for c in continued)
    assert "Topic number 89" in str(thread[-1]["blocks"])


async def test_brief_in_a_channel_the_bot_is_not_in_says_how_to_invite_it(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    fake.add_channel("C9", is_member=False)
    url = fake.response_url()
    async with bot_running(settings, fake):
        payload = slash_command_payload(text=web.url("/article"), channel_id="C9", response_url=url)
        fake.send_envelope("slash_commands", payload)
        await fake.await_for(lambda f: len(f.responses) == 1)
    [answer] = fake.responses
    assert "/invite @Briefbot" in answer["body"]["text"]
    assert answer["body"]["response_type"] == "ephemeral"
    assert fake.messages_in("C9") == []


async def test_the_shortcut_on_an_already_briefed_message_says_so_privately(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    url = fake.response_url()
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
        message = {"ts": ts, "text": f"<{web.url('/article')}>"}
        fake.send_envelope(
            "interactive", message_shortcut_payload(message=message, response_url=url)
        )
        await fake.await_for(lambda f: len(f.responses) == 1)
    assert "already briefed" in fake.responses[0]["body"]["text"]
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_a_mention_without_a_link_gets_a_hint_once(
    settings: Settings, fake: FakeSlack
) -> None:
    async with bot_running(settings, fake):
        ts = fake.add_message("C1", text="<@UBOT> hello?")
        mention = event_callback(app_mention_event("<@UBOT> hello?", ts=ts))
        fake.send_envelope("events_api", mention)
        fake.send_envelope("events_api", mention, retry_attempt=1, retry_reason="timeout")
        await fake.await_for(lambda f: len(f.thread("C1", ts)) == 1)
    [hint] = fake.thread("C1", ts)
    assert "Mention me with a link" in hint["text"]
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_a_mention_under_an_already_briefed_message_points_to_the_brief(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(settings, fake):
        parent, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
        # A bare mention asks for the parent's brief; with words it is a question
        # (tests/test_ask_slack.py).
        reply = fake.add_message("C1", text="<@UBOT>", thread_ts=parent)
        mention = app_mention_event("<@UBOT>", ts=reply, thread_ts=parent)
        fake.send_envelope("events_api", event_callback(mention))
        await fake.await_for(lambda f: len(f.calls_to("chat.postMessage")) == 2)
    notes = [m for m in fake.thread("C1", parent) if "already briefed" in m["text"]]
    assert len(notes) == 1
    assert len(briefs_in(fake, "C1", parent)) == 1


@pytest.mark.parametrize(
    "fault",
    ["answer lost after Slack stored the post", "Slack error 500"],
)
async def test_a_failed_post_is_retried_without_posting_twice(
    fault: str, settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    if fault.startswith("answer lost"):
        fake.drop_next("chat.postMessage", apply=True)
    else:
        fake.fail_next("chat.postMessage", status=500)
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1), timeout=20)
    assert len(fake.thread("C1", ts)) == 1
    assert len(briefs_in(fake, "C1", ts)) == 1
