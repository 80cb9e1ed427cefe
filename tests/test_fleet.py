"""Fleet mode for real: 2 `serve --mode http` replicas and 2 `worker`s on PostgreSQL.

60 pasted links arrive, some delivered twice to different replicas (Slack's retries
through a load balancer); one worker and one web replica are SIGKILLed mid-burst. Every
thread still gets exactly one brief and no event is lost.
"""

from __future__ import annotations

import sys
import time
import urllib.error
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.web import ARTICLE_PARAGRAPHS, FakeWeb
from tests.test_slack_http import post_event
from tests.test_slack_support import BotProcess, bot_env, bot_settings, is_brief, paste

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.subprocess]

EVENTS = 60
CHANNELS = 5
KILL_WEB_AT = 20  # events sent when one web replica dies
KILL_WORKER_AT = 40  # events sent when one worker dies, holding jobs in flight
IN_FLIGHT = 5  # placeholders up at once: more than one worker's BRIEFBOT_MAX_JOBS


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as server:
        for i in range(EVENTS):
            text = "\n\n".join([*ARTICLE_PARAGRAPHS, f"Reference code fleet{i}."])
            server.add(f"/fleet/{i}", text, headers={"Content-Type": "text/plain; charset=utf-8"})
        yield server


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(delay=0.5) as server:  # briefs take a moment: kills land mid-job
        yield server


def start(kind: str, env: dict[str, str], cwd: Path) -> BotProcess:
    if kind == "web":
        return BotProcess(["--mode", "http", "--port", "0"], env, cwd)
    return BotProcess([], env, cwd, command=[sys.executable, "-m", "bot", "worker"])


def deliver(urls: list[str], first: int, envelope: dict[str, object], **headers: str) -> int:
    """POST to replica ``first``; a dead replica's connection error goes to the next one."""
    for k in range(len(urls)):
        try:
            status, _ = post_event(urls[(first + k) % len(urls)], envelope, headers=headers)
        except (urllib.error.URLError, ConnectionError):
            continue  # the load balancer tries the next replica
        if status == 200:
            return status
    raise AssertionError("no replica acked the event")


def test_two_web_two_workers_kill_one_of_each_every_thread_briefed_once(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    tmp_path: Path, pg_url: str,
) -> None:  # fmt: skip
    settings = bot_settings(make_settings, fake, llm)
    env = bot_env(
        settings, tmp_path, DATABASE_URL=pg_url, BRIEFBOT_MAX_JOBS="4",
        BRIEFBOT_WORKER_HEARTBEAT="0.5", BRIEFBOT_WORKER_STALLED_AFTER="2",
    )  # fmt: skip
    webs = [start("web", env, tmp_path) for _ in range(2)]
    workers = [start("worker", env, tmp_path) for _ in range(2)]
    procs = webs + workers
    try:
        urls = [w.url(timeout=120) for w in webs]
        for w in workers:
            w.wait_line("worker running", timeout=120)
        threads: list[tuple[str, str]] = []
        duplicates = 0
        for i in range(EVENTS):
            channel = f"C{i % CHANNELS + 1}"
            ts, envelope = paste(fake, f"see {web.url(f'/fleet/{i}')}", channel=channel)
            threads.append((channel, ts))
            live = [urls[0]] if i >= KILL_WEB_AT else urls
            deliver(live, i, envelope)
            if i % 4 == 0:  # Slack retries this one, and it lands on the other replica
                deliver(
                    live,
                    i + 1,
                    envelope,
                    **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
                )
                duplicates += 1
            if i == KILL_WEB_AT - 1:
                webs[1].kill()
            if i == KILL_WORKER_AT - 1:
                # More jobs in flight than one worker takes: the other one holds some too.
                fake.wait_for(lambda f: reading(f, threads) >= IN_FLIGHT, timeout=60)
                workers[1].kill()
        fake.wait_for(lambda f: answered(f, threads) == EVENTS, timeout=180)
        time.sleep(1.0)  # a late duplicate post would show up now; none may
        for channel, ts in threads:
            thread = fake.thread(channel, ts)
            bot = [m for m in thread if m.get("ts") != ts]
            assert len([m for m in bot if is_brief(m)]) == 1, (channel, ts, bot)
            assert not [m for m in bot if str(m.get("text", "")).startswith("Reading")]
        assert duplicates >= EVENTS // 4
        assert webs[1].proc.returncode == -9 and workers[1].proc.returncode == -9
        assert "of a worker that stopped" in workers[0].log  # it took over the dead one's jobs
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.stop()
    for p in (webs[0], workers[0]):
        assert "Traceback" not in p.log, p.log


def reading(fake: FakeSlack, threads: list[tuple[str, str]]) -> int:
    """Placeholders up: briefs being written right now."""
    return sum(
        any(str(m.get("text", "")).startswith("Reading") for m in fake.thread(c, ts))
        for c, ts in threads
    )


def answered(fake: FakeSlack, threads: list[tuple[str, str]]) -> int:
    return sum(any(is_brief(m) for m in fake.thread(c, ts)) for c, ts in threads)
