"""The project's one sentence splitter: chunking and the offline engine both cut here.

A sentence ends at terminal punctuation (optionally followed by closing quotes or
brackets) that is followed by white space or the end of the range, unless the word
before it is an abbreviation that does not end sentences ("Mr.", "Gov."), or an initial
or a "may end" abbreviation ("U.S.", "Inc.", "Jan.") followed by something that does
not open a sentence. CJK and Indic enders need no space after them.

Cost is linear in the text: every terminal run is matched once (a look-behind stops the
regex from restarting inside a run of dots), and the words around a stop are read from a
bounded window, never by slicing the rest of the text.
"""

from __future__ import annotations

import re

CLOSERS = "\"'”’»)]」』）"
OPENERS = "\"'“‘«([{「『（"

# Latin terminal runs ("?!", "...", "…") and their closers; possessive quantifiers and the
# look-behind keep it linear on a run of thousands of dots.
_LATIN_RUN = re.compile(r"(?<![.!?…])(?:[.!?]++|…++)[\"'”’»)\]]*+")
_OTHER_RUN = re.compile(r"(?<![。！？।؟۔])[。！？।؟۔]++[」』”’)）\"']*+")
_INITIALISM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_LOOK = 40  # abbreviations and the next word are short: look this far, no further


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Abbreviations whose period (practically) never ends a sentence: titles before a name.
NEVER_END = _words(
    "mr mrs ms mx dr prof sr st gen col lt sgt capt cmdr adm maj gov sen rep rev hon pres "
    "amb supt insp fr messrs mme mlle atty det brig cpl pvt vs cf"
)
#: Abbreviations that end a sentence only when a typical sentence opener follows.
MAY_END = _words(
    "etc inc ltd co corp jr bros no nos vol fig dept univ approx est mt ave blvd rd al ca "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
#: Words that open a sentence after an ambiguous abbreviation ("Acme Inc. The firm ...").
SENTENCE_OPENERS = _words(
    "the this that these those there their they he she it its we i you your our my his her "
    "but and or so yet however in on at as for if when while after before since although a "
    "an what why how who where meanwhile still also then now some many most both each one "
    "another other such no not yes later earlier today yesterday tomorrow"
)


def _next_word(text: str, pos: int, stop: int) -> str:
    """The word after ``pos`` (within ``stop``), without opening quotes or brackets."""
    window = text[pos : min(stop, pos + _LOOK)].split(None, 1)
    return window[0].lstrip(OPENERS) if window else ""


def _previous_word(text: str, pos: int, floor: int) -> str:
    window = text[max(floor, pos - _LOOK) : pos].rsplit(None, 1)
    return window[-1].lstrip(OPENERS) if window else ""


def _latin_break(text: str, match: re.Match[str], floor: int, stop: int) -> bool:
    """Whether the terminal run ``match`` ends a sentence."""
    end = match.end()
    if end < stop and not text[end].isspace():
        return False  # "3.5", "U.S.-led", "example.com": punctuation inside a word
    following = _next_word(text, end, stop)
    if not following:
        return True
    if following[0].islower():
        return False
    run = match.group()
    if not run.startswith(".") or run.startswith(".."):
        return True
    word = _previous_word(text, match.start(), floor)
    low = word.rstrip(".").lower()
    if low in NEVER_END:
        return False
    bare = following.rstrip(CLOSERS + ".,;:!?").lower()
    initial = len(low) == 1 and low.isalpha()
    if initial or _INITIALISM.fullmatch(word.rstrip(".")) or low in MAY_END:
        return bare in SENTENCE_OPENERS
    return True


def sentence_ends(text: str, start: int, end: int) -> list[int]:
    """Offsets inside ``text[start:end]`` where a sentence ends, in order."""
    cuts = {
        m.end() for m in _LATIN_RUN.finditer(text, start, end) if _latin_break(text, m, start, end)
    }
    cuts.update(m.end() for m in _OTHER_RUN.finditer(text, start, end))
    return sorted(cuts)


def split_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``, each stripped of surrounding white space."""
    spans: list[tuple[int, int]] = []
    pos = start
    for cut in [*sentence_ends(text, start, end), end]:
        piece = text[pos:cut]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((pos + lead, pos + lead + len(stripped)))
        pos = cut
    return spans
