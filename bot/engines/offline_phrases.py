"""Phrase-level helpers shared by topics, tensions and next steps.

Clause boundaries, time expressions, gerund-to-verb, tidy-up of extracted spans, and
who a sentence is about (parties, pronoun subjects).
"""

from __future__ import annotations

import re

from bot.engines.offline_lexicon import COUNTRIES, wordset
from bot.engines.offline_people import Cast, Entity
from bot.engines.offline_text import Sentence

# Punctuation that closes a clause; quotes count, an apostrophe does not.
_BOUNDARY_CHARS = ',;:()–—“”"[]'
_SUBORDINATORS = wordset(
    "that which who whom whose after while because although though but whereas unless since"
)
_NOT_BEFORE_THAT = wordset(
    "if when unless because of in on at for with by from to whether until before after and or but"
)
_LEADING_JUNK = wordset("amid and or but so the a an also then however meanwhile including as well")
_TRAILING_JUNK = wordset(
    "and or but of to for with by in on at from the a an as that which this its their his her "
    "they he she we"
    # A clause cut short ("... so we don't", "... what they can"): no item ends so.
    " it them him us me you your our my i so than if then not no never is are was were be "
    "been has have had will would shall can could may might must do does did who what when "
    "where why how while because about into also just only even there here"
)
# "don’t", "they’re", "we’ll": a contraction ends no item either.
_CONTRACTED_END = re.compile(r"(?:n['’]t|['’](?:re|ll|ve|d|m))$")
_REPORTING_WORDS = wordset("said says told added according stated announced")
_OBJECT_WORDS = wordset("it them him her us me")
_PRONOUNS = {"he": "person", "she": "person", "they": "plural", "we": "plural", "it": "thing"}

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE = (
    rf"(?:{_DAY},?\s+)?(?:\d{{1,2}}(?:[-–]\d{{1,2}})?(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|{_MONTH}(?:\s+\d{{4}})?"
    rf"|{_DAY}|(?:19|20)\d\d)"
)
_PERIOD = r"(?:week|month|year|quarter|spring|summer|autumn|fall|winter|weekend|session|decade)"
WHEN = re.compile(
    rf"\b(?:(?:no later than|on|by|before|from|until|till|in|into|starting|after|ahead of)\s+"
    rf"(?:(?:a|an|the)\s+)?"
    rf"(?:the\s+end\s+of\s+)?(?:(?:early|late|mid-?)\s*)?"
    rf"(?:{_DATE}|(?:next|this|the coming)\s+{_PERIOD})"
    rf"|(?:by|before)\s+the\s+end\s+of\s+(?:the\s+|this\s+|next\s+)?{_PERIOD}"
    rf"|(?:next|later this|early next|late next|the coming|this coming)\s+"
    rf"(?:{_PERIOD}|{_DAY}|{_MONTH})"
    rf"|within\s+(?:the\s+next\s+)?(?:\w+|\d+)\s+(?:hours|days|weeks|months|years)"
    # A bare weekday ("testifies Wednesday morning") or a clock time ("a call at 9 a.m.").
    rf"|{_DAY}(?:\s+(?:morning|afternoon|evening|night))?"
    rf"|at\s+\d{{1,2}}(?::\d\d)?\s*(?:a\.m|p\.m|am|pm)"
    # A span of days ("takes place 18-24 November") is a schedule; so is a possessor's
    # dated event ("the U.K.'s Dec. 12 election").
    rf"|\d{{1,2}}[-–]\d{{1,2}}\s+{_MONTH}"
    rf"|(?<=['’]s\s){_MONTH}\s+\d{{1,2}}"
    rf"|tomorrow|tonight|soon)\b"
)
_REPORTED_AT = re.compile(
    r"(?<!be )(?<!been )\b(?:said|says|told\s+\w+|announced|added|stated|reported|confirmed|"
    r"wrote)\s*$",
    re.I,
)
_PAST_WHEN = re.compile(r"\b(?:last|ago|earlier|previous|yesterday)\b", re.I)


def tidy(text: str, *, keep_article: bool = False) -> str:
    """Trim connectives and punctuation from both ends; capitalise the first letter."""
    text = re.sub(r"\s+([,;:])", r"\1", text)  # a cut-out date can leave "strike , said"
    words = text.strip(" \t\n" + _BOUNDARY_CHARS + ".'‘’").split()
    lead = _LEADING_JUNK - {"the", "a", "an"} if keep_article else _LEADING_JUNK
    while words and words[0].lower().strip('“"') in lead:
        words = words[1:]
    while words and (
        words[-1].lower().strip(".,;:") in _TRAILING_JUNK
        or _CONTRACTED_END.search(words[-1].lower().strip(".,;:"))
    ):
        words = words[:-1]
    out = " ".join(words).strip(" " + _BOUNDARY_CHARS + ".")
    return out[:1].upper() + out[1:] if out else ""


_CUT_BEFORE = wordset("if unless when while with for under in by from at as because")


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` words, cut before a preposition or conjunction when one is near."""
    words = text.split()
    if len(words) <= limit:
        return text
    cut = max((k for k in range(6, limit) if words[k].lower() in _CUT_BEFORE), default=limit)
    return " ".join(words[:cut])


def clause_bounds(
    sentence: Sentence, pos: int, *, subordinators: bool = True, quotes: bool = True
) -> tuple[int, int]:
    """The clause of ``sentence`` around absolute offset ``pos``."""
    text = sentence.text
    rel = pos - sentence.start
    start, end = 0, len(text)
    stops = _BOUNDARY_CHARS if quotes else _BOUNDARY_CHARS.replace('“”"', "")
    for k in range(rel - 1, -1, -1):
        if text[k] in stops and not in_number(text, k):
            start = k + 1
            break
    for k in range(rel, len(text)):
        if text[k] in stops and not in_number(text, k):
            end = k
            break
    if subordinators:
        previous = ""
        for tok in sentence.tokens:
            t0, t1 = tok.start - sentence.start, tok.end - sentence.start
            word, previous = tok.lower, previous
            after_function_word = word == "that" and previous in _NOT_BEFORE_THAT
            previous = word
            if after_function_word:
                continue  # "if that meeting fails": a determiner, not a clause
            if word in _SUBORDINATORS and tok.text.islower():
                if start <= t0 and t1 <= rel:
                    start = t1
                elif rel < t0 < end:
                    end = t0
    return sentence.start + start, sentence.start + end


def in_number(text: str, k: int) -> bool:
    """Whether ``text[k]`` is a separator inside a number ("375,000", "1,200")."""
    return 0 < k < len(text) - 1 and text[k - 1].isdigit() and text[k + 1].isdigit()


def extend_list(sentence: Sentence, end: int, *, max_words: int = 6) -> int:
    """Carry a clause over commas that continue a list (", science, and technology")."""
    text = sentence.text
    rel = end - sentence.start
    while rel < len(text) and text[rel] == ",":
        nxt = len(text)
        for k in range(rel + 1, len(text)):
            if text[k] in ',;:()–—“”"' and not in_number(text, k):
                nxt = k
                break
        segment = text[rel + 1 : nxt].split()
        first = segment[0].lower() if segment else ""
        if not segment or len(segment) > max_words or first in ("including", "as", "which"):
            break
        if any(w.lower() in _REPORTING_WORDS for w in segment):
            break  # ", said union leader Maria Lopez": attribution, not a list item
        if first in ("and", "or") and len(segment) > 1 and segment[1].lower().endswith("ed"):
            break
        if first.endswith("ing") and len(segment) > 1 and segment[1].lower() in _OBJECT_WORDS:
            break  # ", calling it ...": a participle clause, not a list item
        rel = nxt
    return sentence.start + rel


def find_when(text: str) -> re.Match[str] | None:
    """The first future-looking time expression in ``text``."""
    for match in WHEN.finditer(text):
        before = text[max(0, match.start() - 24) : match.start()]
        if _PAST_WHEN.search(before[-12:] + match.group()) or _REPORTED_AT.search(before):
            continue  # "last month", "said on Friday": when it was said, not when it happens
        return match
    return None


_IRREGULAR_ING = {
    "using": "use",
    "being": "be",
    "doing": "do",
    "going": "go",
    "seeing": "see",
    "agreeing": "agree",
    "having": "have",
    "taking": "take",
    "making": "make",
    "giving": "give",
    "coming": "come",
    "writing": "write",
    "lying": "lie",
    "dying": "die",
    "tying": "tie",
    "voting": "vote",
    "shaping": "shape",
    "escaping": "escape",
    "promoting": "promote",
    "quoting": "quote",
    "noting": "note",
    "completing": "complete",
    "deleting": "delete",
    "competing": "compete",
    "exploring": "explore",
    "restoring": "restore",
    "ignoring": "ignore",
    "storing": "store",
    "scoring": "score",
    "inviting": "invite",
    "uniting": "unite",
    "striking": "strike",
    "citing": "cite",
    "hoping": "hope",
    "typing": "type",
    "focusing": "focus",
    "boycotting": "boycott",
    "creating": "create",
    "adding": "add",
}
_KEEP_DOUBLE = "lsfz"
# Stems that lost a silent e: "advanc(e)", "increas(e)", "secur(e)", "settl(e)".
_SILENT_E = re.compile(
    r"(?:[cvzu]|[aeiou][sz]|[^aeiou]ar|at|ag|ur|ir|[aeiou][dk]"
    r"|rg|dg|[ae]ng|[bcdfgkptz]l|[rnpl]s|ib|ys|[^aeiou]in|sum)$"
)
_DOUBLE_VOWEL = re.compile(r"(?:ee|ea|oo|oa|ai|ei|ou|oi|au)[^aeiouscvz]$")
# British doubling: "signalling", "travelling", "controlling".
_DOUBLED_L = re.compile(r"(?:nal|vel|cel|bel|del|trol|pel|uel)l$")


def base_verb(word: str) -> str:
    """'signing' -> 'sign', 'increasing' -> 'increase', 'planning' -> 'plan'."""
    low = word.lower()
    if low in _IRREGULAR_ING:
        base = _IRREGULAR_ING[low]
        return base[:1].upper() + base[1:] if word[:1].isupper() else base
    if not low.endswith("ing") or len(low) <= 5:
        return word
    stem = word[:-3]
    s = stem.lower()
    if (s[-1] == s[-2] and s[-1] not in "aeiou" + _KEEP_DOUBLE) or _DOUBLED_L.search(s):
        return stem[:-1]  # planning, setting
    if _SILENT_E.search(s) and not _DOUBLE_VOWEL.search(s):
        return stem + "e"
    return stem


def resolve_pronoun(cast: Cast, sentence: Sentence) -> Entity | None:
    """The person a sentence-initial He/She refers to: the last one named before it."""
    first = sentence.tokens[0].lower if sentence.tokens else ""
    if _PRONOUNS.get(first) != "person":
        return None
    for index in range(sentence.index - 1, max(-1, sentence.index - 4), -1):
        people = [e for m, e in cast.by_sentence.get(index, []) if e.kind == "person"]
        if people:
            return people[0]
    return None


def is_pronoun(word: str) -> bool:
    return word.lower() in _PRONOUNS


def party_name(entity: Entity) -> str:
    """How an entity appears in a parties list: an org stands for its country when named so."""
    if entity.kind == "org":
        for word in entity.name.replace("-", " ").split():
            if word.lower() in COUNTRIES:
                return COUNTRIES[word.lower()]
    return entity.name


def parties(cast: Cast, sentence: Sentence, start: int, end: int) -> list[str]:
    """Participants named in ``[start, end)`` (then in the sentence) of a sentence."""
    listed = {e.name for e in cast.participants()}
    found: list[str] = []

    def collect(lo: int, hi: int) -> None:
        for mention, entity in cast.by_sentence.get(sentence.index, []):
            if lo <= mention.start < hi and not mention.in_role:
                name = party_name(entity)
                wanted = entity.kind != "org" or name != entity.name or name in listed
                if wanted and name not in found:
                    found.append(name)

    collect(start, end)
    subject = resolve_pronoun(cast, sentence)
    if subject and subject.name not in found:
        found.insert(0, subject.name)
    if len(found) < 2:
        collect(sentence.start, sentence.end)
    return found[:4]
