"""Fuzz: property-based tests over every stage that reads untrusted input (issue 15).

Each property holds for any input: the stage either answers or raises a user-safe
BriefbotError. There is no per-example wall-clock deadline (load on a shared machine
failed it, not the code); pytest-timeout stops a hang, and the linear-time guards of each
stage are CPU-time tests of their own. Inputs mix arbitrary text
with the pieces that broke parsers before (comments, open tags, quotes, dots, runs of
spaces), so hypothesis finds the hostile combinations quickly.

CI runs a bounded, derandomized profile (reproducible); HYPOTHESIS_PROFILE=deep runs more.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chunking import chunk_text, split_sentences
from bot.config import Settings
from bot.engines.offline import OfflineEngine
from bot.engines.openai_engine import OpenAIEngine
from bot.errors import BriefbotError
from bot.grounding import quote_in_text, strip_foreign_urls
from bot.ingest.decode import classify, decode_text, sniff
from bot.ingest.extract import canonical_link, extract_document, extract_plain
from bot.ingest.links import find_links
from bot.ingest.sources import parse_sources
from bot.ingest.ssrf import check_url
from bot.models import Article, Brief
from bot.sanitize import sanitize_slack
from bot.slack.intake import sources_of
from bot.store.keys import normalize_url
from tests.fakes.hostile import PIECES
from tests.fakes.openai_server import FakeOpenAI, Reply, empty_draft

pytestmark = pytest.mark.fuzz

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    "derandomize": True,
    "database": None,
    "print_blob": True,
}
settings.register_profile("ci", max_examples=40, **_COMMON)
settings.register_profile("deep", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

hostile_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=120).map(
    "".join
)
hostile_bytes = st.one_of(
    hostile_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=600),
)
content_types = st.sampled_from(
    [None, "", "text/html", "text/plain", "text/markdown", "application/pdf",
     "application/octet-stream", "text/xml", "image/png", "application/json"]
)  # fmt: skip


def _safe(fn: Callable[[], Any]) -> Any:
    """Run a stage: any outcome but an exception other than a BriefbotError."""
    try:
        return fn()
    except BriefbotError as exc:
        assert str(exc).strip(), "a user-safe error needs a message"
        return exc


# --- intake and source parsing -------------------------------------------------------------


@given(text=hostile_text)
def test_source_parsing_answers_or_refuses(text: str) -> None:
    _safe(lambda: parse_sources([text]))
    _safe(lambda: sources_of(text, allow_text=True))
    for url in find_links(text):
        assert url.lower().startswith(("http://", "https://"))
        _safe(lambda u=url: check_url(u, allow_private=False))
        assert isinstance(normalize_url(url), str)


# --- sniff, decode, extract ---------------------------------------------------------------


@given(body=hostile_bytes, content_type=content_types)
def test_sniff_and_classify_answer_or_refuse(body: bytes, content_type: str | None) -> None:
    assert sniff(body) in (None, "html", "pdf")
    _safe(lambda: classify(content_type, body))
    assert isinstance(decode_text(body, "utf-8", markup=True), str)


@given(html=hostile_text)
def test_canonical_link_is_an_attribute_value_or_none(html: str) -> None:
    found = canonical_link(html)
    assert found is None or (found.strip() == found and found)


@settings(max_examples=15)
@given(body=hostile_bytes, content_type=content_types)
def test_extract_document_answers_or_refuses(body: bytes, content_type: str | None) -> None:
    result = _safe(lambda: extract_document(body, content_type=content_type))
    if not isinstance(result, BriefbotError):
        assert isinstance(result.text, str)


@given(text=hostile_text)
def test_extract_plain_keeps_no_invisible_controls(text: str) -> None:
    doc = extract_plain(text)
    assert "\u202e" not in doc.text
    assert "\x00" not in doc.text


# --- chunking and grounding ---------------------------------------------------------------


@settings(max_examples=25)
@given(text=hostile_text)
def test_chunks_fit_their_budget_and_come_from_the_text(text: str) -> None:
    from bot.tokens import count_tokens

    split_sentences(text)
    chunks = chunk_text(text, budget=64, overlap=8)
    assert chunks
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 64
        assert chunk.text in text


@given(quote=hostile_text, text=hostile_text)
def test_grounding_answers(quote: str, text: str) -> None:
    assert isinstance(quote_in_text(quote, text), bool)
    assert isinstance(strip_foreign_urls(quote, text), str)


@given(text=hostile_text)
def test_quote_from_the_text_is_grounded(text: str) -> None:
    words = text.split()
    if len(words) < 12 or not all(w.isalpha() for w in words):
        return
    quote = " ".join(words[2:10])
    assert quote_in_text(quote, text)


# --- sanitize ------------------------------------------------------------------------------


@given(text=hostile_text)
def test_sanitized_text_pings_nobody(text: str) -> None:
    out = sanitize_slack(text)
    lowered = out.lower()
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<@u123>"):
        assert ping not in lowered


# --- both engines ------------------------------------------------------------------------


@pytest.fixture
def offline(make_settings: Callable[..., Settings]) -> OfflineEngine:
    return OfflineEngine(make_settings(engine="offline"))


@settings(max_examples=20)
@given(text=hostile_text)
def test_offline_engine_briefs_or_refuses(offline: OfflineEngine, text: str) -> None:
    result = _safe(lambda: asyncio.run(offline.brief(Article(text=text * 3))))
    assert isinstance(result, Brief | BriefbotError)


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


model_output = st.one_of(
    hostile_text,
    st.recursive(
        st.none() | st.booleans() | st.integers() | hostile_text,
        lambda inner: st.lists(inner, max_size=4)
        | st.dictionaries(hostile_text, inner, max_size=4),
        max_leaves=12,
    ).map(json.dumps),
    st.builds(
        lambda summary, extra: json.dumps({**empty_draft(summary), **extra}),
        hostile_text,
        st.dictionaries(st.sampled_from(["participants", "topics", "tensions", "next_steps"]),
                        st.lists(st.dictionaries(hostile_text, hostile_text, max_size=3),
                                 max_size=3), max_size=2),
    ),
)  # fmt: skip


@settings(max_examples=20)
@given(content=model_output, text=hostile_text)
def test_openai_engine_turns_any_model_output_into_a_brief_or_a_clear_error(
    make_settings: Callable[..., Settings], openai_server: FakeOpenAI, content: str, text: str
) -> None:
    settings_ = make_settings(
        openai_api_key="sk-test", openai_base_url=openai_server.base_url, llm_timeout=5.0,
        llm_max_attempts=1,
    )  # fmt: skip

    openai_server.responder = lambda _request: Reply.raw(content)  # every call, repairs too

    async def one() -> Brief:
        engine = OpenAIEngine(settings_, retry_base=0.01, retry_cap=0.1)
        try:
            return await engine.brief(Article(text=(text + " word") * 5))
        finally:
            await engine.aclose()

    result = _safe(lambda: asyncio.run(one()))
    assert isinstance(result, Brief | BriefbotError)
