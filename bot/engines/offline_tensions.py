"""Tensions: disputes, tariffs, rejected claims, harsh words.

A weighted cue lexicon picks the sentences; the clause around the strongest cue becomes
the description, and the participants named there become the parties. A claim met by a
denial reads "X's claim that ..., which Y refutes". Every evidence is the whole sentence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.engines.offline_lexicon import REPORTING_VERBS, TENSION_CUES, TENSION_WHOLE
from bot.engines.offline_people import Cast
from bot.engines.offline_phrases import (
    clause_bounds,
    extend_list,
    is_pronoun,
    parties,
    resolve_pronoun,
    shorten,
    tidy,
)
from bot.engines.offline_text import Doc, Sentence, Token
from bot.models import Tension

MAX_TENSIONS = 6
_THRESHOLD = 2.0
_MAX_WORDS = 18

_CLAIM = re.compile(
    r"(?P<owner>\b(?:his|her|their|its)|(?:\b[Tt]he\s+[\w\-]+|[A-Z][\w.\-]*(?:\s[A-Z][\w.\-]*)*)"
    r"['’]s)\s+"
    r"claims?\s+that\s+(?P<what>.+?)(?=\s+by\s+\w+ing\b|\s*[,;:–—(]|\s*\.?$)"
)
_DENY_VERBS = (
    r"refutes|refuted|refute|denies|denied|deny|disputes|disputed|dispute|rejects|rejected|"
    r"reject|dismisses|dismissed|dismiss|contests|contested|contest"
)
_DENIAL_AFTER = re.compile(
    r"\b(?:a claim|the claim|claims?|which|that)\s+(?:that\s+)?"
    r"(?P<who>[A-Z][\w.\-]*(?:\s[A-Z][\w.\-]*)*)\s+(?:has\s+|have\s+)?"
    rf"(?P<verb>{_DENY_VERBS})\b"
)
_DENIAL_BEFORE = re.compile(
    r"(?P<who>[A-Z][\w.\-]*(?:\s[A-Z][\w.\-]*)*)\s+(?:has\s+|have\s+)?"
    rf"(?P<verb>{_DENY_VERBS})\s+(?:(?:the|this|his|her|their|that|its)\s+)?"
    r"(?:[\w\-]+['’]s\s+)?claims?\b"
)


@lru_cache(maxsize=8192)
def _cue_weight(word: str) -> float:
    best = 0.0
    for stem, weight in TENSION_CUES.items():
        hit = word in (stem, stem + "s") if stem in TENSION_WHOLE else word.startswith(stem)
        if hit:
            best = max(best, weight)
    return best


def _window(sentence: Sentence, cue: Token) -> tuple[int, int, bool]:
    """A short span around a tension cue: its clause, trimmed to the cue's phrase if long.

    The flag says whether the span starts at a clause subject (keep its article)."""
    start, end = clause_bounds(sentence, cue.start)
    k = sentence.tokens.index(cue)
    if k + 1 < len(sentence.tokens) and sentence.tokens[k + 1].lower == "that":
        # "warning that the deal could raise prices": the that-clause is the substance.
        _, end = clause_bounds(sentence, cue.start, subordinators=False)
    end = extend_list(sentence, end)
    before = [t for t in sentence.tokens if start <= t.start < cue.start]
    said = [n for n, t in enumerate(before) if t.lower in REPORTING_VERBS]
    subject = True
    if said and said[-1] + 1 < len(before):
        # "Okafor said members would begin an indefinite strike": the reported clause.
        rest = before[said[-1] + 1 :]
        rest = rest[1:] if rest[0].lower == "that" and len(rest) > 1 else rest
        start = rest[0].start
    elif before and (len(before) > 8 or is_pronoun(before[0].text)):
        prev = sentence.tokens[k - 1] if k else None
        start = prev.start if prev and prev.lower in ("the", "a", "an") else cue.start
        subject = False
    return start, end, subject


def _anchor(sentence: Sentence, weights: list[tuple[float, Token]]) -> Token:
    """The strongest cue of the clause with the most conflict words ("imposed ... quotas"
    outweighs a lone "unfair")."""
    totals: dict[tuple[int, int], float] = {}
    for weight, token in weights:
        if weight:
            bounds = clause_bounds(sentence, token.start)
            totals[bounds] = totals.get(bounds, 0.0) + weight
    best = max(totals, key=lambda b: (totals[b], -b[0]))
    inside = [(w, t) for w, t in weights if w and best[0] <= t.start < best[1]]
    return max(inside, key=lambda pair: pair[0])[1]


def _claim_tension(doc: Doc, cast: Cast, sentence: Sentence) -> Tension | None:
    """ "X's claim that ..., which Y refutes" from a claim-and-denial sentence."""
    claim = _CLAIM.search(sentence.text)
    denial = _DENIAL_AFTER.search(sentence.text) or _DENIAL_BEFORE.search(sentence.text)
    if not claim or not denial:
        return None
    owner = claim.group("owner")
    if owner.lower() in ("his", "her", "their", "its"):
        mentioned = cast.by_sentence.get(sentence.index, [])
        named = [
            e
            for m, e in mentioned
            if e.kind == "person" and m.start < sentence.start + claim.start()
        ]
        subject = named[0] if named else resolve_pronoun(cast, sentence)
        if subject is None:
            return None
        owner_name = subject.surname if subject.kind == "person" else subject.name
    else:
        owner_name = re.sub(r"['’]s$", "", owner)
    what = claim.group("what").strip()
    who = denial.group("who")
    if who.lower() in doc.lower_vocab:  # "Operators dispute ...": a common noun, not a name
        who = who.lower()
    description = tidy(
        f"{owner_name}'s claim that {what}, which {who} {denial.group('verb')}", keep_article=True
    )
    found = parties(cast, sentence, sentence.start, sentence.end)
    return Tension(description=description, parties=found, evidence=sentence.text)


def find_tensions(doc: Doc, cast: Cast) -> list[Tension]:
    """Sentences that signal conflict, each with a short description and its parties."""
    tensions: list[Tension] = []
    seen: set[str] = set()
    for sentence in doc.sentences:
        weights = [(_cue_weight(t.lower), t) for t in sentence.tokens]
        if sum(w for w, _ in weights) < _THRESHOLD:
            continue
        tension = _claim_tension(doc, cast, sentence)
        if tension is None:
            cue = _anchor(sentence, weights)
            start, end, subject = _window(sentence, cue)
            description = tidy(shorten(doc.text[start:end], _MAX_WORDS), keep_article=subject)
            if len(description.split()) < 3:
                continue
            tension = Tension(
                description=description,
                parties=parties(cast, sentence, start, end),
                evidence=sentence.text,
            )
        key = tension.description.lower()
        if key not in seen:
            seen.add(key)
            tensions.append(tension)
    return tensions[:MAX_TENSIONS]
