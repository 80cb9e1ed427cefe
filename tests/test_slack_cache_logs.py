"""Across channels the cache answers at once; every log line of a job carries its id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.logs import setup_logging
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.web import FakeWeb
from tests.test_slack_support import bot_running, briefs_in, paste


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        slack.add_channel("C2", name="second")
        yield slack


async def test_same_article_in_another_channel_comes_from_the_cache(
    settings: Settings, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    link = f"<{web.url('/article')}>"
    async with bot_running(settings, fake):
        first, envelope = paste(fake, link, channel="C1")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", first)) == 1)
        assert len(llm.chat_requests) == 1

        second, envelope = paste(fake, link, channel="C2")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C2", second)) == 1)

    assert len(llm.chat_requests) == 1, "the second channel's brief must cost no model call"
    footer = str(briefs_in(fake, "C2", second)[0]["blocks"])
    assert "cached" in footer.lower()


async def test_log_lines_of_a_job_carry_its_id(
    settings: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging(logging.INFO, json_format=True, stream=stream)
    try:
        async with bot_running(settings, fake):
            ts, envelope = paste(fake, f"<{web.url('/article')}>")
            fake.send_envelope("events_api", envelope)
            await fake.await_for(lambda f: len(briefs_in(f, "C1", ts)) == 1)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])

    records = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    written = [r for r in records if r["msg"] == "brief written"]
    assert written, "the service logs each brief it writes"
    job_id = written[0].get("job_id")
    assert job_id, "the service's log line inside a job carries the job id"
    done = [r for r in records if r["msg"].startswith("job ") and "took" in r["msg"]]
    assert done and done[0]["job_id"] == job_id
    assert written[0]["tokens_in"] > 0 and written[0]["engine"] == "openai"
