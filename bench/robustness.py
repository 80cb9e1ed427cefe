"""Robustness figures: the hardening suites run, and their counts stated as numbers.

    .venv/bin/python bench/robustness.py [--repeats N] [--markdown]

Runs tests/test_hardening_{inputs,injection,faults,crash}.py with pytest in this process;
each test records what it tried with ``record_property`` (cases, faults, crash_jobs,
exactly_once, leaks), and a small plugin adds them up. ``run(repeats)`` returns the rows
bench/run.py prints (figure, median, min, max, unit, goal, baseline).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

SUITES = [
    "tests/test_hardening_inputs.py",
    "tests/test_hardening_injection.py",
    "tests/test_hardening_faults.py",
    "tests/test_hardening_crash.py",
]
#: (key, figure, unit, goal) in report order.
FIGURES: list[tuple[str, str, str, str]] = [
    ("cases", "bad-input, injection and fault cases tried", "cases", ">= 40"),
    ("faults", "faults injected (model, Slack, socket, SIGKILL)", "faults", "-"),
    ("crash_jobs", "jobs in the crash test (5 SIGKILLs)", "jobs", "-"),
    ("exactly_once", "crash-test jobs answered exactly once", "jobs", ">= 50"),
    ("leaks", "messages that leaked a secret or a ping", "messages", "0"),
    ("failed", "hardening tests failed", "tests", "0"),
    ("passed", "hardening tests passed", "tests", "-"),
    ("seconds", "suite wall time", "s", "-"),
]


class Collector:
    """A pytest plugin: sums the numeric properties tests record, counts outcomes."""

    def __init__(self) -> None:
        self.totals: defaultdict[str, float] = defaultdict(float)
        self.notes: list[str] = []

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.totals[report.outcome] += 1
        if report.when != "call":
            return
        for key, value in report.user_properties:
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.totals[key] += value
            else:
                self.notes.append(f"{key}: {value}")


def run_once(extra_args: list[str] | None = None) -> tuple[dict[str, float], list[str]]:
    """Run the suites once; the totals and any notes (such as the crash test's kill plan)."""
    import pytest

    collector = Collector()
    started = time.perf_counter()
    paths = [str(ROOT / s) for s in SUITES]
    code = pytest.main(
        [*paths, "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT), *(extra_args or [])],
        plugins=[collector],
    )
    totals: dict[str, float] = {k: float(collector.totals.get(k, 0)) for k, *_ in FIGURES}
    totals["seconds"] = time.perf_counter() - started
    if code not in (0, 1):  # 1 is "some tests failed", already counted
        totals["failed"] = max(totals["failed"], 1.0)
    return totals, collector.notes


def run(repeats: int = 1) -> list[dict[str, Any]]:
    """Run the suites ``repeats`` times; one row per figure (median, min, max)."""
    samples: dict[str, list[float]] = {k: [] for k, *_ in FIGURES}
    for _ in range(max(1, repeats)):
        totals, _notes = run_once()
        for key in samples:
            samples[key].append(totals[key])
    return [
        {
            "figure": name,
            "median": statistics.median(samples[key]),
            "min": min(samples[key]),
            "max": max(samples[key]),
            "unit": unit,
            "goal": goal,
            "baseline": None,
        }
        for key, name, unit, goal in FIGURES
    ]


def _number(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else f"{int(value):,}"


def table(rows: list[dict[str, Any]], *, markdown: bool) -> str:
    head = ("figure", "median", "min–max", "unit", "goal")
    lines = [
        (r["figure"], _number(r["median"]), f"{_number(r['min'])}–{_number(r['max'])}",
         r["unit"], r["goal"])
        for r in rows
    ]  # fmt: skip
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines]
        return "\n".join(out)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*cells) for cells in [head, *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of the suites (default 1)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    rows = run(args.repeats)
    print(table(rows, markdown=args.markdown))
    failed = next(r for r in rows if r["figure"] == "hardening tests failed")
    leaked = next(r for r in rows if r["figure"].startswith("messages that leaked"))
    return 1 if failed["max"] or leaked["max"] else 0


if __name__ == "__main__":
    sys.exit(main())
