"""Benchmark of the Slack bot: a real `briefbot serve --mode socket` process against the fakes.

Figures (median, min and max over repeats):

- ack latency p50 / p99 under a burst of 100 link pastes (goal: p99 < 100 ms), measured by
  the fake Slack from sending each envelope to receiving its ack. The 100 briefs the burst
  starts run meanwhile. Baseline: a bare Bolt app (no-op listener, Bolt's default early ack)
  in its own process, same burst.
- paste-to-reply time / model time for a one-chunk article (goal <= 1.1): from sending the
  event to the chat.update that carries the brief, over the fake model's time for the call
  (a fixed delay, DELAY seconds). Baseline: BriefService.brief() alone (no Slack) / model time.
  The absolute overhead (ms) is reported too.
- resident memory (RSS) of the bot process: idle (after one warm-up brief), and with 50 briefs
  in flight (50 model calls open at once, in a bot started with BRIEFBOT_MAX_JOBS=50 and
  BRIEFBOT_LLM_CONCURRENCY=50). Baselines: the bare Bolt app's RSS; that bot's idle RSS.

Run: ``.venv/bin/python bench/bench_slack.py [repeats]``. ``run(repeats)`` returns the rows.
"""

from __future__ import annotations

import asyncio
import statistics
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
from bot.config import Settings  # noqa: E402
from bot.models import Source  # noqa: E402
from bot.service import BriefService  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.fakes.slack import FakeSlack, event_callback, message_event  # noqa: E402
from tests.fakes.web import ARTICLE_CANONICAL, FakeWeb, article_html  # noqa: E402
from tests.test_slack_support import BotProcess, bot_env  # noqa: E402

DELAY = 2.0  # seconds per model call: a fast model writing a short structured brief
BURST = 100
IN_FLIGHT = 50
IN_FLIGHT_DELAY = 10.0

_BARE_BOLT = """
import asyncio, os, sys
from slack_bolt.async_app import AsyncApp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

async def main():
    client = AsyncWebClient(token="xoxb-test", base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(client=client, signing_secret="")

    @app.event("message")
    async def on_message(event):
        pass

    handler = AsyncSocketModeHandler(app, "xapp-test", web_client=client)
    await handler.connect_async()
    print("briefbot: connected", file=sys.stderr, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS (Linux only)")


def _wait(predicate: Any, *, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not met in time")
        time.sleep(0.01)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class _Bench:
    def __init__(self, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI) -> None:
        self.fake, self.web, self.llm = fake, web, llm
        self.n = 0

    def article(self) -> str:
        """A fresh one-chunk article (never in the brief cache)."""
        self.n += 1
        page = article_html(600, title=f"Harbour report {self.n}")
        # Its own URL (no shared canonical link) and text, so it is never in the cache.
        page = page.replace(f'<link rel="canonical" href="{ARTICLE_CANONICAL}">', "")
        page = page.replace("Paragraph 1.", f"Report number {self.n}, paragraph 1.")
        return self.web.add(f"/story/{self.n}", page)

    def paste(self, url: str, *, channel: str = "C1") -> str:
        ts = self.fake.add_message(channel, text=f"<{url}>")
        event = event_callback(message_event(f"<{url}>", channel=channel, ts=ts))
        return self.fake.send_envelope("events_api", event)

    def updates(self) -> int:
        return len([c for c in self.fake.calls_to("chat.update") if c.ok])

    def burst(self) -> list[float]:
        """Ack latencies (seconds) of link pastes in BURST channels at once; waits for briefs."""
        before = self.updates()
        url = self.article()
        ids = [self.paste(url, channel=f"C{1000 + i}") for i in range(BURST)]
        self.wait_acked(ids)
        acks = self.fake.acks
        self.fake.wait_for(lambda f: self.updates() >= before + BURST, timeout=300)
        return [acks[i]["latency"] for i in ids]

    def bare_burst(self) -> list[float]:
        ids = [self.paste(self.web.url("/article"), channel=f"C{1000 + i}") for i in range(BURST)]
        self.wait_acked(ids)
        acks = self.fake.acks
        return [acks[i]["latency"] for i in ids]

    def wait_acked(self, ids: list[str]) -> None:
        # FakeSlack.acks deep-copies every ack under the lock its WebSocket reader needs;
        # a predicate calling it on every change would slow down the very acks it measures.
        # So poll the fake's own dict (membership tests are atomic under the GIL).
        hub = getattr(self.fake, "_hub", None)
        live = hub.acks if hub is not None else None
        _wait(lambda: all(i in (live if live is not None else self.fake.acks) for i in ids))

    def warm_acks(self) -> None:
        """A few events one at a time: Bolt looks up its own identity on the first one."""
        for _ in range(5):
            eid = self.paste("no link here")
            self.fake.wait_for(lambda f, eid=eid: eid in f.acks, timeout=30)

    def paste_to_reply(self) -> tuple[float, float]:
        """(paste-to-reply seconds, model seconds) for one fresh article."""
        before, calls = self.updates(), len(self.llm.chat_requests)
        eid = self.paste(self.article())
        self.fake.wait_for(lambda f: self.updates() > before, timeout=60)
        sent = next(e["sent_at"] for e in self.fake.envelopes if e["envelope_id"] == eid)
        replied = [c for c in self.fake.calls_to("chat.update") if c.ok][-1].at
        [request] = self.llm.chat_requests[calls:]
        assert request.finished is not None
        return replied - sent, request.finished - request.started

    def in_flight_rss(self, pid: int) -> float:
        """RSS with IN_FLIGHT briefs waiting on the model at once."""
        before, calls = self.updates(), len(self.llm.chat_requests)
        for i in range(IN_FLIGHT):
            self.paste(self.article(), channel=f"C{100 + i}")

        def open_calls() -> int:
            return len([r for r in self.llm.chat_requests[calls:] if r.finished is None])

        _wait(lambda: open_calls() >= IN_FLIGHT)
        rss = _rss_mb(pid)
        self.fake.wait_for(lambda f: self.updates() >= before + IN_FLIGHT, timeout=120)
        return rss


def _settings(fake: FakeSlack, llm: FakeOpenAI, data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-test",  # noqa: S106 - the fake's token
        slack_app_token="xapp-test",  # noqa: S106
        slack_api_url=fake.api_url,
        openai_api_key="sk-test",
        openai_base_url=llm.base_url,
        engine="openai",
        allow_private_networks=True,
        channel_post_interval=0.0,
        data_dir=data_dir,
    )


async def _service_ratio(settings: Settings, llm: FakeOpenAI, url: str) -> float:
    """BriefService.brief() alone (fetch, extract, model, grounding) / the model's time."""
    with Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store)
        await service.brief(Source(kind="url", value=url))  # warm pools and imports
        calls = len(llm.chat_requests)
        started = time.monotonic()
        await service.brief(Source(kind="url", value=url), use_cache=False)
        elapsed = time.monotonic() - started
        [request] = llm.chat_requests[calls:]
        aclose = getattr(service.engine, "aclose", None)
        if aclose is not None:
            await aclose()
    assert request.finished is not None
    return elapsed / (request.finished - request.started)


def _started(proc: BotProcess, fake: FakeSlack) -> BotProcess:
    """Wait until the process is connected in Socket Mode (the only client of the fake)."""
    proc.wait_line("connected", timeout=60)
    fake.wait_for(lambda f: f.socket_clients() == 1, timeout=30)
    return proc


def run(repeats: int = 3) -> list[dict[str, Any]]:
    """Measure every figure ``repeats`` times; one row per figure."""
    keys = ("p50", "p99", "ratio", "over", "in", "bare_p50", "bare_p99")
    samples: dict[str, list[float]] = {k: [] for k in keys}
    with (
        FakeSlack() as fake,
        FakeWeb() as web,
        FakeOpenAI(delay=DELAY) as llm,
        tempfile.TemporaryDirectory() as tmp,
    ):
        bench = _Bench(fake, web, llm)
        cwd = Path(tmp)
        # Default limits (8 briefs in flight, 4 model calls, 1 post/s per channel).
        env = bot_env(_settings(fake, llm, cwd / "a"), cwd, BRIEFBOT_LOG_LEVEL="WARNING")
        env.pop("BRIEFBOT_CHANNEL_POST_INTERVAL")
        proc = _started(BotProcess(["--mode", "socket"], env, cwd), fake)
        try:
            bench.paste_to_reply()  # warm-up: imports, pools, first extraction
            idle = _rss_mb(proc.proc.pid)
            for _ in range(repeats):
                reply, model = bench.paste_to_reply()
                samples["ratio"].append(reply / model)
                samples["over"].append((reply - model) * 1000)
            llm.delay = 0.2  # so the burst's 100 briefs drain quickly between repeats
            for _ in range(repeats):
                latencies = bench.burst()
                samples["p50"].append(_pct(latencies, 0.50) * 1000)
                samples["p99"].append(_pct(latencies, 0.99) * 1000)
        finally:
            proc.stop()
        llm.delay = DELAY
        service_settings = _settings(fake, llm, cwd / "s")
        service_ratio = asyncio.run(_service_ratio(service_settings, llm, bench.article()))

        # Room for 50 briefs at once. The model takes IN_FLIGHT_DELAY here, so the first
        # calls are still open when the 50th article has been fetched and extracted.
        wide = {**env, "BRIEFBOT_DATA_DIR": str(cwd / "b"), "BRIEFBOT_MAX_JOBS": str(IN_FLIGHT),
                "BRIEFBOT_LLM_CONCURRENCY": str(IN_FLIGHT)}  # fmt: skip
        proc = _started(BotProcess(["--mode", "socket"], wide, cwd), fake)
        try:
            bench.paste_to_reply()
            wide_idle = _rss_mb(proc.proc.pid)
            llm.delay = IN_FLIGHT_DELAY
            for _ in range(repeats):
                samples["in"].append(bench.in_flight_rss(proc.proc.pid))
        finally:
            proc.stop()

        bare_cmd = [sys.executable, "-c", _BARE_BOLT]
        bare = _started(BotProcess([], env, cwd, command=bare_cmd), fake)
        try:
            bare_rss = _rss_mb(bare.proc.pid)
            bench.warm_acks()
            for _ in range(repeats):
                latencies = bench.bare_burst()
                samples["bare_p50"].append(_pct(latencies, 0.50) * 1000)
                samples["bare_p99"].append(_pct(latencies, 0.99) * 1000)
        finally:
            bare.kill()

    def row(key: str, name: str, unit: str, goal: str, baseline: float | None) -> dict[str, Any]:
        return figure(name, samples[key], unit=unit, goal=goal, baseline=baseline)

    bare_p50 = statistics.median(samples["bare_p50"])
    bare_p99 = statistics.median(samples["bare_p99"])
    return [
        row("p50", f"ack latency p50, burst of {BURST}", "ms", "-", bare_p50),
        row("p99", f"ack latency p99, burst of {BURST}", "ms", "< 100", bare_p99),
        row("ratio", "paste-to-reply / model time (1 chunk)", "ratio", "<= 1.1", service_ratio),
        row("over", "paste-to-reply beyond model time", "ms", "-", None),
        figure("RSS idle (after one brief)", [idle], unit="MB", baseline=bare_rss),
        row("in", f"RSS with {IN_FLIGHT} briefs in flight", "MB", "-", wide_idle),
    ]


if __name__ == "__main__":
    common.main(
        run,
        default_repeats=3,
        notes=[
            f"fake model delay {DELAY * 1000:.0f} ms/call, bot in its own process",
            "baselines: bare Bolt app (acks, RSS idle), BriefService alone (ratio), idle (RSS)",
        ],
    )
