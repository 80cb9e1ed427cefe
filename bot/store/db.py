"""The SQLite plumbing every table owner shares: one way to connect, one way to write.

Also where a SQLite database lives (its URL's file, made private) and PostgreSQL's
spelling of the same SQL.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

BUSY_TIMEOUT_MS = 5000


def connect(path: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """An autocommit connection (explicit transactions only) returning ``sqlite3.Row``s.

    Callers serialise use of the connection themselves (a lock, or one event loop), so it
    may cross threads. Files use WAL: readers never block the writer, and a crash leaves
    a consistent database.
    """
    conn = sqlite3.connect(
        path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, much faster
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """One write transaction, taken up front so concurrent writers queue instead of failing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --- where a SQLite database lives ------------------------------------------------------

_URL_HINT = "DATABASE_URL must be sqlite:///path/to/file.db or postgresql://host/db."


def sqlite_path(url: str) -> str:
    """The file path (or ":memory:") behind a sqlite:/// URL."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        return ":memory:"
    if not url.startswith("sqlite:///"):
        scheme = url.split(":", 1)[0] if ":" in url else url
        raise ConfigError(f"Unsupported database URL scheme {scheme!r}.", hint=_URL_HINT)
    # SQLAlchemy's spelling: sqlite:///relative.db and sqlite:////absolute.db
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    if not path:
        raise ConfigError("DATABASE_URL names no database file.", hint=_URL_HINT)
    return path


#: The database holds article text, briefs and who asked: the owner's eyes only.
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_file(path: Path) -> None:
    """Create the database's directory 0700 and the file 0600 (tightening an existing one).

    SQLite gives -wal and -shm the main file's mode, so they follow; any left from an
    older, world-readable install are tightened too.
    """
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for directory in reversed(missing):  # only the directories we create are made private
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(directory, DIR_MODE)  # mkdir's mode is filtered by the umask
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077 and file.stat().st_uid == os.getuid():
                os.chmod(file, FILE_MODE)
        except FileNotFoundError:
            continue


# --- PostgreSQL -------------------------------------------------------------------------
#
# The stores speak one SQL dialect, SQLite's, with ``?`` parameters. On PostgreSQL the
# same statements run through ``PgConnection``, which rewrites the handful of SQLite-only
# spellings the stores use (listed in ``pg_sql``). That keeps every table owner's SQL and
# every migration in one place for both backends, including steps other modules append.

PG_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgres(url: str) -> bool:
    return url.strip().startswith(PG_SCHEMES)


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def pg_dsn(url: str) -> str:
    """A libpq URI: SQLAlchemy's ``postgresql+psycopg://`` spelling loses its driver part."""
    url = url.strip()
    return "postgresql://" + url.split("://", 1)[1]


_JSON_FIELD = re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)")
_JSON_FIELD_PARAM = re.compile(r"json_extract\((\w+), \?\)")  # the path '$.key' is bound
_JSON_LENGTH = re.compile(r"json_array_length\((\w+), '\$\.(\w+)'\)")
_DDL = (
    ("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"),
    (" REAL ", " DOUBLE PRECISION "),
    (" REAL\n", " DOUBLE PRECISION\n"),
    (" REAL,", " DOUBLE PRECISION,"),
)


@functools.lru_cache(maxsize=512)
def pg_sql(sql: str) -> str:
    """SQLite-dialect SQL as PostgreSQL runs it.

    ``?`` -> ``%s`` (and a literal ``%`` -> ``%%``), ``INSERT OR IGNORE`` -> ``ON CONFLICT
    DO NOTHING``, ``IS ?`` -> ``IS NOT DISTINCT FROM``, ``json_extract(col, '$.k')`` (or a
    bound ``'$.k'``) -> ``col::jsonb ->> 'k'``, ``json_array_length(col, '$.k')``,
    ``BEGIN IMMEDIATE`` -> ``BEGIN``, and the two DDL types PostgreSQL spells
    differently. Question marks inside string literals are left alone.
    """
    text = sql.strip()
    if text.upper().startswith("BEGIN"):
        return "BEGIN"
    for old, new in _DDL:
        text = text.replace(old, new)
    text = _JSON_FIELD.sub(r"(\1::jsonb ->> '\2')", text)
    text = _JSON_FIELD_PARAM.sub(r"(\1::jsonb ->> substr(CAST(? AS TEXT), 3))", text)
    text = _JSON_LENGTH.sub(r"json_array_length(\1::json -> '\2')", text)
    text = text.replace(" IS ?", " IS NOT DISTINCT FROM ?")
    if text.upper().startswith("INSERT OR IGNORE"):
        text = "INSERT" + text[len("INSERT OR IGNORE") :]
        head, sep, tail = text.partition(" RETURNING ")
        text = f"{head} ON CONFLICT DO NOTHING{sep}{tail}"
    out: list[str] = []
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "%":
            out.append("%%")
        elif char == "?" and not quoted:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


class PgRow(tuple):
    """A row readable by index and by column name, like ``sqlite3.Row``."""

    _index: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _pg_row_factory(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    names = [d.name for d in cursor.description or ()]
    row_type = type("Row", (PgRow,), {"_index": {n: i for i, n in enumerate(names)}})
    return lambda values: row_type(values)


class PgCursor:
    """The part of ``sqlite3.Cursor`` the stores use."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.rowcount: int = cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """A psycopg connection that takes the stores' SQLite-dialect SQL (see ``pg_sql``).

    Autocommit like the SQLite connections: a statement outside BEGIN commits on its own.
    Callers serialise use of one connection, as they do with SQLite.
    """

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg  # only fleet installs need the driver loaded

        self.url = url
        self.raw = psycopg.connect(pg_dsn(url), autocommit=True, row_factory=_pg_row_factory)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        upper = sql.strip().upper()
        if upper in ("COMMIT", "ROLLBACK") and not self.in_transaction:
            return PgCursor(self.raw.cursor())
        return PgCursor(self.raw.execute(pg_sql(sql), tuple(params)))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(pg_sql(sql), [tuple(r) for r in rows])

    def close(self) -> None:
        self.raw.close()


def connect_url(url: str, *, path: str | None = None) -> Any:
    """A connection to the database behind ``url``: sqlite3 for files, PgConnection for PG.

    ``path`` is the SQLite file the Store resolved from ``url`` (``Store.path``).
    """
    if is_postgres(url):
        return PgConnection(url)
    return connect(path or url, busy_timeout_ms=BUSY_TIMEOUT_MS)


def is_db_error(exc: BaseException) -> bool:
    """True for a database driver's own error, SQLite's or psycopg's."""
    if isinstance(exc, sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.Error)
