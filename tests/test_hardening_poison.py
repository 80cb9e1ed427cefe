"""A poison job (one that kills or stalls the bot every time) stops after its attempt cap.

The first run is a real `python -m bot serve` killed with SIGKILL while the job is running;
the next runs are the same restart the bot does (open the queue, recover, claim) and die
at once; the last run is the real bot, which must give up with a message in the thread
instead of fetching the page again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.slack.jobs import MAX_ATTEMPTS, JobQueue
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.web import FakeWeb
from tests.test_slack_support import BotProcess, bot_env, bot_running, bot_settings, paste

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]  # starts briefbot as a process


def _job_row(db: Path) -> tuple[str, int, str | None]:
    conn = sqlite3.connect(db)
    try:
        state, attempts, error = conn.execute(
            "SELECT state, attempts, error FROM jobs WHERE kind='brief'"
        ).fetchone()
    finally:
        conn.close()
    return str(state), int(attempts), error


async def test_poison_job_gives_up_after_its_cap_across_restarts(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings = bot_settings(make_settings, fake, llm)
    db = settings.data_dir / "briefbot.db"
    poison = web.url("/slow?interval=0.2")  # headers, then a byte at a time: the job never ends
    ts, envelope = paste(fake, f"<{poison}>", channel="C1")

    # Run 1: the real bot claims the job, posts its placeholder, and is killed mid-fetch.
    bot = BotProcess(["--mode", "socket"], bot_env(settings, tmp_path), tmp_path)
    try:
        bot.wait_line("connected to Slack", timeout=30)
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(f.thread("C1", ts)) == 1, timeout=20)
    finally:
        bot.kill()
    assert _job_row(db)[:2] == ("running", 1)  # the claim was counted before any work

    # Runs 2..MAX_ATTEMPTS: each restart recovers and claims the job, then dies with it.
    for attempt in range(2, MAX_ATTEMPTS + 1):
        queue = JobQueue.open(str(db))
        try:
            assert queue.recover() == 1
            job = queue.claim()
            assert job is not None and job.attempts == attempt
        finally:
            queue.close()  # no finish, no release: what SIGKILL leaves behind
    fetches = [p for p, _ in web.requests if p.startswith("/slow")]

    # The next start claims it once more, over the cap: it gives up instead of running it.
    async with bot_running(settings, fake):
        await fake.await_for(
            lambda f: "stopped trying" in str(f.thread("C1", ts)[0].get("text")), timeout=15
        )
    [message] = fake.thread("C1", ts)  # the placeholder, updated in place: nothing else
    assert f"{MAX_ATTEMPTS} times" in message["text"]
    assert "Paste the article text" in message["text"]
    state, attempts, error = _job_row(db)
    assert (state, attempts) == ("failed", MAX_ATTEMPTS + 1)
    assert error is not None and "gave up" in error
    assert [p for p, _ in web.requests if p.startswith("/slow")] == fetches  # not fetched again
