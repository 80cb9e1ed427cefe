"""Every parser of untrusted bytes runs under a budget (issue 15, finding 4 and the pool).

PDFs: a page budget, a content-byte budget and a time budget (an injected clock here);
a Flate bomb is a one-line error, not exit 70. The parser pool: an overrun kills and
replaces the worker and raises BudgetError; a dead worker is an error, not a hang; a
job whose page overruns fails with a clear message in its Slack thread.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.digest.feeds import FeedError
from bot.errors import BudgetError, TooLargeError, UnsupportedContentError
from bot.ingest import extract
from bot.ingest.sandbox import ParserPool
from tests.fakes import hostile
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.web import FakeWeb
from tests.test_slack_support import bot_running, bot_settings, paste


def test_pages_sharing_one_huge_content_stream_are_skipped() -> None:
    # 300 pages drawing one 200k-operator stream took 23 minutes before the budgets.
    doc = extract.extract_pdf(hostile.shared_stream_pdf())
    assert doc.text == ""


def test_pdf_reading_stops_at_its_time_budget_keeping_earlier_pages() -> None:
    ticks = itertools.count()
    clock = lambda: float(next(ticks))  # noqa: E731 - one second passes per look at the clock
    pdf = hostile.shared_stream_pdf(pages=50, operators=50)
    doc = extract.extract_pdf(pdf, clock=clock)
    pages_read = doc.text.count("aaaaa") and len(doc.text.split("\n\n"))
    assert 1 <= pages_read <= extract.PDF_SECONDS + 1  # a few pages, not fifty


def test_flate_bomb_pdf_is_too_large_not_an_internal_error() -> None:
    with pytest.raises(TooLargeError, match="expands to more than Briefbot will read"):
        extract.extract_pdf(hostile.flate_bomb_pdf())


def test_cli_flate_bomb_is_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(hostile.flate_bomb_pdf())
    code = main(["extract", str(bomb)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "internal error" not in err
    assert "bomb.pdf expands to more than Briefbot will read" in err


@pytest.fixture(scope="module")
def pool() -> Iterator[ParserPool]:
    workers = ParserPool(workers=1)
    yield workers
    workers.close()


def test_an_overrun_kills_the_worker_and_the_next_call_gets_a_fresh_one(
    pool: ParserPool,
) -> None:
    with pytest.raises(BudgetError, match=r"gave up reading the nap after 0\.3 s"):
        pool.call(hostile.nap, 30.0, budget=0.3, what="the nap")
    assert pool.call(hostile.nap, 0.0, budget=10, what="a short nap") == "woke"


def test_a_worker_that_dies_is_an_error_and_is_replaced(pool: ParserPool) -> None:
    with pytest.raises(UnsupportedContentError, match="broke the document reader"):
        pool.call(hostile.crash, budget=10, what="that page")
    assert pool.call(hostile.nap, 0.0, budget=10, what="a short nap") == "woke"


def _loaded(where: Path, count: int) -> list[int]:
    """The pids of the workers that imported the preload marker, once there are ``count``.

    Nothing is called meanwhile, so only the pool itself can have started them. The
    deadline is a hang guard (a fresh Python importing one module takes well under 1 s).
    """
    deadline = time.monotonic() + 60
    while len(found := sorted(int(p.name) for p in where.iterdir())) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} workers loaded: {found}")
        time.sleep(0.02)
    return found


@pytest.fixture
def marked_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ParserPool]:
    """A pool whose workers preload ``tests.fakes.preload_marker``, which leaves one file
    per worker (named after its pid) in ``tmp_path``."""
    monkeypatch.setenv("BRIEFBOT_TEST_PRELOAD_DIR", str(tmp_path))
    workers = ParserPool(workers=1, preload=["tests.fakes.preload_marker"])
    yield workers
    workers.close()


def test_a_killed_workers_replacement_loads_before_the_next_call(
    marked_pool: ParserPool, tmp_path: Path
) -> None:
    # A fresh worker imports trafilatura for 1-3 s: the next page must not wait for that.
    first, loaded = marked_pool.call(hostile.whoami, budget=30, what="a page")
    assert loaded
    with pytest.raises(BudgetError):
        marked_pool.call(hostile.nap, 30.0, budget=0.3, what="the nap")
    replacement = next(pid for pid in _loaded(tmp_path, 2) if pid != first)
    assert marked_pool.call(hostile.whoami, budget=30, what="a page") == (replacement, True)


def test_a_crashed_workers_replacement_loads_before_the_next_call(
    marked_pool: ParserPool, tmp_path: Path
) -> None:
    first, _ = marked_pool.call(hostile.whoami, budget=30, what="a page")
    with pytest.raises(UnsupportedContentError):
        marked_pool.call(hostile.crash, budget=30, what="that page")
    replacement = next(pid for pid in _loaded(tmp_path, 2) if pid != first)
    assert marked_pool.call(hostile.whoami, budget=30, what="a page") == (replacement, True)


def test_prestart_loads_every_worker_before_the_first_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_TEST_PRELOAD_DIR", str(tmp_path))
    pool = ParserPool(workers=2, preload=["tests.fakes.preload_marker"])
    try:
        pool.prestart()
        pool.prestart()  # a second start adds none
        started = _loaded(tmp_path, 2)
        assert pool.call(hostile.whoami, budget=30, what="a page") in {(p, True) for p in started}
        assert len(list(tmp_path.iterdir())) == 2
    finally:
        pool.close()


def test_user_safe_errors_come_back_whole(pool: ParserPool) -> None:
    with pytest.raises(FeedError) as err:
        pool.call(hostile.refuse_feed, budget=10, what="the feed")
    assert str(err.value) == "not a feed follow the feed"
    assert err.value.alternates == ["https://a.example/rss"]


async def test_a_page_over_its_budget_fails_with_a_message_in_the_thread(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    # One page of 100k operators: about 2.5 s of pypdf, five times the budget below.
    web.add(
        "/heavy.pdf",
        hostile.shared_stream_pdf(pages=1, operators=100_000),
        headers={"Content-Type": "application/pdf"},
    )
    settings = bot_settings(make_settings, fake, llm, parse_timeout=0.5)
    async with bot_running(settings, fake) as bot:
        ts, envelope = paste(fake, f"<{web.url('/heavy.pdf')}>", channel="C1")
        fake.send_envelope("events_api", envelope)

        def answered(f: FakeSlack) -> bool:
            thread = f.thread("C1", ts)
            return bool(thread) and not str(thread[0].get("text")).startswith("Reading")

        await fake.await_for(answered, timeout=20)
        [message] = fake.thread("C1", ts)
        assert "gave up reading the page at" in message["text"]
        assert "after 0.5 s" in message["text"]
        assert "Paste the article text" in message["text"]
        # The thread is updated first, then the row is marked failed for good.
        await fake.await_for(lambda f: bot.deps.queue.counts().get("failed") == 1, timeout=5)
