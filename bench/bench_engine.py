"""Benchmark of the OpenAI engine against the fake server, with a fixed 400 ms per call.

Figures (median over repeats):

- one-chunk overhead: end-to-end time of a one-chunk brief / the model's time (goal <= 1.05);
  baseline: a bare SDK call with no engine around it.
- long document (60k tokens, 8k budget): wall time in model-call rounds, i.e. wall time /
  per-call delay (goal 2: map, then reduce), and total input tokens / document tokens
  (goal <= 1.15). Baseline: the naive approach in the same process, sequential
  refine-style calls, each given the running brief plus the next chunk.

Run: ``.venv/bin/python bench/bench_engine.py [repeats]``. ``run(repeats)`` returns the rows.
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402
from bot.chunking import chunk_text  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engines.llm_schema import BriefDraft  # noqa: E402
from bot.engines.openai_engine import OpenAIEngine  # noqa: E402
from bot.models import Article  # noqa: E402
from bot.prompting import render_prompt  # noqa: E402
from bot.tokens import count_tokens  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

DELAY = 0.4
DOC_TOKENS = 60_000
BUDGET = 8_000
MODEL = "gpt-4o-mini"

_NAMES = [
    *("Maria Lopez", "Tom Okafor", "Ines Weber", "Raj Patel", "Chen Wei", "Amara Diallo"),
    *("the Port Authority", "the City Council", "Harbor Freight Union", "the Treasury"),
]
_VERBS = ["said", "warned", "argued", "announced", "confirmed", "disputed", "proposed", "denied"]
_THINGS = [
    *("the bridge budget", "the tariff schedule", "a ten-year framework", "the audit"),
    *("new shipping rules", "the port expansion", "the wage deal", "emergency funding"),
]


def make_document(tokens: int = DOC_TOKENS, seed: int = 7) -> str:
    """A deterministic news-like text of about ``tokens`` tokens, in paragraphs."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    total = 0
    while total < tokens:
        sentences = [
            f"{rng.choice(_NAMES)} {rng.choice(_VERBS)} that {rng.choice(_THINGS)} would "
            f"{rng.choice(['cost', 'save', 'need'])} {rng.randint(2, 900)} million dollars by "
            f"{rng.choice(['March', 'June', 'next year', '2027'])}."
            for _ in range(rng.randint(3, 6))
        ]
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        total += count_tokens(paragraph, MODEL) + 1
        if total >= tokens:  # the joins tokenise a little differently: check the real count
            total = count_tokens("\n\n".join(paragraphs), MODEL)
    return "\n\n".join(paragraphs)


def _fenced(body: dict[str, Any]) -> str:
    text = str(body["messages"][-1]["content"])
    match = re.search(r"<article>\n(.*)\n</article>", text, re.DOTALL)
    return match.group(1) if match else text


def responder(body: dict[str, Any]) -> dict[str, Any]:
    """A plausible brief of whatever text the request holds, quoting its sentences."""
    sentences = [s.strip() + "." for s in _fenced(body).split(".") if len(s.strip()) > 20][:40]
    quote = sentences or ["No text."]
    names = [n for n in _NAMES if any(n in s for s in quote)][:6]

    def quoting(word: str) -> str:
        return next((s for s in quote if word in s), quote[0])

    owner = names[0] if names else None
    middle = quote[len(quote) // 2]
    return {
        "summary": " ".join(quote[:2]),
        "participants": [{"name": n, "role": "official", "evidence": quoting(n)} for n in names],
        "topics": [{"name": t, "evidence": quoting(t)} for t in _THINGS[:3]],
        "tensions": [{"description": "Costs", "parties": names[:2], "evidence": quote[-1]}],
        "next_steps": [{"action": "Audit", "owner": owner, "when": "March", "evidence": middle}],
    }


def _settings(server: FakeOpenAI) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        openai_api_key="sk-bench",
        openai_base_url=server.base_url,
        model=MODEL,
        chunk_tokens=BUDGET,  # BRIEFBOT_LLM_CONCURRENCY stays at its default: that is measured
    )


async def _bare_call(engine: OpenAIEngine, text: str) -> float:
    """The floor: one SDK call with the same prompt, no engine around it."""
    messages = engine._brief_messages(Article(text=text))
    started = time.perf_counter()
    await engine.client.chat.completions.parse(
        model=MODEL, messages=messages, response_format=BriefDraft
    )
    return time.perf_counter() - started


async def naive_refine(engine: OpenAIEngine, text: str) -> tuple[float, int]:
    """Sequential refine: each call gets the running brief and the next chunk -> (s, tokens in)."""
    article = Article(text=text)
    budget = engine._chunk_budget(article)
    chunks = chunk_text(
        text, budget=budget, overlap=engine.settings.chunk_overlap_tokens, model=MODEL
    )
    running: BriefDraft | None = None
    tokens_in = 0
    started = time.perf_counter()
    for chunk in chunks:
        prompt = render_prompt(
            "map.j2", title=None, text=chunk.text, part=chunk.index + 1, parts=len(chunks)
        )
        if running is not None:
            prompt += (
                "\nUpdate this running brief with the part above:\n" + running.model_dump_json()
            )
        messages = [engine._system(), {"role": "user", "content": prompt}]
        completion = await engine.client.chat.completions.parse(
            model=MODEL,
            messages=messages,
            response_format=BriefDraft,  # type: ignore[arg-type]
        )
        running = completion.choices[0].message.parsed
        tokens_in += completion.usage.prompt_tokens if completion.usage else 0
    return time.perf_counter() - started, tokens_in


async def _measure_once(
    server: FakeOpenAI, short: str, long: str, *, warm_long: bool
) -> dict[str, float]:
    engine = OpenAIEngine(_settings(server))
    try:
        await engine.brief(Article(text=short))  # warm the connection pool and caches
        if warm_long:
            await engine.brief(Article(text=long))
        started = time.perf_counter()
        await engine.brief(Article(text=short))
        one_chunk = (time.perf_counter() - started) / DELAY
        bare = await _bare_call(engine, short) / DELAY

        started = time.perf_counter()
        brief = await engine.brief(Article(text=long))
        rounds = (time.perf_counter() - started) / DELAY
        doc_tokens = count_tokens(long, MODEL)
        naive_seconds, naive_tokens = await naive_refine(engine, long)
        # Where the time beyond two rounds goes: counting and chunking before the first call.
        started = time.perf_counter()
        engine._chunks_if_too_long(Article(text=long), engine._brief_messages(Article(text=long)))
        prep = (time.perf_counter() - started) / DELAY
    finally:
        await engine.aclose()
    return {
        "one_chunk": one_chunk,
        "one_chunk_baseline": bare,
        "rounds": rounds,
        "rounds_baseline": naive_seconds / DELAY,
        "tokens": brief.meta.tokens_in / doc_tokens,
        "tokens_baseline": naive_tokens / doc_tokens,
        "calls": brief.meta.llm_calls,
        "prep": prep,
        "prep_baseline": prep,
    }


def run(repeats: int = 3) -> list[dict[str, Any]]:
    """Measure every figure ``repeats`` times; one row per figure."""
    short = make_document(600)
    long = make_document()
    samples: list[dict[str, float]] = []
    with FakeOpenAI(delay=DELAY, responder=responder) as server:
        for i in range(repeats):
            # The first long brief of a process also pays one-off costs (regex compiles,
            # encoder caches): warm those once, so repeats measure the steady state.
            samples.append(asyncio.run(_measure_once(server, short, long, warm_long=i == 0)))

    def row(key: str, name: str, unit: str, goal: str) -> dict[str, Any]:
        baseline = statistics.median(s[f"{key}_baseline"] for s in samples)
        return figure(name, [s[key] for s in samples], unit=unit, goal=goal, baseline=baseline)

    calls = int(samples[0]["calls"])
    return [
        row("one_chunk", "1-chunk brief: end-to-end / model time", "ratio", "<= 1.05"),
        row("rounds", f"60k doc, 8k budget: wall time ({calls} calls)", "model-call rounds", "2"),
        row("tokens", "60k doc, 8k budget: input tokens / doc tokens", "ratio", "<= 1.15"),
        row("prep", "60k doc: of which counting + chunking (CPU)", "model-call rounds", "-"),
    ]


if __name__ == "__main__":
    common.main(
        run,
        default_repeats=3,
        notes=[
            f"fake model delay {DELAY * 1000:.0f} ms/call",
            "baseline: a bare SDK call (1-chunk), naive sequential refine (60k doc)",
        ],
    )
