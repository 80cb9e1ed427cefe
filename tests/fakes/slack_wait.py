"""Bounded waiting on a fake's state from sync tests (threads) and async tests (any loop)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

S = TypeVar("S")


# A predicate may also read state the fake does not own (the bot's job queue, a file), whose
# changes never call `changed()`; re-checking at this interval means such a wait ends soon
# after the condition holds instead of sleeping out its whole limit.
RECHECK_S = 0.05


class Waiters(Generic[S]):
    """Wakes sync and async waiters whenever the subject's state changes.

    The owner guards its state with `cond` and calls `changed()` (with `cond` held) after
    every change; predicates run with `cond` held, so they see a consistent state.
    Waiters also re-check every RECHECK_S, for predicates over state outside the fake.
    """

    def __init__(self, subject: S, cond: threading.Condition, report: Callable[[str], str]) -> None:
        self._subject, self._cond, self._report = subject, cond, report
        self._async: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def changed(self) -> None:
        self._cond.notify_all()
        for loop, event in list(self._async):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that test's loop is closed
                self._async.discard((loop, event))

    def _holds(self, predicate: Callable[[S], bool], errors: list[BaseException]) -> bool:
        # A lookup into state that is not there yet (messages_in(c)[0], message() is None)
        # means "not yet", not a failure; the last such error goes into the timeout report.
        try:
            return bool(predicate(self._subject))
        except (LookupError, TypeError) as exc:
            errors[:] = [exc]
            return False

    def _timeout(
        self, predicate: Callable[[S], bool], timeout: float, errors: list[BaseException]
    ) -> AssertionError:
        name = getattr(predicate, "__name__", repr(predicate))
        head = f"condition {name} not met in {timeout}s"
        if errors:
            head += f" (last predicate error: {errors[-1]!r})"
        return AssertionError(self._report(head))

    def wait(self, predicate: Callable[[S], bool], limit: float) -> None:
        deadline = time.monotonic() + limit
        errors: list[BaseException] = []
        with self._cond:
            while not self._holds(predicate, errors):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout(predicate, limit, errors)
                self._cond.wait(min(remaining, RECHECK_S))

    async def await_(self, predicate: Callable[[S], bool], limit: float) -> None:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + limit
        errors: list[BaseException] = []
        with self._cond:
            self._async.add(waiter)
        try:
            while True:
                event.clear()  # before checking, so a change in between still wakes us
                with self._cond:
                    if self._holds(predicate, errors):
                        return
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise self._timeout(predicate, limit, errors)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(remaining, RECHECK_S))
        finally:
            with self._cond:
                self._async.discard(waiter)
