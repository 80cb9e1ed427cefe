"""Words and the junk detector of the brief-quality bench: generic rules, no list of bad outputs.

Pure functions over plain dicts; ``bench/quality.py`` documents the rules in prose.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words: an item that starts or ends with one is a fragment ("Denied that he",
# "Carlineo never", "Und die" is caught by the language rule instead).
FUNCTION_WORDS = wordset(
    """a an the and or but nor so yet if then than that this these those there here
    i i'm im me my we our you your he him his she her it its they them their who whom whose
    which what when where why how is are was were be been being am do does did done doing
    has have had having will would shall should can could may might must not no never
    to of in on at by for from with without about into onto over under after before
    as up down out off also just only even
    undoubtedly perhaps maybe however although though because while since until
    all any some each every both either neither such own same other another
    said says say told tell asked ask get got"""
)
MIN_ITEM_CHARS = 3
# A tension or action of one word is a fragment, not a statement.
MIN_FRAGMENT_WORDS = 2
# A one-word topic is generic when it is a common word found in this share of the pages.
GENERIC_PAGE_SHARE = 0.05
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def fold(text: str) -> str:
    """Lowercase, accents stripped, curly quotes and dashes made plain, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.translate(_QUOTES).lower().split())


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


# Determiners may open an owner ("his campaign", "the court") but not stand for one.
DETERMINERS = wordset("the a an this that these those his her its their our my your")
_CONTRACTION = re.compile(r"(?:n't|'re|'ll|'ve|'d|'m)$")


def is_function_word(token: str) -> bool:
    """A function word or contraction ("don't", "it's"); a possessive name ("nasa's") is not."""
    return (
        token in FUNCTION_WORDS
        or token.removesuffix("'s") in FUNCTION_WORDS
        or bool(_CONTRACTION.search(token))
    )


@dataclass(frozen=True)
class Vocabulary:
    """How the corpus writes each folded word: lowercase, capitalised mid-sentence, in how
    many pages. Sentence-initial words say nothing about case and are skipped."""

    counts: Mapping[str, tuple[int, int, int]]
    pages: int

    def is_common(self, token: str) -> bool:
        """A word written lowercase at least as often as capitalised: a common noun."""
        lower, capital, _ = self.counts.get(token, (0, 0, 0))
        return lower > 0 and lower >= capital

    def is_generic(self, token: str) -> bool:
        """A common word found in many pages ("game", "deal"), not a subject ("impeachment")."""
        docs = self.counts.get(token, (0, 0, 0))[2]
        return self.is_common(token) and docs >= GENERIC_PAGE_SHARE * self.pages


def vocabulary_of(texts: Iterable[str]) -> Vocabulary:
    lower: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    docs: Counter[str] = Counter()
    pages = 0
    for text in texts:
        pages += 1
        seen: set[str] = set()
        previous = "."
        for match in re.finditer(r"\S+", text):
            word = match.group().strip("\"'“”‘’()[]").rstrip(".,;:!?")
            if word and word[0].isalpha() and previous[-1:] not in '.!?:"”':
                key = fold(word)
                (capital if word[0].isupper() else lower)[key] += 1
                seen.add(key)
            previous = match.group()
        docs.update(seen)
    counts = {w: (lower[w], capital[w], docs[w]) for w in lower.keys() | capital.keys()}
    return Vocabulary(counts, pages)


def junk_reason(kind: str, item: Mapping[str, Any], vocabulary: Vocabulary) -> str | None:
    """Why an item is junk, or None. The detector is generic: no list of bad outputs."""
    text = {
        "participants": "name",
        "topics": "name",
        "tensions": "description",
        "next_steps": "action",
    }[kind]
    value = str(item.get(text) or "")
    tokens = words(value)
    short = len(value.strip()) < MIN_ITEM_CHARS and not value.strip().isupper()  # "UK" is fine
    if short or not tokens:
        return "too short"
    if all(is_function_word(t) for t in tokens):
        return "all function words"
    if kind == "participants":
        if is_function_word(tokens[0]) and tokens[0] != "the":
            return "function-word-led name"
        if is_function_word(tokens[-1]):
            return "name ends in a function word"
        if len(tokens) == 1 and vocabulary.is_common(tokens[0]):
            return "common word as a name"
    elif kind == "topics":
        if len(tokens) == 1 and vocabulary.is_generic(tokens[0]):
            return "one-word generic topic"
        if is_function_word(tokens[0]) or is_function_word(tokens[-1]):
            return "topic fragment"
    else:
        # "Sentencing" with a date is a whole next step; "Sentencing" alone is not.
        said = tokens + words(str(item.get("when") or ""))
        if len(said) < MIN_FRAGMENT_WORDS or is_function_word(tokens[-1]):
            return "fragment"
        if kind == "tensions" and not item.get("parties"):
            return "tension without parties"
        owner = words(str(item.get("owner") or ""))
        if kind == "next_steps" and owner:
            if all(is_function_word(t) for t in owner):
                return "owner is not an actor"
            if is_function_word(owner[0]) and owner[0] not in DETERMINERS:
                return "owner is not an actor"
            if len(owner) == 1 and vocabulary.is_common(owner[0]):
                return "owner is a common word"
    return None


def plain(text: str) -> str:
    """Case kept (a quote is verbatim or it isn't); only spacing, quote marks, dashes eased."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_QUOTES).split())
