"""Pay the suite's one-time start-up costs at session start, not in whichever test is first.

Briefbot imports its heavy libraries lazily (trafilatura, yake, openai, slack_bolt, ...), so
a CLI that needs none of them starts fast. In a test process that means the first test to
reach each code path also pays a second or more of imports. Which test that is depends on
how xdist hands tests to its workers, so that test's time swung by 2-6x between runs of
the same suite (bench/test_durations.py). The same goes for tiktoken's first encoding and
the parser pool's worker processes. Doing all of it once per process, before any test
starts (about 3 s on an idle machine), leaves each test with its own work only.
Hypothesis's own first-run costs come after collection (`warm_up_hypothesis`).
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import tempfile
from concurrent.futures import ThreadPoolExecutor

import bot
from bot.errors import BriefbotError

#: Imported inside functions by bot/ (so not reached by importing every bot module).
LAZY = (
    "aiohttp",
    "courlan",
    "idna",
    "bot.prompts",
    "openai",
    "procrastinate.builtin_tasks",
    "procrastinate.worker",
    "psycopg",
    "py3langid",
    "pypdf",
    "slack_bolt.async_app",
    "slack_bolt.listener_matcher.async_builtins",
    "slack_sdk.oauth.installation_store.sqlalchemy",
    "slack_sdk.oauth.state_store.sqlalchemy",
    "slack_sdk.web.async_client",
    "slack_sdk.webhook.async_client",
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql.psycopg",
    "tiktoken",
    "trafilatura",
    "yake",
    # Test tools: hypothesis's first run imports its optimiser, and numpy.random to seed it.
    "hypothesis.internal.conjecture.optimiser",
    "numpy.random",
)


def warm_up() -> None:
    """Import every bot module (but the CLI entry point) and every lazily imported library,
    and load what the first client or token count would otherwise load inside a test."""
    for info in pkgutil.walk_packages(bot.__path__, prefix="bot."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    for name in LAZY:
        importlib.import_module(name)
    import openai

    # The SDK imports its transport and resources when a client is built and first used.
    with openai.OpenAI(api_key="sk-warmup", base_url="http://127.0.0.1:9/v1") as client:
        assert client.chat.completions.create
    _build_slack_app()
    _load_encodings()
    _brief_offline()
    _start_parser_pool()


_PAGE = (
    "<html><head><title>Warm-up</title></head><body><article>"
    + "<p>The harbour authority said on Monday that the new cranes would arrive in May.</p>" * 6
    + "</article></body></html>"
).encode()
_FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Warm-up</title>'
    b"<item><title>One</title><link>https://example.com/1</link></item></channel></rss>"
)


def _parse_samples() -> None:
    """One page and one feed through a parser worker: it imports trafilatura and
    feedparser and runs each once, as the first real extraction would."""
    from bot.digest.feeds import parse_feed
    from bot.ingest.extract import extract_document
    from bot.ingest.sandbox import parser_pool

    pool = parser_pool()
    pool.call(extract_document, _PAGE, budget=120, what="a page", content_type="text/html")
    pool.call(parse_feed, _FEED, budget=120, what="a feed", url="https://example.com/")


def _start_parser_pool() -> None:
    """Start the process-wide parser pool's workers and wait until each has parsed a page.

    Each is a fresh Python that imports trafilatura as it starts: 1-3 s of CPU that would
    otherwise compete with the first tests. The pool replaces a worker it kills itself.
    """
    from bot.ingest.sandbox import parser_pool

    parser_pool().prestart()
    with ThreadPoolExecutor(parser_pool().workers) as threads:
        for done in [threads.submit(_parse_samples) for _ in range(parser_pool().workers)]:
            try:
                done.result()
            except BriefbotError as exc:  # a warm-up that failed leaves the tests to it
                logging.getLogger(__name__).warning("parser warm-up failed: %s", exc)


def _brief_offline() -> None:
    """One offline brief: its first loads py3langid's model (0.3 s decompressing), which
    fell to whichever test first briefed offline on that xdist worker (test_access's
    budget fallback: 0.55, 1.39, 0.76 s in three runs)."""
    import asyncio

    from bot.config import Settings
    from bot.engines.offline import build_brief
    from bot.ingest import load_article
    from bot.models import Source

    text = "The harbour authority said on Monday that the new cranes would arrive in May. " * 6
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    build_brief(asyncio.run(load_article(Source(kind="text", value=text), settings)))


def _build_slack_app() -> None:
    """Bolt names an unnamed app after its caller's file, found with inspect.stack(): the
    first call maps every loaded module to its file (2,800 realpath calls here, 0.5-2 s).
    The bot names its app, but test_fake_slack builds unnamed ones. Nothing is sent."""
    from slack_bolt.async_app import AsyncApp

    AsyncApp(token="xoxb-warm-up", signing_secret="warm-up", process_before_response=True)


def _load_encodings() -> None:
    """Half a second or more of BPE parsing per encoding, kept in tiktoken's registry.

    Both encodings we ship: o200k_base is the default, and cl100k_base (gpt-4,
    gpt-3.5-turbo) cost 2-3 s in whichever of its tests a worker ran first
    (test_counts_in_the_models_encoding: 3.09/2.46/0.27 s). Seeded into a throwaway dir
    (the developer's cache stays untouched); our lru_cache is cleared, so each test still
    seeds its own session cache dir before using it.
    """
    from bot import tokens

    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    with tempfile.TemporaryDirectory() as directory:
        os.environ["TIKTOKEN_CACHE_DIR"] = directory
        try:
            for name in tokens.OFFLINE_ENCODINGS:
                tokens.get_encoding(name)
        finally:
            tokens.get_encoding.cache_clear()
            if old is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = old


def warm_up_hypothesis() -> None:
    """Pay hypothesis's one-time costs before the first property test, not inside it.

    Call it after collection: the test modules must be imported by then. The first
    @given test in a process took 3.1 s, then 0.36 s in later runs (bench/test_durations.py):
    - the first run in a thread registers a Random with hypothesis, which runs a full
      gc.collect() over everything the suite has imported (1-2 s on a loaded machine);
    - st.text()'s alphabet, every code point UTF-8 encodes, is computed over all of Unicode
      and cached under .hypothesis/ (seconds in a fresh checkout, which CI always is);
    - the constants hypothesis mixes into its draws are read from every local module's
      source, also cached under .hypothesis/ per file.
    """
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.internal.conjecture import providers

    @settings(max_examples=5, database=None, derandomize=True, deadline=None)
    @given(st.text(), st.binary())
    def draw(text: str, data: bytes) -> None:
        del text, data

    draw()
    # It reads the constants on its first constant draw, about 1 draw in 20; the scan is
    # internal, so a hypothesis without it leaves that part to the first test.
    scan = getattr(providers, "_get_local_constants", None)
    if scan is not None:
        scan()
