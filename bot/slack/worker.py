"""A pool of asyncio workers that claim jobs from the queue and run them.

At most ``concurrency`` jobs run at once. Listeners call :meth:`JobRunner.wake` after
enqueueing, so a job starts at once; a slow poll also picks up jobs due for a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.logs import job_context
from bot.slack.jobs import Job, JobQueue

log = logging.getLogger(__name__)

#: How often idle workers look for jobs nobody woke them for (retries coming due).
POLL_SECONDS = 1.0
#: New work starts once deliveries pause this long (at most SETTLE_MAX after the first),
#: so a burst of events is acked before briefs compete with it for the event loop.
SETTLE_SECONDS = 0.02
SETTLE_MAX_SECONDS = 0.2


class JobRunner:
    """Claims queued jobs and runs each with ``process``; bounded by ``concurrency``."""

    def __init__(
        self,
        queue: JobQueue,
        process: Callable[[Job], Awaitable[None]],
        *,
        concurrency: int,
        poll_seconds: float = POLL_SECONDS,
        settle: float = SETTLE_SECONDS,
        settle_max: float = SETTLE_MAX_SECONDS,
    ) -> None:
        self.queue = queue
        self.process = process
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.settle, self.settle_max = settle, settle_max
        self._first_wake: float | None = None
        self._wake_timer: asyncio.TimerHandle | None = None
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._workers: list[asyncio.Task[None]] = []
        self._running: dict[str, Job] = {}

    @property
    def in_flight(self) -> int:
        return len(self._running)

    def wake(self) -> None:
        """Tell idle workers there is work, once deliveries settle (call on the loop)."""
        if self.settle <= 0:
            self._wakeup.set()
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._first_wake is None:
            self._first_wake = now
        if self._wake_timer is not None:
            self._wake_timer.cancel()
        delay = max(0.0, min(self.settle, self._first_wake + self.settle_max - now))
        self._wake_timer = loop.call_later(delay, self._settled)

    def _settled(self) -> None:
        self._first_wake = self._wake_timer = None
        self._wakeup.set()

    def start(self) -> int:
        """Requeue jobs a killed process left running (returns how many), then start workers."""
        recovered = self.queue.recover()
        if recovered:
            log.warning("resuming %d job(s) left unfinished by the last run", recovered)
        self._workers = [
            asyncio.create_task(self._work(i), name=f"briefbot-worker-{i}")
            for i in range(self.concurrency)
        ]
        self._wakeup.set()
        return recovered

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop claiming; let running jobs finish for ``grace`` seconds, then hand them back."""
        self._stopping = True
        if self._wake_timer is not None:
            self._wake_timer.cancel()
        self._wakeup.set()
        if not self._workers:
            return
        _, pending = await asyncio.wait(self._workers, timeout=grace)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []

    async def _work(self, n: int) -> None:
        while not self._stopping:
            job = self.queue.claim()
            if job is None:
                await self._idle()
                continue
            self._running[job.id] = job
            started = time.monotonic()
            # Every log line of the job (fetch, model, Slack calls) carries its id.
            with job_context(job.id):
                try:
                    await self.process(job)
                except asyncio.CancelledError:
                    # Shutdown: back to the queue; the next start resumes it without posting twice.
                    self.queue.release(job)
                    raise
                finally:
                    self._running.pop(job.id, None)
                log.info("job %s (%s) took %.2fs", job.id, job.kind, time.monotonic() - started)
            # Another worker may be idle while more jobs wait: pass the wake-up along.
            self._wakeup.set()

    async def _idle(self) -> None:
        self._wakeup.clear()
        # Re-check after clearing so a wake() between claim() and clear() is not lost.
        if self._stopping:
            return
        timeout = self.poll_seconds
        due = self.queue.next_due()
        if due is not None:
            timeout = max(0.0, min(timeout, due - time.time()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)
