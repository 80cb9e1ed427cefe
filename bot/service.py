"""The brief pipeline: source -> article -> (cache) -> engine -> grounding -> store.

The one service both the CLI and the Slack bot call. Only ``load_article`` and the
engine touch the network; everything else is plain functions over plain data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from bot import metrics
from bot.access import check_budget
from bot.config import Settings
from bot.engines import Engine, EngineName, make_engine
from bot.errors import BriefbotError, ModelError, ModelOutputError, QuotaError
from bot.grounding import ground_brief, hollow_reason, item_count
from bot.ingest import load_article
from bot.models import Article, Brief, Source
from bot.store import Store, cache_key

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BriefResult:
    brief: Brief
    article: Article
    cache_key: str
    #: The brief log row (Store.mark_posted records where it was posted); None without a store.
    log_id: int | None = None


def describe_source(source: Source, *, limit: int = 80) -> str:
    """A short human label for a source: its link label, URL, file name, or first words."""
    if source.label:
        text = source.label
    elif source.kind == "file":
        text = PurePath(source.value).name
    else:
        text = " ".join(source.value.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class BriefService:
    """Turns sources into grounded, cached briefs."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None,
        engine_name: EngineName | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine: Engine = make_engine(settings, engine_name)
        self._offline: Engine | None = self.engine if self.engine.name == "offline" else None

    def _offline_engine(self) -> Engine:
        if self._offline is None:
            self._offline = make_engine(self.settings, "offline")
        return self._offline

    def key_for(self, article: Article, *, language: str | None = None) -> str:
        # The link asked for comes first: it is known before any fetch (so a repeat costs
        # no fetch), and a page's own canonical link is page data that could otherwise
        # point its brief at another article's cache entry.
        return self._key(
            url=article.url or article.final_url or article.canonical_url,
            content_hash=article.content_hash,
            language=language,
        )

    def _key(self, *, url: str | None, content_hash: str, language: str | None = None) -> str:
        # What produced the data, not how it is shown: editing a display template must not
        # throw the cache away and bill the model again.
        version = self.engine.cache_version
        if self.engine.name == "openai":
            # A model brief is written in the channel's language: one cache entry each.
            version = f"{version}+{language or self.settings.language}"
        return cache_key(
            url=url,
            content_hash=content_hash,
            engine=self.engine.name,
            model=self.settings.model if self.engine.name == "openai" else None,
            prompt_version=version,
        )

    async def brief(
        self,
        source: Source,
        *,
        use_cache: bool = True,
        team: str | None = None,
        channel: str | None = None,
        progress: Progress | None = None,
        language: str | None = None,
    ) -> BriefResult:
        """Read the source and brief it; BriefbotError subclasses carry user-safe messages.

        ``language`` is the code model briefs are written in (default BRIEFBOT_LANGUAGE)."""
        if use_cache and source.kind == "url":
            hit = await self._cached_link(source, team=team, channel=channel, language=language)
            if hit is not None:
                return hit
        try:
            article = await load_article(source, self.settings, progress=progress)
        except BriefbotError as exc:
            metrics.record_brief(exc.code)
            raise
        return await self.brief_article(
            article,
            use_cache=use_cache,
            team=team,
            channel=channel,
            progress=progress,
            language=language,
        )

    async def _cached_link(
        self, source: Source, *, team: str | None, channel: str | None, language: str | None
    ) -> BriefResult | None:
        """A link briefed before, answered from the cache without fetching it again."""
        if self.store is None:
            return None
        key = self._key(url=source.value, content_hash="", language=language)
        cached = await asyncio.to_thread(self.store.get_brief, key)
        text = await asyncio.to_thread(self.store.cached_article_text, key) if cached else None
        if cached is None or not text:
            return None  # also rows from before article text was kept: fetch as usual
        article = Article(
            url=source.value, final_url=cached.url, title=cached.title, text=text,
            source_kind="url", content_type="text/html",
        )  # fmt: skip
        log.info("brief cache hit before fetching", extra={"cache_key": key})
        log_id = await self._record(key, cached, article, team=team, channel=channel)
        metrics.record_brief("cached")
        return BriefResult(brief=cached, article=article, cache_key=key, log_id=log_id)

    async def brief_article(
        self,
        article: Article,
        *,
        use_cache: bool = True,
        team: str | None = None,
        channel: str | None = None,
        progress: Progress | None = None,
        language: str | None = None,
    ) -> BriefResult:
        language = language or self.settings.language
        key = self.key_for(article, language=language)
        if use_cache and self.store is not None:
            cached = await asyncio.to_thread(self.store.get_brief, key)
            if cached is not None:
                log.info("brief cache hit", extra={"cache_key": key})
                log_id = await self._record(key, cached, article, team=team, channel=channel)
                metrics.record_brief("cached")
                return BriefResult(brief=cached, article=article, cache_key=key, log_id=log_id)

        if progress:
            progress(f"Briefing with the {self.engine.name} engine…")
        fallback_reason: str | None = None
        started = time.perf_counter()
        try:
            if self.settings.daily_token_budget and self.engine.name != "offline":
                # Offline briefs cost no tokens, so only model briefs count against it.
                await asyncio.to_thread(check_budget, self.settings, self.store, team)
            draft = await self.engine.brief(article, language=language)
        except (ModelError, QuotaError, ModelOutputError) as exc:
            unusable_only = isinstance(exc, ModelOutputError) and not exc.fallback_reason
            if unusable_only or self.engine.name == "offline" or not self.settings.offline_fallback:
                metrics.record_brief(exc.code)
                raise
            log.warning("falling back to the offline engine: %s", exc)
            # The label reads "Written offline because <reason>".
            fallback_reason = getattr(exc, "fallback_reason", None) or str(exc)
            draft = await self._offline_engine().brief(article)
            draft.meta.fallback_reason = fallback_reason
        except BriefbotError as exc:
            metrics.record_brief(exc.code)
            raise
        metrics.observe_stage("model", time.perf_counter() - started)

        brief = ground_brief(draft, article.text, keep_unverified=self.settings.keep_unverified)
        if fallback_reason is None and self.engine.name != "offline":
            hollow = hollow_reason(brief, items_before=item_count(draft))
            if hollow is not None:
                brief = await self._instead_of_hollow(brief, article, hollow)
                fallback_reason = hollow
        brief.title = brief.title or article.title
        brief.url = brief.url or article.final_url or article.url
        m = brief.meta
        log.info(
            "brief written",
            extra={
                "engine": m.engine,
                "model": m.model,
                "llm_calls": m.llm_calls,
                "tokens_in": m.tokens_in,
                "tokens_out": m.tokens_out,
                "cost_usd": m.cost_usd,
                "dropped_unverified": m.dropped_unverified,
            },
        )
        # A fallback brief is not what the configured engine would write: log it but don't
        # cache it, so the model's brief replaces it once the model is back.
        log_id = await self._record(
            key, brief, article, team=team, channel=channel, cache=fallback_reason is None
        )
        metrics.record_brief("fallback" if fallback_reason else "ok")
        metrics.record_usage(
            m.model or m.engine, tokens_in=m.tokens_in, tokens_out=m.tokens_out,
            calls=m.llm_calls, cost=m.cost_usd,
        )  # fmt: skip
        return BriefResult(brief=brief, article=article, cache_key=key, log_id=log_id)

    async def _instead_of_hollow(self, hollow: Brief, article: Article, reason: str) -> Brief:
        """The offline brief, labelled with why the model's brief was not used.

        Never the husk: with the fallback off, the user is told the model's answer could not
        be verified. The model's usage stays on the brief's meta: it was spent.
        """
        m = hollow.meta
        log.warning(
            "model brief not used: %s",
            reason,
            extra={"fallback_reason": reason, "dropped_unverified": m.dropped_unverified},
        )
        if not self.settings.offline_fallback:
            metrics.record_brief(ModelOutputError.code)
            raise ModelOutputError(
                f"The model's answer could not be verified against the article: {reason}.",
                hint="Try again, use a stronger BRIEFBOT_MODEL, or turn on "
                "BRIEFBOT_OFFLINE_FALLBACK to get the offline brief instead.",
            )
        draft = await self._offline_engine().brief(article)
        draft.meta.fallback_reason = reason
        brief = ground_brief(draft, article.text, keep_unverified=self.settings.keep_unverified)
        brief.meta = brief.meta.model_copy(
            update={
                "model": m.model,
                "llm_calls": m.llm_calls,
                "tokens_in": m.tokens_in,
                "tokens_out": m.tokens_out,
                "cost_usd": m.cost_usd,
                "dropped_unverified": m.dropped_unverified,
            }
        )
        return brief

    async def _record(
        self,
        key: str,
        brief: Brief,
        article: Article,
        *,
        team: str | None,
        channel: str | None,
        cache: bool = True,
    ) -> int | None:
        """Log every delivered brief (history, digests, usage) and cache fresh ones."""
        if self.store is None:
            return None
        return await asyncio.to_thread(
            self.store.put_brief,
            key,
            brief,
            url=brief.url,
            title=brief.title,
            team=team,
            channel=channel,
            article_text=article.text,
            cache=cache,
        )
