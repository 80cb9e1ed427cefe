"""Benchmark of the offline engine: wall time of one brief (goal: under 200 ms).

Figures (median, min and max over repeats, in milliseconds):

- the port-strike fixture (about 290 words);
- the four news fixtures run together as one article (about 1,050 words of prose);
- any article given with ``--sample PATH`` (e.g. the shared India-US 2+2 sample): the
  bench reads nothing outside the repository unless told where.

Baseline: a lead-3 "brief" of the same text (``bot.chunking.split_sentences`` and the first
three sentences), i.e. what merely reading the text costs.

Run: ``.venv/bin/python bench/bench_offline.py [repeats] [--sample PATH]``.
``run(repeats, sample=None)`` returns the rows.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402
from bot.chunking import split_sentences  # noqa: E402
from bot.engines.offline import build_brief  # noqa: E402
from bot.models import Article  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
GOAL_MS = 200.0


def _articles(sample: Path | None = None) -> list[tuple[str, str]]:
    """(label, text) of each benchmarked article."""
    port = (FIXTURES / "port_strike.txt").read_text(encoding="utf-8")
    combined = "\n\n".join(
        _body((FIXTURES / f"{name}.txt").read_text(encoding="utf-8"))
        for name in ("port_strike", "steel_merger", "trade_talks", "nurses_dispute")
    )
    articles = [
        (f"port-strike fixture ({len(port.split())} words)", port),
        (f"four fixtures as one ({len(combined.split())} words)", combined),
    ]
    if sample is not None:
        text = sample.read_text(encoding="utf-8")
        articles.append((f"{sample.name} ({len(text.split())} words)", text))
    return articles


def _body(text: str) -> str:
    """The text up to its last sentence: a fixture's trailing web junk would end the article."""
    lines = text.splitlines()
    last = max(i for i, line in enumerate(lines) if line.rstrip().endswith((".", "”", '"')))
    return "\n".join(lines[: last + 1])


def _lead3(text: str) -> list[str]:
    return split_sentences(text)[:3]


def _times_ms(work: Callable[[], object], repeats: int) -> list[float]:
    work()  # warm-up: regex compilation and caches are a one-off cost per process
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def run(repeats: int = 20, sample: Path | None = None) -> list[dict[str, Any]]:
    """One row per article: the offline brief's time against the lead-3 baseline."""
    rows: list[dict[str, Any]] = []
    for label, text in _articles(sample):
        article = Article(text=text)
        timings = _times_ms(partial(build_brief, article), repeats)
        baseline = _times_ms(partial(_lead3, text), repeats)
        rows.append(
            figure(
                f"offline brief, {label}",
                timings,
                unit="ms",
                goal=f"<{GOAL_MS:.0f}",
                baseline=statistics.median(baseline),
            )
        )
    return rows


if __name__ == "__main__":
    argv = sys.argv[1:]
    given: Path | None = None
    if "--sample" in argv:
        at = argv.index("--sample")
        given = Path(argv[at + 1])
        del argv[at : at + 2]
        sys.argv[1:] = argv
    common.main(
        partial(run, sample=given),
        default_repeats=20,
        notes=["baseline: lead-3 via bot.chunking.split_sentences"],
    )
