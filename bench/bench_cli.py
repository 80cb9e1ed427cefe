"""Benchmark of the cold command line: what `briefbot brief` adds to the model's own time.

Figures (median over repeats, seconds, each a fresh process as a user runs it):

- ``briefbot brief`` of a one-chunk article (the port-strike fixture) with the openai
  engine against the fake OpenAI server, ``--no-cache``: wall time of the whole process.
- the same, minus a bare ``openai`` SDK script in the same run (a fresh process that reads
  the file and makes one ``chat.completions.create`` call to the same server with the same
  delay): what Briefbot adds. Goal: at most 0.5 s.
- the bare script itself, as the baseline.

The two kinds of run alternate, so a busy machine slows both alike.

Run: ``.venv/bin/python bench/bench_cli.py [repeats]``. ``run(repeats)`` returns the rows.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, Reply  # noqa: E402

DELAY = 0.4
GOAL_ADDED_S = 0.5
ARTICLE = ROOT / "tests" / "fixtures" / "port_strike.txt"
DRAFT = {
    "summary": "Dock workers at Halden walked out over pay.",
    "participants": [],
    "topics": [],
    "tensions": [],
    "next_steps": [],
}
# What a developer would write without Briefbot: read the text, one call, print the answer.
BARE_SCRIPT = """
import sys
from openai import OpenAI
text = open(sys.argv[1], encoding="utf-8").read()
client = OpenAI(base_url=sys.argv[2], api_key="sk-bench", max_retries=0, timeout=60)
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "system", "content": "Brief this article as JSON."},
              {"role": "user", "content": text}],
    response_format={"type": "json_object"},
)
print(reply.choices[0].message.content)
"""


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed


def run(repeats: int = 7) -> list[dict[str, Any]]:
    """Alternate a cold `briefbot brief` and a bare SDK script against one fake server."""
    import json

    briefbot: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(delay=DELAY) as server:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BRIEFBOT_", "OPENAI_", "SLACK_"))}  # fmt: skip
        env.update(
            OPENAI_API_KEY="sk-bench",
            OPENAI_BASE_URL=server.base_url,
            BRIEFBOT_DATA_DIR=str(work / "data"),
            TIKTOKEN_CACHE_DIR=str(work / "tiktoken"),
            PYTHONPATH=str(ROOT),
        )
        # The console script a user runs (`python -m bot` when it isn't installed).
        script_path = Path(sys.executable).with_name("briefbot")
        entry = [str(script_path)] if script_path.exists() else [sys.executable, "-m", "bot"]
        cli = [*entry, "-q", "brief", str(ARTICLE), "--engine", "openai", "--no-cache",
               "--format", "json"]  # fmt: skip
        script = [sys.executable, "-c", BARE_SCRIPT, str(ARTICLE), server.base_url]
        server.enqueue(Reply.raw(json.dumps(DRAFT)))
        _timed(cli, env, work)  # warm-up: seeds the tiktoken cache and the database, once
        for _ in range(repeats):
            server.enqueue(Reply.raw(json.dumps(DRAFT)), Reply.raw(json.dumps(DRAFT)))
            briefbot.append(_timed(cli, env, work))
            bare.append(_timed(script, env, work))
    added = [b - s for b, s in zip(briefbot, bare, strict=True)]
    base = statistics.median(bare)
    return [
        figure("briefbot brief, 1-chunk article, cold process", briefbot, unit="s",
               baseline=round(base, 3)),
        figure("added by briefbot over a bare openai SDK script", added, unit="s",
               goal=f"<= {GOAL_ADDED_S}", baseline=round(base, 3)),
        figure(f"bare openai SDK script (model delay {DELAY} s)", bare, unit="s"),
    ]  # fmt: skip


if __name__ == "__main__":
    common.main(run, default_repeats=7, notes=[f"fake OpenAI, {DELAY} s per call"])
