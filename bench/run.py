"""One benchmark report: every bench module, one table, goals marked met or not met.

    .venv/bin/python bench/run.py [--repeats N] [--markdown] [--only NAME ...]

Each ``bench/bench_*.py`` module listed in BENCHES exposes ``run(repeats) -> rows`` (a row:
figure, median, min, max, unit, goal, baseline). They run in this process, one after the
other, against the loopback fakes (web pages, OpenAI with a fixed delay per call, Slack),
with each baseline measured beside its figure. Without ``--repeats`` each module uses its
own default. A missing module is noted and skipped; a failing one is reported as a row.

A goal reads as a bound on the median, in the row's unit: "< 100", "<= 1.05", ">= 90". A
bare number ("2", "11") is an upper bound. "-" means no goal was set.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import re
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

#: (name, module, what the model delay is) in report order.
BENCHES: list[tuple[str, str, str]] = [
    ("ingest", "bench.bench_ingest", "loopback web server"),
    ("tokens", "bench.bench_tokens", "CPU only"),
    ("offline", "bench.bench_offline", "CPU only"),
    ("offline-scale", "bench.bench_offline_scale", "CPU only, input cap lifted"),
    ("engine", "bench.bench_engine", "fake OpenAI, 400 ms per call"),
    ("baselines", "bench.bench_baselines", "fake OpenAI, 400 ms per call"),
    ("digest", "bench.bench_digest", "fake OpenAI, no delay; offline engine"),
    ("slack", "bench.bench_slack", "bot subprocess, fake Slack + OpenAI, 2 s per call"),
    ("robustness", "bench.robustness", "fakes with injected faults"),
    ("cli", "bench.bench_cli", "cold processes, fake OpenAI, 400 ms per call"),
]

_GOAL = re.compile(r"^\s*(<=|>=|<|>|=|≤|≥)?\s*~?\s*(-?[\d,]*\.?\d+)")


def judge(goal: str, median: float) -> str:
    """'met', 'not met', or '-' when the goal is not a numeric bound."""
    match = _GOAL.match(goal or "")
    if not match or not isinstance(median, int | float) or math.isnan(median):
        return "-"
    op = {"≤": "<=", "≥": ">=", None: "<="}.get(match.group(1), match.group(1))
    bound = float(match.group(2).replace(",", ""))
    ok = {
        "<": median < bound,
        "<=": median <= bound,
        ">": median > bound,
        ">=": median >= bound,
        "=": median == bound,
    }[op]
    return "met" if ok else "NOT MET"


def fmt(value: Any) -> str:
    """Numbers with 3 significant digits (thousands grouped); anything else as text."""
    if value is None:
        return "-"
    if not isinstance(value, int | float):
        return str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(magnitude)))
    return f"{value:.{digits}f}"


def machine() -> str:
    cpus = os.cpu_count()
    return (
        f"{cpus} CPUs, {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def collect(repeats: int | None, only: set[str] | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Run each bench; rows carry their bench name. Notes say what was skipped or failed."""
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name, module_name, setup in BENCHES:
        if only and name not in only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                notes.append(f"{name}: no {module_name.replace('.', '/')}.py, skipped")
                continue
            raise
        print(f"running {name} ({setup})…", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            found = module.run(repeats) if repeats else module.run()
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            found = [{"figure": f"{name} bench failed: {type(exc).__name__}: {exc}",
                      "median": float("nan"), "min": float("nan"), "max": float("nan"),
                      "unit": "-", "goal": "-", "baseline": None}]  # fmt: skip
        elapsed = time.perf_counter() - started
        print(f"  {name}: {len(found)} figures in {elapsed:.0f} s", file=sys.stderr, flush=True)
        for row in found:
            rows.append({"bench": name, "setup": setup, **row})
    return rows, notes


HEADERS = ("bench", "figure", "median", "min–max", "unit", "goal", "met", "baseline")


def cells(row: dict[str, Any]) -> tuple[str, ...]:
    broken = isinstance(row["median"], float) and math.isnan(row["median"])
    spread = "-" if broken else f"{fmt(row['min'])}–{fmt(row['max'])}"
    return (
        row["bench"],
        row["figure"],
        "-" if broken else fmt(row["median"]),
        spread,
        row["unit"],
        str(row["goal"]),
        "-" if broken else judge(str(row["goal"]), row["median"]),
        fmt(row["baseline"]),
    )


def text_table(rows: list[dict[str, Any]]) -> str:
    table = [HEADERS, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    numeric = {2, 3}
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(
            c.rjust(w) if i in numeric and n else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip())  # fmt: skip
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    align = ["---:" if h in ("median", "min–max") else "---" for h in HEADERS]
    out = ["| " + " | ".join(HEADERS) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(esc(c) for c in cells(r)) + " |" for r in rows]
    return "\n".join(out)


def report(
    rows: list[dict[str, Any]], notes: list[str], *, markdown: bool, repeats: int | None
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    judged = [cells(r)[6] for r in rows]
    summary = (
        f"{judged.count('met')} goals met, {judged.count('NOT MET')} not met, "
        f"{judged.count('-')} figures without a goal"
    )
    setups = sorted({f"{r['bench']}: {r['setup']}" for r in rows})
    runs = f"{repeats} repeats each" if repeats else "each bench's default repeats"
    head = [
        f"Briefbot benchmarks, {when}, on {machine()}; {runs}.",
        "median and min–max over the repeats; baseline measured in the same process "
        "(each bench module's docstring says what it is). " + summary + ".",
        "Setups: " + "; ".join(setups) + ".",
    ]
    head += [f"Note: {n}" for n in notes]
    if markdown:
        return "\n\n".join(head) + "\n\n" + markdown_table(rows)
    return "\n".join(head) + "\n\n" + text_table(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, help="repeats per figure (default: per bench)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        choices=[b[0] for b in BENCHES], help="run only these benches")  # fmt: skip
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    rows, notes = collect(args.repeats, set(args.only) if args.only else None)
    print(report(rows, notes, markdown=args.markdown, repeats=args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
