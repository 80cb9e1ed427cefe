"""Brief engines: OpenAI (structured output) and offline (extractive). Same Brief schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.models import Article, Brief

EngineName = Literal["openai", "offline"]


class Engine(Protocol):
    """What the service needs from an engine."""

    name: str

    @property
    def cache_version(self) -> str:
        """What produced a brief besides the engine and model: its prompts or its rules.

        Part of the cache key, so a change here invalidates cached briefs, and nothing
        else (a display template, say) does.
        """
        ...

    async def brief(self, article: Article, *, language: str | None = None) -> Brief: ...

    async def aclose(self) -> None:
        """Release connections; the engine is not used again."""
        ...


def make_engine(settings: Settings, name: EngineName | None = None) -> Engine:
    """Build the named engine, or the one the settings choose (OpenAI when a key is set)."""
    chosen = name or settings.engine_name()
    if chosen == "openai":
        from bot.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(settings)
    from bot.engines.offline import OfflineEngine

    return OfflineEngine(settings)
