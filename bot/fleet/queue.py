"""Jobs on procrastinate: web replicas defer, ``briefbot worker`` replicas run.

Our ``jobs`` table stays the record of each job's identity and progress (placeholder ts,
replies, attempts); procrastinate only decides *who runs what when*. A web replica
stores the identity and defers the procrastinate job in one transaction
(``JobQueue.dispatch``), so an ack means both are durable and a duplicate delivery (same
identity, any replica) defers nothing. Each procrastinate job carries one of our job ids
and a lock on it, so one job never runs twice at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import procrastinate
from procrastinate.jobs import Job as ProcJob

from bot.store.db import PgConnection, pg_dsn

log = logging.getLogger(__name__)

TASK = "briefbot.run_job"
QUEUE = "briefbot"
#: Serialises schema creation when replicas start together.
_SCHEMA_LOCK = 4242014


def build_queue_app(url: str) -> procrastinate.App:
    """The procrastinate app over the bot's PostgreSQL (opened only by workers)."""
    connector = procrastinate.PsycopgConnector(conninfo=pg_dsn(url), min_size=1, max_size=4)
    return procrastinate.App(connector=connector)


def ensure_schema(conn: PgConnection) -> bool:
    """Create procrastinate's tables and functions unless present; True if created now."""
    if _has_queue_tables(conn):
        return False
    schema = procrastinate.schema.SchemaManager.get_schema()
    conn.execute("BEGIN")
    try:
        conn.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
        exists = [_has_queue_tables(conn)]
        if not exists[0]:
            conn.raw.execute(schema)  # procrastinate's own DDL, run as it ships
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return not exists[0]


def dispatcher(app: procrastinate.App) -> Any:
    """``JobQueue.dispatch`` for fleet mode: defer on the caller's connection and transaction."""

    def dispatch(conn: PgConnection, job_ids: list[str], not_before: float | None) -> None:
        at = datetime.fromtimestamp(not_before, UTC) if not_before else None
        jobs = [
            ProcJob(
                queue=QUEUE,
                task_name=TASK,
                lock=job_id,
                queueing_lock=None,
                task_kwargs={"job_id": job_id},
                scheduled_at=at,
            )
            for job_id in job_ids
        ]
        app.job_manager.batch_defer_jobs(jobs=jobs, connection=conn.raw)

    return dispatch


async def retry_stalled(app: procrastinate.App, *, seconds_since_heartbeat: float) -> int:
    """Hand the jobs of workers that stopped sending heartbeats (killed) to live workers."""
    retried = 0
    for job in await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=seconds_since_heartbeat
    ):
        try:
            await app.job_manager.retry_job(job)
            retried += 1
        except Exception as exc:  # another worker retried it first
            log.debug("stalled job %s not retried here: %s", job.id, exc)
    return retried


def _has_queue_tables(conn: PgConnection) -> bool:
    # A plain catalogue query (fresh snapshot): see tables a replica made while we waited.
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE tablename ="
        " 'procrastinate_jobs' AND schemaname = current_schema())"
    ).fetchone()
    return bool(row[0])
