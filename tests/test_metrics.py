"""Metrics, /healthz and /readyz, scraped over real loopback HTTP after real briefs.

Metrics are process-wide counters, so each test compares a scrape before and after.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.web.async_client import AsyncWebClient

from bot import health, metrics
from bot.config import Settings
from bot.errors import ConfigError, NoTextError
from bot.models import Source
from bot.service import BriefService
from bot.store import Store
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.slack import FakeSlack
from tests.fakes.web import FakeWeb

ARTICLE = (
    "The harbour board of Lindvik voted on Monday to delay the new container terminal by "
    "two years, after the dockworkers' union warned that the plan would cut four hundred "
    "jobs. Board chair Ingrid Solberg said the delay would give both sides time to agree "
    "on retraining. Union leader Tomas Berg called the vote a first step but said the "
    "union would strike in March unless the board put its promises in writing. The city "
    "council will review the terminal budget at its meeting on 12 March, and the port "
    "authority must publish a revised timetable by the end of the month."
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Prometheus text -> {(sample name, sorted labels): value}."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    """The socket-mode side server on a free loopback port; yields its base URL."""
    runner = await health.start_metrics_server("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def scrape(base: str) -> Samples:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        return parse(await resp.text())


def diff(before: Samples, after: Samples) -> Callable[..., float]:
    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    return delta


async def test_offline_brief_moves_outcome_and_stage_metrics(
    server: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(engine="offline")
    before = await scrape(server)
    with Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store)
        await service.brief(Source(kind="text", value=ARTICLE))
        await service.brief(Source(kind="text", value=ARTICLE))  # the cache answers
        with pytest.raises(NoTextError):
            await service.brief(Source(kind="text", value="Too short to brief, really."))
    delta = diff(before, await scrape(server))
    assert delta("briefbot_briefs_total", outcome="ok") == 1
    assert delta("briefbot_briefs_total", outcome="cached") == 1
    assert delta("briefbot_briefs_total", outcome="no_text") == 1
    # Pasted text has no fetch; both successful loads were extracts; one fresh model stage.
    assert delta("briefbot_stage_seconds_count", stage="extract") == 2
    assert delta("briefbot_stage_seconds_count", stage="fetch") == 0
    assert delta("briefbot_stage_seconds_count", stage="model") == 1
    assert delta("briefbot_stage_seconds_sum", stage="model") > 0
    # The offline engine makes no model calls, so it adds no usage.
    assert delta("briefbot_model_calls_total", model="offline") == 0


async def test_link_brief_times_fetch_and_extract_separately(
    server: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(engine="offline", allow_private_networks=True)
    before = await scrape(server)
    progress: list[str] = []
    with FakeWeb() as site, Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store)
        await service.brief(
            Source(kind="url", value=site.url("/article")), progress=progress.append
        )
    delta = diff(before, await scrape(server))
    assert delta("briefbot_stage_seconds_count", stage="fetch") == 1
    assert delta("briefbot_stage_seconds_count", stage="extract") == 1
    assert delta("briefbot_briefs_total", outcome="ok") == 1
    assert len(progress) >= 2  # the caller still gets every progress message


async def test_model_tokens_and_cost_by_model(
    server: str, make_settings: Callable[..., Settings]
) -> None:
    with FakeOpenAI() as llm:
        settings = make_settings(
            openai_api_key="sk-test", openai_base_url=llm.base_url, engine="openai"
        )
        before = await scrape(server)
        service = BriefService(settings, store=None)
        try:
            result = await service.brief(Source(kind="text", value=ARTICLE))
        finally:
            await service.engine.aclose()  # type: ignore[attr-defined]
    meta = result.brief.meta
    assert meta.tokens_in > 0 and meta.cost_usd > 0
    delta = diff(before, await scrape(server))
    assert (
        delta("briefbot_model_tokens_total", model="gpt-4o-mini", direction="in") == meta.tokens_in
    )
    assert (
        delta("briefbot_model_tokens_total", model="gpt-4o-mini", direction="out")
        == meta.tokens_out
    )
    assert delta("briefbot_model_calls_total", model="gpt-4o-mini") == meta.llm_calls
    assert delta("briefbot_model_cost_usd_total", model="gpt-4o-mini") == pytest.approx(
        meta.cost_usd
    )
    assert delta("briefbot_briefs_total", outcome="ok") == 1


async def test_model_outage_counts_a_fallback_then_an_error(
    server: str, make_settings: Callable[..., Settings]
) -> None:
    with FakeOpenAI() as llm:
        llm.enqueue(Reply.error(500), Reply.error(500))
        common = {"openai_api_key": "sk-test", "openai_base_url": llm.base_url,
                  "engine": "openai", "llm_max_attempts": 1}  # fmt: skip
        before = await scrape(server)
        for fallback in (True, False):
            service = BriefService(make_settings(**common, offline_fallback=fallback), store=None)
            try:
                await service.brief(Source(kind="text", value=ARTICLE))
            except Exception as exc:
                assert not fallback and getattr(exc, "code", "") == "model_unavailable"
            finally:
                await service.engine.aclose()  # type: ignore[attr-defined]
    delta = diff(before, await scrape(server))
    assert delta("briefbot_briefs_total", outcome="fallback") == 1
    assert delta("briefbot_briefs_total", outcome="model_unavailable") == 1


async def test_job_gauges_digest_runs_and_slack_post_stage(server: str) -> None:
    queued = [3]
    metrics.watch_jobs(queued=lambda: queued[0], in_flight=lambda: 2)
    try:
        await _check_gauges_and_post_stage(server, queued)
    finally:
        metrics.unwatch_jobs()


async def _check_gauges_and_post_stage(server: str, queued: list[int]) -> None:
    metrics.record_digest("posted")
    with FakeSlack() as slack:
        before = await scrape(server)
        async with aiohttp.ClientSession(trace_configs=[metrics.slack_trace_config()]) as s:
            client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, session=s)
            await client.auth_test()  # not a post: not timed as one
            await client.chat_postMessage(channel="C1", text="hello")
        after = await scrape(server)
    assert value(after, "briefbot_jobs_queued") == 3
    assert value(after, "briefbot_jobs_in_flight") == 2
    assert value(after, "briefbot_digest_runs_total", status="posted") >= 1
    assert diff(before, after)("briefbot_stage_seconds_count", stage="post") == 1
    queued[0] = 0
    assert value(await scrape(server), "briefbot_jobs_queued") == 0


# --- health and readiness ------------------------------------------------------------------


@pytest.fixture
async def http_app(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[str, FakeSlack, Path]]:
    """An http-mode style app with the health routes; yields (base URL, fake Slack, db)."""
    settings = make_settings()
    Store.open(settings.database_url).close()  # create and migrate, as serve does
    db = settings.data_dir / "briefbot.db"
    with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        app = web.Application()
        ready = health.readiness(
            database=health.database_check(str(db)), slack=health.slack_check(client, ttl=0)
        )
        health.add_health_routes(app, ready=ready)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}", slack, db
        finally:
            await runner.cleanup()


async def get(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, json.loads(await resp.text())


async def test_healthz_and_readyz_when_all_is_well(http_app: tuple[str, FakeSlack, Path]) -> None:
    base, _, _ = http_app
    assert await get(f"{base}/healthz") == (200, {"status": "ok"})
    status, body = await get(f"{base}/readyz")
    assert status == 200
    assert body == {"status": "ok", "checks": {"database": True, "slack": True}}


async def test_readyz_503_when_slack_refuses(http_app: tuple[str, FakeSlack, Path]) -> None:
    base, slack, _ = http_app
    slack.fail_next("auth.test", error="invalid_auth")
    status, body = await get(f"{base}/readyz")
    assert status == 503
    assert body["failed"] == ["slack"]
    assert (await get(f"{base}/readyz"))[0] == 200  # recovers with Slack
    assert (await get(f"{base}/healthz"))[0] == 200  # liveness never depended on it


async def test_readyz_503_when_the_database_is_gone(http_app: tuple[str, FakeSlack, Path]) -> None:
    base, _, db = http_app
    db.unlink()
    status, body = await get(f"{base}/readyz")
    assert status == 503
    assert body["failed"] == ["database"]
    assert not db.exists()  # the probe must not re-create an empty database


async def test_metrics_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match="BRIEFBOT_METRICS_PORT"):
            await health.start_metrics_server("127.0.0.1", taken.getsockname()[1])
