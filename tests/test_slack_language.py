"""The language model briefs are written in: per channel (/brief settings language) over
BRIEFBOT_LANGUAGE, carried in the prompt the real openai client sends."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.config import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_payloads import slash_command_payload
from tests.fakes.web import FakeWeb
from tests.test_slack_support import bot_running, bot_settings, briefs_in, paste


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        slack.add_channel("C2", name="second")
        yield slack


async def _command(fake: FakeSlack, text: str, channel: str = "C1") -> dict[str, object]:
    eid = fake.send_envelope("slash_commands", slash_command_payload(text=text, channel_id=channel))
    await fake.await_for(lambda f: eid in f.acks)
    payload = fake.acks[eid]["payload"]
    assert isinstance(payload, dict)
    return payload


async def test_channel_language_reaches_the_model_prompt_and_the_cache_key(
    settings: Settings, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    link = f"<{web.url('/article')}>"
    async with bot_running(settings, fake):
        ack = await _command(fake, "settings language de")
        assert ack["response_type"] == "in_channel" and "German" in str(ack["text"])
        shown = await _command(fake, "settings")
        assert "`de`" in str(shown["text"])

        first, envelope = paste(fake, link, channel="C1")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", first)) == 1)
        second, envelope = paste(fake, link, channel="C2")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C2", second)) == 1)

    # Same article, two languages: two model calls, each asked for its channel's language.
    german, english = llm.chat_requests
    assert 'Write in German (language code "de")' in german.system_text
    assert 'Write in English (language code "en")' in english.system_text


async def test_default_language_comes_from_the_setting(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, language="fr")
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", ts)) == 1)
    (request,) = llm.chat_requests
    assert 'Write in French (language code "fr")' in request.system_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("settings language", "Change it with `/brief settings language <code>`"),
        ("settings language klingon!", "`klingon!` is not a language code"),
        ("settings colour blue", "There is no setting `colour`"),
    ],
)
async def test_language_mistakes_answer_privately(
    text: str, expected: str, settings: Settings, fake: FakeSlack
) -> None:
    async with bot_running(settings, fake):
        ack = await _command(fake, text)
    assert ack["response_type"] == "ephemeral" and expected in str(ack["text"])
    assert fake.calls_to("chat.postMessage") == []
