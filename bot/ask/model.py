"""The model answerer: retrieve passages within the token budget, one structured call.

The article (or its passages bearing on the question) is fenced as data; earlier turns of
the thread come first, within their own budget. The reply must validate against
:class:`AnswerDraft`; an unusable reply gets one repair call, as briefs do.
"""

from __future__ import annotations

import logging
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam

from bot.ask.models import AnswerDraft, Turn
from bot.ask.retrieval import SentenceIndex
from bot.config import Settings
from bot.engines.llm_output import Unusable, Usage, read_completion, short
from bot.engines.llm_retry import RetryPolicy, call_with_retries
from bot.engines.llm_server import limiter_for, output_cap
from bot.engines.openai_engine import build_client, price_for
from bot.prompting import render_prompt
from bot.tokens import count_tokens

log = logging.getLogger("bot.ask.model")

Messages = list[ChatCompletionMessageParam]


def history_within(turns: list[Turn], *, budget: int, model: str | None) -> list[Turn]:
    """The most recent turns whose text fits ``budget`` tokens, oldest first."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        cost = count_tokens(turn.question, model) + count_tokens(turn.answer, model) + 4
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    return kept[::-1]


class ModelAnswerer:
    """Answers from an OpenAI-compatible chat model with structured output."""

    name = "openai"

    def __init__(
        self, settings: Settings, *, client: openai.AsyncOpenAI | None = None,
        retry_base: float = 0.5,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.model = settings.model
        self.client = client if client is not None else build_client(settings)
        self._owns_client = client is None
        self.retry_base = retry_base

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.close()

    def messages(
        self, *, title: str | None, passages: str, question: str, history: list[Turn]
    ) -> Messages:
        user = render_prompt(
            "ask.j2", title=title, text=passages, question=question,
            history=[t.model_dump() for t in history],
        )  # fmt: skip
        system = render_prompt("ask_system.j2", language=self.settings.language)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def prepare(
        self, text: str, *, title: str | None, question: str, history: list[Turn]
    ) -> Messages:
        """The prompt: history within its budget, then the passages within theirs (CPU work)."""
        turns = history_within(history, budget=self.settings.ask_history_tokens, model=self.model)
        passages = SentenceIndex(text).passages(
            question, budget=self.settings.ask_context_tokens, model=self.model
        )
        return self.messages(title=title, passages=passages, question=question, history=turns)

    async def answer(self, messages: Messages, usage: Usage) -> AnswerDraft:
        first = await self._complete(messages, usage)
        if isinstance(first, AnswerDraft):
            return first
        log.warning("model answer unusable (%s: %s); asking once more", first.kind,
                    short(first.detail))  # fmt: skip
        repair = render_prompt(
            "repair.j2", error=short(first.detail, 300), cut_off=first.kind == "cut_off"
        )
        second = await self._complete([*messages, {"role": "user", "content": repair}], usage)
        if isinstance(second, AnswerDraft):
            return second
        raise second.error()

    def cost(self, usage: Usage) -> float:
        price = price_for(self.model, self.settings.prices)
        if price is None:
            return 0.0
        return (usage.tokens_in * price.input + usage.tokens_out * price.output) / 1_000_000

    async def _complete(self, messages: Messages, usage: Usage) -> AnswerDraft | Unusable:
        raw = await call_with_retries(
            lambda: self._request(messages),
            policy=RetryPolicy(
                max_attempts=self.settings.llm_max_attempts,
                max_wait=self.settings.llm_max_wait,
                base=self.retry_base,
            ),
            model=self.model,
            call_timeout=self.settings.llm_timeout,
        )
        result: AnswerDraft | Unusable = await read_completion(raw, usage, schema=AnswerDraft)
        return result

    async def _request(self, messages: Messages) -> Any:
        # The same per-server limit and answer cap as briefs: a question must not add a
        # request a one-slot local server would queue while its timeout runs.
        async with await limiter_for(self.settings, self.client):
            return await self.client.chat.completions.with_raw_response.parse(
                model=self.model,
                messages=messages,
                response_format=AnswerDraft,
                **output_cap(self.settings),
            )
