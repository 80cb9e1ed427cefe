"""``briefbot serve``: run the Slack app in Socket Mode or HTTP mode until SIGINT/SIGTERM.

The same process runs the digest scheduler (bot.digest.delivery.scheduler_loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import health, metrics, retention
from bot.ask.service import AskService
from bot.ask.store import AskStore
from bot.config import Settings
from bot.digest.delivery import Clock, scheduler_loop
from bot.errors import ConfigError
from bot.ingest.sandbox import parser_pool
from bot.service import BriefService
from bot.slack.app import build_app
from bot.slack.channels import ChannelSettings
from bot.slack.client import build_web_client
from bot.slack.deps import Deps
from bot.slack.http_gate import check_request
from bot.slack.jobs import JobQueue
from bot.slack.pacing import ChannelPacer
from bot.slack.poster import Poster
from bot.slack.questions import QuestionJobs
from bot.slack.scopes import REQUIRED_SCOPES
from bot.slack.worker import JobRunner
from bot.store import Store
from bot.store.db import is_db_error

log = logging.getLogger(__name__)

Mode = Literal["socket", "http"]
EVENTS_PATH = "/slack/events"
#: Finished jobs are kept this long, so a late retry from Slack is still recognised.
KEEP_JOBS_SECONDS = 7 * 24 * 3600
#: On shutdown, running briefs get this long to finish before they are handed back.
SHUTDOWN_GRACE_SECONDS = 10.0


def check_settings(settings: Settings, mode: Mode) -> None:
    """Fail early, with the fix, when a token the mode needs is missing."""
    if settings.oauth_enabled:
        if mode != "http":
            raise ConfigError(
                "Installing through OAuth (SLACK_CLIENT_ID) needs http mode.",
                hint="Run `briefbot serve --mode http`, or unset SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET to use one workspace's SLACK_BOT_TOKEN.",
            )
    elif not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set.",
            hint="Copy the Bot User OAuth Token (xoxb-...) from your Slack app's "
            "OAuth & Permissions page into SLACK_BOT_TOKEN.",
        )
    if mode == "socket" and not settings.slack_app_token:
        raise ConfigError(
            "Socket mode needs SLACK_APP_TOKEN.",
            hint="Create an app-level token with the connections:write scope (Basic "
            "Information > App-Level Tokens) and set SLACK_APP_TOKEN=xapp-..., "
            "or run `briefbot serve --mode http`.",
        )
    if mode == "http" and not settings.slack_signing_secret:
        raise ConfigError(
            "HTTP mode needs SLACK_SIGNING_SECRET to check that requests come from Slack.",
            hint="Copy the Signing Secret from your app's Basic Information page.",
        )


async def check_auth(client: AsyncWebClient) -> dict[str, str]:
    """auth.test: who we are; ConfigError if Slack refuses the token or can't be reached."""
    try:
        resp = await client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"Slack rejected SLACK_BOT_TOKEN ({exc.response.get('error')}).",
            hint="Reinstall the app to your workspace and copy its Bot User OAuth Token again.",
        ) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ConfigError(
            f"Can't reach Slack at {client.base_url} ({type(exc).__name__}).",
            hint="Check the network, or SLACK_API_URL if you set it.",
        ) from None
    granted = {s.strip() for s in str(resp.headers.get("x-oauth-scopes", "")).split(",") if s}
    missing = sorted(set(REQUIRED_SCOPES) - granted) if granted else []
    if missing:
        log.warning(
            "the bot token lacks scopes %s; reinstall the app from deploy/slack-manifest.yml",
            ", ".join(missing),
        )
    return {"user_id": str(resp.get("user_id")), "team_id": str(resp.get("team_id"))}


@dataclass
class Bot:
    """A running bot's parts, for tests and benchmarks that drive it in-process."""

    app: AsyncApp
    deps: Deps
    runner: JobRunner
    client: AsyncWebClient
    url: str | None = None  # http mode: where Slack should POST
    ops_url: str | None = None  # with BRIEFBOT_METRICS_PORT: where /readyz and /metrics are


def _announce(message: str) -> None:
    # Tests and operators read this line; the CLI's logging may be quieter than INFO.
    print(f"briefbot: {message}", file=sys.stderr, flush=True)


@asynccontextmanager
async def running(
    settings: Settings, *, mode: Mode, port: int, host: str | None = None,
    digest_clock: Clock | None = None,
) -> AsyncIterator[Bot]:  # fmt: skip
    """Start the bot (job workers, digest scheduler, Socket Mode or HTTP); stop on exit.

    ``digest_clock`` is the scheduler's time (tests inject one); the system clock if None.

    The workers share the event loop with the listeners. (A thread of their own was
    measured: acks got slower, as the two threads then fight over the GIL.)
    """
    check_settings(settings, mode)
    host = host or settings.host
    async with contextlib.AsyncExitStack() as stack:
        # Closed last to first: stop receiving, finish or hand back jobs, then close up.
        store = stack.enter_context(Store.open(settings.database_url))
        # Fleet mode: jobs are deferred to procrastinate and run by `briefbot worker`.
        dispatch = _fleet_dispatch(settings) if settings.is_fleet else None
        queue = JobQueue.open(store.path, dispatch=dispatch)
        stack.callback(queue.close)
        if dispatch is not None:
            from bot.fleet.queue import ensure_schema

            ensure_schema(queue.conn)
        # One pooled session for every Web API call (the SDK's default is one per call),
        # timed as the "post" stage in /metrics.
        session = aiohttp.ClientSession(trace_configs=[metrics.slack_trace_config()])
        stack.push_async_callback(session.close)
        client = build_web_client(settings, session=session)
        if not settings.oauth_enabled:  # with OAuth, each team's token is checked on install
            await check_auth(client)

        service = BriefService(settings, store=store)
        stack.push_async_callback(_close_engine, service)
        channels = ChannelSettings(queue.conn, auto_default=settings.auto_brief_default)
        deps = Deps(settings=settings, store=store, queue=queue, channels=channels, client=client)
        stack.callback(deps.cancel_tasks)
        poster = Poster(
            settings=settings,
            client=client,
            queue=queue,
            service=service,
            pacer=ChannelPacer(settings.channel_post_interval),
            channels=channels,
        )
        deps.pacer = poster.pacer  # /brief digest now posts at the same pace
        if settings.oauth_enabled:  # each job posts with its own team's token
            from bot.fleet.oauth import team_clients

            poster.clients = team_clients(settings, store=store, session=session)
        ask_store = AskStore(queue.conn)
        asker = AskService(settings, store=store)
        stack.push_async_callback(asker.aclose)
        QuestionJobs(poster, asker, ask_store).install()
        workers = JobRunner(queue, poster.run, concurrency=settings.max_jobs_in_flight)
        deps.wake = poster.wake = workers.wake
        deps.clients = poster.clients
        app = build_app(settings, client=client, deps=deps)
        if dispatch is None:  # the embedded default: this process runs the jobs too
            parser_pool().prestart()  # loads the parsers now, not during the first link
            queue.prune(older_than=KEEP_JOBS_SECONDS)
            retention.start(settings, store=store, queue=queue, spawn=deps.spawn)  # now, hourly
            workers.start()  # first requeues what a killed run left unfinished
            stack.push_async_callback(lambda: workers.stop(grace=SHUTDOWN_GRACE_SECONDS))
            # Cron users may run `briefbot digest run-due` as well: each slot is claimed
            # once in the database, so the two never post the same digest.
            stack.push_async_callback(
                _start_digests(
                    settings,
                    store,
                    client,
                    clock=digest_clock,
                    clients=poster.clients,
                    pacer=poster.pacer,
                )
            )
        metrics.watch_jobs(queued=_queued_count(queue), in_flight=lambda: workers.in_flight)
        ready = health.readiness(
            database=health.database_check(store.path), slack=health.slack_check(client)
        )

        bot = Bot(app=app, deps=deps, runner=workers, client=client)
        oauth = _oauth_routes(app) if settings.oauth_enabled else None
        if mode == "socket":
            await stack.enter_async_context(_socket_mode(app, settings, client))
            _announce("connected to Slack in socket mode")
        else:
            secret = settings.slack_signing_secret
            assert secret is not None  # checked by check_settings
            bot.url = await stack.enter_async_context(
                _http_mode(app, host=host, port=port, ready=ready,
                           secret=secret.get_secret_value(),
                           ops_elsewhere=bool(settings.metrics_port), oauth=oauth)
            )  # fmt: skip
            _announce(f"listening on {bot.url}")
        if settings.metrics_port:
            # The ops port: its own interface (localhost by default), never the public one.
            side = await health.start_metrics_server(
                settings.metrics_host, settings.metrics_port, ready
            )
            stack.push_async_callback(side.cleanup)
            bound_host, bound_port = side.addresses[0][:2]
            bot.ops_url = f"http://{bound_host}:{bound_port}"
            _announce(f"health and metrics on {bound_host} port {bound_port}")
        yield bot


def _fleet_dispatch(settings: Settings) -> Any:
    from bot.fleet import require_fleet

    require_fleet()
    from bot.fleet.queue import build_queue_app, dispatcher

    return dispatcher(build_queue_app(settings.database_url))


def _start_digests(
    settings: Settings, store: Store, client: AsyncWebClient, *, clock: Clock | None,
    clients: Any = None, pacer: ChannelPacer | None = None,
) -> Callable[[], Awaitable[None]]:  # fmt: skip
    """Start the digest scheduler as a task; returns what stops it and waits for it."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        scheduler_loop(
            settings, store, client, clock=clock, stop=stop, clients=clients, pacer=pacer
        ),
        name="digest-scheduler",
    )

    async def stop_digests() -> None:
        stop.set()
        try:
            # A digest being composed gets the same grace as a running brief.
            await asyncio.wait_for(task, timeout=SHUTDOWN_GRACE_SECONDS)
        except TimeoutError:
            log.warning("the digest scheduler was cancelled after %.0fs", SHUTDOWN_GRACE_SECONDS)
        except Exception:
            log.exception("the digest scheduler failed")

    return stop_digests


def _oauth_routes(app: AsyncApp) -> list[str]:
    flow = app.oauth_flow
    assert flow is not None  # build_app sets it when OAuth is on
    return [flow.install_path, flow.redirect_uri_path]


async def _close_engine(service: BriefService) -> None:
    """Close the model client's connections while the loop still runs."""
    with contextlib.suppress(Exception):
        await service.engine.aclose()


def _queued_count(queue: JobQueue) -> Callable[[], float]:
    def count() -> float:
        try:
            return float(queue.counts().get("queued", 0))
        except Exception as exc:  # scraped after shutdown closed the connection
            if not is_db_error(exc):
                raise
            return 0.0

    return count


@asynccontextmanager
async def _socket_mode(
    app: AsyncApp, settings: Settings, client: AsyncWebClient
) -> AsyncIterator[None]:
    assert settings.slack_app_token is not None  # checked by check_settings
    # Sharing the app's client makes apps.connections.open go to SLACK_API_URL too.
    handler = AsyncSocketModeHandler(
        app, settings.slack_app_token.get_secret_value(), web_client=client
    )
    await handler.connect_async()
    try:
        yield
    finally:
        await handler.close_async()


@asynccontextmanager
async def _http_mode(
    app: AsyncApp, *, host: str, port: int, ready: health.Readiness, secret: str,
    ops_elsewhere: bool = False, oauth: list[str] | None = None,
) -> AsyncIterator[str]:  # fmt: skip
    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        refused = check_request(request.headers, body, secret=secret)
        if refused is not None:
            # One quiet line: strangers' junk is not our error.
            log.info("refused a request to %s: %s (HTTP %d)", EVENTS_PATH, refused.reason,
                     refused.status)  # fmt: skip
            return web.Response(status=refused.status, text=refused.reason)
        bolt_resp = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_resp)

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    if oauth:  # /slack/install and /slack/oauth_redirect: Bolt's own flow
        flow = app.oauth_flow
        assert flow is not None

        async def install(request: web.Request) -> web.Response:
            bolt_req = await to_bolt_request(request)
            if request.path == flow.install_path:
                return await to_aiohttp_response(await flow.handle_installation(bolt_req))
            return await to_aiohttp_response(await flow.handle_callback(bolt_req))

        for path in oauth:
            web_app.router.add_get(path, install)
    # /healthz, and /readyz and /metrics unless they moved to the ops port.
    health.add_health_routes(web_app, ready=ready, ops=not ops_elsewhere)
    web_runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await web_runner.setup()
    site = web.TCPSite(web_runner, host, port)
    await site.start()
    try:
        bound_port = web_runner.addresses[0][1]  # the real port when asked for port 0
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        yield f"http://{shown}:{bound_port}{EVENTS_PATH}"
    finally:
        await web_runner.cleanup()


async def serve(
    settings: Settings, *, mode: Mode, port: int, stop: asyncio.Event | None = None,
    on_ready: Callable[[Bot], None] | None = None,
) -> None:  # fmt: skip
    """Run until ``stop`` is set (SIGINT/SIGTERM set it when run from :func:`run`)."""
    stop = stop or asyncio.Event()
    async with running(settings, mode=mode, port=port) as bot:
        if on_ready is not None:
            on_ready(bot)
        await stop.wait()
        _announce("shutting down")


def run(settings: Settings, *, mode: Mode, port: int) -> None:
    """Blocking entry point of ``briefbot serve``; returns after a clean shutdown."""
    bot_log = logging.getLogger("bot")
    if bot_log.getEffectiveLevel() > getattr(logging, settings.log_level):
        # A server's INFO lines (jobs, retries) matter even when the CLI itself is quiet.
        bot_log.setLevel(settings.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows
                loop.add_signal_handler(sig, stop.set)
        await serve(settings, mode=mode, port=port, stop=stop)

    asyncio.run(main())
