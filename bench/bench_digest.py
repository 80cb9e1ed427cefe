"""Benchmark of morning digests.

Figures (median over repeats):

- compose a digest of 40 cached briefs (offline synthesis): read the channel's briefs
  from the store, group them into themes, gather tensions and dated next steps, and
  render the Block Kit messages. Baseline: briefing the same 40 articles again with the
  offline engine, i.e. what a digest would cost without the cache.
- model calls per digest with a key set, against the fake OpenAI server: 30 briefs
  already posted in the channel plus 10 new feed articles never briefed. Goal: 1 (the
  synthesis) + 10. Baseline: re-briefing every article, then synthesising (41).

Run: ``.venv/bin/python bench/bench_digest.py [repeats]``. ``run(repeats)`` returns the rows.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import figure  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.digest.delivery import compose_digest  # noqa: E402
from bot.digest.render import build_digest_messages  # noqa: E402
from bot.digest.store import DigestStore  # noqa: E402
from bot.engines.offline import OfflineEngine  # noqa: E402
from bot.models import Article, Brief  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, empty_draft  # noqa: E402
from tests.fakes.web import ARTICLE_CANONICAL, FakeWeb, article_html  # noqa: E402

ARTICLES = 40
CACHED, UNBRIEFED = 30, 10
NOW = datetime(2026, 3, 3, 8, tzinfo=UTC)
TEAM, CHANNEL = "T1", "C1"

_PEOPLE = [
    "Maria Lindqvist",
    "Tomas Berg",
    "Erik Dahl",
    "Ingrid Solberg",
    "Piyush Goyal",
    "Jamieson Greer",
    "Amara Diallo",
    "Raj Patel",
    "Chen Wei",
    "Ines Weber",
]
_GROUPS = ["the Port Authority", "the dockworkers' union", "the Treasury", "the City Council"]
_THINGS = [
    "the wage deal",
    "handling fees",
    "the tariff schedule",
    "a ten-year framework",
    "the harbour expansion",
    "emergency funding",
    "night shifts",
    "the audit",
]
_WHEN = ["by March 20", "next week", "on Friday", "by the end of April", "within 30 days", "later"]


def make_article(i: int) -> Article:
    """A news-like article naming a few people, groups and subjects, with disputes and plans."""
    rng = random.Random(i)
    people = rng.sample(_PEOPLE, 3)
    thing, other = rng.sample(_THINGS, 2)
    group = rng.choice(_GROUPS)
    paragraphs = [
        f"{people[0]}, who speaks for {group}, said on Monday that {thing} would be settled "
        f"{rng.choice(_WHEN)}, after weeks of talks about {other}.",
        f"{people[1]} disputed that account and warned that {thing} could collapse if "
        f"{group} refused to discuss {other}. \u201cWe are not there yet,\u201d {people[1]} said.",
        f"{people[2]} announced that a vote on {other} would be held {rng.choice(_WHEN)}, and "
        f"promised to publish the full text of the proposal before then.",
        f"Critics of {group} argued that the timetable for {thing} was unrealistic and that "
        f"{other} had been neglected for years.",
    ]
    return Article(
        url=f"https://news.example/{i}",
        title=f"{people[0]} on {thing}",
        text="\n\n".join(paragraphs),
        source_kind="url",
    )


async def _brief_all(settings: Settings, articles: list[Article]) -> list[Brief]:
    engine = OfflineEngine(settings)
    return [await engine.brief(a) for a in articles]


def _seed(store: Store, briefs: list[Brief], *, n: int) -> None:
    for i, brief in enumerate(briefs[:n]):
        store.put_brief(
            f"bench-{i}",
            brief,
            url=brief.url,
            title=brief.title,
            team=TEAM,
            channel=CHANNEL,
            created_at=NOW - timedelta(hours=20) + timedelta(minutes=i),
        )


async def _compose_once(settings: Settings, store: Store) -> tuple[float, int]:
    started = time.perf_counter()
    digest, _, _ = await compose_digest(settings, store, team=TEAM, channel=CHANNEL, now=NOW)
    messages = build_digest_messages(digest)
    elapsed = time.perf_counter() - started
    assert digest.articles == ARTICLES and digest.synthesis == "offline", digest.synthesis
    return elapsed, len(messages)


def _responder(body: dict[str, Any]) -> dict[str, Any]:
    schema = body.get("response_format", {}).get("json_schema", {}).get("name")
    if schema == "DigestSynthesisOut":
        return {
            "themes": [
                {"title": "All", "synthesis": "Everything.", "articles": list(range(ARTICLES))}
            ]
        }
    return empty_draft("A short summary of the article.")


async def _keyed_once(settings: Settings, store: Store, server: FakeOpenAI) -> tuple[int, int]:
    server.reset_records()
    digest, _, calls = await compose_digest(settings, store, team=TEAM, channel=CHANNEL, now=NOW)
    assert digest.synthesis == "openai" and digest.articles == CACHED + UNBRIEFED
    return len(server.chat_requests), calls


def _feed(web: FakeWeb, round_: int) -> str:
    slugs = [f"r{round_}-{i}" for i in range(UNBRIEFED)]
    for slug in slugs:
        page = article_html(300, title=f"Feed story {slug}").replace(
            ARTICLE_CANONICAL, web.url(f"/articles/{slug}")
        )
        web.add(f"/articles/{slug}", page, headers={"Content-Type": "text/html; charset=utf-8"})
    items = "".join(
        f"<item><title>Feed story {s}</title><link>{web.url('/articles/' + s)}</link>"
        f"<guid>{s}</guid></item>"
        for s in slugs
    )
    body = f'<rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'
    return web.add(f"/feed-{round_}.xml", body, headers={"Content-Type": "application/rss+xml"})


def run(repeats: int = 5) -> list[dict[str, Any]]:
    """Measure every figure ``repeats`` times; one row per figure."""
    with tempfile.TemporaryDirectory() as tmp:
        offline = Settings(_env_file=None, data_dir=Path(tmp) / "offline", engine="offline")  # type: ignore[call-arg]
        articles = [make_article(i) for i in range(ARTICLES)]
        rebrief: list[float] = []
        briefs: list[Brief] = []
        for _ in range(repeats):
            started = time.perf_counter()
            briefs = asyncio.run(_brief_all(offline, articles))
            rebrief.append(time.perf_counter() - started)
        compose: list[float] = []
        parts = 0
        with Store.open(offline.database_url) as store:
            _seed(store, briefs, n=ARTICLES)
            asyncio.run(_compose_once(offline, store))  # warm imports and caches once
            for _ in range(repeats):
                seconds, parts = asyncio.run(_compose_once(offline, store))
                compose.append(seconds)

        calls: list[int] = []
        with FakeOpenAI(responder=_responder) as server, FakeWeb() as web:
            keyed = Settings(  # type: ignore[call-arg]
                _env_file=None,
                data_dir=Path(tmp) / "keyed",
                openai_api_key="sk-bench",
                openai_base_url=server.base_url,
                allow_private_networks=True,
            )
            with Store.open(keyed.database_url) as store:
                _seed(store, briefs, n=CACHED)
                dstore = DigestStore.for_store(store)
                for round_ in range(repeats):
                    # Fresh, never-briefed feed articles each round (the last round's unfollowed).
                    for feed in dstore.feeds(TEAM, CHANNEL):
                        dstore.unfollow(TEAM, CHANNEL, feed.url)
                    dstore.follow(TEAM, CHANNEL, _feed(web, round_), by=None, now=NOW)
                    sent, counted = asyncio.run(_keyed_once(keyed, store, server))
                    assert sent == counted, (sent, counted)
                    calls.append(sent)

    return [
        figure(
            f"compose+render {ARTICLES} cached briefs, offline ({parts} msgs)",
            [s * 1000 for s in compose],
            unit="ms",
            goal="< 100",
            baseline=statistics.median(rebrief) * 1000,
        ),
        figure(
            f"model calls/digest: {CACHED} cached + {UNBRIEFED} unbriefed",
            [float(c) for c in calls],
            unit="calls",
            goal=f"{1 + UNBRIEFED}",
            baseline=float(1 + ARTICLES),
        ),
    ]


if __name__ == "__main__":
    common.main(
        run,
        default_repeats=5,
        notes=["baselines: re-brief all 40 offline (compose); re-brief all + synthesis (calls)"],
    )
