"""Pay the suite's one-time import costs at session start, not inside whichever test is first.

Briefbot imports its heavy libraries lazily (trafilatura, yake, openai, slack_bolt, ...), so
a CLI that needs none of them starts fast. In a test process that means the first test to
reach each code path also pays a second or more of imports. Which test that is depends on
how xdist hands tests to its workers, so that test's time swung by 2-6x between runs of
the same suite (bench/test_durations.py). Importing everything once per worker, before
any test starts, leaves each test with its own work only.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import tempfile

import bot

#: Imported inside functions by bot/ (so not reached by importing every bot module).
LAZY = (
    "aiohttp",
    "courlan",
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
)


def import_everything() -> None:
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
    _load_default_encoding()


def _load_default_encoding() -> None:
    """Half a second of BPE parsing, kept in tiktoken's registry for the process.

    Seeded into a throwaway dir (the developer's cache stays untouched); our lru_cache is
    cleared, so each test still seeds its own session cache dir before using it.
    """
    from bot import tokens

    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    with tempfile.TemporaryDirectory() as directory:
        os.environ["TIKTOKEN_CACHE_DIR"] = directory
        try:
            tokens.get_encoding(tokens.DEFAULT_ENCODING)
        finally:
            tokens.get_encoding.cache_clear()
            if old is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = old
