"""Token counting throughput and chunking time on a generated ~60k-token article.

Run: ``.venv/bin/python bench/bench_tokens.py [repeats]``.
Each figure is the median (and min/max) of ``repeats`` runs in this process; baselines
are measured the same way, right alongside.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402
from bot.chunking import chunk_text  # noqa: E402
from bot.tokens import count_tokens, get_encoding  # noqa: E402

TARGET_TOKENS = 60_000
BUDGET = 8_000
OVERLAP = 400

_VOCABULARY = (
    "minister officials tariff framework agreement defence trade talks signed decade "
    "delegation ministry said would could partnership security energy supply chains "
    "critical technology meeting dialogue review commitment bilateral summit the of and "
    "to in a on for with that was were by from at as an is its their this which"
)
_TRICKY = (
    "Mr. Rao met Dr. Lee in the U.S. Senate at 3 p.m. on Jan. 5.",
    "Growth was 3.5 percent, said J. D. Vance.",
    "“We are close,” she said — and nobody disagreed…",
)


def make_article(target_tokens: int = TARGET_TOKENS, seed: int = 2024) -> str:
    """Deterministic article-like prose of about ``target_tokens`` o200k tokens."""
    rng = random.Random(seed)
    words = _VOCABULARY.split()
    paragraphs: list[str] = []
    tokens = 0
    while tokens < target_tokens:
        sentences = []
        for _ in range(rng.randint(2, 7)):
            if rng.random() < 0.15:
                sentences.append(rng.choice(_TRICKY))
            else:
                body = " ".join(rng.choice(words) for _ in range(rng.randint(6, 32)))
                sentences.append(body.capitalize() + rng.choice("..?!"))
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        tokens += count_tokens(paragraph) + 1
    return "\n\n".join(paragraphs)


def _timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def run(repeats: int = 7) -> list[dict[str, Any]]:
    """Measure; one dict per figure (figure, median, min, max, unit, goal, baseline)."""
    text = make_article()
    encoding = get_encoding()
    count_tokens(text)  # warm up: load the encoding before timing anything
    n_tokens = count_tokens(text)
    megabytes = len(text.encode("utf-8")) / 1e6

    count_times = _timed(lambda: count_tokens(text), repeats)
    raw_times = _timed(lambda: encoding.encode_ordinary(text), repeats)
    chunk_times = _timed(lambda: chunk_text(text, budget=BUDGET), repeats)
    overlap_times = _timed(lambda: chunk_text(text, budget=BUDGET, overlap=OVERLAP), repeats)
    # The engine encodes the text once for its one-call decision and hands the tokens over.
    encoded = encoding.encode(text, disallowed_special=())
    given_times = _timed(lambda: chunk_text(text, budget=BUDGET, tokens=encoded), repeats)
    chunks = chunk_text(text, budget=BUDGET)
    fill = [c.tokens / BUDGET for c in chunks[:-1]] or [chunks[0].tokens / BUDGET]
    raw_ms = statistics.median(raw_times) * 1e3
    least_chunks = -(-n_tokens // BUDGET)

    return [
        figure(
            f"count_tokens throughput ({n_tokens} tokens; baseline: raw tiktoken encode)",
            [n_tokens / t for t in count_times],
            unit="tokens/s",
            goal=">= 1,000,000",
            baseline=n_tokens / statistics.median(raw_times),
        ),
        figure(
            f"count_tokens throughput ({megabytes:.2f} MB)",
            [megabytes / t for t in count_times],
            unit="MB/s",
            goal=">= 4",
            baseline=megabytes / statistics.median(raw_times),
        ),
        figure(
            f"chunk_text {n_tokens} tokens @ {BUDGET} budget (baseline: one full encode)",
            [t * 1e3 for t in chunk_times],
            unit="ms",
            goal="< 1000 (well under a second)",
            baseline=raw_ms,
        ),
        figure(
            f"chunk_text {n_tokens} tokens @ {BUDGET} budget, overlap {OVERLAP}",
            [t * 1e3 for t in overlap_times],
            unit="ms",
            goal="< 1000",
            baseline=raw_ms,
        ),
        figure(
            f"chunk_text {n_tokens} tokens @ {BUDGET} budget, its tokens given (engine path)",
            [t * 1e3 for t in given_times],
            unit="ms",
            goal="< 1000",
            baseline=raw_ms,
        ),
        figure(
            f"chunks for {n_tokens} tokens @ {BUDGET} budget (baseline: ceil(tokens/budget))",
            [float(len(chunks))],
            unit="chunks",
            goal=f"<= {least_chunks + 1}",
            baseline=float(least_chunks),
        ),
        figure(
            "fill of every chunk but the last",
            [f * 100 for f in fill],
            unit="% of budget",
            goal=">= 90",
            baseline=None,
        ),
    ]


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


if __name__ == "__main__":
    common.main(run, default_repeats=7, notes=[f"python {sys.version.split()[0]}"])
