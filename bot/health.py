"""/healthz, /readyz and /metrics: the routes a load balancer and Prometheus call.

Liveness, readiness checks (database, Slack) and the side port that serves them in socket
mode. The metrics themselves live in bot.metrics.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST

from bot.errors import ConfigError
from bot.metrics import metrics_text
from bot.store.db import PgConnection, is_postgres

if TYPE_CHECKING:
    from aiohttp import web
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

Readiness = Callable[[], Awaitable[dict[str, bool]]]


def database_check(path: str) -> Callable[[], Awaitable[bool]]:
    """Readiness: the SQLite file (or PostgreSQL) opens read-write and is migrated."""
    from bot.store.migrations import MIGRATIONS

    def probe() -> bool:
        if path == ":memory:":
            return True
        if is_postgres(path):
            return _pg_probe(path)
        try:
            # mode=rw: a deleted database must fail, not be re-created empty.
            conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2.0)
        except sqlite3.Error:
            return False
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            return version >= len(MIGRATIONS)
        except sqlite3.Error:
            return False
        finally:
            conn.close()

    async def check() -> bool:
        return await asyncio.to_thread(probe)

    return check


def _pg_probe(url: str) -> bool:
    """Readiness on PostgreSQL: it answers, and the schema is the latest."""
    from bot.store.migrations import MIGRATIONS, schema_version

    try:
        conn = PgConnection(url)
    except Exception:  # refused, auth, timeout: not ready
        return False
    try:
        return schema_version(conn) >= len(MIGRATIONS)
    except Exception:
        return False
    finally:
        conn.close()


def slack_check(client: AsyncWebClient, *, ttl: float = 15.0) -> Callable[[], Awaitable[bool]]:
    """Readiness: Slack answers auth.test with our token (a success is reused for ``ttl`` s)."""
    last_ok = -float("inf")

    async def check() -> bool:
        nonlocal last_ok
        if time.monotonic() - last_ok < ttl:
            return True
        try:
            await client.auth_test()
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            log.warning("readiness: Slack auth.test failed: %s", type(exc).__name__)
            return False
        last_ok = time.monotonic()
        return True

    return check


def readiness(**checks: Callable[[], Awaitable[bool]]) -> Readiness:
    """Combine named checks into the ``ready`` callable /readyz runs (concurrently)."""

    async def ready() -> dict[str, bool]:
        names = list(checks)
        results = await asyncio.gather(*(checks[n]() for n in names), return_exceptions=True)
        return {n: r is True for n, r in zip(names, results, strict=True)}

    return ready


def add_health_routes(app: web.Application, *, ready: Readiness, ops: bool = True) -> None:
    """Add GET /healthz (liveness) and, if ``ops``, /readyz (``ready`` checks) and /metrics."""
    from aiohttp import web

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        try:
            checks = await ready()
        except Exception:
            log.exception("readiness checks raised")
            checks = {"checks": False}
        failed = sorted(name for name, ok in checks.items() if not ok)
        body: dict[str, Any] = {"status": "fail" if failed else "ok", "checks": checks}
        if failed:
            body["failed"] = failed
        return web.Response(
            text=json.dumps(body), status=503 if failed else 200, content_type="application/json"
        )

    async def metrics(request: web.Request) -> web.Response:
        # Rendered on the loop: gauge callbacks read the job queue's loop-owned connection.
        return web.Response(body=metrics_text(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    if not ops:  # they live on the ops port (BRIEFBOT_METRICS_PORT) instead
        return
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


async def _always_ready() -> dict[str, bool]:
    return {}


async def start_metrics_server(
    host: str, port: int, ready: Readiness | None = None
) -> web.AppRunner:
    """Serve /healthz, /readyz and /metrics on ``host:port`` (socket mode's side port).

    ``port=0`` picks a free port (``runner.addresses[0][1]``). Call ``await
    runner.cleanup()`` to stop it.
    """
    from aiohttp import web

    app = web.Application()
    add_health_routes(app, ready=ready or _always_ready)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(
            f"Can't serve metrics on {host}:{port} ({exc.strerror or exc}).",
            hint="Pick a free port with BRIEFBOT_METRICS_PORT, or 0 to turn the side port off.",
        ) from None
    return runner
