"""``briefbot worker`` and ``briefbot db copy``: the fleet's command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.config import Settings


def add_fleet_parsers(sub: Any) -> None:
    sub.add_parser(
        "worker",
        help="run queued briefs and digests (fleet mode: DATABASE_URL=postgresql://...)",
        description="Run jobs from PostgreSQL until SIGINT/SIGTERM. Start as many as you like.",
    )
    p = sub.add_parser("db", help="database tools", description="Database tools.")
    dbsub = p.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    p = dbsub.add_parser(
        "copy",
        help="copy a SQLite database into PostgreSQL",
        description="Copy every table of an existing SQLite database into PostgreSQL "
        "(both are migrated to the latest schema first). Safe to re-run.",
    )
    p.add_argument(
        "--from", dest="source", required=True, metavar="SQLITE_URL",
        help="the old database, e.g. sqlite:////var/lib/briefbot/briefbot.db",
    )  # fmt: skip
    p.add_argument(
        "--to", dest="target", metavar="POSTGRES_URL",
        help="the new database (default: DATABASE_URL)",
    )  # fmt: skip


def run_fleet_cli(args: argparse.Namespace, settings: Settings) -> int:
    from bot.fleet import require_fleet

    require_fleet()
    if args.command == "worker":
        from bot.fleet.worker import check_fleet_settings, run

        check_fleet_settings(settings)  # before run() touches logging: a clean one-line exit
        run(settings)
        return 0
    from bot.store.copy import copy_database

    copied = copy_database(args.source, args.target or settings.database_url)
    for item in copied:
        print(f"{item.table}: {item.rows} rows", file=sys.stdout)
    return 0
