"""Pattern helpers over capitalised-word runs: names, titles, appositives, countries.

Used by :mod:`bot.engines.offline_people`; each function reads one sentence's tokens.
"""

from __future__ import annotations

from itertools import pairwise

from bot.engines.offline_given_names import GIVEN_NAMES
from bot.engines.offline_lexicon import (
    ACTION_VERBS,
    COUNTRIES,
    COUNTRY_MAX_WORDS,
    DAYS,
    DEPARTMENT_WORDS,
    MONTHS,
    ORG_OPENERS,
    ORG_WORDS,
    PLACE_WORDS,
    ROLE_MODIFIERS,
    SPEECH_VERBS,
    STOPWORDS,
    THING_WORDS,
    TITLES,
    wordset,
)
from bot.engines.offline_text import Doc, Sentence, Token

#: Abbreviated titles, spelled out in a role ("Gov. Eric Holcomb" -> Governor).
ABBREVIATED_TITLES = {
    "gov": "Governor", "sen": "Senator", "rep": "Representative", "gen": "General",
    "col": "Colonel", "lt": "Lieutenant", "sgt": "Sergeant", "capt": "Captain",
    "adm": "Admiral", "atty": "Attorney", "supt": "Superintendent", "insp": "Inspector",
    "det": "Detective", "pres": "President", "amb": "Ambassador", "prof": "Professor",
    "rev": "Reverend", "cmdr": "Commander", "maj": "Major", "dr": "Doctor",
}  # fmt: skip


def spell_out(role: str) -> str:
    """ "Gov." -> "Governor", "Lt. Gov." -> "Lieutenant Governor"; other words unchanged."""
    words = []
    for word in role.split():
        bare = word.rstrip(".").lower()
        words.append(ABBREVIATED_TITLES.get(bare, word) if bare in ABBREVIATED_TITLES else word)
    return " ".join(words)


CONNECTORS = wordset("of for de da van von der den bin al la le del du y")
ROLEISH = TITLES | ROLE_MODIFIERS | DEPARTMENT_WORDS | CONNECTORS
NOT_NAME = (
    TITLES
    | ROLE_MODIFIERS
    | DEPARTMENT_WORDS
    | ORG_WORDS
    | THING_WORDS
    | PLACE_WORDS
    | DAYS
    | MONTHS
    | STOPWORDS
)
_SKIPPABLE = wordset(
    "also has have had then later earlier already formally recently on quickly itself"
)
# Lower-case nouns that introduce an organisation's name: "the union IG Stahl".
ORG_NOUNS = ORG_WORDS | wordset(
    "firm watchdog carrier startup start-up insurer lender retailer maker manufacturer "
    "operator broadcaster newspaper outlet agency ngo charity regulator"
)


def gap_text(doc: Doc, left: Token, right: Token) -> str:
    return doc.text[left.end : right.start]


_MAX_RUN = 12  # longer capitalised runs are headlines or shouting, not names


def runs(doc: Doc, tokens: list[Token]) -> list[tuple[int, int]]:
    """[i, j) ranges of capitalised runs; connectors join caps ("Secretary of State")."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if not tokens[i].is_cap:
            i += 1
            continue
        j = i + 1
        while j < len(tokens) and j - i < _MAX_RUN:
            gap = gap_text(doc, tokens[j - 1], tokens[j]).strip()
            if tokens[j - 1].possessive and not (
                tokens[j].is_cap and tokens[j].lower in ORG_WORDS and not gap
            ):
                break  # "Trump's plan" ends; "the County Sheriff's Department" goes on
            # "Elizabeth A. Burton", "Patrick W. Carlineo Jr.": an initial's period joins.
            initial = gap == "." and len(tokens[j - 1].text) == 1 and tokens[j - 1].is_cap
            if gap not in ("", "-", "&") and not initial:
                break
            if tokens[j].is_cap:
                j += 1
            elif (
                tokens[j].lower in CONNECTORS
                and j + 1 < len(tokens)
                and tokens[j + 1].is_cap
                and not gap_text(doc, tokens[j], tokens[j + 1]).strip()
            ):
                j += 2
            elif (
                tokens[j].lower == "and"
                and j + 1 < len(tokens)
                and tokens[j + 1].is_cap
                and tokens[j + 1].lower not in GIVEN_NAMES  # "... Security and Alex Azar"
                and _opens_of_name(tokens[i:j])
            ):
                j += 2  # "Department of Health and Human Services"
            else:
                break
        runs.append((i, j))
        i = j
    return runs


def _opens_of_name(run: list[Token]) -> bool:
    """ "Michigan Department of Health": an organisation word, then "of", inside the run."""
    low = [t.lower for t in run]
    return any(a in ORG_OPENERS and b == "of" for a, b in pairwise(low))


#: Name suffixes: part of the name, never its surname.
SUFFIXES = wordset("jr sr ii iii iv")


def surname(name: str) -> str:
    """The family name: "Patrick W. Carlineo Jr." -> "Carlineo"."""
    words = [w.rstrip(".,") for w in name.split()]
    while len(words) > 1 and words[-1].lower() in SUFFIXES:
        words.pop()
    return words[-1]


def _name_like(token: Token, doc: Doc, *, last: bool) -> bool:
    word = token.norm
    low = word.lower()
    if len(word) == 1 and word.isupper() and not last:
        return True  # an initial ("A" in "Elizabeth A. Burton"), though "a" is a stopword
    if not last and low in GIVEN_NAMES and word[:1].isupper():
        return True  # "Will Moy": a given name, though "will" is a stopword
    if not word[:1].isupper() or low in NOT_NAME or low in COUNTRIES:
        return False
    if low in SUFFIXES:
        return last
    if len(word.rstrip(".")) == 1 or "." in word:  # an initial: "S", "P", "J.D."
        return not last
    return not word.isupper() or len(word) <= 3


def valid_name(tokens: list[Token], doc: Doc) -> bool:
    if not 1 <= len(tokens) <= 5:
        return False
    if not all(_name_like(t, doc, last=k == len(tokens) - 1) for k, t in enumerate(tokens)):
        return False
    # At least one word never seen in lower case: "Trade" or "Quad" alone are not names.
    return any(t.norm.lower() not in doc.lower_vocab for t in tokens)


def text_of(doc: Doc, tokens: list[Token]) -> str:
    return doc.text[tokens[0].start : tokens[-1].end]


# Capitalised sentence openers that describe an organisation rather than name it
# ("Rival Baltica Group said ...", "Senior Ministry officials said ...").
_DESCRIPTIVE_OPENERS = wordset(
    "rival fellow former embattled troubled struggling ailing senior junior"
)
_NOT_ORG_OPENERS = _DESCRIPTIVE_OPENERS | wordset(
    "smaller larger bigger biggest largest major leading top opposition shares officials "
    "critics analysts investors new"
)


def opens_org_name(run: list[Token]) -> bool:
    """A sentence-initial word that is part of an organisation's name: "Port Operators
    Association chief executive ..." keeps "Port", though "port" is also a common word."""
    if len(run) < 2 or run[0].lower in _NOT_ORG_OPENERS or run[0].lower in STOPWORDS:
        return False
    cap = [t for t in run if t.is_cap or t.lower in CONNECTORS]
    return len(cap) == len(run) and run[-1].lower in ORG_WORDS


def strip_common_lead(
    run: list[Token], doc: Doc, sentence: Sentence, *, name_pairs: frozenset[tuple[str, str]]
) -> list[Token]:
    """Drop leading stopwords and a sentence-initial common word ("The", "Amid", "Trade"),
    but keep a word that opens a title ("Trade Minister X", "Competition Commissioner Y")
    or an organisation's name ("Port Operators Association"), or that the article writes
    before the next word mid-sentence too ("New York", "Home Depot": ``name_pairs``)."""
    if len(run) > 1 and all(t.norm.isupper() for t in run) and sum(len(t.norm) for t in run) > 8:
        return []  # "THE HOME DEPOT INC": a table or a shouted headline, not prose
    while (
        run
        and not (
            len(run) > 1
            and run[0].lower not in _ARTICLES
            and (run[0].norm, run[1].norm) in name_pairs
        )
        and (
            (run[0].lower in STOPWORDS and not (len(run[0].norm) > 1 and run[0].norm.isupper()))
            or (
                run[0].start == sentence.start
                and (
                    run[0].lower in doc.lower_vocab
                    or run[0].lower in _DESCRIPTIVE_OPENERS
                    or (run[0].lower.endswith("ing") and len(run) > 1)  # "Following Assange"
                )
                and not (len(run) > 1 and run[1].lower in ROLEISH)
                and not opens_org_name(run)
            )
        )
    ):
        run = run[1:]
    return run


_ARTICLES = wordset("the a an")


def name_pairs(doc: Doc) -> frozenset[tuple[str, str]]:
    """Pairs of capitalised words written together in mid-sentence: ("New", "York")."""
    pairs = set()
    for sentence in doc.sentences:
        tokens = sentence.tokens
        for a, b in pairwise(tokens[1:]):
            if a.is_cap and b.is_cap and not a.possessive and not gap_text(doc, a, b).strip():
                pairs.add((a.norm, b.norm))
    return frozenset(pairs)


def name_span(doc: Doc, tokens: list[Token]) -> str:
    """The text of a name without a trailing possessive ("Norland Steel's" -> "Norland Steel")."""
    last = tokens[-1]
    return doc.text[tokens[0].start : last.start + len(last.norm)]


def aged(doc: Doc, tokens: list[Token], j: int) -> bool:
    """ "Elizabeth A. Burton, 32, of Franklin": a person's age in apposition."""
    gap = gap_text(doc, tokens[j - 1], tokens[j]).strip() if j < len(tokens) else None
    if gap not in ("", ",", ".,"):
        return False  # ".,": after "Jr."; "": "Ryan S. Hollman 31, of Hope"
    age = tokens[j].text
    return (
        age.isdigit()
        and 0 < int(age) < 120
        and (j + 1 == len(tokens) or gap_text(doc, tokens[j], tokens[j + 1]).strip() == ",")
    )


def is_speaker(doc: Doc, tokens: list[Token], i: int, j: int) -> bool:
    """ "Maria Lopez said", "said Maria Lopez", "by Maria Lopez" (nothing in between)."""
    after = (
        tokens[j].lower
        if j < len(tokens) and not gap_text(doc, tokens[j - 1], tokens[j]).strip()
        else ""
    )
    before = (
        tokens[i - 1].lower if i > 0 and not gap_text(doc, tokens[i - 1], tokens[i]).strip() else ""
    )
    return after in SPEECH_VERBS or before in SPEECH_VERBS or before == "by"


_AUXILIARY = wordset("will would is was are were has have had")
# "The European Union is set to fine ...": an actor about to act.
_INTENT = wordset("set due poised preparing planning seeking trying threatening")


def acts(tokens: list[Token], i: int, j: int, *, strong: bool = False) -> bool:
    """Whether the organisation in tokens[i:j] does something: "X said", "by X".

    ``strong`` wants a verb of its own: "Britain is" or "Stadia will" is no act."""
    skip = _SKIPPABLE | _AUXILIARY if strong else _SKIPPABLE
    k = j
    modal = False
    while k < len(tokens) and (
        tokens[k].lower in skip or tokens[k].lower in DAYS or tokens[k].lower in MONTHS
    ):
        modal = modal or tokens[k].lower in ("will", "would")
        k += 1
    if k < len(tokens):
        word = tokens[k].lower
        verbs = ACTION_VERBS - _AUXILIARY if strong else ACTION_VERBS
        if word in verbs or (word.endswith("ed") and len(word) > 4) or word in _INTENT:
            return True
        if strong and modal and not tokens[k].is_cap and word not in STOPWORDS:
            return True  # "Britain would respond"
    return i > 0 and tokens[i - 1].lower == "by"


_COUNTRY_FIRST_WORDS = frozenset(alias.split()[0] for alias in COUNTRIES)


def countries_in(tokens: list[Token]) -> list[tuple[str, Token, Token]]:
    """(canonical country, first token, last token) for each country alias in a run."""
    found: list[tuple[str, Token, Token]] = []
    k = 0
    while k < len(tokens):
        longest = COUNTRY_MAX_WORDS if tokens[k].lower in _COUNTRY_FIRST_WORDS else 0
        for size in range(min(longest, len(tokens) - k), 0, -1):
            alias = " ".join(t.norm for t in tokens[k : k + size]).lower()
            if alias in COUNTRIES:
                found.append((COUNTRIES[alias], tokens[k], tokens[k + size - 1]))
                k += size
                break
        else:
            # "India-US relations": a hyphenated pair of countries.
            parts = tokens[k].norm.split("-")
            if len(parts) > 1 and all(p.lower() in COUNTRIES for p in parts):
                found.extend((COUNTRIES[p.lower()], tokens[k], tokens[k]) for p in parts)
            k += 1
    return found
