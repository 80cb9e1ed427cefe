"""The Bolt app: one AsyncApp, thin listeners registered per area, shared dependencies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack import allowlist, home, messages, questions, shortcuts, slash
from bot.slack.channels import ChannelSettings
from bot.slack.jobs import JobQueue, NewJob
from bot.slack.limits import Admission, JobRate
from bot.store import Store

log = logging.getLogger(__name__)

#: Each area registers its thin listeners with ``register(app, deps)``. Questions come
#: before messages: Bolt runs only the first listener that matches an event.
LISTENER_AREAS = (questions, messages, slash, shortcuts, home)


@dataclass
class Deps:
    """What listeners need: settings, storage, the job queue, and a way to run work later."""

    settings: Settings
    store: Store
    queue: JobQueue
    channels: ChannelSettings
    client: AsyncWebClient | None = None
    wake: Callable[[], None] = lambda: None
    #: Multi-workspace installs: the client holding a team's token (bot/fleet/oauth.py).
    clients: Callable[[str], Awaitable[AsyncWebClient]] | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def enqueue(self, jobs: Iterable[NewJob]) -> list[bool]:
        """Store jobs (a repeated identity is a no-op) and wake the workers; True if new."""
        jobs = list(jobs)
        if not jobs:
            return []
        new = self.queue.enqueue_many(jobs)
        if any(new):
            self.wake()
        return new

    def admit(
        self, jobs: Iterable[NewJob], *, team: str, user: str | None, channel: str
    ) -> Admission:
        """The jobs within the user's and the channel's hourly rate (see bot.slack.limits)."""
        rate = JobRate.from_settings(self.queue.conn, self.settings)
        return rate.admit(list(jobs), team=team, user=user, channel=channel)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run non-durable follow-up work (Home tab, ephemeral notes) after the ack."""
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def cancel_tasks(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())


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
