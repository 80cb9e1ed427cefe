"""The plain data that flows through the pipeline: Source -> Article -> Brief.

``Brief`` is the contract between engines, grounding, renderers, storage and Slack.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Source(BaseModel):
    """What the user asked us to read: a URL, a local file, or raw text."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["url", "file", "text"]
    value: str
    #: Optional label (Slack's ``<url|label>``), never used as article text.
    label: str | None = None


class Article(BaseModel):
    """Clean article text plus the metadata we keep from extraction."""

    url: str | None = None
    final_url: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site: str | None = None
    text: str
    source_kind: Literal["url", "file", "text"] = "text"
    content_type: str | None = None

    @property
    def content_hash(self) -> str:
        """sha256 of the clean text: the cache identity of pasted text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


# --- The brief --------------------------------------------------------------------
# Each item carries one verbatim quote from the source as ``evidence``. Grounding checks
# it; ``verified`` is False only when the keep-unverified setting keeps a failing item.


class Participant(BaseModel):
    name: str
    role: str | None = None
    evidence: str
    verified: bool = True


class Topic(BaseModel):
    name: str
    evidence: str
    verified: bool = True


class Tension(BaseModel):
    description: str
    parties: list[str] = Field(default_factory=list)
    evidence: str
    verified: bool = True


class NextStep(BaseModel):
    action: str
    owner: str | None = None
    when: str | None = None
    evidence: str
    verified: bool = True


class BriefMeta(BaseModel):
    engine: Literal["openai", "offline"]
    model: str | None = None
    llm_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    dropped_unverified: int = 0
    #: Why the offline engine stood in for the model, when it did.
    fallback_reason: str | None = None
    prompt_version: str | None = None
    #: The article's language (ISO 639-1), when it was detected.
    language: str | None = None
    #: A plain note for the footer: what the engine could not read, or where it stopped.
    note: str | None = None


class Brief(BaseModel):
    title: str | None = None
    url: str | None = None
    summary: str
    participants: list[Participant] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    tensions: list[Tension] = Field(default_factory=list)
    next_steps: list[NextStep] = Field(default_factory=list)
    meta: BriefMeta
