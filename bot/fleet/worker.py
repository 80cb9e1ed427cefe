"""``briefbot worker``: run queued jobs and digest slots from PostgreSQL, as one of many.

Any number of workers (and web replicas) share one PostgreSQL. procrastinate hands each
job to one worker; a worker that dies stops sending heartbeats and the others retry its
jobs (``retry_stalled``); the job's own row (placeholder ts, replies) makes the rerun
update what was already posted instead of posting again. Digest slots are claimed in the
database before any work, so every worker may run the scheduler and each slot posts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import procrastinate

from bot import metrics, retention
from bot.config import Settings
from bot.digest.delivery import Clock
from bot.errors import ConfigError
from bot.fleet.queue import QUEUE, TASK, build_queue_app, dispatcher, ensure_schema, retry_stalled
from bot.ingest.sandbox import parser_pool
from bot.logs import job_context
from bot.service import BriefService
from bot.slack.client import build_web_client
from bot.slack.jobs import JobQueue
from bot.slack.pacing import ChannelPacer
from bot.slack.poster import Poster
from bot.store import Store

log = logging.getLogger(__name__)

#: On SIGTERM, running jobs get this long to finish; the rest are retried elsewhere.
SHUTDOWN_GRACE_SECONDS = 10.0


def check_fleet_settings(settings: Settings) -> None:
    """Workers need PostgreSQL: the embedded SQLite queue runs inside ``serve`` instead."""
    if not settings.is_fleet:
        raise ConfigError(
            "`briefbot worker` needs DATABASE_URL=postgresql://... (fleet mode).",
            hint="With SQLite, `briefbot serve` runs the jobs itself; no worker is needed.",
        )
    if not settings.slack_bot_token and not settings.oauth_enabled:
        raise ConfigError(
            "The worker has no Slack token.",
            hint="Set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (installed through OAuth).",
        )


@dataclass
class Worker:
    """A running worker's parts, for tests that drive one in-process."""

    app: procrastinate.App
    queue: JobQueue
    poster: Poster


async def run_one(queue: JobQueue, poster: Poster, job_id: str) -> None:
    """The procrastinate task: claim our job row by id and run it to its next state."""
    job = queue.claim_id(job_id)
    if job is None:
        return  # finished by an earlier run; nothing to repeat
    with job_context(job.id):
        try:
            await poster.run(job)
        except asyncio.CancelledError:
            queue.release(job)  # re-deferred: another worker picks it up
            raise


@asynccontextmanager
async def working(
    settings: Settings, *, digest_clock: Clock | None = None
) -> AsyncIterator[Worker]:
    """Open everything a worker needs and run jobs until the context exits."""
    check_fleet_settings(settings)
    from bot.slack.serve import _close_engine, _start_digests

    async with contextlib.AsyncExitStack() as stack:
        store = stack.enter_context(Store.open(settings.database_url))
        app = build_queue_app(settings.database_url)
        queue = JobQueue.open(store.path, dispatch=dispatcher(app))
        stack.callback(queue.close)
        ensure_schema(queue.conn)
        session = aiohttp.ClientSession(trace_configs=[metrics.slack_trace_config()])
        stack.push_async_callback(session.close)
        client = build_web_client(settings, session=session)
        service = BriefService(settings, store=store)
        stack.push_async_callback(_close_engine, service)
        poster = Poster(
            settings=settings, client=client, queue=queue, service=service,
            pacer=ChannelPacer(settings.channel_post_interval),
        )  # fmt: skip
        from bot.ask.service import AskService
        from bot.ask.store import AskStore
        from bot.slack.questions import QuestionJobs

        asker = AskService(settings, store=store)
        stack.push_async_callback(asker.aclose)
        QuestionJobs(poster, asker, AskStore(queue.conn)).install()

        if settings.oauth_enabled:  # each job posts with its own team's token
            from bot.fleet.oauth import team_clients

            poster.clients = team_clients(settings, store=store, session=session)

        @app.task(name=TASK, queue=QUEUE)
        async def run_job(job_id: str) -> None:
            await run_one(queue, poster, job_id)

        await app.open_async()
        stack.push_async_callback(app.close_async)
        tasks: set[asyncio.Task[None]] = set()
        stack.callback(lambda: [t.cancel() for t in tasks])
        retention.start(settings, store=store, queue=queue, spawn=_spawner(tasks))
        parser_pool().prestart()  # loads the parsers now, not during the first job
        worker_task = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE],
                concurrency=settings.max_jobs_in_flight,
                wait=True,
                install_signal_handlers=False,
                update_heartbeat_interval=settings.worker_heartbeat,
                stalled_worker_timeout=settings.worker_stalled_after,
                shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
                # Our jobs table keeps each job's record; procrastinate's rows can go.
                delete_jobs="successful",
            ),
            name="procrastinate-worker",
        )
        stack.push_async_callback(_stop, worker_task)
        recover = asyncio.create_task(_recover_forever(app, settings), name="stalled-jobs")
        tasks.add(recover)
        stack.push_async_callback(
            _start_digests(settings, store, client, clock=digest_clock, clients=poster.clients)
        )
        # Tests and operators wait for this line, as for serve's "listening on".
        print("briefbot: worker running", flush=True, file=sys.stderr)
        yield Worker(app=app, queue=queue, poster=poster)


def _spawner(tasks: set[asyncio.Task[None]]) -> Callable[..., None]:
    def spawn(coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    return spawn


async def _recover_forever(app: procrastinate.App, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.worker_heartbeat)
        try:
            retried = await retry_stalled(
                app, seconds_since_heartbeat=settings.worker_stalled_after
            )
            if retried:
                log.warning("retried %d job(s) of a worker that stopped", retried)
        except Exception:
            log.exception("looking for stalled jobs failed")


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def run(settings: Settings) -> None:
    """Blocking entry point of ``briefbot worker``; returns after SIGINT/SIGTERM."""
    bot_log = logging.getLogger("bot")
    if bot_log.getEffectiveLevel() > getattr(logging, settings.log_level):
        bot_log.setLevel(settings.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with working(settings):
            await stop.wait()

    asyncio.run(main())
