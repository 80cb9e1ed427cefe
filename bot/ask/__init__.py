"""Ask the article: follow-up questions answered from a briefed article, with checked quotes.

retrieval (BM25 over the article's sentences) -> engine (offline or model) -> grounding
-> an :class:`~bot.ask.models.Answer`. The Slack thread listener lives in
``bot.slack.questions``; ``briefbot ask`` in ``bot.ask.ask_cli``.

Names are imported lazily: the CLI's parser imports ``bot.ask.ask_cli`` on every command, and
the service pulls in openai and numpy (most of a second) that ``briefbot brief`` never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.ask.models import Answer, AnswerDraft, Turn
    from bot.ask.service import AskService

__all__ = ["Answer", "AnswerDraft", "AskService", "Turn"]


def __getattr__(name: str) -> Any:
    if name == "AskService":
        from bot.ask import service

        return service.AskService
    if name in __all__:
        from bot.ask import models

        return getattr(models, name)
    raise AttributeError(f"module 'bot.ask' has no attribute {name!r}")
