"""Hostile-input figures (issue 15): per-stage worst times, event-loop stalls, /healthz, SSRF.

    .venv/bin/python bench/robustness_hostile.py [--pages DIR] [--seed N] [--docs N]

- Per stage (sniff, canonical scan, extract in a parser worker, feed parse in a worker,
  sentence split, chunking, grounding, the offline engine): the slowest input of the
  corpus, which is the
  red team's hostile documents, a seeded fuzz corpus of documents up to 200 KB built from
  the pieces that broke parsers (the fuzz tests' alphabet), and, with ``--pages``, real
  news pages (``*.html`` or ``*.html.gz``, e.g. ../shared/corpus/news-pages).
- The real app path: a bot in http mode on loopback fakes, every hostile document pasted
  as a link; a loop-lag probe (10 ms sleeps) records the worst stall, and a thread polls
  /healthz every 100 ms with a 1 s timeout, counting misses.
- SSRF: never-list links (NAT64, SIIT, metadata addresses) fetched with private networks
  allowed, through a connector that refuses every dial: how many the guard refused.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import random
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Row, figure, print_rows  # noqa: E402
from bot.chunking import chunk_text, split_sentences  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.digest.feeds import parse_feed  # noqa: E402
from bot.engines.offline import build_brief  # noqa: E402
from bot.errors import BriefbotError  # noqa: E402
from bot.grounding import quote_in_text  # noqa: E402
from bot.ingest.decode import sniff  # noqa: E402
from bot.ingest.extract import canonical_link, extract_document  # noqa: E402
from bot.ingest.sandbox import parser_pool  # noqa: E402
from bot.models import Article  # noqa: E402
from tests.fakes import hostile  # noqa: E402

MAX_BYTES = 200_000
NEVER_LINKS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b:1:a9fe:a9:fe00::]/",
    "http://[::ffff:0:a9fe:a9fe]/",
    "http://[::ffff:169.254.169.254]/",
    "http://100.100.100.200/latest/meta-data/",
    "http://168.63.129.16/machine",
    "http://192.0.0.192/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://metadata.example.com/",  # resolves (fake DNS) to 169.254.169.254
    "http://nat64.example.com/",  # resolves to 64:ff9b::a9fe:a9fe
]


def fuzz_corpus(seed: int, docs: int) -> list[tuple[str, bytes, str]]:
    """Seeded documents of 1 KB..200 KB made of the fuzz alphabet, as HTML and as text."""
    rng = random.Random(seed)
    out = []
    for n in range(docs):
        size = int(1000 * (200 ** (n / max(1, docs - 1))))  # 1 KB .. 200 KB, log-spaced
        parts: list[str] = []
        length = 0
        piece = rng.choice(hostile.PIECES)
        while length < size:
            if rng.random() < 0.3:  # runs of one piece are what hurt backtracking
                piece = rng.choice(hostile.PIECES)
            parts.append(piece)
            length += len(piece)
        body = "".join(parts).encode("utf-8", "surrogatepass")[:MAX_BYTES]
        out.append((f"fuzz #{n} ({len(body)} B)", body, rng.choice(["text/html", "text/plain"])))
    return out


def real_pages(folder: Path | None) -> list[tuple[str, bytes, str]]:
    if folder is None:
        return []
    pages = []
    for path in sorted(folder.glob("*.html*")):
        data = path.read_bytes()
        pages.append((path.name, gzip.decompress(data) if path.suffix == ".gz" else data))
    return [(name, body, "text/html") for name, body in pages]


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    with contextlib.suppress(BriefbotError):  # a refusal is an answer; its time counts
        fn()
    return time.perf_counter() - started


def stage_rows(corpus: list[tuple[str, bytes, str]], budget: float) -> list[Row]:
    """The slowest input per stage (each input once; the stages are deterministic)."""
    pool = parser_pool()
    pool.call(sniff, b"", budget=30, what="warm-up")  # a started worker, as in a running bot
    chunk_text("warm up the tokenizer", budget=8000)  # loading the BPE file is not a parse
    worst: dict[str, tuple[float, str]] = {}

    def note(stage: str, name: str, seconds: float) -> None:
        if seconds >= worst.get(stage, (-1.0, ""))[0]:
            worst[stage] = (seconds, name)

    for name, body, ctype in corpus:
        text = body.decode("utf-8", "replace")
        note("sniff", name, _timed(lambda b=body: sniff(b)))
        note("canonical-link scan", name, _timed(lambda t=text: canonical_link(t)))
        note("extract (parser worker)", name, _timed(lambda b=body, c=ctype, w=name: pool.call(
            extract_document, b, content_type=c, budget=budget, what=w)))  # fmt: skip
        note("feed parse (parser worker)", name, _timed(lambda b=body, w=name: pool.call(
            parse_feed, b, url="https://feed.example/rss", budget=budget, what=w)))  # fmt: skip
        note("sentence split", name, _timed(lambda t=text: split_sentences(t)))
        note("chunking", name, _timed(lambda t=text: chunk_text(t, budget=8000, overlap=200)))
        quote = " ".join(text.split()[5:25]) or text[:80]
        note("grounding", name, _timed(lambda q=quote, t=text: quote_in_text(q, t)))
        # The whole offline engine, at its default input cap, on the raw decoded bytes.
        note("offline engine", name, _timed(lambda t=text: build_brief(Article(text=t))))
    return [
        figure(f"worst {stage}: {which[:40]}", [seconds], unit="s", goal="<= 5")
        for stage, (seconds, which) in worst.items()
    ]


class HealthPoller(threading.Thread):
    """GET /healthz every 100 ms from its own thread; counts answers and misses."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.ok, self.missed = url, 0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            try:
                with urllib.request.urlopen(self.url, timeout=1.0) as resp:
                    self.ok += resp.status == 200
            except OSError:
                self.missed += 1


async def app_rows(
    corpus: list[tuple[str, bytes, str]], budget: float, tmp: Path, *, verbose: bool = False
) -> list[Row]:
    """Every hostile document through the real bot (http mode) with a lag probe running."""
    from tests.fakes.openai_server import FakeOpenAI
    from tests.fakes.slack import FakeSlack
    from tests.fakes.web import FakeWeb
    from tests.test_slack_http import post_event
    from tests.test_slack_support import bot_running, bot_settings, paste

    with FakeSlack() as fake, FakeOpenAI() as llm, FakeWeb() as web:

        def make(**kw: Any) -> Settings:
            return Settings(_env_file=None, data_dir=tmp / "data", **kw)  # type: ignore[call-arg]

        settings = bot_settings(make, fake, llm, engine="offline", parse_timeout=budget)
        async with bot_running(settings, fake, mode="http") as bot:
            assert bot.url is not None
            poller = HealthPoller(bot.url.rsplit("/slack/", 1)[0] + "/healthz")
            poller.start()
            loop = asyncio.get_running_loop()
            lag = 0.0
            done = asyncio.Event()

            async def probe() -> None:
                nonlocal lag
                while not done.is_set():
                    started = loop.time()
                    await asyncio.sleep(0.01)
                    lag = max(lag, loop.time() - started - 0.01)

            prober = asyncio.create_task(probe())
            threads = []
            started = time.perf_counter()
            for n, (_, body, ctype) in enumerate(corpus):
                web.add(f"/hostile/{n}", body, headers={"Content-Type": ctype})
                ts, envelope = paste(fake, f"<{web.url(f'/hostile/{n}')}>", channel=f"CH{n % 5}")
                await asyncio.to_thread(post_event, bot.url, envelope)
                threads.append((f"CH{n % 5}", ts))

            def answered(f: FakeSlack) -> bool:
                return all(
                    f.thread(c, t) and not str(f.thread(c, t)[0].get("text")).startswith("Reading")
                    for c, t in threads
                )

            await fake.await_for(answered, timeout=600)
            seconds = time.perf_counter() - started
            replies = [str(fake.thread(c, t)[0].get("text"))[:70] for c, t in threads]
            done.set()
            await prober
            poller.stop.set()
            poller.join(2)
    if verbose:
        print("\n".join(f"  {name[:36]:36} -> {reply}" for (name, _, _), reply in zip(
            corpus, replies, strict=True)))  # fmt: skip
    return [
        figure("event-loop stall, worst (hostile links via the app)", [lag * 1000], unit="ms",
               goal="<= 250"),
        figure("/healthz polls answered (every 100 ms)", [poller.ok], unit="polls", goal="all"),
        figure("/healthz polls missed (1 s timeout)", [poller.missed], unit="polls", goal="0"),
        figure(f"hostile links answered in their thread ({len(corpus)})", [seconds], unit="s",
               goal="-"),
    ]  # fmt: skip


async def ssrf_rows() -> list[Row]:
    from bot.errors import BlockedAddressError
    from bot.ingest.fetch import fetch
    from bot.ingest.ssrf import Network

    dialled: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        return {"metadata.example.com": ["169.254.169.254"],
                "nat64.example.com": ["64:ff9b::a9fe:a9fe"]}.get(host, [])  # fmt: skip

    async def refuse(ip: str, port: int, connect_timeout: float | None) -> Any:
        dialled.append(ip)
        raise OSError("the bench never dials out")

    settings = Settings(_env_file=None, allow_private_networks=True)  # type: ignore[call-arg]
    refused = 0
    for link in NEVER_LINKS:
        try:
            await fetch(link, settings, network=Network(resolver=resolver, connector=refuse))
        except BlockedAddressError:
            refused += 1
        except BriefbotError:
            pass
    return [
        figure(f"never-list links refused, private networks allowed ({len(NEVER_LINKS)})",
               [refused], unit="links", goal=str(len(NEVER_LINKS))),
        figure("connections attempted to never-list addresses", [len(dialled)], unit="dials",
               goal="0"),
    ]  # fmt: skip


def run(
    repeats: int = 1, *, pages: Path | None = None, seed: int = 15, docs: int = 24,
    verbose: bool = False,
) -> list[Row]:  # fmt: skip
    """All hostile-input rows (``repeats`` is accepted for bench/run.py; inputs run once)."""
    budget = Settings(_env_file=None).parse_timeout  # type: ignore[call-arg]
    adversarial = [(n, b, c) for n, b, c in hostile.corpus() if len(b) <= MAX_BYTES]
    corpus = adversarial + fuzz_corpus(seed, docs) + real_pages(pages)
    rows = stage_rows(corpus, budget)
    with tempfile.TemporaryDirectory() as tmp:
        app_corpus = adversarial + fuzz_corpus(seed, 6)
        rows += asyncio.run(app_rows(app_corpus, budget, Path(tmp), verbose=verbose))
    rows += asyncio.run(ssrf_rows())
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, help="a folder of real pages (*.html, *.html.gz)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--docs", type=int, default=24, help="fuzz documents (1 KB..200 KB)")
    parser.add_argument("--verbose", action="store_true", help="print each link's answer")
    args = parser.parse_args(argv)
    rows = run(pages=args.pages, seed=args.seed, docs=args.docs, verbose=args.verbose)
    print_rows(rows)
    return 1 if over_goal(rows) else 0


def over_goal(rows: list[Row]) -> list[Row]:
    """The hostile-input rows that miss their goal."""
    limits = {"<= 5": 5.0, "<= 250": 250.0, "0": 0.0}
    return [r for r in rows if r.get("goal") in limits and r["max"] > limits[r["goal"]]]


if __name__ == "__main__":
    sys.exit(main())
