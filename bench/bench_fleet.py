"""Fleet-mode benchmark: real `briefbot worker` and `serve --mode http` processes on PostgreSQL.

Figures (median, min and max over repeats):

- briefs per second with 1, 2 and 4 workers (each BRIEFBOT_MAX_JOBS=1, so a worker is
  one model call at a time) at a fixed fake model delay (``--delay``, default 2 s, as in
  bench_slack.py): JOBS pastes are sent at once through one web replica, timed from the
  first send to the last brief in Slack. Goal: 2 workers >= 1.8x one worker. Baseline:
  1 / delay, what one worker could do if everything but the model took no time.
- ack latency p50 / p99 with 3 web replicas under a burst of 300 signed events (50 in
  flight, round robin), measured by the sender from POST to 200. The acks only record the
  identity and defer the job; no worker runs during the burst, so only the web tier and
  PostgreSQL are measured. Goal: p99 < 3000 ms (Slack's ack limit).

Run: ``.venv/bin/python bench/bench_fleet.py --database-url postgresql://postgres@127.0.0.1/test``
(or set BRIEFBOT_TEST_DATABASE_URL). Each repeat uses a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402
from bot.config import Settings  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.fakes.postgres import private_schema  # noqa: E402
from tests.fakes.slack import FakeSlack, event_callback, message_event, sign_request  # noqa: E402
from tests.fakes.web import ARTICLE_PARAGRAPHS, FakeWeb  # noqa: E402
from tests.test_slack_support import SIGNING_SECRET, BotProcess, bot_env, is_brief  # noqa: E402

JOBS = 16
BURST = 300
IN_FLIGHT = 50
WORKER_COUNTS = (1, 2, 4)


def _settings(fake: FakeSlack, llm: FakeOpenAI, data: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data, slack_bot_token="xoxb-test",  # noqa: S106 (the fake's)
        slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url,
        openai_api_key="sk-test", openai_base_url=llm.base_url, engine="openai",
        llm_max_attempts=1, allow_private_networks=True, channel_post_interval=0.0,
    )  # fmt: skip


def _start(kind: str, env: dict[str, str], cwd: Path) -> BotProcess:
    if kind == "web":
        return BotProcess(["--mode", "http", "--port", "0"], env, cwd)
    return BotProcess([], env, cwd, command=[sys.executable, "-m", "bot", "worker"])


async def _post(http: aiohttp.ClientSession, url: str, envelope: dict[str, Any]) -> float:
    body = json.dumps(envelope).encode()
    headers = {"Content-Type": "application/json", **sign_request(SIGNING_SECRET, body)}
    started = time.perf_counter()
    async with http.post(url, data=body, headers=headers) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"ack failed: {resp.status}")
    return time.perf_counter() - started


def _events(fake: FakeSlack, web: FakeWeb, n: int, tag: str) -> list[tuple[str, str, dict]]:
    out = []
    for i in range(n):
        channel = f"C{i % 10 + 1}"
        text = f"<{web.url(f'/fleet/{i}')}?{tag}>"
        ts = fake.add_message(channel, text=text, user="U1")
        out.append((channel, ts, event_callback(message_event(text, channel=channel, user="U1",
                                                                ts=ts))))  # fmt: skip
    return out


def _throughput(base_url: str, workers: int, delay: float, tmp: Path) -> float:
    with FakeSlack() as fake, FakeOpenAI(delay=delay) as llm, FakeWeb() as web, \
            private_schema(base_url) as url:  # fmt: skip
        for i in range(JOBS):
            web.add(f"/fleet/{i}", "\n\n".join([*ARTICLE_PARAGRAPHS, f"Code {i}."]),
                    headers={"Content-Type": "text/plain; charset=utf-8"})  # fmt: skip
        env = bot_env(_settings(fake, llm, tmp / "data"), tmp, DATABASE_URL=url,
                      BRIEFBOT_MAX_JOBS="1")  # fmt: skip
        procs = [_start("web", env, tmp)] + [_start("worker", env, tmp) for _ in range(workers)]
        try:
            events_url = procs[0].url(timeout=120)
            for p in procs[1:]:
                p.wait_line("worker running", timeout=120)
            events = _events(fake, web, JOBS, f"w{workers}")

            async def send_all() -> None:  # all at once, as a busy channel would
                async with aiohttp.ClientSession() as http:
                    await asyncio.gather(*(_post(http, events_url, e) for _, _, e in events))

            started = time.perf_counter()
            asyncio.run(send_all())
            fake.wait_for(lambda f: all(any(is_brief(m) for m in f.thread(c, ts))
                                        for c, ts, _ in events), timeout=600)  # fmt: skip
            return JOBS / (time.perf_counter() - started)
        finally:
            for p in procs:
                p.stop()


def _acks(base_url: str, tmp: Path) -> list[float]:
    with FakeSlack() as fake, FakeOpenAI() as llm, FakeWeb() as web, \
            private_schema(base_url) as url:  # fmt: skip
        env = bot_env(_settings(fake, llm, tmp / "data"), tmp, DATABASE_URL=url)
        webs = [_start("web", env, tmp) for _ in range(3)]
        try:
            urls = [w.url(timeout=120) for w in webs]
            events = _events(fake, web, BURST, "ack")

            async def burst() -> list[float]:
                gate = asyncio.Semaphore(IN_FLIGHT)
                async with aiohttp.ClientSession() as http:

                    async def one(i: int, envelope: dict[str, Any]) -> float:
                        async with gate:
                            return await _post(http, urls[i % len(urls)], envelope)

                    return await asyncio.gather(*(one(i, e) for i, (_, _, e) in enumerate(events)))

            return list(asyncio.run(burst()))
        finally:
            for w in webs:
                w.stop()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(repeats: int, *, database_url: str, delay: float) -> list[dict[str, Any]]:
    rates: dict[int, list[float]] = {n: [] for n in WORKER_COUNTS}
    p50: list[float] = []
    p99: list[float] = []
    for _ in range(repeats):
        for n in WORKER_COUNTS:
            with tempfile.TemporaryDirectory() as tmp:
                rates[n].append(_throughput(database_url, n, delay, Path(tmp)))
        with tempfile.TemporaryDirectory() as tmp:
            acks = _acks(database_url, Path(tmp))
        p50.append(_percentile(acks, 0.50) * 1000)
        p99.append(_percentile(acks, 0.99) * 1000)
    ideal = round(1 / delay, 2)
    rows = [
        figure(
            f"briefs/s, {n} worker(s), model delay {delay}s",
            rates[n],
            unit="briefs/s",
            baseline=f"1/delay = {ideal}",
        )
        for n in WORKER_COUNTS
    ]
    scale = [b / a for a, b in zip(rates[1], rates[2], strict=True)]
    rows.append(figure("scaling 1 -> 2 workers", scale, unit="x", goal=">= 1.8", baseline=2.0))
    scale4 = [b / a for a, b in zip(rates[1], rates[4], strict=True)]
    rows.append(figure("scaling 1 -> 4 workers", scale4, unit="x", baseline=4.0))
    rows.append(figure(f"ack p50, 3 web replicas, burst of {BURST}", p50, unit="ms"))
    rows.append(figure(f"ack p99, 3 web replicas, burst of {BURST}", p99, unit="ms",
                       goal="< 3000 (Slack's limit)"))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BRIEFBOT_TEST_DATABASE_URL"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--delay", type=float, default=2.0, help="fake model seconds per call")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url postgresql://... (a server this bench may use)")
    rows = run(args.repeats, database_url=args.database_url, delay=args.delay)
    notes = [f"{args.repeats} repeats", f"{JOBS} briefs per run, one web replica feeding them"]
    common.print_rows(rows, notes=notes)


if __name__ == "__main__":
    main()
