"""`briefbot doctor` rows for fleet mode: PostgreSQL, the job queue and OAuth settings."""

from __future__ import annotations

from typing import Literal

from bot.config import Settings
from bot.errors import BriefbotError
from bot.store.db import redact_url

Status = Literal["ok", "warn", "fail", "skip"]
Row = tuple[str, Status, str]


def fleet_rows(settings: Settings, mode: str) -> list[Row]:
    """Database and queue (with PostgreSQL) and OAuth rows; nothing in the embedded default."""
    rows: list[Row] = []
    if settings.is_fleet:
        rows += _database_and_queue(settings)
    rows.append(_oauth(settings, mode))
    return rows


def _database_and_queue(settings: Settings) -> list[Row]:
    from bot.store import MIGRATIONS, Store

    shown = redact_url(settings.database_url)
    try:
        store = Store.open(settings.database_url)  # migrates, as serve and worker would
    except BriefbotError as exc:
        return [("database", "fail", str(exc))]
    except ImportError:
        return [("database", "fail", "PostgreSQL needs the fleet extra: "
                 "pip install 'briefbot[fleet]'.")]  # fmt: skip
    with store:
        version = store.schema_version()
        conn = store._conn
        try:
            conn.execute("BEGIN")
            conn.execute("CREATE TEMPORARY TABLE doctor_probe (x INTEGER)")
            conn.execute("ROLLBACK")
        except Exception as exc:
            return [("database", "fail", f"{shown} is not writable ({type(exc).__name__}). "
                     "Grant the user CREATE and write rights on its schema.")]  # fmt: skip
        rows: list[Row] = [("database", "ok" if version == len(MIGRATIONS) else "fail",
                            f"PostgreSQL {shown}: writable, schema version {version}")]  # fmt: skip
        try:
            from bot.fleet.queue import ensure_schema

            ensure_schema(conn)
            live = conn.execute(
                "SELECT COUNT(*) FROM procrastinate_workers WHERE last_heartbeat >"
                " NOW() - make_interval(secs => ?)",
                (settings.worker_stalled_after,),
            ).fetchone()[0]
            waiting = conn.execute(
                "SELECT COUNT(*) FROM procrastinate_jobs WHERE status = 'todo'"
            ).fetchone()[0]
        except ImportError:
            return [*rows, ("queue", "fail", "the job queue needs the fleet extra: "
                            "pip install 'briefbot[fleet]'.")]  # fmt: skip
        if not live:
            rows.append(
                (
                    "queue",
                    "warn",
                    f"procrastinate ready, but no worker has a recent "
                    f"heartbeat ({waiting} job(s) waiting): start `briefbot worker`.",
                )
            )
        else:
            rows.append(("queue", "ok", f"procrastinate: {live} live worker(s), "
                         f"{waiting} job(s) waiting"))  # fmt: skip
    return rows


def _oauth(settings: Settings, mode: str) -> Row:
    name = "OAuth"
    has_id, has_secret = bool(settings.slack_client_id), bool(settings.slack_client_secret)
    if has_id != has_secret:
        missing = "SLACK_CLIENT_SECRET" if has_id else "SLACK_CLIENT_ID"
        return (name, "fail", f"{missing} is not set; set both (Basic Information > App "
                "Credentials) or neither.")  # fmt: skip
    if not settings.oauth_enabled:
        return (name, "skip", "one workspace (SLACK_BOT_TOKEN); set SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET to install in many")  # fmt: skip
    if mode != "http":
        return (name, "fail", "OAuth installs need http mode: run `briefbot serve --mode http`.")
    redirect = settings.slack_redirect_uri or ""
    if redirect and not (redirect.startswith("https://")
                         and redirect.rstrip("/").endswith("/slack/oauth_redirect")):  # fmt: skip
        return (name, "warn", "SLACK_REDIRECT_URI should be https://<host>/slack/oauth_redirect, "
                "as listed under OAuth & Permissions.")  # fmt: skip
    extra = " (SLACK_BOT_TOKEN is ignored)" if settings.slack_bot_token else ""
    return (name, "ok", f"install at /slack/install, redirect /slack/oauth_redirect{extra}")
