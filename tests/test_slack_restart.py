"""Kill the bot (SIGKILL) after the ack and before the reply; a restart finishes each job once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack, slash_command_body
from tests.fakes.web import FakeWeb
from tests.test_slack_http import post, post_event
from tests.test_slack_support import (
    bot_env,
    bot_process,
    bot_running,
    bot_settings,
    briefs_in,
    paste,
)

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]  # starts briefbot as a process


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    # Slow enough that the briefs are still being written when the process is killed.
    with FakeOpenAI(delay=2.0) as server:
        yield server


def _placeholders(fake: FakeSlack) -> list[object]:
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts")]


async def test_killed_mid_brief_then_restarted_gives_exactly_one_brief_each(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings = bot_settings(make_settings, fake, llm)
    with bot_process(
        ["--mode", "http", "--port", "0"], bot_env(settings, tmp_path), tmp_path
    ) as bot:
        # A link paste in C1 and a /brief in C2, both acked...
        pasted, envelope = paste(fake, f"<{web.url('/article')}>", channel="C1")
        assert (await asyncio.to_thread(post_event, bot.url(), envelope))[0] == 200
        body = slash_command_body(text=web.url("/article.txt"), user_id="U9", channel_id="C2")
        form = "application/x-www-form-urlencoded"
        assert (await asyncio.to_thread(post, bot.url(), body, content_type=form))[0] == 200
        # ...both placeholders up, both briefs at least 2 s (the model) from done: kill.
        await fake.await_for(lambda f: len(_placeholders(f)) == 2)
        bot.kill()
    [asked] = [m for m in fake.messages_in("C2") if m["text"].startswith("<@U9> asked")]
    assert briefs_in(fake, "C1", pasted) == briefs_in(fake, "C2", asked["ts"]) == []

    llm.delay = 0.0
    async with bot_running(settings, fake, mode="http"):  # the restart, on the same database
        await fake.await_for(
            lambda f: len(briefs_in(f, "C1", pasted)) == len(briefs_in(f, "C2", asked["ts"])) == 1
        )

    posts = fake.calls_to("chat.postMessage")
    assert len(posts) == 3  # two placeholders and the "who asked" message: nothing twice
    placeholders = {c.response["ts"] for c in _placeholders(fake)}
    assert {c.params["ts"] for c in fake.calls_to("chat.update") if c.ok} == placeholders
    assert len(fake.thread("C1", pasted)) == len(fake.thread("C2", asked["ts"])) == 1
