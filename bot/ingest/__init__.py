"""Ingest: turn links, files and pasted text into clean Articles (SSRF-safe fetching).

``load_article`` is imported lazily so that light users (``bot.ingest.links`` in the Slack
listeners) don't pay for importing trafilatura and httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.ingest.load import MIN_WORDS, load_article

__all__ = ["MIN_WORDS", "load_article"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bot.ingest import load

        return getattr(load, name)
    raise AttributeError(f"module 'bot.ingest' has no attribute {name!r}")
