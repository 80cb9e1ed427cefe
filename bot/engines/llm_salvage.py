"""Salvaging an answer that was cut off (``finish_reason: length``).

Small local models often repeat items until they hit the output cap; the answer is then
valid JSON up to the cut, minus its closing brackets. Rather than spend a second call
(and as long again) on a repair, keep every complete item before the cut. The result is
a normal draft: the quote check and the hollow-brief check still judge it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.engines.llm_schema import (
    BriefDraft,
    NextStepDraft,
    ParticipantDraft,
    TensionDraft,
    TopicDraft,
)

#: Cut points tried, latest first, before giving up (each try parses the prefix once).
MAX_TRIES = 200
_CLOSER = {"{": "}", "[": "]"}
_SECTIONS: dict[str, type[BaseModel]] = {
    "participants": ParticipantDraft,
    "topics": TopicDraft,
    "tensions": TensionDraft,
    "next_steps": NextStepDraft,
}


def _cut_points(text: str) -> list[tuple[int, str]]:
    """Where the JSON could end: (prefix length, closing brackets needed), in text order."""
    points: list[tuple[int, str]] = []
    stack: list[str] = []
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in _CLOSER:
            stack.append(_CLOSER[ch])
        elif ch in "}]":
            if not stack:
                return points
            stack.pop()
            points.append((i + 1, "".join(reversed(stack))))
        elif ch == ",":
            points.append((i, "".join(reversed(stack))))
    return points


def _complete_items(data: dict[str, Any]) -> BriefDraft | None:
    """The draft of the complete items; None without a summary and at least one item."""
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        return None
    sections: dict[str, list[Any]] = {}
    for name, model in _SECTIONS.items():
        kept = []
        for item in data.get(name) or []:
            try:
                kept.append(model.model_validate(item))
            except ValidationError:
                continue  # the item the cut went through
        sections[name] = kept
    if not any(sections.values()):
        return None  # a cut before the first point: asking again does better
    return BriefDraft(summary=summary, **sections)


def salvage_draft(text: str | None) -> BriefDraft | None:
    """The complete part of a cut-off JSON brief; None unless it has a summary and a point."""
    if not text or not text.lstrip().startswith("{"):
        return None
    for end, closers in reversed(_cut_points(text)[-MAX_TRIES:]):
        try:
            data = json.loads(text[:end] + closers)
        except ValueError:
            continue
        if isinstance(data, dict):
            draft = _complete_items(data)
            if draft is not None:
                return draft
    return None
