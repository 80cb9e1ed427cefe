"""Installs in many workspaces with Bolt's own OAuth flow; per-team tokens for workers.

slack_sdk's SQLAlchemy installation and state stores keep installs in the bot's own
database (SQLite file or PostgreSQL; they create their tables on first use). They are
synchronous; Bolt's async app gets them through thin ``asyncio.to_thread`` adapters.
Workers look up a job's team token here and rotate it (``SLACK_CLIENT_ID`` apps with
token rotation on) before it expires, saving the new pair for every replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.errors import BriefbotError, ConfigError
from bot.slack.client import retry_handlers
from bot.slack.scopes import REQUIRED_SCOPES
from bot.store import Store
from bot.store.db import is_postgres, pg_dsn

log = logging.getLogger(__name__)

#: Rotate a bot token this long before it expires (Bolt's default too).
ROTATE_MINUTES_BEFORE = 120
STATE_SECONDS = 600


class NotInstalled(BriefbotError):
    code = "not_installed"


def _engine(url: str) -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise ConfigError(
            "OAuth installs need SQLAlchemy (slack_sdk's installation store uses it).",
            hint="pip install 'briefbot[fleet]'.",
        ) from None
    if is_postgres(url):
        return sqlalchemy.create_engine("postgresql+psycopg://" + pg_dsn(url).split("://", 1)[1])
    return sqlalchemy.create_engine(url)


class AsyncInstallations(AsyncInstallationStore):
    """slack_sdk's (sync) SQLAlchemy installation store, awaited off the event loop."""

    def __init__(self, store: InstallationStore) -> None:
        self.sync = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.sync.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.sync.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:  # fmt: skip
        return await asyncio.to_thread(
            self.sync.find_bot, enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )  # fmt: skip

    async def async_find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:  # fmt: skip
        return await asyncio.to_thread(
            self.sync.find_installation, enterprise_id=enterprise_id, team_id=team_id,
            user_id=user_id, is_enterprise_install=is_enterprise_install,
        )  # fmt: skip

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.sync.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self.sync.delete_installation, enterprise_id=enterprise_id, team_id=team_id,
            user_id=user_id,
        )  # fmt: skip


class AsyncStates(AsyncOAuthStateStore):
    """slack_sdk's (sync) SQLAlchemy OAuth state store, awaited off the event loop."""

    def __init__(self, store: OAuthStateStore) -> None:
        self.sync = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.sync.issue, *args, **kwargs)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.sync.consume, state)


_STORES: dict[tuple[str, str], AsyncInstallations] = {}


def installations(settings: Settings, *, store: Store) -> AsyncInstallations:
    """The installation store in the bot's database (one per process and database)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    assert settings.slack_client_id is not None
    key = (settings.slack_client_id, store.path)
    if key not in _STORES:
        url = store.path if store.is_postgres else f"sqlite:///{store.path}"
        sync = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=_engine(url))
        sync.create_tables()  # CREATE TABLE IF NOT EXISTS, slack_sdk's own schema
        _STORES[key] = AsyncInstallations(sync)
    return _STORES[key]


def oauth_settings(settings: Settings, *, store: Store) -> AsyncOAuthSettings:
    """Bolt's OAuth settings: /slack/install, /slack/oauth_redirect, stores in our database."""
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    assert settings.slack_client_secret is not None
    url = store.path if store.is_postgres else f"sqlite:///{store.path}"
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=_engine(url))
    states.metadata.create_all(states.engine)
    scopes = [s.strip() for s in settings.slack_scopes.split(",") if s.strip()]
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=scopes or list(REQUIRED_SCOPES),
        redirect_uri=settings.slack_redirect_uri,
        installation_store=installations(settings, store=store),
        installation_store_bot_only=True,
        state_store=AsyncStates(states),
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE,
    )


def team_clients(settings: Settings, *, store: Store, session: aiohttp.ClientSession) -> Any:
    """``Poster.clients``: the client holding ``team``'s bot token, rotated when due."""
    found = installations(settings, store=store)
    assert settings.slack_client_secret is not None
    rotator = AsyncTokenRotator(
        client_id=str(settings.slack_client_id),
        client_secret=settings.slack_client_secret.get_secret_value(),
        client=AsyncWebClient(base_url=settings.slack_api_url, session=session),
    )
    clients: dict[str, AsyncWebClient] = {}
    lock = asyncio.Lock()

    async def client_for(team: str) -> AsyncWebClient:
        async with lock:  # one rotation per team at a time in this process
            bot = await found.async_find_bot(enterprise_id=None, team_id=team)
            if bot is None:
                raise NotInstalled(
                    f"Briefbot is not installed in workspace {team}.",
                    hint="Install it again from /slack/install.",
                )
            if bot.bot_token_expires_at is not None and bot.bot_token_expires_at < time.time() + (
                ROTATE_MINUTES_BEFORE * 60
            ):
                rotated = await rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE
                )
                if rotated is not None:
                    await found.async_save_bot(rotated)
                    bot = rotated
            token = str(bot.bot_token)
            if token not in clients:
                clients[token] = AsyncWebClient(
                    token=token, base_url=settings.slack_api_url, session=session,
                    retry_handlers=retry_handlers(),
                )  # fmt: skip
            return clients[token]

    return client_for
