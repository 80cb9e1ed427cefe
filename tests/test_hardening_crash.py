"""SIGKILL a real `python -m bot serve` at random points in a burst of 50 jobs.

After the last restart every job is answered exactly once (one message per thread, and
it is the brief), and after every kill the SQLite database is intact and in WAL mode.
The kill points come from a seeded random generator and are printed on failure.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.web import ARTICLE_PARAGRAPHS, FakeWeb
from tests.test_hardening_injection import leaks
from tests.test_slack_support import BotProcess, bot_env, bot_settings, is_brief, paste

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]  # starts briefbot as a process

JOBS = 50
KILLS = 5
SEED = 20240514
CHANNELS = 5
IN_FLIGHT = 8  # jobs sent beyond each kill point


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as server:
        for i in range(JOBS):
            # Plain text: cheap to extract, so the test's time goes to kills and restarts.
            text = "\n\n".join([*ARTICLE_PARAGRAPHS, f"Reference code job{i}."])
            server.add(f"/crash/{i}", text, headers={"Content-Type": "text/plain; charset=utf-8"})
        yield server


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    # A little model latency, so that kills land while briefs are being written.
    with FakeOpenAI(delay=0.05) as server:
        yield server


# `briefbot serve`, started once its go-file appears: a process can import the bot's
# modules before its turn, so a restart costs what a real restart costs after imports.
LAUNCHER = """
import sys, time, pathlib
import bot.cli, bot.slack.serve, bot.service, bot.ingest.extract, bot.engines.openai_engine
go = pathlib.Path(sys.argv[1])
while not go.exists():
    time.sleep(0.01)
sys.exit(bot.cli.main(sys.argv[2:]))
"""


class Standby:
    """A `python -m bot serve` that has done its imports and waits for its turn."""

    def __init__(self, env: dict[str, str], cwd: Path, n: int) -> None:
        self.go_file = cwd / f"go-{n}"
        command = [sys.executable, "-c", LAUNCHER, str(self.go_file), "serve"]
        self.proc = BotProcess(["--mode", "socket"], env, cwd, command=command)

    def go(self) -> BotProcess:
        self.go_file.touch()
        return self.proc


def database_state(path: Path) -> tuple[str, str]:
    """integrity_check and journal_mode of the bot's database, read while the bot is dead."""
    conn = sqlite3.connect(path)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    return str(integrity), str(mode)


def reading(fake: FakeSlack, threads: list[tuple[str, str]]) -> int:
    """Placeholders up: briefs being written right now."""
    return sum(
        any(str(m.get("text", "")).startswith("Reading") for m in fake.thread(c, ts))
        for c, ts in threads
    )


def answered(fake: FakeSlack, threads: list[tuple[str, str]]) -> int:
    return sum(any(is_brief(m) for m in fake.thread(c, ts)) for c, ts in threads)


def test_fifty_jobs_through_five_sigkills_are_each_answered_exactly_once(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    tmp_path: Path, record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    rng = random.Random(SEED)
    # Kill once this many jobs have their brief, then after a random extra moment, so kills
    # fall before, during and after posts and updates.
    steps = [rng.randint(3, 8) for _ in range(KILLS)]
    thresholds = [sum(steps[: k + 1]) for k in range(KILLS)]
    jitters = [round(rng.uniform(0.0, 0.3), 3) for _ in range(KILLS)]
    plan = f"seed={SEED} kill after briefs={thresholds} plus seconds={jitters}"
    settings = bot_settings(make_settings, fake, llm, max_jobs_in_flight=8)
    env = bot_env(settings, tmp_path, BRIEFBOT_MAX_JOBS="8")
    db = settings.data_dir / "briefbot.db"

    threads: list[tuple[str, str]] = []
    pending: list[str] = []  # envelopes sent but not acked when the bot died
    log: list[str] = []
    states: list[tuple[str, str]] = []
    kills: list[tuple[int, int]] = []  # (briefs done, placeholders up) when each kill landed

    standby = [Standby(env, tmp_path, 0)]

    def start() -> BotProcess:
        proc = standby.pop().go()
        # The next process loads its modules while this one works (imports take seconds).
        standby.append(Standby(env, tmp_path, len(log) + 1))
        proc.wait_line("connected to Slack", timeout=30)
        fake.wait_for(lambda f: f.socket_clients() >= 1)
        return proc

    def send_until(n: int) -> None:
        for i in range(len(threads), min(n, JOBS)):
            channel = f"CK{i % CHANNELS}"
            ts, envelope = paste(fake, f"<{web.url(f'/crash/{i}')}>", channel=channel)
            threads.append((channel, ts))
            pending.append(fake.send_envelope("events_api", envelope))

    try:
        for phase in range(KILLS + 1):
            proc = start()
            # Slack redelivers what the dead process never acked.
            for eid in [e for e in pending if e not in fake.acks]:
                fake.redeliver(eid, retry_reason="timeout")
            pending.clear()
            if phase == KILLS:
                send_until(JOBS)
                break
            target = thresholds[phase]
            # Jobs past the kill point are already in flight: the kill lands mid-burst.
            send_until(target + IN_FLIGHT)
            fake.wait_for(lambda f, t=target: answered(f, threads) >= t, timeout=30)
            # The random moment after the threshold picks the kill point (not a race fix).
            time.sleep(jitters[phase])
            kills.append((answered(fake, threads), reading(fake, threads)))
            proc.kill()
            log.append(proc.log)
            states.append(database_state(db))
        fake.wait_for(lambda f: answered(f, threads) == JOBS, timeout=40)
        proc.stop()
        standby.pop().proc.kill()
    except AssertionError as exc:
        raise AssertionError(
            f"{plan} {kills}\n{exc}\nlast bot log:\n{(log or [''])[-1][-3000:]}"
        ) from exc
    finally:
        for bot in [proc, *(s.proc for s in standby)]:
            if bot.proc.poll() is None:
                bot.kill()

    once = [len(fake.thread(c, ts)) == 1 and is_brief(fake.thread(c, ts)[0]) for c, ts in threads]
    posts = [c for c in fake.calls_to("chat.postMessage") if c.ok]
    plan += f"; (briefs done, placeholders up) at each kill: {kills}"
    record_property("crash_jobs", JOBS)
    record_property("faults", KILLS)
    record_property("exactly_once", sum(once))
    found = leaks(fake)
    record_property("leaks", len(found))
    assert states == [("ok", "wal")] * KILLS, plan
    assert all(once), f"{plan}\n" + "\n".join(
        f"{c} {ts}: {[m.get('text', '')[:40] for m in fake.thread(c, ts)]}"
        for (c, ts), ok in zip(threads, once, strict=True)
        if not ok
    )
    assert len(posts) == JOBS, plan  # a placeholder posted by a killed run is adopted, not redone
    assert found == []
    record_property("crash_plan", plan)
    assert database_state(db) == ("ok", "wal")
