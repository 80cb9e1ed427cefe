"""Which tests' run times vary more than 2x between runs of the suite (issue 14).

    .venv/bin/python bench/test_durations.py [--runs 3] [--save FILE] [-- PYTEST_ARGS...]

Runs the pytest suite ``--runs`` times, each in a fresh subprocess, with
``--durations=0 -p no:randomly -p no:cacheprovider -n 2`` (the workers and
distribution CI uses) plus any arguments after ``--`` (``-m 'not model'``, a file, ...).
It parses every test's setup, call and teardown durations and, per test, sums them into
one time per run. A test is checked when its fastest run took at least 0.25 s: below that,
scheduler noise on a shared 2-core machine (a worker descheduled for a few tens of
milliseconds) dominates, so a 2x spread there says nothing about the test. It prints the
checked tests whose slowest run is more than 2x their fastest, with the phase that moved,
then the median slowest/fastest ratio and how many tests were checked.

A test pytest reports under 0.005 s in a run (it hides those) counts as 0 s there. It is a
bench, not a gate: it always exits 0, and says so if a run of the suite failed.

Each run also records every test's CPU time (tests/conftest.py appends it to the file
named by ``BRIEFBOT_TEST_CPU_LOG``: setup, call and teardown, all threads of the test's
process, so the in-process fake servers too). Beside each test over 2x it prints the CPU
times: steady CPU under a moving wall time means the test waited for a core (the other
xdist worker, PostgreSQL, a parser process), not that its own work changed. Then it
counts the checked tests whose CPU time, too, varies more than 2x.

No network beyond loopback: run it as
``unshare -n sh -c 'ip link set lo up && ...'``. PostgreSQL then is reachable over its
Unix socket only: ``BRIEFBOT_TEST_DATABASE_URL='postgresql://postgres@/test?host=/var/run/postgresql'``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_ARGS = ["--durations=0", "-p", "no:randomly", "-p", "no:cacheprovider"]
CI_ARGS = ["-n", "2"]
PHASES = ("setup", "call", "teardown")
FLOOR_S = 0.25
RATIO = 2.0
# pytest's line: f"{duration:02.2f}s {when:<8} {nodeid}"
_LINE = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S.*)$")
_SUMMARY = re.compile(r"(\d+ (?:passed|failed|error|errors|skipped)\b.*) in [\d.]+s")

#: One run: nodeid -> phase -> seconds.
Run = dict[str, dict[str, float]]
#: One run's CPU times: nodeid -> seconds.
Cpu = dict[str, float]


def parse(output: str) -> Run:
    """Every test's phase durations from one ``--durations=0`` report."""
    run: Run = defaultdict(dict)
    for line in output.splitlines():
        m = _LINE.match(line.rstrip())
        if m:
            seconds, phase, nodeid = float(m[1]), m[2], m[3]
            run[nodeid][phase] = run[nodeid].get(phase, 0.0) + seconds
    return dict(run)


def parse_cpu(log: str) -> Cpu:
    """Every test's CPU seconds from tests/conftest.py's "seconds<TAB>nodeid" lines."""
    cpu: Cpu = {}
    for line in log.splitlines():
        seconds, _, nodeid = line.partition("\t")
        if nodeid:
            cpu[nodeid] = cpu.get(nodeid, 0.0) + float(seconds)
    return cpu


def run_suite(extra: list[str]) -> tuple[Run, Cpu, float, int, str]:
    """One fresh run of the suite: (durations, CPU times, wall seconds, rc, summary line)."""
    cmd = [sys.executable, "-m", "pytest", *BASE_ARGS, *CI_ARGS, *extra]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "cpu.tsv")
        env = {**os.environ, "BRIEFBOT_TEST_CPU_LOG": str(log)}
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
        cpu = parse_cpu(log.read_text(encoding="utf-8") if log.exists() else "")
    found = _SUMMARY.findall(proc.stdout)
    summary = found[-1] if found else (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    if proc.returncode not in (0, 5):
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-2000:])
    return parse(proc.stdout), cpu, wall, proc.returncode, summary


def total(phases: dict[str, float]) -> float:
    return sum(phases.values())


def report(
    runs: list[Run], cpus: Sequence[Cpu] = (), *, floor: float = FLOOR_S, ratio: float = RATIO
) -> list[str]:
    """The report's lines: the tests over ``ratio`` (with their CPU times, when recorded),
    then the median ratio and the count, then how many vary as much in CPU time."""
    nodeids = sorted({nodeid for run in runs for nodeid in run})
    checked: list[tuple[float, str, list[dict[str, float]]]] = []
    cpu_over: list[str] = []
    for nodeid in nodeids:
        per_run = [run.get(nodeid, {}) for run in runs]
        times = [total(p) for p in per_run]
        if min(times) >= floor:
            checked.append((max(times) / min(times), nodeid, per_run))
            cpu = [c[nodeid] for c in cpus if nodeid in c]
            if len(cpu) == len(runs) and min(cpu) > 0 and max(cpu) / min(cpu) > ratio:
                cpu_over.append(nodeid)
    over = sorted((c for c in checked if c[0] > ratio), reverse=True)
    lines = [
        f"Tests whose fastest run is >= {floor} s are checked; below that, scheduler noise "
        "on a shared machine dominates and a spread means nothing.",
        f"{len(over)} of {len(checked)} checked tests vary more than {ratio}x "
        "(slowest run / fastest run, setup+call+teardown):",
    ]
    for spread, nodeid, per_run in over:
        times = " ".join(f"{total(p):6.2f}" for p in per_run)
        slow, fast = max(per_run, key=total), min(per_run, key=total)
        moved = max(PHASES, key=lambda ph: slow.get(ph, 0.0) - fast.get(ph, 0.0))
        lines.append(f"  {spread:5.1f}x  runs [{times} ] s  ({moved} moved)  {nodeid}")
        if cpus and all(nodeid in c for c in cpus):
            lines.append("         cpu  [" + " ".join(f"{c[nodeid]:6.2f}" for c in cpus) + " ] s")
    median = statistics.median(c[0] for c in checked) if checked else float("nan")
    lines.append(f"median ratio {median:.2f} over {len(checked)} checked tests")
    if cpus:
        lines.append(
            f"{len(cpu_over)} of {len(checked)} checked tests vary more than {ratio}x in CPU time"
            + "".join(f"\n  {nodeid}" for nodeid in cpu_over)
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh runs of the suite (3)")
    parser.add_argument("--floor", type=float, default=FLOOR_S, help="min fastest run, s")
    parser.add_argument("--ratio", type=float, default=RATIO, help="slowest/fastest bound")
    parser.add_argument("--save", type=Path, help="write every run's durations here (JSON)")
    parser.add_argument("--load", type=Path, help="report on a saved file instead of running")
    parser.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments")
    args = parser.parse_args()

    if args.load:
        saved = json.loads(args.load.read_text())
        runs: list[Run] = saved["runs"]
        cpus: list[Cpu] = saved.get("cpu", [])
    else:
        extra = " ".join(args.pytest_args)
        print(f"pytest {' '.join(BASE_ARGS + CI_ARGS)} {extra}".rstrip(), flush=True)
        print(f"{os.cpu_count()} cores; {args.runs} fresh runs", flush=True)
        runs, cpus = [], []
        for n in range(1, args.runs + 1):
            run, cpu, wall, rc, summary = run_suite(args.pytest_args)
            note = "" if rc in (0, 5) else f"  (rc {rc}: the suite FAILED in this run)"
            load = os.getloadavg()[0]  # other work on the machine inflates everything
            print(
                f"run {n}: {wall:6.1f} s wall, load {load:.1f}, {len(run)} tests timed: "
                f"{summary}{note}",
                flush=True,
            )
            runs.append(run)
            cpus.append(cpu)
        if args.save:
            saved = {"args": args.pytest_args, "runs": runs, "cpu": cpus}
            args.save.write_text(json.dumps(saved, indent=1))
    print("\n".join(report(runs, cpus, floor=args.floor, ratio=args.ratio)))
    sys.exit(0)


if __name__ == "__main__":
    main()
