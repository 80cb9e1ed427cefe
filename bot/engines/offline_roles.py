"""Roles of named people: a title before a name, or an appositive after it.

"union general secretary Daniel Okafor", "Gov. Eric Holcomb" (spelled out: Governor),
"Maria Lindqvist, the chief executive of ...". Also: a role in front of an organisation's
name, and two roles that can't be one person's. Used by :mod:`bot.engines.offline_people`.
"""

from __future__ import annotations

import re

from bot.engines.offline_cast import Entity
from bot.engines.offline_lexicon import ORG_WORDS, ROLE_MODIFIERS, STOPWORDS, TITLES, wordset
from bot.engines.offline_names import (
    ABBREVIATED_TITLES,
    CONNECTORS,
    ORG_NOUNS,
    ROLEISH,
    gap_text,
    opens_org_name,
    spell_out,
    text_of,
)
from bot.engines.offline_text import Doc, Sentence, Token

_DETERMINERS = wordset("the a an its his her their our my your this that")
_MAX_APPOSITIVE_WORDS = 16


def _title_of_phrase(doc: Doc, tokens: list[Token], k: int) -> str | None:
    """ "deputy director of public prosecutions, Eva-Marie Persson": a lower-case title
    phrase ending in "of ..." before the comma (a few words back, no punctuation)."""
    back = k
    while back > 0 and k - back < _OF_PHRASE and tokens[back].lower not in TITLES:
        if gap_text(doc, tokens[back - 1], tokens[back]).strip():
            return None
        back -= 1
    head = tokens[back]
    if head.lower not in TITLES or "of" not in {t.lower for t in tokens[back : k + 1]}:
        return None
    while back > 0 and tokens[back - 1].lower in ROLE_MODIFIERS and not tokens[back - 1].is_cap:
        back -= 1  # "deputy director"
    return text_of(doc, tokens[back : k + 1])


_OF_PHRASE = 4


_DANGLING = wordset("of for at to from with in on and")


def plausible_role(role: str) -> bool:
    """Whether words read as a role: not cut before what it is of ("Head of", "spokesperson
    for"), not across a line ("OH @ Blossom Music Center\n26"), not a bare abbreviation
    ("OH", "NY": a place after a town's name; "CEO" is a title)."""
    words = role.split()
    if not words or "\n" in role or words[-1].lower() in _DANGLING:
        return False
    bare = len(words) == 1 and words[0].isupper() and len(words[0]) <= 3
    return not bare or words[0].lower() in TITLES  # "CEO" is a title


def look_back_role(doc: Doc, tokens: list[Token], i: int, sentence: Sentence) -> str | None:
    """A title just before a name: "union general secretary Daniel Okafor"."""
    k = i - 1
    if k < 0:
        return None
    gap = gap_text(doc, tokens[k], tokens[i]).strip()
    # "its chief executive, Maria Lindqvist," reads like "chief executive Maria Lindqvist";
    # "Gov. Matt Bevin" is "Governor Matt Bevin".
    abbreviated = gap == "." and tokens[k].lower in ABBREVIATED_TITLES
    if gap == "," and tokens[k].lower not in TITLES:
        return _title_of_phrase(doc, tokens, k)
    if gap and not (gap == "," and tokens[k].lower in TITLES) and not abbreviated:
        return None
    first = None
    has_title = False
    while k >= 0:
        tok = tokens[k]
        low = tok.lower
        roleish = low in ROLEISH or (tok.is_cap and low not in STOPWORDS)
        opener = (
            tok.start == sentence.start
            and low in doc.lower_vocab
            and low not in ROLEISH
            and not opens_org_name(_cap_run_from(tokens, k))
        )
        if not roleish or opener:
            break
        has_title = has_title or low in TITLES or low in ABBREVIATED_TITLES
        first = k
        if k == 0 or gap_text(doc, tokens[k - 1], tok).strip() not in ("", "-"):
            break
        k -= 1
    if first is None or not has_title:
        return None
    role_tokens = tokens[first:i]
    while role_tokens and role_tokens[0].lower in CONNECTORS:
        role_tokens = role_tokens[1:]
    if not role_tokens or role_tokens[-1].lower in _DANGLING:
        # "Head of Fundamental Research", "CEO of Take-Two": the name after the title is
        # what the title is of, not the person who holds it.
        return None
    role = spell_out(text_of(doc, role_tokens).rstrip(" ,"))
    owner = _ROLE_OWNER.search(doc.text, sentence.start, role_tokens[0].start)
    if owner is None:
        return role
    noun, name = owner.group("noun"), owner.group("name")
    # "whose" may follow a person ("Maria Rossi, whose lawyer ..."); "its" may not.
    org_name = name and (owner.group("its") or name.split()[-1].lower() in ORG_WORDS)
    if org_name or (noun and noun.lower() in ORG_NOUNS):
        # "the union, led by its president Marcus Delgado": the union's president.
        return f"{name or noun} {role}"
    return role


# "<organisation>, led by its <role> <Name>" / "<organisation> and its <role>" / "whose".
# Linear (issue 15): possessive runs, a name of at most eight words of at most 41 characters
# (so a search restarting at each capital does bounded work), and one whitespace run per gap.
_ROLE_OWNER = re.compile(
    r"(?:\b[Tt]he\s++(?P<noun>[a-z][\w\-]*+)"
    r"|(?P<name>[A-Z][\w&.\-]{0,40}+(?:\s++[A-Z][\w&.\-]{0,40}+){0,7}+))"
    r"(?:\s*+,)?+\s++(?:(?P<its>(?:led|headed|chaired|run|fronted)\s++by\s++its|and\s++its)|whose)"
    r"\s++$"
)


def _cap_run_from(tokens: list[Token], k: int) -> list[Token]:
    """The capitalised words from ``tokens[k]`` on (connectors included)."""
    j = k
    while j < len(tokens) and (tokens[j].is_cap or tokens[j].lower in CONNECTORS):
        j += 1
    return tokens[k:j]


def appositive_role(doc: Doc, sentence: Sentence, tokens: list[Token], j: int) -> str | None:
    """ ", the senior official of the Bureau of ...," after a name."""
    if j >= len(tokens) or gap_text(doc, tokens[j - 1], tokens[j]).strip() not in (",", ".,"):
        return None  # ".,": after "Jr."
    end = sentence.end
    for k in range(j + 1, len(tokens)):
        gap = gap_text(doc, tokens[k - 1], tokens[k])
        if any(c in gap for c in ',;:()–—“”"'):
            end = tokens[k - 1].end
            break
    phrase_tokens = [t for t in tokens[j:] if t.end <= end]
    if not phrase_tokens or len(phrase_tokens) > _MAX_APPOSITIVE_WORDS:
        return None
    head = [t.lower for t in phrase_tokens[:8]]
    first = phrase_tokens[0]
    if first.lower not in _DETERMINERS and first.lower not in ROLEISH and not first.is_cap:
        return None
    if not any(w in TITLES for w in head):
        return None
    return doc.text[first.start : end].rstrip(" .,;:")


def other_role(short: Entity, full: Entity) -> bool:
    """ "Vice President Biden" and "Hunter Biden, a lawyer": two roles with no word in
    common are two people who share a surname; don't merge them."""
    if not short.role or not full.role:
        return False
    words = {w.lower().strip(".,") for w in short.role.split()}
    return not words & {w.lower().strip(".,") for w in full.role.split()}


_FORMER = frozenset(("former", "ex", "then", "erstwhile"))


def after_role(run: list[Token]) -> list[Token]:
    """ "CEO of New Media Investment Group", "Founder of Ceres Robotics", "Former National
    Security Council": a role in front of an organisation is someone's role, not part of
    its name (the person's role is read from the same words elsewhere)."""
    if not run or run[-1].lower not in ORG_WORDS:
        return run  # a person's "Former President" stays whole
    while len(run) > 1 and run[0].lower in _FORMER:
        run = run[1:]
    for k, token in enumerate(run[:4]):
        if token.lower == "of":
            head = run[:k]
            if head and all(t.lower in TITLES or t.lower in ("and", "&") for t in head):
                return run[k + 1 :] or run
            break
    return run
