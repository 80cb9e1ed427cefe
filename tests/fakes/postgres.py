"""A private schema on the test PostgreSQL for each test (the server is real, not a fake).

The server's URL comes from BRIEFBOT_TEST_DATABASE_URL (.ci/run sets it). Each test
gets a fresh schema, named in the URL's ``search_path``, so tests never see each other's
tables and nothing needs cleaning between runs but the schema itself.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

ENV = "BRIEFBOT_TEST_DATABASE_URL"
#: Read at import, before the suite's autouse fixture clears every BRIEFBOT_ variable.
BASE_URL = os.environ.get(ENV, "").strip()
SKIP_REASON = f"{ENV} is not set: PostgreSQL tests need a server (.ci/run starts one)"


def with_schema(url: str, schema: str) -> str:
    """``url`` with every session's search_path set to ``schema``."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def private_schema(base_url: str = BASE_URL) -> Iterator[str]:
    """A URL whose sessions live in a brand-new schema, dropped afterwards."""
    import psycopg

    from bot.store.db import pg_dsn

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_dsn(base_url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_schema(base_url, schema)
    finally:
        with psycopg.connect(pg_dsn(base_url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
