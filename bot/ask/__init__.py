"""Ask the article: follow-up questions answered from a briefed article, with checked quotes.

retrieval (BM25 over the article's sentences) -> engine (offline or model) -> grounding
-> an :class:`~bot.ask.models.Answer`. The Slack thread listener lives in
``bot.slack.questions``; ``briefbot ask`` in ``bot.ask.cli``.
"""

from bot.ask.models import Answer, AnswerDraft, Turn
from bot.ask.service import AskService

__all__ = ["Answer", "AnswerDraft", "AskService", "Turn"]
