"""Tensions: disputes, tariffs, rejected claims, harsh words.

A weighted cue lexicon (plus job cuts; minus conflicts being eased, as in "will suspend
further walkouts") picks the sentences; the clause around the strongest cue becomes the
description, and the participants named there become the parties. A claim met by a denial
reads "X's claim that ..., which Y refutes"; an offer met by a demand reads "X offered ...,
while Y is seeking ...". The strongest distinct conflicts are kept, in article order. Every
evidence is the whole sentence.
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

MAX_TENSIONS = 8
_THRESHOLD = 2.0
_MAX_WORDS = 18

# Linear (issue 15): a name is at most eight words of at most 41 characters, runs are
# possessive, and the claim ends only after a non-space (one look per whitespace run).
_CLAIM = re.compile(
    r"(?P<owner>\b(?:his|her|their|its)"
    r"|(?:\b[Tt]he\s++[\w\-]++|[A-Z][\w.\-]{0,40}+(?:\s[A-Z][\w.\-]{0,40}+){0,7}+)['’]s)\s++"
    r"claims?\s++that\s+(?P<what>.+?)(?<!\s)(?=\s++by\s++\w+ing\b|\s*+[,;:–—(]|\s*+\.?$)"
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
_DENIAL_BEFORE = re.compile(  # linear: a bounded name, as in _CLAIM
    r"(?P<who>[A-Z][\w.\-]{0,40}+(?:\s[A-Z][\w.\-]{0,40}+){0,7}+)\s++(?:has\s++|have\s++)?"
    rf"(?P<verb>{_DENY_VERBS})\s+(?:(?:the|this|his|her|their|that|its)\s+)?"
    r"(?:[\w\-]+['’]s\s+)?claims?\b"
)


_OFFER = r"(?:offered|offers|offering|proposed|proposes|proposing|tabled|put\s+forward)"
_DEMAND = (
    r"(?:seeking|seeks|sought|demanding|demands|demanded|wants|wanted|"
    r"(?:asking|asks|asked|calling|calls|called|pushing|pushes|pushed|holding\s+out)\s+for)"
)
_OFFER_RE = re.compile(rf"\b{_OFFER}\b", re.I)
_DEMAND_RE = re.compile(rf"\b{_DEMAND}\b", re.I)
# "the operators had offered 14 per cent, while the union is seeking 22 per cent": two
# positions, in either order, joined by a contrast.
# Whitespace runs are entered at their start only (``(?<!\s)``), so they're read once.
_CONTRAST = re.compile(r",?(?<!\s)\s++(?:while|whereas|but)\s++")
_CLAUSE_END = re.compile(r"(?<!\s)\s++and\s|(?:(?<!\s)\s++)?[,;:]|\.?$")
_REPORTED = re.compile(
    r"^.*?\b(?:said|says|told\s+\w+|added|stated|argued|noted)\s+(?:that\s+)?", re.I
)
# A cut in jobs: "would eliminate about 1,200 jobs", "plans to shed 300 posts".
_JOB_LOSS = re.compile(
    r"\b(?P<verb>eliminat\w*|cut(?:s|ting)?|slash\w*|shed(?:s|ding)?|ax(?:e|es|ed|ing)|"
    r"destroy\w*|los(?:e|es|ing))\s+(?:[\w,.\-]+\s+){0,3}?"
    r"(?:jobs|posts|positions|workers|staff|employees)\b"
    r"|\b(?P<noun>layoffs?|redundancies|job\s+(?:losses|cuts))\b",
    re.I,
)
# Words that ease a conflict: "will suspend further walkouts" is a promise, not a threat.
_EASING = re.compile(
    r"\b(?:suspend|halt|lift|avert|avoid|end|drop|settle|resolve|call(?:s|ed|ing)?\s+off)"
    r"(?:s|ed|d|ing|ped|ping)?\s+(?:[\w\-]+\s+){0,2}$",
    re.I,
)
_UNEASED = re.compile(r"\b(?:fail\w*|refus\w*|not|never|no|unable|without)\s+(?:to\s+)?$", re.I)
_SUBJECT_WORDS = 3
_JOINS = frozenset(
    [
        "after",
        "before",
        "when",
        "while",
        "because",
        "although",
        "though",
        "since",
        "and",
        "or",
        "but",
        "that",
        "which",
        "who",
        "said",
        "says",
        "told",
        "as",
        "if",
        "unless",
        "until",
    ]
)
_FUNCTION_END = frozenset(
    [
        "them",
        "him",
        "her",
        "it",
        "us",
        "me",
        "they",
        "he",
        "she",
        "we",
        "that",
        "this",
        "the",
        "a",
        "an",
        "of",
        "to",
    ]
)
_JOB_LOSS_WEIGHT = 2.0
_EASING_WINDOW = 80
_GAP_SCORE = 3.0
_STANDFIRST_PENALTY = 0.5
_SAME = 0.6


@lru_cache(maxsize=8192)
def _cue_weight(word: str) -> float:
    if _is_score(word):
        return 1.0  # "lost 24-17": a result, a conflict with "beat" or "loss" beside it
    best = 0.0
    for stem, weight in TENSION_CUES.items():
        hit = word in (stem, stem + "s") if stem in TENSION_WHOLE else word.startswith(stem)
        if hit:
            best = max(best, weight)
    return best


def _is_score(word: str) -> bool:
    """ "24-17", "112–107": a game's score (one dash between two numbers of 1-3 digits)."""
    home, dash, away = word.replace("–", "-").partition("-")
    return bool(dash) and home.isdigit() and away.isdigit() and len(home) <= 3 >= len(away)


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
        # "... broke down after the union rejected a pay offer": back to the subject of the
        # cue's own clause (a few words, to the nearest joining word), not mid-phrase.
        back = k
        while (
            back > 0 and k - back < _SUBJECT_WORDS and sentence.tokens[back - 1].lower not in _JOINS
        ):
            back -= 1
        start = sentence.tokens[back].start
        subject = back < k
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


def _weights(sentence: Sentence) -> list[tuple[float, Token]]:
    """Each word's conflict weight: the lexicon, plus job cuts, minus eased conflicts."""
    text = sentence.text
    cut_at = {
        sentence.start + m.start("verb" if m.group("verb") else "noun")
        for m in _JOB_LOSS.finditer(text)
    }
    weights: list[tuple[float, Token]] = []
    for token in sentence.tokens:
        weight = _cue_weight(token.lower)
        if token.start in cut_at:
            weight = max(weight, _JOB_LOSS_WEIGHT)
        if weight and _eased(text, token.start - sentence.start):
            weight = 0.0  # "suspend further walkouts", "avert a strike"
        weights.append((weight, token))
    return weights


def _eased(text: str, pos: int) -> bool:
    """Whether the conflict word at ``pos`` is being eased ("will suspend further walkouts"),
    and not failing to be ("failed to resolve the dispute")."""
    # The easing verb sits at most three words before the conflict word: search a short
    # window, not the whole sentence before it (that was quadratic in the sentence).
    easing = _EASING.search(text, max(0, pos - _EASING_WINDOW), pos)
    if easing is None:
        return False
    return not _UNEASED.search(text, max(0, easing.start() - _EASING_WINDOW), easing.start())


def conflict_score(sentence: Sentence) -> float:
    """The sum of a sentence's conflict weights (2.0 or more reads as a dispute)."""
    return sum(weight for weight, _ in _weights(sentence))


def _gap_tension(cast: Cast, sentence: Sentence) -> Tension | None:
    """An offer against a demand: "X offered 14 per cent, while Y is seeking 22 per cent"."""
    text = sentence.text
    if not (_OFFER_RE.search(text) and _DEMAND_RE.search(text)):
        return None  # the cheap test first: most sentences have neither
    for joint in _CONTRAST.finditer(text):
        left_start = max(text.rfind(c, 0, joint.start()) for c in ",;:") + 1
        left = text[left_start : joint.start()]
        tail = _CLAUSE_END.search(text, joint.end())
        right = text[joint.end() : tail.start() if tail else len(text)]
        offers = (_OFFER_RE.search(left), _OFFER_RE.search(right))
        demands = (_DEMAND_RE.search(left), _DEMAND_RE.search(right))
        if not ((offers[0] and demands[1]) or (demands[0] and offers[1])):
            continue
        first = _REPORTED.sub("", left.strip())
        description = tidy(f"{first}, while {right}", keep_article=True)
        start = sentence.start + left_start
        found = parties(cast, sentence, start, sentence.start + joint.end() + len(right))
        if not found:  # unnamed sides ("Workers", "the company"): their own words
            sides = [_side(first, offers[0] or demands[0]), _side(right, offers[1] or demands[1])]
            found = [side for side in sides if side]
        return Tension(description=description, parties=found, evidence=sentence.text)
    return None


def _side(clause: str, verb: re.Match[str] | None) -> str | None:
    """The subject of one side of an offer-demand gap: the words before its verb."""
    if verb is None:
        return None
    words = [w for w in clause[: verb.start()].split() if w.lower() not in _GAP_AUXILIARIES]
    return tidy(" ".join(words), keep_article=True) if 0 < len(words) <= 4 else None


_GAP_AUXILIARIES = frozenset(
    ["is", "are", "was", "were", "has", "have", "had", "will", "would", "also", "still"]
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 2}


def _same_story(a: Tension, b: Tension) -> bool:
    """Two descriptions of one conflict (a standfirst and the lead say it twice)."""
    wa, wb = _words(a.description), _words(b.description)
    return len(wa & wb) > _SAME * max(1, min(len(wa), len(wb)))


def _fragment(doc: Doc, start: int, end: int) -> bool:
    """A span too short to stand, or ending on a function word ("Disagree with them")."""
    words = doc.text[start:end].split()
    return len(words) < 4 or words[-1].lower().strip(".,;:") in _FUNCTION_END


def _context_parties(cast: Cast, doc: Doc, sentence: Sentence) -> list[str]:
    if sentence.index == 0:
        return []
    before = doc.sentences[sentence.index - 1]
    found = parties(cast, before, before.start, before.end)
    return found[:2]


def find_tensions(doc: Doc, cast: Cast) -> list[Tension]:
    """Sentences that signal conflict, each with a short description and its parties."""
    scored: list[tuple[float, int, Tension]] = []
    for sentence in doc.sentences:
        weights = _weights(sentence)
        score = sum(w for w, _ in weights)
        tension = _gap_tension(cast, sentence)
        if tension is not None:
            score = max(score, _GAP_SCORE)
        elif score < _THRESHOLD:
            continue
        else:
            tension = _claim_tension(doc, cast, sentence)
        if tension is None:
            cue = _anchor(sentence, weights)
            start, end, subject = _window(sentence, cue)
            if _fragment(doc, start, end):
                # "Disagree with them", "Sparked the protests ...": a clause with no
                # subject reads as a fragment; the sentence from its start says who.
                start, subject = sentence.start, True
            description = tidy(shorten(doc.text[start:end], _MAX_WORDS), keep_article=subject)
            if len(description.split()) < 3:
                continue
            tension = Tension(
                description=description,
                parties=parties(cast, sentence, start, end),
                evidence=sentence.text,
            )
        if not tension.parties:
            # A dispute with nobody in it says little: take the people and organisations
            # of the sentence before ("He denied it" after "Smith was charged ...").
            tension.parties = _context_parties(cast, doc, sentence)
            if not tension.parties:
                continue
        if not sentence.terminal:
            score -= _STANDFIRST_PENALTY  # the body usually says it again, with more detail
        scored.append((score, sentence.index, tension))
    kept: list[tuple[float, int, Tension]] = []
    for item in sorted(scored, key=lambda item: (-item[0], item[1])):
        if not any(_same_story(item[2], other) for _, _, other in kept):
            kept.append(item)
    best = sorted(kept[:MAX_TENSIONS], key=lambda item: item[1])
    return [tension for _, _, tension in best]
