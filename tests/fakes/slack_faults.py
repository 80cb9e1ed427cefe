"""Scripted failures and Slack-like rate limiting for FakeSlack's Web API."""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

Answer = tuple[int, dict[str, Any], dict[str, str]]  # HTTP status, JSON body, extra headers


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None
    times: int


class FaultPlan:
    """What to fail next, per method; not thread-safe (FakeSlack holds its lock around it)."""

    def __init__(self) -> None:
        self.rate_limited: Counter[str] = Counter()  # 429s answered, per method
        self._faults: dict[str, deque[_Fault]] = {}
        self._intervals: dict[str, float] = {}  # method -> min seconds between calls per channel
        self._last_accepted: dict[tuple[str, str], float] = {}
        self._drops: dict[str, deque[bool]] = {}  # method -> apply-before-dropping flags

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        if error is None:
            error = {429: "ratelimited"}.get(
                status, "internal_error" if status >= 500 else "fatal_error"
            )
        if status == 429 and retry_after is None:
            retry_after = 1  # Slack always says when to come back
        self._faults.setdefault(method, deque()).append(_Fault(error, status, retry_after, times))

    def drop_next(self, method: str, *, apply: bool = True, times: int = 1) -> None:
        self._drops.setdefault(method, deque()).extend([apply] * times)

    def take_drop(self, method: str) -> bool | None:
        """None: answer normally; True: apply the call, then drop; False: drop unapplied."""
        drops = self._drops.get(method)
        return drops.popleft() if drops else None

    def set_rate_limit(self, method: str, *, per_channel_per_second: float) -> None:
        if per_channel_per_second <= 0:
            raise ValueError("per_channel_per_second must be positive")
        self._intervals[method] = 1.0 / per_channel_per_second

    def check(self, method: str, params: dict[str, Any], now: float) -> Answer | None:
        """The failure answer for this call, or None to let it through."""
        answer = self._scripted(method) or self._throttled(method, params, now)
        if answer is not None and answer[0] == 429:
            self.rate_limited[method] += 1
        return answer

    def _scripted(self, method: str) -> Answer | None:
        faults = self._faults.get(method)
        if not faults:
            return None
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.popleft()
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        return fault.status, {"ok": False, "error": fault.error}, headers

    def _throttled(self, method: str, params: dict[str, Any], now: float) -> Answer | None:
        interval = self._intervals.get(method)
        if interval is None:
            return None
        key = (method, str(params.get("channel", "")))
        last = self._last_accepted.get(key)
        if last is not None and now - last < interval:
            # Retry-After is whole seconds on Slack, never 0 while limited.
            wait = max(1, math.ceil(interval - (now - last)))
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        self._last_accepted[key] = now
        return None
