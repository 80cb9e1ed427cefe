"""Per-team Slack clients for workers: the team's bot token from the installation store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.store import Store

ClientFor = Callable[[str], Awaitable[AsyncWebClient]]


async def clients_for(
    settings: Settings, *, store: Store, default: AsyncWebClient, session: aiohttp.ClientSession
) -> ClientFor | None:
    """None with one workspace (SLACK_BOT_TOKEN: ``default`` serves every job)."""
    if not settings.oauth_enabled:
        return None
    from bot.fleet.oauth import team_clients

    return team_clients(settings, store=store, session=session)
