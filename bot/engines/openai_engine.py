"""The OpenAI engine: structured output into ``BriefDraft``, map-reduce for long articles.

An article that fits ``chunk_tokens`` (prompt included) takes one call. A longer one is
cut into chunks briefed in parallel (map), then the partial briefs are merged (reduce),
in groups and again if they don't fit one call. Transport failures are retried by
tenacity (the SDK's own retries are off); unusable output gets one repair call.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import openai
from openai.types.chat import ChatCompletionMessageParam

from bot.chunking import Chunk, chunk_text
from bot.config import ModelPrice, Settings
from bot.engines.llm_output import Unusable, Usage, read_completion, short
from bot.engines.llm_retry import RetryPolicy, call_with_retries
from bot.engines.llm_schema import BriefDraft, dedupe_draft, draft_to_brief, trim_partials
from bot.engines.llm_server import limiter_for, output_cap
from bot.errors import BriefbotError, ConfigError, ModelOutputError, NoTextError
from bot.language import language_name
from bot.models import Article, Brief, BriefMeta
from bot.prompting import fence_data, prompt_version, render_prompt
from bot.tokens import count_tokens, encode

log = logging.getLogger("bot.engines.openai")

Messages = list[ChatCompletionMessageParam]
T = TypeVar("T")

#: Tokens kept free when sizing chunks: joins between template and text can tokenise a
#: little differently from the parts counted apart.
_MARGIN = 8
#: Smallest chunk we send, whatever the settings say.
_MIN_CHUNK = 100

_warned_prices: set[str] = set()
#: The language the brief being written is in (see ``OpenAIEngine.brief``).
_language: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "briefbot_language", default=None
)


def build_client(settings: Settings) -> openai.AsyncOpenAI:
    """The async client: explicit timeout, and no SDK retries (tenacity is the one layer)."""
    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    if not key and not settings.openai_base_url:
        raise ConfigError(
            "No OpenAI API key is set.",
            hint="Set OPENAI_API_KEY in your environment or .env, or set BRIEFBOT_ENGINE=offline.",
        )
    timeout = settings.llm_timeout
    return openai.AsyncOpenAI(
        # Local OpenAI-compatible servers (vLLM, Ollama) take any key, but the SDK wants one.
        api_key=key or "unused",
        base_url=settings.openai_base_url or None,
        timeout=openai.Timeout(timeout, connect=min(timeout, 10.0)),
        max_retries=0,
    )


def price_for(model: str, prices: dict[str, ModelPrice]) -> ModelPrice | None:
    """The price of ``model``; a dated snapshot (gpt-4o-mini-2024-07-18) uses its family's."""
    if model in prices:
        return prices[model]
    family = [name for name in prices if model.startswith(name + "-")]
    return prices[max(family, key=len)] if family else None


async def run_all(coros: Iterable[Awaitable[T]]) -> list[T]:
    """Await all concurrently; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def fits_by_bytes(messages: Messages, budget: int) -> bool:
    """True when the messages surely fit ``budget`` tokens, known without a tokenizer.

    Byte-level BPE never makes more tokens than the UTF-8 bytes it encodes, so text within
    the budget in bytes fits in tokens. Most articles do, and skip loading the encoding
    (about 0.3 s in a fresh process).
    """
    size = sum(len(str(m.get("content") or "").encode("utf-8")) for m in messages)
    return size <= budget


class OpenAIEngine:
    """Briefs from an OpenAI-compatible chat model, validated against ``BriefDraft``."""

    name = "openai"

    def __init__(
        self,
        settings: Settings,
        *,
        client: openai.AsyncOpenAI | None = None,
        retry_base: float = 0.5,
        retry_cap: float = 20.0,
    ) -> None:
        self.settings = settings
        self.model = settings.model
        self.client = client if client is not None else build_client(settings)
        self._owns_client = client is None
        #: Backoff curve in seconds (first wait ~retry_base, doubling, at most retry_cap).
        self.retry_base = retry_base
        self.retry_cap = retry_cap

    @property
    def cache_version(self) -> str:
        return prompt_version()

    async def aclose(self) -> None:
        """Close the HTTP client if this engine built it."""
        if self._owns_client:
            await self.client.close()

    # --- the brief -----------------------------------------------------------------

    async def brief(self, article: Article, *, language: str | None = None) -> Brief:
        """A brief of ``article``: one call if it fits the budget, map-reduce if not.

        ``language`` (an ISO code, default BRIEFBOT_LANGUAGE) is what the model writes in."""
        # A context variable, not engine state: one engine writes concurrent briefs for
        # channels with different languages, and each call's tasks inherit its own value.
        _language.set(language or self.settings.language)
        if not article.text.strip():
            raise NoTextError(
                "The article has no text to brief.", hint="Send a link or paste some text."
            )
        usage = Usage()
        started = time.monotonic()
        outcome = "ok"
        try:
            draft = dedupe_draft(await self._draft(article, usage))
        except BriefbotError as exc:
            outcome = exc.code
            raise
        finally:
            self._log_usage(usage, seconds=time.monotonic() - started, outcome=outcome)
        meta = BriefMeta(
            engine="openai",
            model=self.model,
            llm_calls=usage.calls,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            cost_usd=self.cost(usage),
            prompt_version=prompt_version(),
        )
        return draft_to_brief(draft, article=article, meta=meta)

    def cost(self, usage: Usage) -> float:
        """US dollars for the usage, from the price table; 0 for a model it doesn't list."""
        price = price_for(self.model, self.settings.prices)
        if price is None:
            if self.model not in _warned_prices:
                _warned_prices.add(self.model)
                log.warning(
                    "no price for model %s; its cost is reported as 0 (set BRIEFBOT_PRICES)",
                    self.model,
                )
            return 0.0
        return (usage.tokens_in * price.input + usage.tokens_out * price.output) / 1_000_000

    async def _draft(self, article: Article, usage: Usage) -> BriefDraft:
        whole = self._brief_messages(article)
        if fits_by_bytes(whole, self.settings.chunk_tokens):
            return await self._call(whole, usage)
        # Counting and chunking a long text is CPU work: keep the event loop (Slack acks) free.
        chunks = await asyncio.to_thread(self._chunks_if_too_long, article, whole)
        if chunks is None:
            return await self._call(whole, usage)
        usage.chunks = len(chunks)
        answers = await run_all(
            self._map_call(
                self._map_messages(article, c.text, part=c.index + 1, parts=len(chunks)), usage
            )
            for c in chunks
        )
        partials = [a for a in answers if isinstance(a, BriefDraft)]
        if not partials:
            raise next(a for a in answers if isinstance(a, ModelOutputError))
        return await self._reduce(article, partials, usage)

    async def _map_call(self, messages: Messages, usage: Usage) -> BriefDraft | ModelOutputError:
        """One chunk's partial brief; an unusable answer (after its repair) skips the chunk.

        A weak model that rambles past the output cap on one chunk shouldn't cost the whole
        document its brief; the reduce works from the chunks that answered.
        """
        try:
            return await self._call(messages, usage)
        except ModelOutputError as exc:
            log.warning("skipping a chunk whose answer was unusable: %s", exc.message)
            return exc

    async def _reduce(
        self, article: Article, partials: list[BriefDraft], usage: Usage
    ) -> BriefDraft:
        """Merge partial briefs into one, in rounds of groups that each fit one call."""
        while len(partials) > 1:
            groups = self._group(article, partials)
            if len(groups) == 1:
                return await self._call(self._reduce_messages(article, partials), usage)
            partials = await run_all(self._merge_group(article, g, usage) for g in groups)
        return partials[0]

    async def _merge_group(
        self, article: Article, group: list[BriefDraft], usage: Usage
    ) -> BriefDraft:
        if len(group) == 1:
            return group[0]
        return await self._call(self._reduce_messages(article, group), usage)

    def _group(self, article: Article, partials: list[BriefDraft]) -> list[list[BriefDraft]]:
        """Pack partials greedily into groups that fit; at least two per group, so rounds shrink."""
        room = (
            self.settings.chunk_tokens - self._tokens(self._reduce_messages(article, [])) - _MARGIN
        )
        groups: list[list[BriefDraft]] = []
        group: list[BriefDraft] = []
        used = 0
        for partial in partials:
            size = count_tokens(partial.model_dump_json(), self.model) + 1  # +1: the comma
            if group and used + size > room and len(group) >= 2:
                groups.append(group)
                group, used = [], 0
            group.append(partial)
            used += size
        groups.append(group)
        return groups

    # --- one call, with one repair ----------------------------------------------------

    async def _call(self, messages: Messages, usage: Usage) -> BriefDraft:
        """One brief draft from the model; a second, repair call if the first is unusable."""
        first = await self._complete(messages, usage)
        if isinstance(first, BriefDraft):
            return first
        log.warning(
            "model answer unusable (%s: %s); asking once more", first.kind, short(first.detail)
        )
        repair = render_prompt(
            "repair.j2", error=short(first.detail, 300), cut_off=first.kind == "cut_off"
        )
        second = await self._complete([*messages, {"role": "user", "content": repair}], usage)
        if isinstance(second, BriefDraft):
            return second
        raise second.error()

    async def _complete(self, messages: Messages, usage: Usage) -> BriefDraft | Unusable:
        raw = await call_with_retries(
            lambda: self._request(messages),
            policy=RetryPolicy(
                max_attempts=self.settings.llm_max_attempts,
                max_wait=self.settings.llm_max_wait,
                base=self.retry_base,
                cap=self.retry_cap,
            ),
            model=self.model,
            call_timeout=self.settings.llm_timeout,
            on_retry=usage.note_retry,
        )
        return await read_completion(raw, usage)

    async def _request(self, messages: Messages) -> Any:
        # Admission first: the client's timeout starts when the request is sent, so time
        # spent queued behind our own calls never counts against a call.
        async with await limiter_for(self.settings, self.client):
            # The raw response keeps the HTTP body, so tokens of an unparsable answer count.
            return await self.client.chat.completions.with_raw_response.parse(
                model=self.model,
                messages=messages,
                response_format=BriefDraft,
                **output_cap(self.settings),
            )

    # --- prompts and budgets ----------------------------------------------------------

    def _system(self) -> ChatCompletionMessageParam:
        code = _language.get() or self.settings.language
        return {
            "role": "system",
            "content": render_prompt("system.j2", language=code, language_name=language_name(code)),
        }

    def _brief_messages(self, article: Article) -> Messages:
        user = render_prompt(
            "brief.j2", title=article.title, site=article.site, date=article.date, text=article.text
        )
        return [self._system(), {"role": "user", "content": user}]

    def _map_messages(self, article: Article, text: str, *, part: int, parts: int) -> Messages:
        user = render_prompt("map.j2", title=article.title, text=text, part=part, parts=parts)
        return [self._system(), {"role": "user", "content": user}]

    def _reduce_messages(self, article: Article, partials: list[BriefDraft]) -> Messages:
        trimmed = trim_partials(partials)
        payload = "[" + ",".join(p.model_dump_json() for p in trimmed) + "]" if trimmed else ""
        user = render_prompt("reduce.j2", title=article.title, partials=payload)
        return [self._system(), {"role": "user", "content": user}]

    def _tokens(self, messages: Messages) -> int:
        return sum(count_tokens(str(m.get("content") or ""), self.model) for m in messages)

    def _chunks_if_too_long(self, article: Article, whole: Messages) -> list[Chunk] | None:
        """The map chunks of an article over the budget; None when one call can take it all."""
        # The text is encoded once: its count decides, and the chunker reuses the tokens.
        tokens = encode(article.text, self.model)
        if self._whole_fits(article, whole, len(tokens)):
            return None
        budget = self._chunk_budget(article)
        overlap = min(self.settings.chunk_overlap_tokens, budget // 4)
        chunks = chunk_text(
            article.text, budget=budget, overlap=overlap, model=self.model, tokens=tokens
        )
        return chunks if len(chunks) > 1 else None

    def _whole_fits(self, article: Article, whole: Messages, text_tokens: int) -> bool:
        """Whether the one-call prompt fits: the text's count plus the prompt around it,
        and an exact count of the whole only when that sum is too close to call."""
        limit = self.settings.chunk_tokens
        # Fenced tags in the text are rewritten in the prompt; the joins tokenise a little
        # differently from the parts, by less than _MARGIN.
        if fence_data(article.text) == article.text:
            around = self._tokens(self._brief_messages(article.model_copy(update={"text": ""})))
            if abs(around + text_tokens - limit) > _MARGIN:
                return around + text_tokens <= limit
        return self._tokens(whole) <= limit

    def _chunk_budget(self, article: Article) -> int:
        """Tokens of article text per map call: the budget less the map prompt around it."""
        overhead = self._tokens(self._map_messages(article, "", part=999, parts=999)) + _MARGIN
        budget = self.settings.chunk_tokens - overhead
        if budget < _MIN_CHUNK:
            log.warning(
                "BRIEFBOT_CHUNK_TOKENS=%d leaves %d tokens for text after the prompt; using %d",
                self.settings.chunk_tokens,
                budget,
                _MIN_CHUNK,
            )
            return _MIN_CHUNK
        return budget

    def _log_usage(self, usage: Usage, *, seconds: float, outcome: str) -> None:
        """One line per brief: what it cost. The key never goes near the log."""
        fields = {
            "model": self.model,
            "outcome": outcome,
            "calls": usage.calls,
            "chunks": usage.chunks,
            "tokens_in": usage.tokens_in,
            "tokens_out": usage.tokens_out,
            "cost_usd": round(self.cost(usage), 6),
            "retries": usage.retries,
            "timeout_retries": usage.timeout_retries,
            "salvaged": usage.salvaged,
            "seconds": round(seconds, 3),
        }
        log.info(
            "llm usage %s",
            " ".join(f"{k}={v}" for k, v in fields.items()),
            extra={"event": "llm_usage", **{f"llm_{k}": v for k, v in fields.items()}},
        )
