"""A per-channel pace for our posts: Slack allows about one message a second per channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class ChannelPacer:
    """Spaces posts in one channel ``interval`` seconds apart; other channels don't wait."""

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep  # injectable with the clock, so tests pace on simulated time
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        """Return when a message may be posted in ``channel`` (call right before posting)."""
        if self.interval <= 0:
            return
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            last = self._last.get(channel)
            if last is not None:
                delay = last + self.interval - self.clock()
                if delay > 0:
                    # This sleep is the rate limit itself, not a wait for some other event.
                    await self.sleep(delay)
            self._last[channel] = self.clock()
