"""What the model fills in (``BriefDraft``), and how a draft becomes a ``Brief``.

The draft models follow OpenAI's strict JSON-schema rules: every field is required and
has no default; optional values are typed ``str | None``. They carry no ``meta`` or
``verified`` fields: those are ours to fill, not the model's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from bot.models import Article, Brief, BriefMeta, NextStep, Participant, Tension, Topic


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParticipantDraft(_Strict):
    name: str
    role: str | None
    evidence: str


class TopicDraft(_Strict):
    name: str
    evidence: str


class TensionDraft(_Strict):
    description: str
    parties: list[str]
    evidence: str


class NextStepDraft(_Strict):
    action: str
    owner: str | None
    when: str | None
    evidence: str


class BriefDraft(_Strict):
    """The brief as the model writes it (the ``response_format`` schema)."""

    summary: str
    participants: list[ParticipantDraft]
    topics: list[TopicDraft]
    tensions: list[TensionDraft]
    next_steps: list[NextStepDraft]


_NON_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def normalize_name(name: str) -> str:
    """A name's identity for dedup: case, punctuation, spacing and a leading "the" ignored."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _SPACES.sub(" ", _NON_WORD.sub("", text)).strip()
    return text.removeprefix("the ")


T = TypeVar("T")


def _unique(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    seen: set[str] = set()
    kept: list[T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            kept.append(item)
    return kept


def _merge_roles(roles: Iterable[str | None]) -> str | None:
    distinct = _unique((r.strip() for r in roles if r and r.strip()), normalize_name)
    return "; ".join(distinct) or None


def dedupe_draft(draft: BriefDraft) -> BriefDraft:
    """Merge participants and topics that share a normalized name, in first-seen order.

    A merged participant keeps the first evidence and every distinct role. Exact repeats of
    tensions and next steps go too. Models repeat items across chunks; this makes sure no
    duplicate survives even when the reduce step keeps one.
    """
    groups: dict[str, list[ParticipantDraft]] = {}
    for p in draft.participants:
        groups.setdefault(normalize_name(p.name) or p.name, []).append(p)
    participants = [
        ParticipantDraft(
            name=same[0].name, role=_merge_roles(p.role for p in same), evidence=same[0].evidence
        )
        for same in groups.values()
    ]
    return BriefDraft(
        summary=draft.summary.strip(),
        participants=participants,
        topics=_unique(draft.topics, lambda t: normalize_name(t.name) or t.name),
        tensions=_unique(draft.tensions, lambda t: normalize_name(t.description)),
        next_steps=_unique(draft.next_steps, lambda s: normalize_name(s.action)),
    )


def trim_partials(partials: list[BriefDraft]) -> list[BriefDraft]:
    """Partial briefs for a reduce call, with each item given once.

    Overlapping chunks make neighbouring partials repeat the same people and topics. An
    item keeps its first partial's place and evidence (with every distinct role); later
    repeats go. The merge would drop them anyway (``dedupe_draft``), so the reduce call
    reads fewer tokens and loses no item and no evidence it would have kept.
    """
    people: dict[str, ParticipantDraft] = {}
    seen: set[tuple[str, str]] = set()
    trimmed: list[BriefDraft] = []
    for partial in partials:
        participants = []
        for p in partial.participants:
            key = normalize_name(p.name) or p.name
            first = people.get(key)
            if first is None:
                people[key] = p.model_copy()
                participants.append(people[key])
            else:
                first.role = _merge_roles([first.role, p.role])

        def fresh(kind: str, name: str) -> bool:
            key = (kind, normalize_name(name) or name)
            if key in seen:
                return False
            seen.add(key)
            return True

        trimmed.append(
            BriefDraft(
                summary=partial.summary,
                participants=participants,
                topics=[t for t in partial.topics if fresh("topic", t.name)],
                tensions=[t for t in partial.tensions if fresh("tension", t.description)],
                next_steps=[s for s in partial.next_steps if fresh("step", s.action)],
            )
        )
    return trimmed


def draft_to_brief(draft: BriefDraft, *, article: Article, meta: BriefMeta) -> Brief:
    """The pipeline's ``Brief`` from a model draft (grounding runs later, on the Brief)."""
    return Brief(
        title=article.title,
        url=article.canonical_url or article.final_url or article.url,
        summary=draft.summary,
        participants=[
            Participant(name=p.name, role=p.role, evidence=p.evidence) for p in draft.participants
        ],
        topics=[Topic(name=t.name, evidence=t.evidence) for t in draft.topics],
        tensions=[
            Tension(description=t.description, parties=list(t.parties), evidence=t.evidence)
            for t in draft.tensions
        ],
        next_steps=[
            NextStep(action=s.action, owner=s.owner, when=s.when, evidence=s.evidence)
            for s in draft.next_steps
        ],
        meta=meta,
    )
