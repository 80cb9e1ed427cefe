"""Fleet mode: PostgreSQL, a real job queue (procrastinate), many web and worker replicas."""

from __future__ import annotations

import importlib.util

from bot.errors import ConfigError


def require_fleet() -> None:
    """ConfigError with the fix when the fleet extra (driver, queue) is not installed."""
    missing = [m for m in ("psycopg", "procrastinate") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"Fleet mode needs {', '.join(missing)}, which is not installed.",
            hint="pip install 'briefbot[fleet]'.",
        )
