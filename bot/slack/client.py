"""The Slack Web API client: base URL from settings, and one retry layer for 429s and outages."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

# Retrying these after an outage could post a second copy: Slack may have stored the
# message before the connection broke. The job worker retries them instead, after
# looking in the thread for what was already posted (bot.slack.poster).
_NOT_IDEMPOTENT = ("chat.postMessage",)


def _is_post(request: Any) -> bool:
    url = str(getattr(request, "url", ""))
    return url.rstrip("/").endswith(_NOT_IDEMPOTENT)


class _SafeConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None,
                               error: Exception | None = None) -> bool:  # fmt: skip
        if _is_post(request):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class _SafeServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None,
                               error: Exception | None = None) -> bool:  # fmt: skip
        if _is_post(request):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def retry_handlers() -> list[AsyncRetryHandler]:
    """429 honoured (Retry-After) up to 5 times; 5xx and dropped connections retried twice."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
        _SafeServerErrorRetryHandler(max_retry_count=2),
        _SafeConnectionErrorRetryHandler(max_retry_count=2),
    ]


def build_web_client(
    settings: Settings, *, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The one Web API client the app, Socket Mode and the job worker share."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base_url = settings.slack_api_url
    if not base_url.endswith("/"):
        base_url += "/"
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=30,
        session=session,
        retry_handlers=retry_handlers(),
    )
