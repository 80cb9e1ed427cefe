"""The durable job queue, the worker pool and the per-channel pace."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from bot.config import Settings
from bot.errors import ConfigError
from bot.slack.channels import ChannelSettings
from bot.slack.jobs import Job, JobQueue, NewJob
from bot.slack.pacing import ChannelPacer
from bot.slack.worker import JobRunner
from bot.store import Store


@pytest.fixture
def store(make_settings: Callable[..., Settings]) -> Iterator[Store]:
    with Store.open(make_settings().database_url) as s:
        yield s


@pytest.fixture
def queue(store: Store) -> Iterator[JobQueue]:
    q = JobQueue.open(store.path)
    yield q
    q.close()


def _job(n: int, kind: str = "brief") -> NewJob:
    return NewJob(id=f"T1:C1:1.{n}:https://example.com/{n}", kind=kind, payload={"n": n})


def test_a_job_identity_is_stored_once(queue: JobQueue) -> None:
    assert queue.enqueue(_job(1)) is True
    assert queue.enqueue(_job(1)) is False
    assert queue.enqueue_many([_job(1), _job(2), _job(2)]) == [False, True, False]
    assert queue.counts() == {"queued": 2}


def test_claim_takes_the_oldest_and_marks_it_running(queue: JobQueue) -> None:
    queue.enqueue_many([_job(1), _job(2)])
    first = queue.claim()
    assert first is not None and first.payload == {"n": 1}
    assert (first.state, first.attempts) == ("running", 1)
    second = queue.claim()
    assert second is not None and second.payload == {"n": 2}
    assert queue.claim() is None


def test_two_processes_never_claim_the_same_job(store: Store) -> None:
    queues = [JobQueue.open(store.path) for _ in range(4)]
    queues[0].enqueue_many([_job(n) for n in range(200)])
    claimed: list[list[str]] = [[] for _ in queues]

    def drain(i: int) -> None:
        while (job := queues[i].claim()) is not None:
            claimed[i].append(job.id)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(len(queues))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    every = [job_id for ids in claimed for job_id in ids]
    assert len(every) == len(set(every)) == 200
    for q in queues:
        q.close()


def test_recover_requeues_what_a_killed_process_left_running(queue: JobQueue) -> None:
    queue.enqueue_many([_job(1), _job(2)])
    running = queue.claim()
    assert running is not None
    queue.set_placeholder(running, "1700000000.000200")
    assert queue.recover() == 1
    again = queue.claim()
    assert again is not None and again.id == running.id
    assert again.attempts == 2 and again.placeholder_ts == "1700000000.000200"


def test_a_stale_claim_cannot_overwrite_a_reclaimed_job(queue: JobQueue) -> None:
    queue.enqueue(_job(1))
    stale = queue.claim()
    assert stale is not None
    queue.recover()
    fresh = queue.claim()
    assert fresh is not None
    queue.finish(stale)  # the old claim token no longer matches
    assert queue.get(fresh.id).state == "running"  # type: ignore[union-attr]
    queue.finish(fresh)
    assert queue.get(fresh.id).state == "done"  # type: ignore[union-attr]


def test_retry_later_holds_a_job_until_it_is_due(queue: JobQueue) -> None:
    queue.enqueue(_job(1))
    job = queue.claim()
    assert job is not None
    queue.retry_later(job, delay=60, error="ratelimited")
    assert queue.claim() is None
    due = queue.next_due()
    assert due is not None and due > time.time() + 50
    assert queue.get(job.id).error == "ratelimited"  # type: ignore[union-attr]


def test_prune_forgets_only_old_finished_jobs(queue: JobQueue) -> None:
    queue.enqueue_many([_job(1), _job(2)])
    done = queue.claim()
    assert done is not None
    queue.finish(done)
    assert queue.prune(older_than=3600) == 0
    assert queue.prune(older_than=-1) == 1
    assert queue.counts() == {"queued": 1}


def test_an_in_memory_database_is_refused_with_a_fix() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        JobQueue.open(":memory:")


def test_channel_settings_default_and_switch(queue: JobQueue) -> None:
    channels = ChannelSettings(queue.conn, auto_default=True)
    assert channels.auto_brief("T1", "C1") is True
    channels.set_auto_brief("T1", "C1", False, user="U1")
    assert channels.auto_brief("T1", "C1") is False
    assert channels.auto_brief("T1", "C2") is True
    assert ChannelSettings(queue.conn, auto_default=False).auto_brief("T1", "C2") is False


# --- the worker pool -------------------------------------------------------------------


async def test_workers_run_each_job_once_with_bounded_concurrency(queue: JobQueue) -> None:
    seen: list[str] = []
    running = 0
    peak = 0
    all_done = asyncio.Event()

    async def process(job: Job) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)  # a job that takes a moment, so several overlap
        seen.append(job.id)
        queue.finish(job)
        running -= 1
        if len(seen) == 20:
            all_done.set()

    runner = JobRunner(queue, process, concurrency=3)
    runner.start()
    queue.enqueue_many([_job(n) for n in range(20)])
    runner.wake()
    await asyncio.wait_for(all_done.wait(), 10)
    await runner.stop(grace=1)
    assert sorted(seen) == sorted(_job(n).id for n in range(20))
    assert peak == 3
    assert queue.counts() == {"done": 20}


async def test_stop_hands_unfinished_jobs_back(queue: JobQueue) -> None:
    started = asyncio.Event()

    async def process(job: Job) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes on its own

    runner = JobRunner(queue, process, concurrency=1)
    runner.start()
    queue.enqueue(_job(1))
    runner.wake()
    await asyncio.wait_for(started.wait(), 10)
    await runner.stop(grace=0.05)
    assert queue.counts() == {"queued": 1}


# --- the per-channel pace ----------------------------------------------------------------


class SimulatedClock:
    """Time that passes only when the code under test sleeps: pacing without wall time."""

    def __init__(self) -> None:
        self.start = self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # still yield, so the other channels' posts interleave


async def test_posts_in_one_channel_are_spaced_and_other_channels_dont_wait() -> None:
    clock = SimulatedClock()
    pacer = ChannelPacer(1.0, clock=clock, sleep=clock.sleep)
    stamps: dict[str, list[float]] = {"C1": [], "C2": []}

    async def post(channel: str) -> None:
        await pacer.wait(channel)
        stamps[channel].append(clock())

    await asyncio.gather(*(post("C1") for _ in range(4)), post("C2"))
    gaps = [b - a for a, b in itertools.pairwise(stamps["C1"])]
    assert min(gaps) >= 1.0
    assert len(stamps["C2"]) == 1
    assert clock.sleeps == [1.0, 1.0, 1.0]  # C1's 2nd, 3rd and 4th posts; C2 never waited
