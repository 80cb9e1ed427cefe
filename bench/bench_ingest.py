"""Ingest benchmark: fetch+extract speed, and memory held by a page the size cap refuses.

Run: ``python bench/bench_ingest.py [repeats]``. Everything is served from loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench import common
from bench.common import figure
from bot.config import Settings
from bot.errors import TooLargeError
from bot.ingest import load_article
from bot.ingest.fetch import fetch
from bot.ingest.ssrf import default_ssl_context
from bot.models import Source
from tests.fakes.web import FakeWeb, article_html, gzip_bomb

ARTICLE_WORDS = 5_000
HUGE_BYTES = 25_000_000


def _settings() -> Settings:
    # Loopback is private: lift the guard for the benchmark server only.
    return Settings(_env_file=None, allow_private_networks=True)


def _timings(repeats: int, work: Callable[[], Awaitable[Any]]) -> list[float]:
    async def measure() -> list[float]:
        await work()  # warm-up: imports, first-use caches
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            await work()
            times.append(time.perf_counter() - started)
        return times

    return asyncio.run(measure())


def _peak_bytes(work: Callable[[], Awaitable[Any]]) -> int:
    """tracemalloc peak (bytes) of running work once, after a warm-up run."""

    async def once() -> None:
        with contextlib.suppress(TooLargeError):
            await work()

    asyncio.run(once())
    gc.collect()
    tracemalloc.start()
    try:
        asyncio.run(once())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(repeats: int = 5) -> list[dict[str, Any]]:
    """Measure and return one dict per figure (median, min, max over ``repeats``)."""
    settings = _settings()
    mb = 1_000_000
    with FakeWeb() as web:
        page = article_html(ARTICLE_WORDS)
        long_url = web.add("/long", page, headers={"Content-Type": "text/html; charset=utf-8"})

        async def plain_get() -> None:
            async with httpx.AsyncClient(trust_env=False, verify=default_ssl_context()) as client:
                (await client.get(long_url)).raise_for_status()

        async def guarded_fetch() -> None:
            await fetch(long_url, settings)

        async def fetch_and_extract() -> None:
            article = await load_article(Source(kind="url", value=long_url), settings)
            assert len(article.text.split()) >= ARTICLE_WORDS

        plain = _timings(repeats, plain_get)
        fetched = _timings(repeats, guarded_fetch)
        loaded = _timings(repeats, fetch_and_extract)

        huge = web.url(f"/huge?size={HUGE_BYTES}&chunked=1")
        bomb = web.url("/bomb")

        async def refuse(url: str) -> None:
            await fetch(url, settings)

        async def hold_body() -> None:
            async with httpx.AsyncClient(trust_env=False) as client:
                response = await client.get(huge)
                assert len(response.content) == HUGE_BYTES

        capped = [_peak_bytes(lambda: refuse(huge)) / mb for _ in range(max(1, repeats // 2))]
        bombed = [_peak_bytes(lambda: refuse(bomb)) / mb for _ in range(max(1, repeats // 2))]
        held = _peak_bytes(hold_body) / mb
        bomb_decoded = len(__import__("zlib").decompress(gzip_bomb(), 16 + 15)) / mb

    size_kb = len(page.encode()) / 1000
    cap = settings.fetch_max_bytes / mb
    return [
        figure(
            f"fetch {ARTICLE_WORDS:,}-word page ({size_kb:.0f} KB), guarded, loopback",
            [t * 1000 for t in fetched],
            unit="ms",
            goal="< 100 ms",
            baseline=f"plain httpx GET, no guard: {statistics.median(plain) * 1000:.1f} ms",
        ),
        figure(
            f"fetch + extract {ARTICLE_WORDS:,}-word page (load_article)",
            [t * 1000 for t in loaded],
            unit="ms",
            goal="< 1000 ms",
            baseline=f"fetch alone: {statistics.median(fetched) * 1000:.1f} ms",
        ),
        figure(
            f"peak memory, {HUGE_BYTES // mb} MB chunked page refused at the {cap:g} MB cap",
            capped,
            unit="MB",
            goal=f"<= ~{cap * 1.5:g} MB (bounded by the cap)",
            baseline=f"httpx holding the whole body: {held:.1f} MB",
        ),
        figure(
            f"peak memory, gzip bomb ({len(gzip_bomb()) / 1000:.0f} KB -> "
            f"{bomb_decoded:g} MB) refused",
            bombed,
            unit="MB",
            goal=f"<= ~{cap * 1.5:g} MB (bounded by the cap)",
            baseline=f"decoded size: {bomb_decoded:g} MB",
        ),
    ]


if __name__ == "__main__":
    common.main(run, default_repeats=5)
