"""Faults from OpenAI and from Slack, end to end through the bot: retried or reported, never twice.

OpenAI faults run concurrently in one bot: each case pastes its own article (tagged with a
code word), and the fake model answers each article from that case's script, so one
session covers every fault and its retries.
"""

from __future__ import annotations

import html
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.config import Settings
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.slack import FakeSlack, message_shortcut_payload
from tests.fakes.web import ARTICLE_PARAGRAPHS, ARTICLE_TITLE, FakeWeb
from tests.test_hardening_injection import leaks
from tests.test_slack_support import bot_running, bot_settings, briefs_in, is_brief, paste

QUOTE = ARTICLE_PARAGRAPHS[0].split(", ending")[0]
DRAFT = {
    "summary": "The port and the union agreed a pay deal.",
    "participants": [],
    "topics": [{"name": "Pay deal", "evidence": QUOTE}],
    "tensions": [],
    "next_steps": [],
}
OK = Reply.brief(DRAFT)
BROKEN = '{"summary": 42, "topics": "none"}'


@dataclass(frozen=True)
class Fault:
    """A fault script for one article and what the user must end up with."""

    name: str
    script: tuple[Reply, ...]  # answers in order; the last one repeats
    expect: str  # "brief", or text the thread's single message must contain
    requests: int  # model requests the bot should make (retries and repairs included)
    faults: int  # faults injected


FAULTS: list[Fault] = [
    Fault("429 with Retry-After", (Reply.rate_limit(retry_after=1), OK), "brief", 2, 1),
    Fault("500", (Reply.error(500), OK), "brief", 2, 1),
    Fault("503", (Reply.error(503), OK), "brief", 2, 1),
    Fault("connection reset", (Reply.reset(), OK), "brief", 2, 1),
    Fault("hang past the timeout", (Reply.hang(3), OK), "brief", 2, 1),
    Fault("malformed JSON", (Reply.raw("{not json"), OK), "brief", 2, 1),
    Fault("length cut-off", (Reply.cut_off(DRAFT), OK), "brief", 2, 1),
    Fault("refusal", (Reply.refuse("I can't help with that."),), "declined to brief", 2, 2),
    Fault("schema-invalid reply", (Reply.raw(BROKEN),), "did not match the brief format", 2, 2),
    Fault("down past the retry budget", (Reply.error(503),), "Written offline because", 3, 3),
    Fault("out of quota", (Reply.quota(),), "Written offline because", 1, 1),
]


def tagged_article(tag: str) -> str:
    paras = [*ARTICLE_PARAGRAPHS, f"Reference code {tag}."]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paras)
    head = f"<html><head><title>{ARTICLE_TITLE}</title></head>"
    return f"{head}<body><article>{body}</article></body></html>"


class ScriptedModel:
    """Answers each tagged article from its own script; counts requests per tag."""

    def __init__(self, scripts: dict[str, tuple[Reply, ...]]) -> None:
        self.scripts = scripts
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        text = " ".join(str(m.get("content")) for m in body.get("messages", []))
        tag = next(t for t in re.findall(r"Reference code (\w+)", text) if t in self.scripts)
        with self._lock:
            n = self.seen[tag]
            self.seen[tag] += 1
        script = self.scripts[tag]
        return script[min(n, len(script) - 1)]


@pytest.fixture(scope="module")
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as server:
        for i in range(len(FAULTS)):
            server.add(f"/fault/{i}", tagged_article(f"fault{i}"),
                       headers={"Content-Type": "text/html; charset=utf-8"})  # fmt: skip
        yield server


def _updated(n: int) -> Callable[[FakeSlack], bool]:
    return lambda f: len([c for c in f.calls_to("chat.update") if c.ok]) >= n


async def test_each_model_fault_is_retried_or_reported_and_nothing_is_posted_twice(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    model = ScriptedModel({f"fault{i}": f.script for i, f in enumerate(FAULTS)})
    llm.responder = model
    settings = bot_settings(
        make_settings, fake, llm, llm_max_attempts=3, llm_timeout=1.0, llm_max_wait=15.0,
        max_jobs_in_flight=len(FAULTS),
    )  # fmt: skip
    assert settings.offline_fallback  # on by default
    threads: list[tuple[str, str]] = []
    async with bot_running(settings, fake):
        for i in range(len(FAULTS)):
            channel = f"CF{i:02d}"
            ts, envelope = paste(fake, f"<{web.url(f'/fault/{i}')}>", channel=channel)
            fake.send_envelope("events_api", envelope)
            threads.append((channel, ts))
        await fake.await_for(_updated(len(FAULTS)), timeout=30)

    problems = []
    for i, (fault, (channel, ts)) in enumerate(zip(FAULTS, threads, strict=True)):
        thread = fake.thread(channel, ts)
        posts = [c for c in fake.calls_to("chat.postMessage") if c.params["channel"] == channel]
        if len(thread) != 1 or len(posts) != 1:
            problems.append(f"{fault.name}: {len(posts)} posts, thread {thread}")
            continue
        [reply] = thread
        shown = str(reply.get("text")) + str(reply.get("blocks"))
        if "Traceback" in shown:
            problems.append(f"{fault.name}: traceback shown")
        if fault.expect == "brief":
            ok = is_brief(reply) and "Written offline" not in shown
        else:
            ok = fault.expect in shown
        if not ok:
            problems.append(f"{fault.name}: expected {fault.expect!r}, got {shown[:300]}")
        if model.seen[f"fault{i}"] != fault.requests:
            problems.append(f"{fault.name}: {model.seen[f'fault{i}']} model requests")
    record_property("faults", sum(f.faults for f in FAULTS))
    record_property("cases", len(FAULTS))
    found = leaks(fake)
    record_property("leaks", len(found))
    assert not problems, "\n".join(problems)
    assert found == []
    # Retry-After was honoured: the retry came at least a second after the 429.
    tagged = [r for r in llm.chat_requests if "Reference code fault0." in r.user_text]
    assert tagged[1].started - tagged[0].started >= 1.0


async def test_with_the_fallback_off_a_dead_model_is_reported_once(
    make_settings: Callable[..., Settings],
    fake: FakeSlack,
    web: FakeWeb,
    llm: FakeOpenAI,
    record_property: Callable[[str, object], None],
) -> None:
    record_property("faults", 1)
    llm.responder = lambda body: Reply.error(500)
    settings = bot_settings(make_settings, fake, llm, offline_fallback=False)
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/fault/0')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    [reply] = fake.thread("C1", ts)
    assert "The model is unavailable right now" in reply["text"] and not is_brief(reply)


# --- faults from Slack ---------------------------------------------------------------------


async def test_a_429_on_chat_update_is_honoured_and_the_brief_lands_once(
    settings: Settings,
    fake: FakeSlack,
    web: FakeWeb,
    record_property: Callable[[str, object], None],
    sdk_sleeps: list[float],
) -> None:
    record_property("faults", 1)
    fake.fail_next("chat.update", status=429, retry_after=1)
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    updates = fake.calls_to("chat.update")
    assert [c.status for c in updates] == [429, 200]
    assert len(sdk_sleeps) == 1 and sdk_sleeps[0] >= 1.0  # waited out the Retry-After
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(briefs_in(fake, "C1", ts)) == len(fake.thread("C1", ts)) == 1


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
async def test_a_removed_bot_tells_the_asker_privately_and_keeps_serving(
    error: str,
    settings: Settings,
    fake: FakeSlack,
    web: FakeWeb,
    record_property: Callable[[str, object], None],
) -> None:
    record_property("faults", 1)
    fake.fail_next("chat.postMessage", error=error)
    url = fake.response_url()
    message = {"ts": fake.add_message("C1", text=f"<{web.url('/article')}>")}
    message["text"] = f"<{web.url('/article')}>"
    async with bot_running(settings, fake) as bot:
        fake.send_envelope(
            "interactive", message_shortcut_payload(message=message, response_url=url)
        )
        await fake.await_for(lambda f: len(f.responses) == 1)
        assert bot.deps.queue.counts() == {"failed": 1}  # not retried forever
        ts, envelope = paste(fake, f"<{web.url('/article')}>", channel="C2")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    assert "/invite @Briefbot" in fake.responses[0]["body"]["text"]
    assert fake.thread("C1", message["ts"]) == []
    assert len(briefs_in(fake, "C2", ts)) == 1


async def test_a_revoked_token_fails_the_job_without_retry_storms_or_leaks(
    settings: Settings,
    fake: FakeSlack,
    web: FakeWeb,
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, object], None],
) -> None:
    record_property("faults", 1)
    fake.fail_next("chat.postMessage", error="invalid_auth")
    async with bot_running(settings, fake) as bot:
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: bot.deps.queue.counts() == {"failed": 1})
        # Once the token works again, the next paste is served.
        ts2, envelope = paste(fake, f"<{web.url('/article')}>", channel="C2")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    assert len(fake.calls_to("chat.postMessage")) == 2  # the refused one, the next one
    assert fake.thread("C1", ts) == [] and len(briefs_in(fake, "C2", ts2)) == 1
    assert "invalid_auth" in caplog.text and "xoxb-test" not in caplog.text


async def test_msg_too_long_on_the_update_still_gives_one_readable_reply(
    settings: Settings,
    fake: FakeSlack,
    web: FakeWeb,
    record_property: Callable[[str, object], None],
) -> None:
    record_property("faults", 1)
    fake.fail_next("chat.update", error="msg_too_long", times=1)
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(_updated(1))
    [reply] = fake.thread("C1", ts)
    assert ARTICLE_TITLE in reply["text"] and "Reading" not in reply["text"]


async def test_a_socket_drop_in_the_middle_of_a_burst_loses_nothing_and_doubles_nothing(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    llm.delay = 0.05
    settings = bot_settings(make_settings, fake, llm)
    pastes: list[tuple[str, str]] = []
    async with bot_running(settings, fake):
        for i in range(20):
            if i == 10:
                fake.disconnect_sockets()
                await fake.await_for(lambda f: f.socket_connections_total >= 2)
                await fake.await_for(lambda f: f.socket_clients() >= 1)
            channel = f"CS{i % 4}"
            ts, envelope = paste(fake, f"<{web.url('/article')}?n={i}>", channel=channel)
            eid = fake.send_envelope("events_api", envelope)
            if i == 9:  # Slack redelivers what it sent just before the drop
                fake.redeliver(eid)
            pastes.append((channel, ts))
        await fake.await_for(_updated(20), timeout=30)
    record_property("faults", 2)
    for channel, ts in pastes:
        assert len(fake.thread(channel, ts)) == len(briefs_in(fake, channel, ts)) == 1
    assert len(fake.calls_to("chat.postMessage")) == 20
