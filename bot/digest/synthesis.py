"""The model's cross-article synthesis: one structured-output call per digest.

The model sees the briefs (not the articles) and returns themes with one-liners and the
ids of their articles. Its answer is validated against the input: unknown ids are
dropped, an article claimed twice stays in its first theme, an article left out joins
an "Also new" theme. Any failure returns None and the caller groups offline.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import openai
from pydantic import ValidationError

from bot import metrics
from bot.config import Settings
from bot.digest.compose import DigestArticle, ThemeDraft
from bot.engines.llm_retry import RetryPolicy, call_with_retries
from bot.engines.llm_schema import _Strict
from bot.engines.openai_engine import build_client, price_for
from bot.errors import BriefbotError
from bot.prompting import render_prompt, template_version

log = logging.getLogger(__name__)

PROMPT = "digest.j2"
TITLE_LIMIT = 80
SYNTHESIS_LIMIT = 300


class ThemeOut(_Strict):
    title: str
    synthesis: str
    articles: list[int]


class DigestSynthesisOut(_Strict):
    """What the model fills in (the ``response_format`` schema)."""

    themes: list[ThemeOut]


@dataclass(frozen=True)
class Synthesis:
    #: None when the answer was unusable: the caller groups offline.
    themes: list[ThemeDraft] | None
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


def prompt_version() -> str:
    return f"digest:{template_version(PROMPT)}"


def briefs_payload(articles: Sequence[DigestArticle]) -> str:
    """The briefs as compact JSON, with ``<`` escaped so no tag can close the fence."""
    rows: list[dict[str, Any]] = []
    for i, article in enumerate(articles):
        brief = article.brief
        row: dict[str, Any] = {"id": i, "title": article.title}
        if brief is not None:
            row["summary"] = brief.summary
            row["participants"] = [p.name for p in brief.participants]
            row["topics"] = [t.name for t in brief.topics]
            row["tensions"] = [t.description for t in brief.tensions]
        else:
            row["summary"] = article.fallback_gist
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False).replace("<", "\\u003c")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def validate_themes(out: DigestSynthesisOut, count: int) -> list[ThemeDraft]:
    """Themes that cover every article exactly once; ValueError if nothing usable."""
    taken: set[int] = set()
    themes: list[ThemeDraft] = []
    for theme in out.themes:
        members = []
        for i in theme.articles:
            if 0 <= i < count and i not in taken:
                taken.add(i)
                members.append(i)
        title = _clip(theme.title, TITLE_LIMIT)
        if members and title:
            themes.append(
                ThemeDraft(
                    title=title,
                    synthesis=_clip(theme.synthesis, SYNTHESIS_LIMIT),
                    members=tuple(members),
                )
            )
    if not themes:
        raise ValueError("no theme with a valid article id")
    missing = tuple(i for i in range(count) if i not in taken)
    if missing:
        themes.append(ThemeDraft(title="Also new", synthesis="", members=missing))
    return themes


async def synthesize(settings: Settings, articles: Sequence[DigestArticle]) -> Synthesis | None:
    """Themes written by the model in one call (``themes`` None if unusable; None: no client)."""
    prompt = render_prompt(
        PROMPT, language=settings.language, count=len(articles), briefs=briefs_payload(articles)
    )
    try:
        client = build_client(settings)
    except BriefbotError as exc:
        log.info("digest synthesis offline: %s", exc)
        return None
    calls, tokens_in, tokens_out = 0, 0, 0
    themes: list[ThemeDraft] | None = None
    try:
        raw = await call_with_retries(
            lambda: client.chat.completions.with_raw_response.parse(
                model=settings.model,
                messages=[{"role": "user", "content": prompt}],
                response_format=DigestSynthesisOut,
            ),
            policy=RetryPolicy(
                max_attempts=settings.llm_max_attempts, max_wait=settings.llm_max_wait
            ),
            model=settings.model,
            call_timeout=settings.llm_timeout,
        )
        calls = 1
        completion = raw.parse()
        if inspect.isawaitable(completion):  # newer SDKs make this a coroutine
            completion = await completion
        if completion.usage is not None:
            tokens_in = completion.usage.prompt_tokens
            tokens_out = completion.usage.completion_tokens
        message = completion.choices[0].message if completion.choices else None
        if message is None or message.refusal or message.parsed is None:
            raise ValueError(f"no usable answer ({message.refusal if message else 'empty'})")
        themes = validate_themes(message.parsed, len(articles))
    except (BriefbotError, ValueError, ValidationError, IndexError, openai.OpenAIError) as exc:
        log.warning("digest synthesis by the model failed, grouping offline: %s", exc)
    finally:
        await client.close()
    price = price_for(settings.model, settings.prices)
    cost = (tokens_in * price.input + tokens_out * price.output) / 1e6 if price else 0.0
    log.info(
        "digest synthesis model=%s calls=%d tokens_in=%d tokens_out=%d cost_usd=%.6f",
        settings.model, calls, tokens_in, tokens_out, cost,
        extra={"event": "llm_usage", "llm_model": settings.model, "llm_calls": calls,
               "tokens_in": tokens_in, "tokens_out": tokens_out, "cost_usd": cost},
    )  # fmt: skip
    metrics.record_usage(
        settings.model, tokens_in=tokens_in, tokens_out=tokens_out, calls=calls, cost=cost
    )
    return Synthesis(
        themes=themes, calls=calls, tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=cost
    )
