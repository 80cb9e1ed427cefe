"""Briefbot's whole pipeline against the naive ways of doing the same job.

Every figure runs BriefService (cache, engine, grounding, store) against the fake OpenAI
server with a fixed DELAY per model call, and its baseline runs in the same process on
the same documents:

- a 60k-token document, fresh: our map-reduce (parallel map calls, one reduce) against a
  naive pipeline with no cache, sequential map calls and a refine-style running summary
  (each call gets the brief so far plus the next chunk); wall time in model-call rounds;
- the same link asked for again (someone re-pastes it): our cache hit against the naive
  pipeline, which has no cache and pays the model again; milliseconds;
- a batch of BATCH one-chunk documents arriving together (a burst of pastes): ours,
  bounded by BRIEFBOT_LLM_CONCURRENCY (default 16), against briefing them one call at a
  time; wall time in model-call rounds.

Run: ``.venv/bin/python bench/bench_baselines.py [repeats]``. ``run(repeats)`` returns rows.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.bench_engine import make_document, naive_refine, responder  # noqa: E402
from bench.common import figure  # noqa: E402
from bot.chunking import chunk_text  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engines.openai_engine import OpenAIEngine  # noqa: E402
from bot.models import Article  # noqa: E402
from bot.service import BriefService  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

DELAY = 0.4  # seconds per model call, as in bench_engine
BATCH = 8
MODEL = "gpt-4o-mini"


def _settings(server: FakeOpenAI, data_dir: Path, **extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        openai_api_key="sk-bench",
        openai_base_url=server.base_url,
        engine="openai",
        model=MODEL,
        data_dir=data_dir,
        **extra,
    )


async def _pipeline_long(settings: Settings, text: str) -> tuple[float, float]:
    """(ours, naive) wall time for a fresh long document, in model-call rounds."""
    with Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store)
        engine = service.engine
        assert isinstance(engine, OpenAIEngine)
        try:
            await service.brief_article(Article(text=make_document(600)))  # warm the pool
            started = time.perf_counter()
            await service.brief_article(Article(text=text), use_cache=False)
            ours = time.perf_counter() - started
            naive, _ = await naive_refine(engine, text)
        finally:
            await engine.aclose()
    return ours / DELAY, naive / DELAY


async def _repeat_request(settings: Settings, text: str) -> tuple[float, float]:
    """(ours, naive) milliseconds to answer a second request for the same document."""
    article = Article(text=text, url="https://news.example/story")
    with Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store)
        try:
            await service.brief_article(article)  # the first request fills the cache
            started = time.perf_counter()
            result = await service.brief_article(article)
            ours = time.perf_counter() - started
            assert result.brief.meta.cached
            started = time.perf_counter()
            await service.brief_article(article, use_cache=False)  # no cache: the model again
            naive = time.perf_counter() - started
        finally:
            await service.engine.aclose()  # type: ignore[attr-defined]
    return ours * 1000, naive * 1000


async def _batch(settings: Settings, texts: list[str]) -> tuple[float, float]:
    """(ours, one at a time) wall time for a burst of documents, in model-call rounds."""
    with Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store)
        try:
            await service.brief_article(Article(text=make_document(300, seed=99)))  # warm
            started = time.perf_counter()
            await asyncio.gather(
                *(service.brief_article(Article(text=t), use_cache=False) for t in texts)
            )
            ours = time.perf_counter() - started
            started = time.perf_counter()
            for text in texts:
                await service.brief_article(Article(text=text), use_cache=False)
            sequential = time.perf_counter() - started
        finally:
            await service.engine.aclose()  # type: ignore[attr-defined]
    return ours / DELAY, sequential / DELAY


def run(repeats: int = 3) -> list[dict[str, Any]]:
    """Measure every figure ``repeats`` times; one row per figure."""
    long = make_document()
    short = make_document(600, seed=11)
    batch = [make_document(500, seed=100 + i) for i in range(BATCH)]
    samples: dict[str, list[tuple[float, float]]] = {"long": [], "repeat": [], "batch": []}
    chunk_text(long, budget=8000, model=MODEL)  # one-off costs (regexes, encoder caches)
    with (
        FakeOpenAI(delay=DELAY, responder=responder) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for i in range(repeats):
            base = Path(tmp) / str(i)
            # All map calls of the 60k document in one round, as in bench_engine.
            wide = _settings(server, base / "long", llm_concurrency=16, chunk_tokens=8000)
            samples["long"].append(asyncio.run(_pipeline_long(wide, long)))
            plain = _settings(server, base / "plain")
            samples["repeat"].append(asyncio.run(_repeat_request(plain, short)))
            samples["batch"].append(asyncio.run(_batch(plain, batch)))

    def row(key: str, name: str, unit: str) -> dict[str, Any]:
        baseline = statistics.median(s[1] for s in samples[key])
        return figure(name, [s[0] for s in samples[key]], unit=unit, baseline=baseline)

    return [
        row("long", "pipeline, 60k-token doc: map-reduce vs naive refine", "model-call rounds"),
        row("repeat", "same document asked again: cache vs no cache", "ms"),
        row("batch", f"{BATCH} one-chunk docs at once vs one call at a time", "model-call rounds"),
    ]


if __name__ == "__main__":
    common.main(run, default_repeats=3, notes=[f"fake model delay {DELAY * 1000:.0f} ms/call"])
