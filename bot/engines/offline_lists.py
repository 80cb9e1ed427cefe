"""Lists of names: the items of one list are of one kind, and none is another's role.

"Blue Origin, Sierra Nevada Corporation and SpaceX": when one item of a list of names is a
known organisation (or person) and the others are names of nothing yet, they are
organisations (or people) too. "Ohio Sen. Mara Quist, Texas Rep. Dale Ferrante": the
second item is not the first one's role.
"""

from __future__ import annotations

from typing import Protocol

from bot.engines.offline_cast import Entity, Kind, Mention
from bot.engines.offline_given_names import GIVEN_NAMES
from bot.engines.offline_lexicon import COUNTRIES, PLACE_WORDS, TITLES
from bot.engines.offline_names import (
    ABBREVIATED_TITLES,
    NOT_NAME,
    countries_in,
    name_span,
    runs,
    valid_name,
)
from bot.engines.offline_text import Doc, Sentence, Token

#: What may stand between two items of a list of names.
_SEPARATORS = frozenset((",", "and", ", and", "or", ", or", "&"))


class _Builder(Protocol):
    doc: Doc
    entities: dict[tuple[Kind, str], Entity]
    by_sentence: dict[int, list[tuple[Mention, Entity]]]

    def add(self, kind: Kind, name: str, sentence: Sentence, span: tuple[int, int]) -> Entity: ...


def _name_lists(doc: Doc, sentence: Sentence) -> list[list[list[Token]]]:
    """Runs of capitalised names joined only by commas and "and"/"or"."""
    tokens = sentence.tokens
    lists: list[list[list[Token]]] = []
    current: list[list[Token]] = []
    previous_end = -1
    for i, j in runs(doc, tokens):
        run = tokens[i:j]
        between = " ".join(doc.text[previous_end : run[0].start].split()).replace(" ,", ",")
        if current and between in _SEPARATORS:
            current.append(run)
        else:
            if len(current) > 1:
                lists.append(current)
            current = [run]
        previous_end = run[-1].start + len(run[-1].norm)
    if len(current) > 1:
        lists.append(current)
    return lists


def _kind_of(builder: _Builder, run: list[Token], index: int) -> Kind | None:
    """The kind of entity a run already names: by a mention there, or by its words."""
    lo, hi = run[0].start, run[-1].end
    for mention, entity in builder.by_sentence.get(index, []):
        if lo <= mention.start < hi and entity.kind != "country":
            return entity.kind
    text = name_span(builder.doc, run).lower()
    for kind in ("person", "org"):
        if (kind, text) in builder.entities:
            return kind
    if len(run) == 1:  # a surname used alone: "Klobuchar"
        people = (e for e in builder.entities.values() if e.kind == "person")
        if any(e.surname.lower() == text for e in people):
            return "person"
    return None


def _fits(doc: Doc, run: list[Token], kind: Kind) -> bool:
    """Whether a run of no known entity can be a name of ``kind``."""
    low = [t.lower for t in run]
    if countries_in(run) or low[-1] in PLACE_WORDS or any(w in COUNTRIES for w in low):
        return False
    if kind == "person":
        return 2 <= len(run) <= 3 and valid_name(run, doc)
    if len(run) > 4 or all(w in NOT_NAME for w in low):
        return False
    # A word the article also writes in lower case is a common noun: "Red", "Current".
    return all(t.norm.lower() not in doc.lower_vocab for t in run)


def coordinated_names(builder: _Builder) -> None:
    """Give the unknown items of a list of names the one kind its known items share."""
    doc = builder.doc
    for sentence in doc.sentences:
        for items in _name_lists(doc, sentence):
            kinds = [_kind_of(builder, run, sentence.index) for run in items]
            known = {k for k in kinds if k is not None}
            if len(known) != 1 or kinds.count(None) == 0:
                continue
            (kind,) = known
            for run, found in zip(items, kinds, strict=True):
                if found is None and _fits(doc, run, kind):
                    span = (run[0].start, run[-1].start + len(run[-1].norm))
                    builder.add(kind, name_span(doc, run), sentence, span)


def drop_borrowed_roles(entities: list[Entity]) -> None:
    """ "Cory Booker, Hawaii Rep. Tulsi Gabbard, ...": an appositive that ends on another
    person's full name, after a title, is the next item of a list, not this person's role
    ("press secretary at the White House" or "Carlineo's attorney" are roles)."""
    people = [
        e
        for e in entities
        if e.kind == "person"
        and " " in e.name
        and (e.role or e.name.split()[0].lower() in GIVEN_NAMES)
    ]
    for entity in entities:
        if not entity.role:
            continue
        role = " ".join(entity.role.replace("’", "'").removesuffix("'s").split())
        for other in people:
            head = role.removesuffix(other.name)
            if other is entity or head == role:
                continue
            if head and not head.endswith(" "):
                continue  # "Tom Gabbard" inside "Atom Gabbard"
            before = head.split()[-1].lower().rstrip(".") if head.split() else ""
            # "... Rep. Tulsi Gabbard", "... coach Jason Kidd": a title, then the name.
            if not before or before in TITLES or before in ABBREVIATED_TITLES:
                entity.role, entity.role_sentence = None, None
                break
