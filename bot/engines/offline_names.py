"""Pattern helpers over capitalised-word runs: names, titles, appositives, countries.

Used by :mod:`bot.engines.offline_people`; each function reads one sentence's tokens.
"""

from __future__ import annotations

import re
from itertools import pairwise

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


_CONNECTORS = wordset("of for de da van von der den bin al la le del du y")
ROLEISH = TITLES | ROLE_MODIFIERS | DEPARTMENT_WORDS | _CONNECTORS
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
_DETERMINERS = wordset("the a an its his her their our my your this that")
_MAX_APPOSITIVE_WORDS = 16


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
                tokens[j].lower in _CONNECTORS
                and j + 1 < len(tokens)
                and tokens[j + 1].is_cap
                and not gap_text(doc, tokens[j], tokens[j + 1]).strip()
            ):
                j += 2
            elif (
                tokens[j].lower == "and"
                and j + 1 < len(tokens)
                and tokens[j + 1].is_cap
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
    cap = [t for t in run if t.is_cap or t.lower in _CONNECTORS]
    return len(cap) == len(run) and run[-1].lower in ORG_WORDS


def strip_common_lead(run: list[Token], doc: Doc, sentence: Sentence) -> list[Token]:
    """Drop leading stopwords and a sentence-initial common word ("The", "Amid", "Trade"),
    but keep a word that opens a title ("Trade Minister X", "Competition Commissioner Y")
    or an organisation's name ("Port Operators Association")."""
    if len(run) > 1 and all(t.norm.isupper() for t in run) and sum(len(t.norm) for t in run) > 8:
        return []  # "THE HOME DEPOT INC": a table or a shouted headline, not prose
    while run and (
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
    ):
        run = run[1:]
    return run


def name_span(doc: Doc, tokens: list[Token]) -> str:
    """The text of a name without a trailing possessive ("Norland Steel's" -> "Norland Steel")."""
    last = tokens[-1]
    return doc.text[tokens[0].start : last.start + len(last.norm)]


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
    while role_tokens and role_tokens[0].lower in _CONNECTORS:
        role_tokens = role_tokens[1:]
    if not role_tokens:
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
_ROLE_OWNER = re.compile(
    r"(?:\b[Tt]he\s+(?P<noun>[a-z][\w\-]*)|(?P<name>[A-Z][\w&.\-]*(?:\s+[A-Z][\w&.\-]*)*))"
    r"\s*,?\s+(?:(?P<its>(?:led|headed|chaired|run|fronted)\s+by\s+its|and\s+its)|whose)\s+$"
)


def _cap_run_from(tokens: list[Token], k: int) -> list[Token]:
    """The capitalised words from ``tokens[k]`` on (connectors included)."""
    j = k
    while j < len(tokens) and (tokens[j].is_cap or tokens[j].lower in _CONNECTORS):
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
