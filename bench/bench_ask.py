"""Benchmark of questions in a brief's thread: offline accuracy, and answer time / model time.

Figures:

- offline accuracy: of the 30 factual questions in ``bench/ask_questions.json`` (written
  by hand about pages in CORPUS_DIR, the shared news-pages corpus), the share the offline
  engine answers with a quote containing the expected string (goal >= 70 %). Pages are
  extracted as the bot extracts them. Baseline: lead-3 (quote the page's first three
  sentences, whatever the question). Also shown: the share of 5 questions the pages do
  not answer that get "the article doesn't say" (no goal).
- question-to-answer time / model time (goal <= 1.1): through the real Slack path in
  process (fake Slack, socket mode; fake model with a fixed DELAY per call): from sending
  the @mention event in a brief's thread to the chat.update that carries the answer.
  Baseline: AskService.ask() alone (no Slack), same article and model. Medians.

Run: ``.venv/bin/python bench/bench_ask.py CORPUS_DIR [repeats]``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
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
from bot.ask.offline import answer_offline  # noqa: E402
from bot.ask.retrieval import SentenceIndex  # noqa: E402
from bot.ask.service import AskService  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.ingest.extract import extract_html  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, empty_draft  # noqa: E402
from tests.fakes.slack import FakeSlack, app_mention_event, event_callback  # noqa: E402
from tests.fakes.web import ARTICLE_PARAGRAPHS, FakeWeb  # noqa: E402
from tests.test_slack_support import bot_running, paste  # noqa: E402

QUESTIONS = Path(__file__).with_name("ask_questions.json")
DELAY = 1.0  # seconds per fake model call: a quick model writing a short answer
ANSWER = {"answer": "Wages rise 6.5% this year.", "answered": True,
          "quotes": [ARTICLE_PARAGRAPHS[1].split(". The port")[0] + "."]}  # fmt: skip


def _norm(text: str) -> str:
    return " ".join(text.casefold().replace("\u00a0", " ").split())


def _page(corpus: Path, page: str, cache: dict[str, str]) -> str:
    if page not in cache:
        html = gzip.decompress((corpus / f"{page}.html.gz").read_bytes()).decode("utf-8", "replace")
        doc = extract_html(html)
        cache[page] = "\n\n".join(x for x in (doc.title, doc.text) if x)
    return cache[page]


def accuracy(corpus: Path) -> tuple[list[dict[str, Any]], float, float, float]:
    """Per-question results, the offline hit rate, lead-3's, and the 'doesn't say' rate."""
    spec = json.loads(QUESTIONS.read_text())
    pages: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    lead_hits = 0
    for q in spec["questions"]:
        text = _page(corpus, q["page"], pages)
        draft = answer_offline(text, q["question"])
        want = _norm(q["expected"])
        hit = draft.answered and any(want in _norm(quote) for quote in draft.quotes)
        lead = SentenceIndex(text).sentences[:3]
        lead_hits += any(want in _norm(s) for s in lead)
        results.append({**q, "hit": hit, "answered": draft.answered,
                        "quote": draft.quotes[0] if draft.quotes else ""})  # fmt: skip
    declined = sum(
        not answer_offline(_page(corpus, u["page"], pages), u["question"]).answered
        for u in spec["unanswerable"]
    )
    n = len(spec["questions"])
    return (results, 100 * sum(r["hit"] for r in results) / n, 100 * lead_hits / n,
            100 * declined / len(spec["unanswerable"]))  # fmt: skip


def _responder(body: dict[str, Any]) -> dict[str, Any]:
    name = str((body.get("response_format") or {}).get("json_schema", {}).get("name", ""))
    return ANSWER if "Answer" in name else empty_draft()


def _settings(fake: FakeSlack, llm: FakeOpenAI, data_dir: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, slack_app_token=fake.app_token,
        slack_bot_token="xoxb-test",  # noqa: S106 - the fake's token
        slack_api_url=fake.api_url, openai_api_key="sk-test", openai_base_url=llm.base_url,
        engine="openai", llm_max_attempts=1, allow_private_networks=True,
        channel_post_interval=0.0, host="127.0.0.1", data_dir=data_dir,
    )  # fmt: skip


async def _slack_times(repeats: int, data_dir: Path) -> tuple[list[float], list[float]]:
    """Question-to-answer seconds through Slack, and AskService.ask() alone, per repeat."""
    with FakeSlack() as fake, FakeOpenAI(delay=DELAY, responder=_responder) as llm, \
            FakeWeb() as web:  # fmt: skip
        settings = _settings(fake, llm, data_dir)
        slack: list[float] = []
        async with bot_running(settings, fake):
            parent, envelope = paste(fake, f"<{web.url('/article')}>")
            fake.send_envelope("events_api", envelope)
            await fake.await_for(lambda f: len(f.calls_to("chat.update")) >= 1, timeout=60)
            for n in range(repeats + 1):  # the first is a warm-up
                text = f"<@UBOT> how much will wages rise? ({n})"
                reply = fake.add_message("C1", text=text, thread_ts=parent)
                done = len(fake.calls_to("chat.update")) + 1
                started = time.monotonic()
                fake.send_envelope("events_api", event_callback(
                    app_mention_event(text, ts=reply, thread_ts=parent)))  # fmt: skip
                await fake.await_for(lambda f, d=done: len(f.calls_to("chat.update")) >= d,
                                     timeout=60)  # fmt: skip
                if n:
                    slack.append(time.monotonic() - started)
        text = "\n\n".join(ARTICLE_PARAGRAPHS)
        service = AskService(settings, store=None)
        alone: list[float] = []
        for _ in range(repeats):
            started = time.monotonic()
            await service.ask(text, "How much will wages rise?")
            alone.append(time.monotonic() - started)
        await service.aclose()
    return slack, alone


def run(repeats: int = 5, corpus: Path | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if corpus is not None:
        results, hit_rate, lead_rate, declined = accuracy(corpus)
        for r in results:
            mark = "ok  " if r["hit"] else ("miss" if r["answered"] else "none")
            print(f"{mark} {r['page']} {r['question']!r} -> {r['quote'][:90]!r}")
        rows.append(figure("offline answers quoting the expected answer (30 questions)",
                           [hit_rate], unit="%", goal=">= 70",
                           baseline=f"lead-3 sentences: {lead_rate:.0f} %"))  # fmt: skip
        rows.append(figure("offline 'doesn't say' on 5 unanswerable questions", [declined],
                           unit="%"))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        slack, alone = asyncio.run(_slack_times(repeats, Path(tmp)))
    rows.append(figure("question-to-answer / model time (Slack path)",
                       [t / DELAY for t in slack], unit="ratio", goal="<= 1.1",
                       baseline=round(statistics.median(alone) / DELAY, 3)))  # fmt: skip
    rows.append(figure("question-to-answer beyond model time",
                       [1000 * (t - DELAY) for t in slack], unit="ms"))  # fmt: skip
    return rows


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bench/bench_ask.py CORPUS_DIR [repeats]")
    corpus_dir = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    common.print_rows(run(n, corpus_dir), notes=[f"{n} repeats, fake model {DELAY:.1f} s/call"])
