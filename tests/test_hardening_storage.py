"""Issue 15, finding 12: private storage, forgetting the digest's history, a private ops port."""

from __future__ import annotations

import asyncio
import os
import stat
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import retention
from bot.config import Settings
from bot.digest.store import stamp
from bot.slack.jobs import JobQueue
from bot.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.test_slack_support import bot_running, bot_settings


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022): without our care, files would be world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_data_dir_is_0700_and_the_database_and_its_wal_are_0600(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    with Store.open(f"sqlite:///{data / 'briefbot.db'}") as store:
        queue = JobQueue.open(store.path)  # a second connection: -wal and -shm exist now
        queue.conn.execute("CREATE TABLE probe (x)")
        files = [data / "briefbot.db", data / "briefbot.db-wal", data / "briefbot.db-shm"]
        modes = {f.name: _mode(f) for f in files if f.exists()}
        queue.close()
    assert _mode(data) == 0o700 and _mode(data.parent) == 0o700
    assert set(modes) == {"briefbot.db", "briefbot.db-wal", "briefbot.db-shm"}
    assert set(modes.values()) == {0o600}, modes


@pytest.mark.usefixtures("open_umask")
def test_an_old_world_readable_database_is_tightened(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)  # noqa: S103 - the permissive old install under test
    db = shared / "old.db"
    with Store.open(f"sqlite:///{db}"):
        pass
    os.chmod(db, 0o644)
    with Store.open(f"sqlite:///{db}"):
        assert _mode(db) == 0o600
    assert _mode(shared) == 0o755  # a directory we did not create is left alone


# --- the digest's history ------------------------------------------------------------------


def _seed_digest(queue: JobQueue, *, old: datetime, new: datetime) -> None:
    for channel in ("C1", "C2"):
        for when, key in ((old, "old"), (new, "new")):
            queue.conn.execute(
                "INSERT INTO digest_seen VALUES ('T1', ?, 'https://feed.example/rss', ?, ?)",
                (channel, f"{key}-{channel}", stamp(when)),
            )
            queue.conn.execute(
                "INSERT INTO digest_runs (slot_key, team, channel, kind, slot_at, status,"
                " created_at) VALUES (?, 'T1', ?, 'scheduled', ?, 'posted', ?)",
                (f"{key}-{channel}", channel, stamp(when), stamp(when)),
            )


def _digest_rows(queue: JobQueue) -> list[tuple[str, str]]:
    rows = queue.conn.execute(
        "SELECT 'seen', entry_key FROM digest_seen"
        " UNION ALL SELECT 'run', slot_key FROM digest_runs"
    )
    return sorted((r[0], r[1]) for r in rows)


def test_forget_and_retention_purge_the_digest_history(
    make_settings: Callable[..., Settings],
) -> None:
    now = datetime.now(UTC)
    settings = make_settings(retention_days=30)
    with Store.open(settings.database_url) as store:
        queue = JobQueue.open(store.path)
        _seed_digest(queue, old=now - timedelta(days=40), new=now - timedelta(days=1))
        gone = retention.forget_channel(store=store, queue=queue, team="T1", channel="C1")
        after_forget = _digest_rows(queue)
        purged = retention.purge(settings, store=store, queue=queue, now=now)
        after_purge = _digest_rows(queue)
        queue.close()
    assert gone.digest == 4
    assert all(key.endswith("C2") for _, key in after_forget) and len(after_forget) == 4
    assert purged.digest == 2
    assert after_purge == [("run", "new-C2"), ("seen", "new-C2")]


# --- /readyz and /metrics off the public port ---------------------------------------------


async def _status(url: str) -> int:
    # In a thread: the bot answers on this test's event loop.
    return await asyncio.to_thread(_blocking_status, url)


def _blocking_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_http_mode_moves_readiness_and_metrics_to_the_private_ops_port(
    make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, metrics_port=_free_port())
    assert settings.metrics_host == "127.0.0.1"  # the default
    async with bot_running(settings, fake, mode="http") as bot:
        assert bot.url is not None and bot.ops_url is not None
        public = bot.url.removesuffix("/slack/events")
        statuses = {
            "public healthz": await _status(public + "/healthz"),
            "public readyz": await _status(public + "/readyz"),
            "public metrics": await _status(public + "/metrics"),
            "ops readyz": await _status(bot.ops_url + "/readyz"),
            "ops metrics": await _status(bot.ops_url + "/metrics"),
        }
    assert statuses == {"public healthz": 200, "public readyz": 404, "public metrics": 404,
                        "ops readyz": 200, "ops metrics": 200}  # fmt: skip
    assert bot.ops_url.startswith("http://127.0.0.1:")


async def test_socket_mode_ops_port_binds_localhost_even_when_host_is_public(
    make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, metrics_port=_free_port(),
                            host="0.0.0.0")  # fmt: skip
    async with bot_running(settings, fake) as bot:
        assert bot.ops_url is not None
        assert await _status(bot.ops_url + "/metrics") == 200
    assert bot.ops_url.startswith("http://127.0.0.1:")
