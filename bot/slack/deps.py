"""What every Slack listener is handed: settings, storage, the job queue, background work.

Its own module, so that a listener imports the dependencies it needs without importing
the app module that builds Bolt and imports every listener.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.channels import ChannelSettings
from bot.slack.jobs import JobQueue, NewJob
from bot.slack.limits import Admission, JobRate
from bot.slack.pacing import ChannelPacer
from bot.store import Store

log = logging.getLogger(__name__)


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
    #: The job poster's channel pace, shared by digests posted on demand.
    pacer: ChannelPacer | None = None
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
