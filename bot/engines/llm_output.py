"""Reading a completion: a usable ``BriefDraft``, or why not (refusal, cut-off, bad JSON).

Tokens are counted for every completion received, usable or not: they are billed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal

import openai
from pydantic import ValidationError

from bot.engines.llm_salvage import salvage_draft
from bot.engines.llm_schema import BriefDraft
from bot.errors import ModelOutputError


@dataclass
class Usage:
    """What one brief cost: completions received and their token counts."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    chunks: int = 1
    #: Transport retries, and of those the ones after a timeout (a busy server's symptom).
    retries: int = 0
    timeout_retries: int = 0
    #: Cut-off answers whose complete items were kept instead of asking again.
    salvaged: int = 0

    def note_retry(self, exc: BaseException | None) -> None:
        """Count one transport retry (the retry layer calls this before it waits)."""
        self.retries += 1
        if isinstance(exc, openai.APITimeoutError):
            self.timeout_retries += 1

    def add(self, usage: Any) -> None:
        """Add an SDK ``CompletionUsage`` (or anything with its two token fields)."""
        if usage is not None:
            self.tokens_in += int(getattr(usage, "prompt_tokens", 0) or 0)
            self.tokens_out += int(getattr(usage, "completion_tokens", 0) or 0)


@dataclass(frozen=True)
class Unusable:
    """Why a completion could not be used as a brief."""

    kind: Literal["refusal", "cut_off", "filtered", "invalid"]
    detail: str

    def error(self) -> ModelOutputError:
        """The user-safe error once the repair call has failed too."""
        if self.kind == "refusal":
            return ModelOutputError(
                f"The model declined to brief this article: {short(self.detail)}",
                hint="Try another BRIEFBOT_MODEL, or the offline engine (BRIEFBOT_ENGINE=offline).",
            )
        if self.kind == "cut_off":
            error = ModelOutputError(
                "The model's answer was cut off before it finished, even when asked to be shorter.",
                hint="Raise BRIEFBOT_LLM_MAX_OUTPUT_TOKENS, or use a bigger model.",
            )
            # A rambling model is a model problem, like an outage: with the offline fallback
            # on, the user gets the labelled offline brief instead of an error.
            error.fallback_reason = "the model's answer was cut off, even when asked again"
            return error
        if self.kind == "filtered":
            return ModelOutputError(
                "The provider's content filter blocked the model's answer.",
                hint="Use the offline engine for this article (BRIEFBOT_ENGINE=offline).",
            )
        return ModelOutputError(
            f"The model's answer did not match the brief format ({short(self.detail)}).",
            hint="Try again, or set BRIEFBOT_MODEL to a model that supports structured output.",
        )


def short(text: str, limit: int = 200) -> str:
    """One line of at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validation_detail(exc: ValueError | openai.APIResponseValidationError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        return f"{where}: {first['msg']}"
    return str(exc)


def _raw_usage(raw: Any) -> Any:
    """Usage from the raw HTTP body, for completions the SDK could not parse."""
    try:
        usage = raw.http_response.json().get("usage") or {}
    except (ValueError, AttributeError):
        return None
    return SimpleNamespace(
        prompt_tokens=usage.get("prompt_tokens", 0),
        completion_tokens=usage.get("completion_tokens", 0),
    )


async def read_completion(raw: Any, usage: Usage, *, schema: type[Any] = BriefDraft) -> Any:
    """Parse a raw ``chat.completions.parse`` response into a draft; count its tokens.

    Returns an instance of ``schema`` (the response_format the call used) or ``Unusable``.
    """
    usage.calls += 1
    try:
        completion = raw.parse()
        if inspect.isawaitable(completion):  # newer SDKs make this a coroutine
            completion = await completion
    except openai.LengthFinishReasonError as exc:
        usage.add(exc.completion.usage)
        choices = exc.completion.choices
        salvaged = salvage_draft(choices[0].message.content if choices else None)
        if salvaged is not None:
            usage.salvaged += 1
            return salvaged
        return Unusable("cut_off", "the answer hit the output token limit and was cut off")
    except openai.ContentFilterFinishReasonError:
        usage.add(_raw_usage(raw))
        return Unusable("filtered", "the provider's content filter stopped the answer")
    except (ValueError, openai.APIResponseValidationError) as exc:  # pydantic / JSON errors
        usage.add(_raw_usage(raw))
        return Unusable(
            "invalid", f"it is not valid JSON for the schema: {_validation_detail(exc)}"
        )
    usage.add(completion.usage)
    if not completion.choices:
        return Unusable("invalid", "the answer had no content")
    message = completion.choices[0].message
    if message.refusal:
        return Unusable("refusal", message.refusal)
    if not isinstance(message.parsed, schema):
        return Unusable("invalid", "the answer had no content")
    return message.parsed
