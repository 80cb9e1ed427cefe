"""What SQLAlchemy Core + Alembic would add to every cold start, against the schema runner we use.

Run: ``.venv/bin/python bench/bench_db_tools.py [repeats]`` (Alembic must be installed in
that environment to measure it: ``pip install alembic``; the fleet extra has SQLAlchemy).

Each figure is the median (min-max) over ``repeats`` fresh interpreters, because import
cost is paid once per process: by every ``briefbot brief`` and every replica start. The
baseline, in the same run, is a fresh interpreter that opens a new SQLite store with our
own migration list (bot.store.db + bot.store.migrations), which is what the CLI does today.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402

_TIMED = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"

_OURS = (
    "from bot.store.db import connect; from bot.store.migrations import apply_migrations; "
    "apply_migrations(connect({path!r}))"
)
_SQLALCHEMY = "import sqlalchemy"
_ALEMBIC = (
    "import sqlalchemy, alembic.command, alembic.config, alembic.migration, "
    "alembic.runtime.environment"
)


def _seconds(code: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _TIMED.format(code=code)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def run(repeats: int = 7) -> list[common.Row]:
    rows: list[common.Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        ours = [_seconds(_OURS.format(path=f"{tmp}/db{i}.sqlite")) for i in range(repeats)]
    ours_ms = [s * 1000 for s in ours]
    rows.append(figure("open + migrate a new SQLite store (ours)", ours_ms, unit="ms"))
    base = f"{min(ours_ms):.0f}-{max(ours_ms):.0f} ms"
    if importlib.util.find_spec("sqlalchemy"):
        sa = [_seconds(_SQLALCHEMY) * 1000 for _ in range(repeats)]
        rows.append(figure("import sqlalchemy", sa, unit="ms", baseline=base))
    if importlib.util.find_spec("sqlalchemy") and importlib.util.find_spec("alembic"):
        al = [_seconds(_ALEMBIC) * 1000 for _ in range(repeats)]
        rows.append(figure("import sqlalchemy + alembic runtime", al, unit="ms", baseline=base))
    return rows


if __name__ == "__main__":
    common.main(
        run,
        default_repeats=7,
        notes=[] if importlib.util.find_spec("alembic") else ["alembic is not installed here"],
    )
