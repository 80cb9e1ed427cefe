"""Local model servers: slots, the shared limiter, deadlines from admission, and doctor.

The fake OpenAI server plays llama.cpp: ``slots=1`` makes it answer ``/props`` and serve
one chat request at a time, queueing the rest (their client timeouts running), exactly
the setup that turned a 10k-token brief into a storm of timeouts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.ask.model import ModelAnswerer
from bot.config import Settings
from bot.doctor import model_checks
from bot.engines.llm_output import Usage
from bot.engines.llm_server import parse_models, parse_props, server_root
from bot.engines.openai_engine import OpenAIEngine
from bot.errors import ModelOutputError
from bot.models import Article
from tests.fakes.openai_server import FakeOpenAI, Reply, echo_draft

PARAGRAPH = (
    "The harbour board met the union on Monday to discuss the new shift rota, and the "
    "minister said a review of the dredging plan would be published before the summer. "
)
#: About 4 chunks at chunk_tokens=600.
LONG = "\n\n".join(f"Section {i}. " + PARAGRAPH * 4 for i in range(10))


@pytest.fixture
def one_slot() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(slots=1, context=4096, delay=0.3) as server:
        yield server


def _engine(make_settings: Callable[..., Settings], server: FakeOpenAI, **kw: Any) -> OpenAIEngine:
    values: dict[str, Any] = {
        "openai_api_key": "sk-test",
        "openai_base_url": server.base_url,
        "chunk_tokens": 600,
        "chunk_overlap_tokens": 0,
        **kw,
    }
    return OpenAIEngine(make_settings(**values), retry_base=0.01, retry_cap=0.05)


def _usage(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "llm_usage"]
    return record


async def test_a_one_slot_server_gets_one_call_at_a_time_and_no_call_times_out(
    make_settings: Callable[..., Settings], one_slot: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    # 4 allowed at once, but the server says 1 slot: if all 4 map calls went out together,
    # the last would queue 0.9 s in the server and miss its 0.8 s timeout, then retry.
    caplog.set_level(logging.INFO, logger="bot.engines.openai")
    engine = _engine(make_settings, one_slot, llm_concurrency=4, llm_timeout=0.8)
    await engine.brief(Article(text=LONG))
    await engine.aclose()

    usage = _usage(caplog)
    chats = one_slot.chat_requests
    assert usage.llm_chunks >= 4  # type: ignore[attr-defined]
    assert len(chats) > usage.llm_chunks  # type: ignore[attr-defined]  # maps, then reduce
    assert one_slot.max_in_flight == 1  # none ever waited inside the server
    assert usage.llm_timeout_retries == 0 and usage.llm_retries == 0  # type: ignore[attr-defined]
    assert all(r.status == 200 for r in chats)
    assert "sending at most 1" in caplog.text


async def test_time_queued_behind_our_own_calls_does_not_count_against_the_timeout(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    # No /props (like OpenAI or vLLM): concurrency 1 is our own limit. Every call takes
    # 0.3 s and the timeout is 0.8 s; the whole brief takes longer than that, and no
    # call may time out, because each one's clock starts when it is sent.
    caplog.set_level(logging.INFO, logger="bot.engines.openai")
    with FakeOpenAI(delay=0.3) as server:
        engine = _engine(make_settings, server, llm_concurrency=1, llm_timeout=0.8)
        await engine.brief(Article(text=LONG))
        await engine.aclose()
        chats = server.chat_requests
    usage = _usage(caplog)
    assert len(chats) >= 5 and all(r.status == 200 for r in chats)
    assert chats[-1].finished - chats[0].started > 0.8  # type: ignore[operator]
    assert usage.llm_timeout_retries == 0  # type: ignore[attr-defined]


async def test_briefs_share_one_limit_per_server(make_settings: Callable[..., Settings]) -> None:
    # Two engines (two briefs, say from two channels) to one server: 2 in flight, total.
    with FakeOpenAI(delay=0.2) as server:
        a = _engine(make_settings, server, llm_concurrency=2)
        b = _engine(make_settings, server, llm_concurrency=2)
        await asyncio.gather(a.brief(Article(text=LONG)), b.brief(Article(text=LONG + " B")))
        await a.aclose()
        await b.aclose()
        assert server.max_in_flight == 2
        assert len(server.chat_requests) >= 8


async def test_the_slots_setting_caps_calls_where_the_server_does_not_say(
    make_settings: Callable[..., Settings],
) -> None:
    with FakeOpenAI(delay=0.1) as server:  # no /props, like Ollama
        engine = _engine(make_settings, server, llm_concurrency=4, llm_server_slots=1)
        await engine.brief(Article(text=LONG))
        await engine.aclose()
        assert server.max_in_flight == 1
        assert not [r for r in server.requests if r.path == "/props"]  # no need to ask


async def test_every_call_caps_its_answer(make_settings: Callable[..., Settings]) -> None:
    with FakeOpenAI() as server:
        engine = _engine(make_settings, server, llm_max_output_tokens=321)
        await engine.brief(Article(text=PARAGRAPH))
        await engine.aclose()
        [chat] = server.chat_requests
        assert (chat.body or {})["max_completion_tokens"] == 321


@pytest.mark.parametrize(
    ("base", "root"),
    [
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080"),
        ("http://box:11434", "http://box:11434"),
    ],
)
def test_server_root(base: str, root: str) -> None:
    assert server_root(base) == root


def test_what_llama_cpp_reports_is_read_and_junk_is_ignored() -> None:
    props = {"default_generation_settings": {"n_ctx": 8192}, "total_slots": 2,
             "model_alias": "smollm2"}  # fmt: skip
    assert parse_props(props) == (8192, 2, "smollm2")
    assert parse_props({"total_slots": "2", "default_generation_settings": []}) == (
        None, None, None,
    )  # fmt: skip
    assert parse_props(["not", "a", "dict"]) == (None, None, None)
    models = {"data": [{"id": "/m.gguf", "aliases": ["smollm2"], "meta": {"n_ctx": 4096}}]}
    assert parse_models(models) == (("/m.gguf", "smollm2"), 4096)
    assert parse_models({"data": "nope"}) == ((), None)


def _doctor_rows(settings: Settings) -> dict[str, tuple[str, str]]:
    return {row.name: (row.status, row.detail) for row in model_checks(settings)}


def test_doctor_reports_the_server_and_warns_about_context_and_slots(
    make_settings: Callable[..., Settings],
) -> None:
    with FakeOpenAI(slots=1, context=4096, models=("smollm2",)) as server:
        rows = _doctor_rows(make_settings(
            openai_api_key="unused", openai_base_url=server.base_url, model="smollm2",
            chunk_tokens=8000, llm_concurrency=4,
        ))  # fmt: skip
    assert rows["model server"][0] == "ok"
    assert "llama.cpp" in rows["model server"][1] and "4096" in rows["model server"][1]
    assert "1 slot" in rows["model server"][1]
    status, detail = rows["model context"]
    assert status == "warn" and "BRIEFBOT_CHUNK_TOKENS=8000" in detail and "at most 1905" in detail
    status, detail = rows["model slots"]
    assert status == "warn" and "BRIEFBOT_LLM_CONCURRENCY=1" in detail


def test_doctor_is_quiet_when_it_all_fits(make_settings: Callable[..., Settings]) -> None:
    with FakeOpenAI(slots=4, context=8192, models=("smollm2",)) as server:
        rows = _doctor_rows(make_settings(
            openai_api_key="unused", openai_base_url=server.base_url, model="smollm2",
            chunk_tokens=3000, llm_concurrency=4,
        ))  # fmt: skip
    assert rows["model context"][0] == "ok" and "model slots" not in rows


def test_doctor_says_when_a_server_reports_no_slots(make_settings: Callable[..., Settings]) -> None:
    with FakeOpenAI(models=("llama3",)) as server:  # Ollama-like: no /props
        rows = _doctor_rows(make_settings(
            openai_api_key="unused", openai_base_url=server.base_url, model="llama3",
        ))  # fmt: skip
    status, detail = rows["model server"]
    assert status == "skip" and "BRIEFBOT_LLM_SERVER_SLOTS" in detail


async def test_a_chunk_whose_answer_stays_unusable_is_skipped_not_fatal(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    def respond(body: dict[str, Any]) -> Reply | dict[str, Any]:
        text = str(body["messages"][1]["content"])
        if "part 1 of" in text:  # this chunk rambles past the cap, and again when repaired
            return Reply(content='{"summary": "The harbour board', finish_reason="length")
        return echo_draft(body)

    with FakeOpenAI(responder=respond) as server:
        engine = _engine(make_settings, server)
        brief = await engine.brief(Article(text=LONG))
        await engine.aclose()
        firsts = [r for r in server.chat_requests if "part 1 of" in r.user_text]
    assert len(firsts) == 2  # the answer and its repair
    assert brief.summary and brief.topics
    assert "skipping a chunk whose answer was unusable" in caplog.text


async def test_when_every_chunk_is_unusable_the_error_is_reported(
    make_settings: Callable[..., Settings],
) -> None:
    cut = Reply(content='{"summary": "The harbour', finish_reason="length")
    with FakeOpenAI(responder=lambda body: cut) as server:
        engine = _engine(make_settings, server)
        with pytest.raises(ModelOutputError, match="cut off"):
            await engine.brief(Article(text=LONG))
        await engine.aclose()


async def test_questions_and_briefs_share_the_servers_one_slot(
    one_slot: FakeOpenAI, make_settings: Callable[..., Settings]
) -> None:
    # A question asked while a brief is being written goes to the same one-slot server:
    # it must queue in Briefbot, behind the brief's calls, not inside the server.
    settings = make_settings(
        openai_api_key="sk-test",
        openai_base_url=one_slot.base_url,
        chunk_tokens=600,
        chunk_overlap_tokens=0,
        llm_concurrency=4,
    )
    engine = OpenAIEngine(settings, retry_base=0.01, retry_cap=0.05)
    answerer = ModelAnswerer(settings, retry_base=0.01)
    messages = answerer.prepare(LONG, title=None, question="Who met on Monday?", history=[])
    await asyncio.gather(
        engine.brief(Article(text=LONG)),
        answerer.answer(messages, Usage()),
        answerer.answer(messages, Usage()),
        return_exceptions=True,  # the fake's brief-shaped replies don't answer questions
    )
    await engine.aclose()
    await answerer.aclose()
    assert len(one_slot.chat_requests) >= 6  # the brief's chunks and both questions
    assert one_slot.max_in_flight == 1
