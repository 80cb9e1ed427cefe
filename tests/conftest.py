"""Test isolation shared by the whole suite.

Every test gets a clean environment (none of the developer's Briefbot, OpenAI or Slack
variables, no .env), its own data dir, and a network that reaches loopback only.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.postgres import BASE_URL, SKIP_REASON, private_schema
from tests.fakes.slack import FakeSlack
from tests.fakes.web import FakeWeb
from tests.warmup import warm_up, warm_up_hypothesis

_OUR_PREFIXES = ("BRIEFBOT_", "OPENAI_", "SLACK_")
_OUR_NAMES = {"DATABASE_URL", "PORT"}


@pytest.hookimpl(trylast=True)  # after pytest-cov starts measuring in this process
def pytest_sessionstart(session: pytest.Session) -> None:
    """Each process that runs tests imports everything first (see tests/warmup.py); an
    xdist controller runs none, so it skips this. It runs last: an xdist worker's coverage
    starts in pytest-cov's own session start, and imports before it go unmeasured."""
    if session.config.getoption("numprocesses", None) and not hasattr(
        session.config, "workerinput"
    ):
        return
    # Start-up makes some 230,000 objects that live as long as the process. Each full
    # collection walks them all (0.1-2.6 s, a dozen times in start-up): none until they
    # are frozen, after collection.
    gc.disable()
    # Parser workers started here copy this environment: none of the developer's variables.
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith(_OUR_PREFIXES) or name in _OUR_NAMES:
                env.delenv(name)
        warm_up()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what start-up and collection made, then pay hypothesis's first-run costs.

    Frozen objects are never walked by the garbage collector again, so a full collection
    that falls inside a test costs it milliseconds, not the second or more that doubled
    a test's time in the runs it landed in. Hypothesis is warmed up after collection, so
    that the test modules' constants are read then too (tests/warmup.py).
    """
    from hypothesis import is_hypothesis_test

    items = getattr(session, "items", ())
    if items:
        gc.collect()
        gc.freeze()
    gc.enable()
    if any(is_hypothesis_test(getattr(item, "obj", None)) for item in items):
        warm_up_hypothesis()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The real-model tests first (a stable sort: the rest keep their order).

    They are the suite's longest (each waits on a one-thread model server), so under xdist
    they start at once and overlap the in-process tests instead of trailing them; .ci/run's
    ``--maxschedchunk=1`` hands them out one by one, so both workers get some."""
    items.sort(key=lambda item: item.get_closest_marker("model") is None)


#: bench/test_durations.py sets it: each test's CPU time (setup, call and teardown, every
#: thread of this process, so the fake servers too) is appended there as "seconds\tnodeid".
_CPU_LOG = os.environ.get("BRIEFBOT_TEST_CPU_LOG")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    started = time.process_time()
    yield
    if _CPU_LOG:
        with open(_CPU_LOG, "a", encoding="utf-8") as log:
            log.write(f"{time.process_time() - started:.4f}\t{item.nodeid}\n")


@pytest.fixture(autouse=True)
def _briefbot_processes_are_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that starts briefbot as a process is marked ``subprocess`` (or ``model``):
    CI runs those as a step of their own, not beside the in-process tests on both cores,
    where a cold start (1.5-3 s of imports) swung such a test's time 2x with the load."""
    if request.node.get_closest_marker("subprocess") or request.node.get_closest_marker("model"):
        return
    start = subprocess.Popen.__init__

    def refuse_briefbot(self: subprocess.Popen[Any], args: Any, *rest: Any, **kw: Any) -> None:
        argv = [str(a) for a in args] if isinstance(args, list | tuple) else [str(args)]
        if argv[1:3] == ["-m", "bot"] or Path(argv[0]).name == "briefbot":
            raise AssertionError("this test starts briefbot: mark it @pytest.mark.subprocess")
        start(self, args, *rest, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse_briefbot)


@pytest.fixture(scope="session")
def tiktoken_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty tiktoken cache for the session: tokens must be seeded offline, never fetched."""
    return tmp_path_factory.mktemp("tiktoken-cache")


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiktoken_cache: Path
) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(_OUR_PREFIXES) or name in _OUR_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache))
    # A developer's .env in the checkout must not leak into tests.
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """Undo an in-process CLI's setup_logging: its handler writes to that test's captured
    stream, which is closed afterwards, so a late log line (asyncio's, at exit) would raise."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like
        return True
    host = address[0]
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse, in-process, any connection to a non-loopback address.

    A safety net: even if the SSRF guard under test were broken, no test can reach
    beyond this machine.
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"test network is loopback-only; refused {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"test network is loopback-only; refused {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings built from explicit values only (no .env), with a per-test data dir."""

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]

    return make


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fresh fake Slack (Web API + Socket Mode) on a loopback port."""
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    """A fresh fake OpenAI-compatible server on a loopback port."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    """A fresh loopback web server for article pages and feeds."""
    with FakeWeb() as server:
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI) -> Settings:
    """Settings for a bot that talks to the fake Slack and fake OpenAI only."""
    from tests.test_slack_support import bot_settings

    return bot_settings(make_settings, fake, llm)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL with a schema of the test's own (tier ``postgres``)."""
    if not BASE_URL:
        pytest.skip(SKIP_REASON)
    with private_schema(BASE_URL) as url:
        yield url


@pytest.fixture
def sdk_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits slack_sdk's rate-limit retry handlers ask for, recorded instead of slept:
    a test checks the Retry-After delay by the number asked, not by the wall clock."""
    import asyncio
    import types

    from slack_sdk.http_retry import builtin_async_handlers, builtin_handlers

    asked: list[float] = []

    async def async_sleep(seconds: float) -> None:
        asked.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=async_sleep))
    monkeypatch.setattr(builtin_handlers, "time", types.SimpleNamespace(sleep=asked.append))
    return asked
