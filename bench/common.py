"""What every benchmark shares: one figure row, and printing a table of them.

Each bench module exposes ``run(repeats) -> list[dict]`` (rows built with :func:`figure`)
for ``bench/run.py``, and calls :func:`main` when run as a script.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Row = dict[str, Any]


def figure(
    name: str, values: Sequence[float], *, unit: str, goal: str = "-", baseline: Any = "-"
) -> Row:
    """One figure: median and min–max of ``values``, its goal and a same-run baseline."""
    return {
        "figure": name,
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "unit": unit,
        "goal": goal,
        "baseline": baseline,
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def print_rows(rows: Iterable[Row], *, notes: Iterable[str] = ()) -> None:
    """Print rows as an aligned plain-text table, after any notes."""
    for note in notes:
        print(note)
    keys = ("figure", "median", "min", "max", "unit", "goal", "baseline")
    table = [list(keys)] + [[_cell(row.get(k, "-")) for k in keys] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(keys))]
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(
    run: Callable[[int], list[Row]], *, default_repeats: int, notes: Iterable[str] = ()
) -> None:
    """Script entry: ``python bench/<name>.py [REPEATS]``."""
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else default_repeats
    rows = run(repeats)
    print_rows(rows, notes=[f"{repeats} repeats", *notes])
