"""The ask pipeline: article text -> engine (model or offline) -> grounded Answer.

The one path the Slack thread listener and ``briefbot ask`` share. The article comes
from the caller (the thread's stored text, or a freshly loaded CLI source): a question
never fetches anything.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot import metrics
from bot.access import check_budget
from bot.ask.model import ModelAnswerer
from bot.ask.models import MAX_QUOTES, Answer, AnswerDraft, Turn
from bot.ask.offline import answer_offline
from bot.config import Settings
from bot.engines import EngineName
from bot.engines.llm_output import Usage
from bot.errors import ModelError, QuotaError
from bot.grounding import quote_in_text, strip_foreign_urls
from bot.store import Store

log = logging.getLogger(__name__)


def ground_answer(draft: AnswerDraft, text: str) -> tuple[AnswerDraft, int]:
    """Keep only quotes found verbatim in ``text`` (at most 3); strip foreign URLs.

    An answer left with no quote counts as not answered: an answer we can't show in
    the article is an answer from somewhere else.
    """
    quotes: list[str] = []
    dropped = 0
    for quote in draft.quotes:
        if quote_in_text(quote, text) and quote.strip() not in quotes:
            quotes.append(quote.strip())
        else:
            dropped += 1
    quotes = quotes[:MAX_QUOTES]
    answered = draft.answered and bool(quotes)
    answer = strip_foreign_urls(draft.answer, text) if answered else ""
    return AnswerDraft(answer=answer, quotes=quotes if answered else [], answered=answered), dropped


class AskService:
    """Answers questions about an article with the configured engine, grounded."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None,
        engine_name: EngineName | None = None,
        model: ModelAnswerer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine_name: EngineName = engine_name or settings.engine_name()
        self._model = model

    @property
    def model(self) -> ModelAnswerer:
        if self._model is None:
            self._model = ModelAnswerer(self.settings)
        return self._model

    async def aclose(self) -> None:
        if self._model is not None:
            await self._model.aclose()

    async def ask(
        self,
        text: str,
        question: str,
        *,
        title: str | None = None,
        url: str | None = None,
        history: list[Turn] | None = None,
        team: str | None = None,
    ) -> Answer:
        """Answer ``question`` from ``text``; ``answered=False`` when the article doesn't say."""
        history = history or []
        started = time.perf_counter()
        fallback: str | None = None
        usage = Usage(calls=0)
        engine: EngineName = self.engine_name
        if engine == "openai":
            try:
                if self.settings.daily_token_budget:
                    # Briefs and questions share it (access.tokens_used_today counts both).
                    await asyncio.to_thread(check_budget, self.settings, self.store, team)
                # Retrieval and token counting are CPU work: keep the event loop free.
                messages = await asyncio.to_thread(
                    self.model.prepare, text, title=title, question=question, history=history
                )
                draft = await self.model.answer(messages, usage)
            except (ModelError, QuotaError) as exc:
                if not self.settings.offline_fallback:
                    raise
                log.warning("answering offline instead: %s", exc)
                fallback = getattr(exc, "fallback_reason", None) or str(exc)
                engine = "offline"
        if engine == "offline":
            draft = await asyncio.to_thread(answer_offline, text, question, history=history)
        metrics.observe_stage("model", time.perf_counter() - started)
        grounded, dropped = ground_answer(draft, text)
        model_used = self.settings.model if engine == "openai" else None
        answer = Answer(
            question=question,
            answer=grounded.answer,
            quotes=grounded.quotes,
            answered=grounded.answered,
            engine=engine,
            model=model_used,
            llm_calls=usage.calls,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            cost_usd=self.model.cost(usage) if engine == "openai" else 0.0,
            dropped_quotes=dropped,
            fallback_reason=fallback,
            title=title,
            url=url,
        )
        if usage.calls:
            metrics.record_usage(model_used or engine, tokens_in=usage.tokens_in,
                                 tokens_out=usage.tokens_out, calls=usage.calls,
                                 cost=answer.cost_usd)  # fmt: skip
        log.info("question answered", extra={"engine": engine, "answered": answer.answered,
                                            "dropped_quotes": dropped})  # fmt: skip
        return answer
