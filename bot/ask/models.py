"""The data of a question and its answer: the model's schema and the answer we post."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

#: At most this many quotes back an answer.
MAX_QUOTES = 3


class AnswerDraft(BaseModel):
    """What the model must return (structured output): the answer, quotes, and whether the
    article answers the question at all."""

    answer: str = Field(description="A short answer (1-3 sentences) using only the article.")
    quotes: list[str] = Field(
        default_factory=list,
        description="Up to 3 verbatim sentences or phrases copied from the article.",
    )
    answered: bool = Field(description="False when the article does not answer the question.")


class Answer(BaseModel):
    """A grounded answer, ready to render: every quote was found in the article."""

    question: str
    answer: str
    quotes: list[str] = Field(default_factory=list)
    answered: bool
    engine: Literal["openai", "offline"]
    model: str | None = None
    llm_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    #: Quotes the engine gave that were not in the article (dropped).
    dropped_quotes: int = 0
    #: Why the offline engine stood in for the model, when it did.
    fallback_reason: str | None = None
    title: str | None = None
    url: str | None = None


class Turn(BaseModel):
    """One earlier question and answer in the same thread: context for the next one."""

    question: str
    answer: str
