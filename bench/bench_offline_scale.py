"""How the offline engine's cost grows with input size, and whether it blocks the loop.

Figures:

- wall time of one offline brief of about 10k, 50k and 200k tokens of news prose (the
  test fixtures' sentences, numbered per round so none is a duplicate), goal 200k < 5 s;
- the linearity ratio: seconds per token at 200k over seconds per token at 10k (1.0 is
  perfectly linear; goal <= 2);
- pathological inputs of about 50 KB that were super-linear before (issue 15 finding 3):
  "strike" lines, "will " repeated, one unpunctuated wall of conflict words;
- the event loop's longest stall while ``OfflineEngine.brief`` writes a brief of about
  86k words (goal < 250 ms), against the same brief run on the loop (the old behaviour).

The input cap (``BRIEFBOT_OFFLINE_MAX_CHARS``) is lifted here so the sizes are real.

Run: ``.venv/bin/python bench/bench_offline_scale.py [repeats]``.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.append(str(ROOT))

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.engines.offline import OfflineEngine, build_brief  # noqa: E402
from bot.models import Article  # noqa: E402
from bot.tokens import encoding_for_model  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SIZES = (10_000, 50_000, 200_000)
STALL_WORDS = 86_000
_NO_CAP = 100_000_000


def _prose() -> list[str]:
    """The fixtures' prose sentences (lines that end like a sentence and have 8+ words)."""
    lines: list[str] = []
    for name in ("port_strike", "steel_merger", "trade_talks", "nurses_dispute"):
        for line in (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").splitlines():
            if len(line.split()) >= 8 and line.rstrip().endswith((".", "”", '"')):
                lines.append(line.strip())
    return lines


def news_text(tokens: int) -> str:
    """About ``tokens`` tokens of prose: paragraphs of the fixtures, each round's sentences
    made distinct ("... in round 7.") so deduplication can't shrink the work."""
    prose = _prose()
    encoding = encoding_for_model("gpt-4o-mini")
    per_round = len(encoding.encode("\n\n".join(prose)))
    rounds = max(1, round(tokens / per_round))
    paragraphs = [
        re.sub(r"\.(?=[”\"]?$)", f" in round {k}.", line) for k in range(rounds) for line in prose
    ]
    return "\n\n".join(paragraphs)


def pathological() -> list[tuple[str, str]]:
    size = 50_000
    return [
        ('"strike\\n" lines, 50 KB', "strike\n" * (size // 7)),
        ('"will " repeated, 50 KB', "will " * (size // 5)),
        (
            "one unpunctuated line of conflict words, 50 KB",
            ("the union will strike and avert a dispute over the ban " * 1000)[:size],
        ),
    ]


def _time(text: str, repeats: int) -> list[float]:
    article = Article(text=text)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        build_brief(article, max_chars=_NO_CAP)
        timings.append(time.perf_counter() - started)
    return timings


async def _max_stall(work: Any, *, tick: float = 0.01) -> float:
    """The longest time the loop went without running a 10 ms ticker while ``work`` ran."""
    worst = 0.0
    done = False

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(tick)
            now = time.perf_counter()
            worst = max(worst, now - last - tick)
            last = now

    probe = asyncio.create_task(ticker())
    await asyncio.sleep(tick * 2)
    await work()
    done = True
    await probe
    return worst


def _stalls(text: str) -> tuple[float, float]:
    settings = load_settings(env_file=None, offline_max_chars=_NO_CAP)
    engine = OfflineEngine(settings)
    article = Article(text=text)

    async def threaded() -> None:
        await engine.brief(article)

    async def inline() -> None:
        build_brief(article, max_chars=_NO_CAP)

    return asyncio.run(_max_stall(threaded)), asyncio.run(_max_stall(inline))


def run(repeats: int = 3) -> list[dict[str, Any]]:
    build_brief(Article(text="A warm-up loads the language model once, outside the timings."))
    rows: list[dict[str, Any]] = []
    medians: dict[int, float] = {}
    for size in SIZES:
        timings = _time(news_text(size), repeats)
        medians[size] = statistics.median(timings)
        goal = "<5" if size == SIZES[-1] else "-"
        name = f"offline brief, ~{size:,} tokens of news"
        rows.append(figure(name, timings, unit="s", goal=goal))
    small, large = SIZES[0], SIZES[-1]
    ratio = (medians[large] / large) / (medians[small] / small)
    rows.append(figure(f"linearity: s/token at {large:,} over {small:,}", [ratio], unit="ratio",
                       goal="<=2"))  # fmt: skip
    for label, text in pathological():
        rows.append(figure(f"offline brief, {label}", _time(text, repeats), unit="s", goal="<2"))
    words = news_text(int(STALL_WORDS * 1.13))  # the fixtures run 1.13 tokens a word
    threaded, inline = _stalls(words)
    rows.append(
        figure(
            f"event-loop max stall, offline brief of ~{len(words.split()):,} words",
            [threaded * 1000],
            unit="ms",
            goal="<250",
            baseline=f"{inline * 1000:,.0f} on the loop",
        )
    )
    return rows


if __name__ == "__main__":
    common.main(run, default_repeats=3, notes=["cap lifted; baseline: the same brief on the loop"])
