"""Robustness figures: the hardening suites run, and their counts stated as numbers.

    .venv/bin/python bench/robustness.py [--repeats N] [--markdown] [--pages DIR]

Runs tests/test_hardening_{inputs,injection,faults,crash}.py with pytest in a fresh
process; each test records what it tried with ``record_property`` (cases, faults,
crash_jobs, exactly_once, leaks), and this script adds them up from the JUnit report.
``run(repeats)`` returns the rows bench/run.py prints (figure, median, min, max, unit,
goal, baseline).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
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
# bench/robustness_hostile.py adds: the worst time per parsing stage over hostile and fuzz
# inputs up to 200 KB, the worst event-loop stall and /healthz answers while the app
# processes them, and never-list links refused by the SSRF guard.


def _totals(report: Path) -> tuple[defaultdict[str, float], list[str]]:
    """Outcome counts and summed numeric properties from pytest's JUnit XML report."""
    totals: defaultdict[str, float] = defaultdict(float)
    notes: list[str] = []
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - our own report
        tags = {child.tag for child in case}
        outcome = "failed" if tags & {"failure", "error"} else (
            "skipped" if "skipped" in tags else "passed"
        )  # fmt: skip
        totals[outcome] += 1
        for prop in case.iter("property"):
            name, value = prop.get("name", ""), prop.get("value", "")
            try:
                totals[name] += float(value)
            except ValueError:
                notes.append(f"{name}: {value}")
    return totals, notes


def run_once(extra_args: list[str] | None = None) -> tuple[dict[str, float], list[str]]:
    """Run the suites once in a fresh process; the totals and any notes (the kill plan)."""
    paths = [str(ROOT / s) for s in SUITES]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        started = time.perf_counter()
        # A separate process, so nothing an earlier benchmark left in this one (imports,
        # environment, threads) can change what the suites see.
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider",
             "--rootdir", str(ROOT), f"--junitxml={report}", "-o", "junit_family=xunit1",
             *(extra_args or [])],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        if report.exists():
            found, notes = _totals(report)
        else:
            found, notes = defaultdict(float), [proc.stdout[-2000:], proc.stderr[-2000:]]
    totals: dict[str, float] = {k: float(found.get(k, 0)) for k, *_ in FIGURES}
    totals["seconds"] = seconds
    if proc.returncode != 0:
        totals["failed"] = max(totals["failed"], 1.0)
        notes.append(proc.stdout[-3000:])
    return totals, notes


def run(repeats: int = 1, *, pages: Path | None = None) -> list[dict[str, Any]]:
    """The suites' figures, then the hostile-input figures (bench/robustness_hostile.py)."""
    from bench import robustness_hostile

    return suite_rows(repeats) + robustness_hostile.run(repeats, pages=pages)


def suite_rows(repeats: int = 1) -> list[dict[str, Any]]:
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
    parser.add_argument("--pages", type=Path, help="real pages to add to the hostile corpus")
    args = parser.parse_args(argv)
    rows = run(args.repeats, pages=args.pages)
    print(table(rows, markdown=args.markdown))
    failed = next(r for r in rows if r["figure"] == "hardening tests failed")
    leaked = next(r for r in rows if r["figure"].startswith("messages that leaked"))
    from bench.robustness_hostile import over_goal

    return 1 if failed["max"] or leaked["max"] or over_goal(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
