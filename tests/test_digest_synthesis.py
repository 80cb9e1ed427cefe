"""With a key set: one model call writes the digest's themes, plus one per unbriefed article.

The real openai client talks to the fake OpenAI server; feed articles come from a loopback
web server; the digest is posted to the fake Slack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.digest.delivery import run_due
from bot.digest.schedule import Subscription
from bot.digest.store import DigestStore
from bot.models import Brief, BriefMeta, Participant, Source, Topic
from bot.service import BriefService
from bot.store import Store
from tests.fakes.openai_server import FakeOpenAI, Reply, echo_draft
from tests.fakes.slack import FakeSlack
from tests.fakes.web import ARTICLE_CANONICAL, FakeWeb, article_html

TEAM, CHANNEL = "T1", "C1"
SLOT_1 = datetime(2026, 3, 2, 8, tzinfo=UTC)  # 08:00 GMT in London
SLOT_2 = datetime(2026, 3, 3, 8, tzinfo=UTC)


def is_synthesis(body: dict[str, Any]) -> bool:
    return (
        body.get("response_format", {}).get("json_schema", {}).get("name") == "DigestSynthesisOut"
    )


class Model:
    """Answers brief requests with a valid draft and digest requests with themes."""

    def __init__(self) -> None:
        self.synthesis: Reply | dict[str, Any] | None = None

    def __call__(self, body: dict[str, Any]) -> Reply | dict[str, Any]:
        if is_synthesis(body):
            fenced = body["messages"][-1]["content"].rsplit("<briefs>", 1)[1].split("</briefs>")[0]
            count = len(json.loads(fenced))
            return self.synthesis or {
                "themes": [
                    {
                        "title": "Harbour labour deal",
                        "synthesis": "Pay, fees and a review.",
                        "articles": list(range(count - 1)),
                    },
                    {"title": "Odd one out", "synthesis": "Unrelated.", "articles": [count - 1]},
                ]
            }
        return echo_draft(body)  # a grounded brief of the article itself


@pytest.fixture
def model() -> Model:
    return Model()


@pytest.fixture
def openai_server(model: Model) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=model) as server:
        yield server


def feed_of(web: FakeWeb, slugs: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Feed story {slug}</title><link>{web.url('/articles/' + slug)}</link>"
        f"<guid>{slug}</guid></item>"
        for slug in slugs
    )
    return f'<rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'.encode()


def publish(web: FakeWeb, slugs: list[str]) -> None:
    for slug in slugs:
        # Each page its own canonical URL: the cache tells articles apart by it.
        page = article_html(250, title=f"Feed story {slug}").replace(
            ARTICLE_CANONICAL, web.url(f"/articles/{slug}")
        )
        web.add(f"/articles/{slug}", page, headers={"Content-Type": "text/html; charset=utf-8"})
    web.add("/feed.xml", feed_of(web, slugs), headers={"Content-Type": "application/rss+xml"})


def seed_channel_briefs(store: Store, n: int) -> None:
    """Briefs already written (and posted) in the channel yesterday: no model call needed."""
    for i in range(n):
        brief = Brief(
            title=f"Channel story {i}",
            url=f"https://news.example/{i}",
            summary="Already briefed.",
            participants=[Participant(name="Tomas Berg", evidence="x")],
            topics=[Topic(name="pay", evidence="x")],
            meta=BriefMeta(engine="openai"),
        )
        store.put_brief(
            f"k{i}",
            brief,
            url=brief.url,
            title=brief.title,
            team=TEAM,
            channel=CHANNEL,
            created_at=datetime(2026, 3, 1, 15, i, tzinfo=UTC),
        )


@pytest.fixture
def settings(make_settings: Callable[..., Settings], openai_server: FakeOpenAI) -> Settings:
    return make_settings(
        openai_api_key="sk-test",
        openai_base_url=openai_server.base_url,
        allow_private_networks=True,
    )


async def test_model_calls_are_one_plus_one_per_unbriefed_article(
    settings: Settings, openai_server: FakeOpenAI, web: FakeWeb
) -> None:
    with FakeSlack() as slack, Store.open(settings.database_url) as store:
        client = AsyncWebClient(base_url=slack.api_url, token="xoxb-test")
        dstore = DigestStore.for_store(store)
        dstore.set_subscription(
            Subscription(TEAM, CHANNEL, "daily", time(8), "Europe/London"),
            by="U1",
            now=datetime(2026, 3, 1, 9, tzinfo=UTC),
        )
        dstore.follow(TEAM, CHANNEL, web.url("/feed.xml"), by="U1", now=SLOT_1)
        seed_channel_briefs(store, 3)
        publish(web, ["a", "b"])

        [first] = await run_due(settings, store, client, now=SLOT_1)
        synth = [r for r in openai_server.chat_requests if is_synthesis(r.body or {})]
        assert (first.status, first.articles) == ("posted", 5)
        assert len(openai_server.chat_requests) == 1 + 2  # synthesis + the two feed articles
        assert first.model_calls == 3
        assert len(synth) == 1
        # The model saw briefs (not articles), fenced as data.
        assert "Channel story 0" in synth[0].user_text and "<briefs>" in synth[0].user_text
        posted = json.dumps(slack.messages_in(CHANNEL)[0]["blocks"])
        assert "Harbour labour deal" in posted and "Pay, fees and a review." in posted

        # Next day: one new article, one already briefed elsewhere (cached), one old entry.
        openai_server.reset_records()
        publish(web, ["a", "b", "c", "d"])
        cached_url = web.url("/articles/d")
        await BriefService(settings, store=store).brief(Source(kind="url", value=cached_url))
        openai_server.reset_records()
        [second] = await run_due(settings, store, client, now=SLOT_2)
        assert (second.status, second.articles) == ("posted", 2)
        assert len(openai_server.chat_requests) == 1 + 1  # synthesis + "c"; "d" was cached


async def test_an_unusable_synthesis_falls_back_to_offline_themes(
    settings: Settings, openai_server: FakeOpenAI, model: Model
) -> None:
    model.synthesis = Reply.raw('{"themes": "not a list"}')
    with FakeSlack() as slack, Store.open(settings.database_url) as store:
        client = AsyncWebClient(base_url=slack.api_url, token="xoxb-test")
        DigestStore.for_store(store).set_subscription(
            Subscription(TEAM, CHANNEL, "daily", time(8), "Europe/London"),
            by="U1",
            now=datetime(2026, 3, 1, 9, tzinfo=UTC),
        )
        seed_channel_briefs(store, 3)
        [result] = await run_due(settings, store, client, now=SLOT_1)
        assert (result.status, result.model_calls) == ("posted", 1)
        assert len(openai_server.chat_requests) == 1  # one try, no repair loop
        posted = json.dumps(slack.messages_in(CHANNEL)[0]["blocks"])
        assert "3 articles on pay, with Tomas Berg in more than one." in posted
