"""The one retry layer for model calls: tenacity around the SDK (whose retries are off).

Only transient failures are retried (429 rate limits, 5xx, timeouts, connection errors),
with exponential backoff and jitter that never waits less than the server's
``Retry-After``. Everything else fails at once, translated into a user-safe error.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)
from tenacity.wait import wait_base

from bot.errors import BriefbotError, ConfigError, ModelError, QuotaError

log = logging.getLogger("bot.engines.openai")

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, total time, and the backoff curve (seconds)."""

    max_attempts: int
    max_wait: float
    base: float = 0.5
    cap: float = 20.0


def is_quota_error(exc: BaseException) -> bool:
    """A 429 that means the account is out of credit: retrying can't help."""
    return isinstance(exc, openai.RateLimitError) and (
        exc.code == "insufficient_quota" or exc.type == "insufficient_quota"
    )


def is_transient(exc: BaseException) -> bool:
    """Worth another try: 429 (not quota), 5xx, timeouts and connection errors."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.RateLimitError):
        return not is_quota_error(exc)
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``), if any."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    if ms := headers.get("retry-after-ms"):
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:  # the HTTP-date form
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


class BackoffWait(wait_base):
    """Exponential backoff with jitter, at least the server's Retry-After, at most ``cap``."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = self.base * 2 ** (retry_state.attempt_number - 1) + random.uniform(0, self.base)
        outcome = retry_state.outcome
        asked = retry_after(outcome.exception() if outcome is not None else None) or 0.0
        return min(max(asked, backoff), self.cap)


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, openai.APIConnectionError):
        return "could not connect"
    if isinstance(exc, openai.RateLimitError):
        return "rate limited, HTTP 429"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def _short(message: str, limit: int = 160) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


def user_error(exc: openai.APIError, *, attempts: int, model: str, timeout: float) -> BriefbotError:
    """The user-safe error for a failed model call (never includes the key)."""
    if is_quota_error(exc):
        return QuotaError(
            "The model provider says this account is out of quota (HTTP 429 insufficient_quota).",
            hint="Add credit or raise the limit in the provider's billing settings, "
            "or set BRIEFBOT_ENGINE=offline.",
        )
    if is_transient(exc):
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return ModelError(
            f"The model is unavailable right now ({_describe(exc, timeout)}{tries}).",
            hint="Try again in a few minutes; if it keeps failing, check the provider's status "
            "page and OPENAI_BASE_URL.",
        )
    status = getattr(exc, "status_code", None)
    if status == 401:
        return ConfigError(
            "The model endpoint rejected the API key (HTTP 401).",
            hint="Check OPENAI_API_KEY (and OPENAI_BASE_URL if you use another provider).",
        )
    if status == 403:
        return ModelError(
            f"The model endpoint refused access to model {model!r} (HTTP 403).",
            hint="Check that your key's project may use BRIEFBOT_MODEL.",
        )
    if status == 404:
        return ModelError(
            f"Model {model!r} was not found at the model endpoint (HTTP 404).",
            hint="Check BRIEFBOT_MODEL and OPENAI_BASE_URL.",
        )
    detail = f"HTTP {status}: {_short(exc.message)}" if status else _short(exc.message)
    return ModelError(
        f"The model endpoint rejected the request ({detail}).",
        hint="Check that BRIEFBOT_MODEL supports structured output; the log has the details.",
    )


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    model: str,
    call_timeout: float,
    on_retry: Callable[[BaseException | None], None] | None = None,
) -> T:
    """Run ``call``, retrying transient failures; raise a BriefbotError when it can't succeed.

    ``on_retry`` hears of each retry (with the failure) before its wait, for counting.
    """
    attempts = 0

    async def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return await call()

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        if on_retry is not None:
            on_retry(exc)
        log.warning(
            "model call failed (%s); retry %d in %.2f s",
            _describe(exc, call_timeout) if exc else "?",
            state.attempt_number,
            wait,
        )

    retrying = AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=BackoffWait(policy.base, policy.cap),
        # A hard stop on both counts: stop_before_delay never starts a sleep that would end
        # past the deadline.
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_wait),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return await retrying(attempt)
    except openai.APIError as exc:
        log.warning("model call gave up after %d attempt(s): %s", attempts, _short(str(exc), 300))
        raise user_error(exc, attempts=attempts, model=model, timeout=call_timeout) from exc
