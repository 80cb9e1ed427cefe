"""Two workspaces installed through Bolt's OAuth flow against the fake Slack, on PostgreSQL.

Each workspace's briefs are posted with its own bot token (one of them rotating), and
uninstalling one deletes its tokens and every row it owns while the other's stay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.digest.delivery import run_due
from bot.digest.schedule import Subscription
from bot.digest.store import DigestStore
from bot.fleet.oauth import installations
from bot.fleet.uninstall import team_tables
from bot.fleet.worker import working
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack, event_callback, message_event, sign_request
from tests.fakes.web import FakeWeb
from tests.test_slack_support import SIGNING_SECRET, bot_running, bot_settings, briefs_in

pytestmark = pytest.mark.postgres


def oauth_settings(make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI,
                   database_url: str) -> Settings:  # fmt: skip
    return bot_settings(
        make_settings, fake, llm, slack_bot_token=None, slack_app_token=None,
        slack_client_id=fake.oauth.client_id, slack_client_secret=fake.oauth.client_secret,
        database_url_setting=database_url, worker_heartbeat=0.5,
    )  # fmt: skip


async def install(http: aiohttp.ClientSession, base: str, code: str) -> None:
    """A browser through /slack/install (state cookie) and back to /slack/oauth_redirect."""
    async with http.get(f"{base}/slack/install", allow_redirects=False) as resp:
        page = await resp.text() + resp.headers.get("Location", "")
        state = re.search(r"state=([\w-]+)", page)
        assert resp.status in (200, 302) and state, page
        # The state cookie is Secure (https in production): send it back by hand over http.
        cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    redirect = f"{base}/slack/oauth_redirect?code={code}&state={state.group(1)}"
    async with http.get(redirect, allow_redirects=False, headers={"Cookie": cookie}) as resp:
        assert resp.status in (200, 302), await resp.text()
        assert "error" not in (await resp.text()).lower()[:200]


async def send(http: aiohttp.ClientSession, url: str, envelope: dict[str, Any]) -> None:
    body = json.dumps(envelope).encode()
    headers = {"Content-Type": "application/json", **sign_request(SIGNING_SECRET, body)}
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()


def tokens_used(fake: FakeSlack, channel: str) -> set[str]:
    return {
        c.headers.get("Authorization", "").removeprefix("Bearer ")
        for c in fake.calls_to("chat.postMessage")
        if c.params.get("channel") == channel
    }


async def test_two_workspaces_own_tokens_and_uninstall_deletes_one(
    make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI, web: FakeWeb,
    pg_url: str,
) -> None:  # fmt: skip
    settings = oauth_settings(make_settings, fake, llm, pg_url)
    web.add("/a", "Alpha council met on Monday. " * 40, headers={"Content-Type": "text/plain"})
    web.add("/b", "Beta harbour board voted. " * 40, headers={"Content-Type": "text/plain"})
    async with bot_running(settings, fake, mode="http") as bot, working(settings) as worker:
        assert bot.url is not None
        base = bot.url.removesuffix("/slack/events")
        async with aiohttp.ClientSession() as http:
            await install(http, base, fake.oauth.grant("TA"))
            # Workspace B has token rotation on, with a token about to expire.
            await install(http, base, fake.oauth.grant("TB", rotating=True, expires_in=60))
            threads = {}
            for team, channel, path in (("TA", "CA", "/a"), ("TB", "CB", "/b")):
                ts = fake.add_message(channel, text=f"<{web.url(path)}>", user="U1")
                event = message_event(f"<{web.url(path)}>", channel=channel, user="U1", ts=ts)
                await send(http, bot.url, event_callback(event, team_id=team))
                threads[team] = (channel, ts)
            await fake.await_for(
                lambda f: all(briefs_in(f, c, ts) for c, ts in threads.values()), timeout=30
            )
            used_a, used_b = tokens_used(fake, "CA"), tokens_used(fake, "CB")
            assert used_a and all(t.startswith("xoxb-TA-") for t in used_a)
            assert used_b and all(t.startswith("xoxb-TB-") for t in used_b)
            # B's first token was rotated away before use: posts carry a refreshed one.
            refreshes = [c for c in fake.calls_to("oauth.v2.access")
                         if c.params.get("grant_type") == "refresh_token"]  # fmt: skip
            assert refreshes and all(fake.oauth.team_of(t) == "TB" for t in used_b)

            store = worker.poster.service.store
            # Digests go out per team too, each with that team's token.
            now = datetime.now(UTC).replace(hour=8, minute=1, second=0, microsecond=0)
            digests = DigestStore.for_store(store)
            for team, (channel, _) in threads.items():
                sub = Subscription(team=team, channel=channel, cadence="daily", at=dtime(8, 0),
                                   tz="UTC")  # fmt: skip
                digests.set_subscription(sub, by="U1", now=now - timedelta(days=1))
            before = len(fake.calls_to("chat.postMessage"))
            results = await run_due(settings, store, bot.client, now=now,
                                    clients=worker.poster.clients)  # fmt: skip
            assert sorted(r.status for r in results) == ["posted", "posted"]
            digest_posts = fake.calls_to("chat.postMessage")[before:]
            for call in digest_posts:
                token = call.headers["Authorization"].removeprefix("Bearer ")
                team = {"CA": "TA", "CB": "TB"}[call.params["channel"]]
                assert fake.oauth.team_of(token) == team
            tables = team_tables(store)
            assert {"brief_log", "channel_settings", "digest_runs", "ask_questions"} <= set(tables)

            def rows(team: str) -> int:
                total = sum(
                    store._query(f'SELECT COUNT(*) FROM "{t}" WHERE team = ?', (team,))[0][0]  # noqa: S608
                    for t in tables
                )
                jobs = store._query(
                    "SELECT COUNT(*) FROM jobs WHERE json_extract(payload, '$.team') = ?", (team,)
                )[0][0]
                return int(total) + int(jobs)

            before_b = rows("TB")
            assert rows("TA") > 0 and before_b > 0
            await send(http, bot.url, event_callback({"type": "app_uninstalled"}, team_id="TA"))
            found = installations(settings, store=store)
            assert await found.async_find_bot(enterprise_id=None, team_id="TA") is None
            assert await found.async_find_bot(enterprise_id=None, team_id="TB") is not None
            assert rows("TA") == 0
            assert rows("TB") == before_b
            # tokens_revoked ends an install the same way.
            revoked = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}
            await send(http, bot.url, event_callback(revoked, team_id="TB"))
            assert await found.async_find_bot(enterprise_id=None, team_id="TB") is None
            assert rows("TB") == 0
