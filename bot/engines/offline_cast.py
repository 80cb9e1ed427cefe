"""The cast of an article: entities (people, organisations, countries) and their mentions.

Built by :mod:`bot.engines.offline_people`; read by tensions, next steps and topics.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Literal

from bot.engines.offline_lexicon import ORG_WORDS, PRODUCT_WORDS, TECH_ACRONYMS
from bot.engines.offline_names import surname

Kind = Literal["person", "org", "country"]


@dataclass
class Mention:
    sentence: int
    start: int
    end: int
    #: A country used inside someone's title ("US President"): not a party of its own.
    in_role: bool = False


@dataclass
class Entity:
    name: str
    kind: Kind
    role: str | None = None
    role_sentence: int | None = None
    mentions: list[Mention] = field(default_factory=list)
    #: An organisation seen doing something (said, released...): worth listing.
    acting: bool = False

    @property
    def first(self) -> int:
        return min(m.start for m in self.mentions)

    @property
    def importance(self) -> float:
        own = sum(1 for m in self.mentions if not m.in_role)
        return own + (0.5 if self.role else 0.0)

    @property
    def surname(self) -> str:
        return surname(self.name)


@dataclass
class Cast:
    """Everything found, plus per-sentence mentions for tensions and next steps."""

    entities: list[Entity]
    by_sentence: dict[int, list[tuple[Mention, Entity]]]
    #: Words the article writes in lower case: "Police" alone is then no name.
    lower_vocab: frozenset[str] = frozenset()
    _listed: list[Entity] | None = field(default=None, repr=False)

    def participants(self) -> list[Entity]:
        """Entities worth listing, most important first (computed once: every tension and
        step asks, and the cast no longer changes)."""
        if self._listed is None:
            self._listed = self._rank()
        return self._listed

    def _rank(self) -> list[Entity]:
        keep = [
            e
            for e in self.entities
            if e.kind == "person"
            or (e.kind == "country" and e.acting)  # a place, unless it acts
            or (
                e.kind == "org"
                and (e.acting or len(e.mentions) >= 2 or _named_body(e))
                and not _generic(e, self.lower_vocab)
            )
            if not _product(e)
        ]
        ranked = sorted(((-e.importance, e.first, n) for n, e in enumerate(keep)))
        return [keep[n] for _, _, n in ranked]


def _named_body(entity: Entity) -> bool:
    """ "Hong Kong Stock Exchange", "Electoral Commission": a proper name ending in an
    organisation word is a party even when named once."""
    words = entity.name.split()
    return len(words) >= 2 and words[-1].lower().strip("'’") in ORG_WORDS and not _generic(entity)


def _product(entity: Entity) -> bool:
    """ "USB-C", "GPU", "AirPods Pro", "Samsung TV": a thing named, not a party. A person
    with a role ("Max", "Pro" as a name) is left alone."""
    words = entity.name.lower().split()
    if entity.kind == "person" and (entity.role or len(words) == 1):
        return False
    if len(words) == 1:
        return words[0] in TECH_ACRONYMS
    return words[-1] in PRODUCT_WORDS or words[-1] in TECH_ACRONYMS


def _generic(entity: Entity, lower_vocab: frozenset[str] = frozenset()) -> bool:
    """ "the Union", "the Ministry", "Police" alone: a common noun capitalised, not a name."""
    low = entity.name.lower()
    return " " not in entity.name and (low in ORG_WORDS or low in lower_vocab)


def salient(candidates: list[Entity], pos: int, starts: dict[int, list[int]]) -> list[Entity]:
    """What "the association" at ``pos`` refers to: the one candidate, or among several the
    one mentioned most (then last) before it; none when none was mentioned yet.

    ``starts`` holds each entity's sorted mention offsets (by ``id``): a bisection, not a
    scan of every mention, so a long article stays linear."""
    if len(candidates) <= 1:
        return candidates
    seen: list[tuple[int, int, Entity]] = []
    for entity in candidates:
        offsets = starts.get(id(entity), [])
        count = bisect.bisect_left(offsets, pos)
        if count:
            seen.append((count, offsets[count - 1], entity))
    if not seen:
        return []
    return [max(seen, key=lambda item: (item[0], item[1]))[2]]
