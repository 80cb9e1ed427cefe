"""``briefbot db copy``: move an existing SQLite database into PostgreSQL.

Both ends are opened as the bot opens them (so both are migrated to the latest schema),
then every table is copied row by row. Tables are listed from the SQLite file itself, so
a table added by a later migration comes along without a change here. Rows already in
the target (same primary key) are kept, so a copy that stopped half-way can be re-run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.errors import ConfigError
from bot.store.db import is_postgres, redact_url
from bot.store.sqlite import Store

#: Bookkeeping of each database's own history: never copied.
_SKIP = frozenset({"schema_migrations"})
_BATCH = 500


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def copy_database(source_url: str, target_url: str) -> list[Copied]:
    """Copy every table of the SQLite database at ``source_url`` into ``target_url``."""
    if is_postgres(source_url) or not source_url.strip().startswith("sqlite:///"):
        raise ConfigError(
            "The source must be a SQLite database (sqlite:///path/to/briefbot.db).",
            hint="Pass the old DATABASE_URL (or BRIEFBOT_DATA_DIR/briefbot.db) as --from.",
        )
    if not is_postgres(target_url):
        raise ConfigError(
            f"The target {redact_url(target_url)} is not PostgreSQL.",
            hint="Pass --to postgresql://user@host:5432/dbname (or set DATABASE_URL).",
        )
    copied: list[Copied] = []
    with Store.open(source_url) as source, Store.open(target_url) as target:
        src = source._conn
        tables = [
            row[0]
            for row in src.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if row[0] not in _SKIP
        ]
        with target._tx() as conn:
            for table in tables:
                copied.append(Copied(table, _copy_table(src, conn, table)))
            # brief_log ids were copied as they were: move its counter past them.
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('brief_log', 'id'),"
                " GREATEST((SELECT MAX(id) FROM brief_log), 1))"
            )
    return copied


def _copy_table(src: Any, dst: Any, table: str) -> int:
    # Table and column names come from the SQLite catalogue of our own schema, never
    # from input; values are always bound.
    cur = src.execute(f'SELECT * FROM "{table}"')  # noqa: S608
    names = [d[0] for d in cur.description]
    columns = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" * len(names))
    insert = f'INSERT OR IGNORE INTO "{table}" ({columns}) VALUES ({marks})'  # noqa: S608
    total = 0
    while rows := cur.fetchmany(_BATCH):
        dst.executemany(insert, [tuple(r) for r in rows])
        total += len(rows)
    return total
