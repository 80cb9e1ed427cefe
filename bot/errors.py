"""A small family of errors whose messages are safe to show users.

Every message says what went wrong and how to fix it. The edge (CLI line, Slack
thread, ephemeral reply) shows ``str(err)``; details go to the log, never a traceback.
"""

from __future__ import annotations


class BriefbotError(Exception):
    """Base class: ``str(err)`` is a one-line, user-safe, actionable message."""

    #: Short machine-readable kind, used in logs, metrics and JSON output.
    code = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class ConfigError(BriefbotError):
    """A setting is missing or invalid."""

    code = "config"


class InputError(BriefbotError):
    """The user's input can't be used as a source (empty, unknown scheme, missing file)."""

    code = "bad_input"


class BlockedAddressError(BriefbotError):
    """The link points at a private, loopback, link-local or otherwise non-public address."""

    code = "blocked_address"


class FetchError(BriefbotError):
    """The page could not be fetched (DNS, connection, timeout, HTTP status, redirects)."""

    code = "fetch_failed"


class TooLargeError(BriefbotError):
    """The document is over the size cap."""

    code = "too_large"


class UnsupportedContentError(BriefbotError):
    """The link is not an article (image, video, archive...)."""

    code = "not_an_article"


class NoTextError(BriefbotError):
    """No usable text: paywall, script-rendered page, image-only PDF."""

    code = "no_text"


class ModelError(BriefbotError):
    """The model endpoint is unavailable after retries, or rejected the request."""

    code = "model_unavailable"


class ModelOutputError(BriefbotError):
    """The model refused, was cut off, or returned output that breaks the schema."""

    code = "model_output"


class QuotaError(BriefbotError):
    """A usage quota or budget is exhausted."""

    code = "quota"


class BudgetError(BriefbotError):
    """Reading the document took longer than its time budget (too large or too complex)."""

    code = "too_slow"
