"""The Bolt app: one AsyncApp, thin listeners registered per area, shared dependencies."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack import allowlist, home, messages, questions, shortcuts, slash
from bot.slack.deps import Deps

log = logging.getLogger(__name__)

#: Each area registers its thin listeners with ``register(app, deps)``. Questions come
#: before messages: Bolt runs only the first listener that matches an event.
LISTENER_AREAS = (questions, messages, slash, shortcuts, home)


class _NoTokenNotice(logging.Filter):
    # AsyncApp reads SLACK_BOT_TOKEN from the environment itself, then warns that the
    # client we pass wins. That is intended: settings are read in one place (bot.config).
    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("bot.slack.bolt")
_BOLT_LOG.addFilter(_NoTokenNotice())


def build_app(settings: Settings, *, client: AsyncWebClient, deps: Deps) -> AsyncApp:
    """The app with every listener registered; the caller picks socket or http mode."""
    secret = settings.slack_signing_secret
    oauth: dict[str, Any] = {}
    if settings.oauth_enabled:  # many workspaces: tokens from the installation store
        from bot.fleet.oauth import oauth_settings

        oauth = {"oauth_settings": oauth_settings(settings, store=deps.store)}
    app = AsyncApp(
        **oauth,
        client=client,
        signing_secret=secret.get_secret_value() if secret else "",
        # Listeners only store a job, then Bolt acks: a job is durable before Slack hears
        # "ok", so a kill right after the ack can't lose it.
        process_before_response=True,
        logger=_BOLT_LOG,
        # Unnamed, Bolt names the app after its caller's file with inspect.stack(), which
        # maps every loaded module to its file (0.06 s at serve's start, more with more
        # modules loaded: 0.5-2 s in a test process).
        name="briefbot",
    )
    if settings.oauth_enabled:  # uninstalls delete the workspace's tokens and data
        from bot.fleet import uninstall
        from bot.fleet.oauth import installations

        uninstall.register(app, store=deps.store,
                           installations=installations(settings, store=deps.store))  # fmt: skip
    allowlist.register(app, deps)  # the allow-list, in front of every listener
    for area in LISTENER_AREAS:
        area.register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed on %s", body.get("type"), exc_info=error)

    return app
