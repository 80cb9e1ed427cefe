"""Token-budgeted chunking: pure, deterministic, exact tiktoken counts.

Text is cut into units (sentences; words only inside a sentence longer than the budget).
Units are packed greedily; each chunk ends at the strongest boundary (blank line > line
break > sentence > word) that still leaves it at least half full, and its exact token
count is checked once before it is emitted.

The text is encoded once; a unit's tokens are those of that encoding that start in it
(with the whitespace before it), so units of a chunk add up to its count but for a token
or two at its edges. Paragraphs stay whole units until a chunk edge or an overlap falls
in them: only those few are cut into sentences, which costs far more than the encode.

A chunk's ``text`` is always ``original[start:end]``: a verbatim substring, so a quote
taken from a chunk is a quote from the article. With ``overlap``, ``start`` reaches back
into the previous chunk, so consecutive spans overlap by whole units.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.sentences import sentence_ends
from bot.tokens import TokenSpans, token_spans

#: Below this a single character (up to 4 UTF-8 bytes) might not fit in a chunk.
MIN_BUDGET = 8

# Boundary strength before a unit: where a chunk would rather end.
_PARA, _LINE, _SENT, _WORD, _CHAR = 4, 3, 2, 1, 0

# Starting at a newline lets the regex engine skip ahead to candidates; the spaces before
# it are stripped off the paragraph anyway. Linear on 20,000 spaces or newlines.
_BLANK_LINE = re.compile(r"\n(?:[^\S\n]*+\n)+")
_NON_SPACE = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """A verbatim slice ``original[start:end]`` of at most ``budget`` tokens."""

    text: str
    tokens: int
    index: int
    start: int
    end: int


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    #: Tokens of the unit with the whitespace that precedes it (what it adds to a chunk).
    tokens: int
    #: Strength of the boundary before the unit.
    level: int
    #: A whole paragraph not cut into sentences yet (see :func:`_refine`).
    whole: bool = False


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, split on blank lines and stripped."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for sep in [*_BLANK_LINE.finditer(text), None]:
        stop = sep.start() if sep else len(text)
        span = _strip_span(text, pos, stop)
        if span:
            spans.append(span)
        if sep:
            pos = sep.end()
    return spans


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``(start, end)`` narrowed to exclude surrounding whitespace; None if nothing is left."""
    piece = text[start:end]
    stripped = piece.lstrip()
    if not stripped:
        return None
    start += len(piece) - len(stripped)
    return start, start + len(stripped.rstrip())


def _sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """(start, end, boundary level before it) of each sentence of one paragraph."""
    cuts: dict[int, int] = {}
    for newline in re.finditer(r"\n", text[start:end]):
        at = start + newline.end()
        word = _NON_SPACE.search(text, at, end)
        following = word.group() if word else ""
        # Hard-wrapped prose continues in lower case; a new line in upper case is a new block.
        if following and not following[0].islower():
            cuts[at] = _LINE
    for cut in sentence_ends(text, start, end):
        if cut < end:
            cuts.setdefault(cut, _SENT)
    spans: list[tuple[int, int, int]] = []
    pos, level = start, _PARA
    for cut in [*sorted(cuts), end]:
        span = _strip_span(text, pos, cut)
        if span:
            spans.append((*span, level))
        if cut < end:
            level = cuts[cut] if span else max(level, cuts[cut])
        pos = cut
    return spans


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order; each is a stripped, verbatim substring of it."""
    return [
        text[s:e]
        for para_start, para_end in _paragraph_spans(text)
        for s, e, _ in _sentence_spans(text, para_start, para_end)
    ]


def _char_pieces(text: str, start: int, end: int, fits: Callable[[str], bool]) -> list[int]:
    """End offsets of the longest prefixes of ``text[start:end]`` that fit; last resort."""
    ends: list[int] = []
    pos = start
    while pos < end:
        low, high = pos + 1, end  # a single character always fits (MIN_BUDGET)
        while low < high:
            mid = (low + high + 1) // 2
            if fits(text[pos:mid]):
                low = mid
            else:
                high = mid - 1
        ends.append(low)
        pos = low
    return ends


def _fine_units(
    text: str, para: tuple[int, int], prev_end: int, budget: int, spans: TokenSpans
) -> list[_Unit]:
    """One paragraph's sentences, or words (and, for a giant word, word pieces) where a
    sentence won't fit; ``prev_end`` is where the text before the paragraph ends."""
    units: list[_Unit] = []
    count = spans.count

    def fits_alone(start: int, end: int, tokens: int) -> bool:
        # A unit may open a chunk without its leading whitespace, which can change the
        # count a little; only a unit near the budget needs that second count.
        if tokens > budget:
            return False
        return tokens <= budget // 2 or count(text[start:end]) <= budget

    for start, end, level in _sentence_spans(text, *para):
        tokens = spans.between(prev_end, end)
        if fits_alone(start, end, tokens):
            units.append(_Unit(start, end, tokens, level))
            prev_end = end
            continue
        for n, word in enumerate(_NON_SPACE.finditer(text, start, end)):
            word_level = level if n == 0 else _WORD
            tokens = spans.between(prev_end, word.end())
            if fits_alone(word.start(), word.end(), tokens):
                units.append(_Unit(word.start(), word.end(), tokens, word_level))
            else:
                pos = word.start()
                for piece_end in _char_pieces(text, pos, word.end(), lambda s: count(s) <= budget):
                    tokens = spans.between(prev_end, piece_end)
                    units.append(_Unit(pos, piece_end, tokens, word_level))
                    word_level, pos, prev_end = _CHAR, piece_end, piece_end
            prev_end = word.end()
    return units


class _Units:
    """The text's units in order: whole paragraphs, cut into finer units on demand.

    Cutting a paragraph gives the units that cutting every paragraph up front would give,
    and its units' tokens add up to the paragraph's, so where a chunk ends doesn't depend
    on which paragraphs were cut, only the cost does.
    """

    def __init__(self, text: str, budget: int, spans: TokenSpans) -> None:
        self.text, self.budget, self.spans = text, budget, spans
        self.items: list[_Unit] = []
        prev_end: int | None = None
        for start, end in _paragraph_spans(text):
            tokens = spans.between(start if prev_end is None else prev_end, end)
            self.items.append(_Unit(start, end, tokens, _PARA, whole=True))
            prev_end = end

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> _Unit:
        return self.items[index]

    def refine(self, index: int) -> int:
        """Cut ``self[index]`` into its finer units if it is a whole paragraph; how many now."""
        unit = self.items[index]
        if not unit.whole:
            return 1
        prev_end = self.items[index - 1].end if index else unit.start
        fine = _fine_units(self.text, (unit.start, unit.end), prev_end, self.budget, self.spans)
        self.items[index : index + 1] = fine
        return len(fine)


def _best_cut(units: _Units, first: int, stop: int, filled: dict[int, int], half: int) -> int:
    """Index after the chunk's last unit: the strongest boundary that keeps it half full."""
    if stop >= len(units):
        return stop
    best, best_level = stop, units[stop].level
    for cut in range(stop - 1, first, -1):
        if filled[cut] < half:
            break
        if units[cut].level > best_level:
            best, best_level = cut, units[cut].level
    return best


def chunk_text(
    text: str,
    *,
    budget: int,
    overlap: int = 0,
    model: str | None = None,
    tokens: Sequence[int] | None = None,
) -> list[Chunk]:
    """Split ``text`` into verbatim chunks of at most ``budget`` tokens in ``model``'s encoding.

    Text that fits is one chunk equal to ``text`` (even if empty). Otherwise chunks are
    stripped of surrounding whitespace, and each after the first repeats the previous
    chunk's last whole units (up to ``overlap`` tokens) before its new text. ``tokens``
    is the text's encoding, if the caller already has it (it is checked against the text).
    """
    if budget < MIN_BUDGET:
        raise ValueError(f"budget must be at least {MIN_BUDGET} tokens, got {budget}")
    if not 0 <= overlap < budget:
        raise ValueError(f"overlap must be between 0 and budget - 1, got {overlap}")
    spans = token_spans(text, model, tokens=tokens)
    if spans.total <= budget:
        return [Chunk(text=text, tokens=spans.total, index=0, start=0, end=len(text))]

    count = spans.count
    units = _Units(text, budget, spans)
    chunks: list[Chunk] = []
    first, prev_first = 0, 0  # first new unit of this chunk; first unit of the previous one
    while first < len(units):
        lead, first = _overlap_start(units, first, prev_first, overlap, count)
        filled: dict[int, int] = {}  # filled[k]: estimated tokens of units[lead:k]
        running, stop = sum(units[k].tokens for k in range(lead, first)), first
        while stop < len(units):
            fits = running + units[stop].tokens <= budget
            if units[stop].whole and not fits:
                units.refine(stop)  # the chunk ends in this paragraph: pack its sentences
                continue
            # The first new unit always goes in: its own text fits even if, counted with
            # its leading whitespace, it looks a token too big.
            if not (fits or stop == first):
                break
            running += units[stop].tokens
            stop += 1
            filled[stop] = running
        cut = _best_cut(units, first, stop, filled, budget // 2)
        # Unit counts include their leading whitespace, so the sum can be off by a token
        # or so at the edges: check the real count, dropping trailing then overlap units.
        while True:
            start, end = units[lead].start, units[cut - 1].end
            tokens_here = count(text[start:end])
            if tokens_here <= budget:
                break
            cut += units.refine(cut - 1) - 1  # drop its last sentence, not a paragraph
            if cut - 1 > first:
                cut -= 1
            elif lead < first:
                lead += 1
            else:  # pragma: no cover - _fine_units checks that each unit fits on its own
                raise AssertionError("a single unit exceeds the budget")
        chunks.append(Chunk(text[start:end], tokens_here, len(chunks), start, end))
        prev_first, first = lead, cut
    return chunks


def _overlap_start(
    units: _Units, first: int, prev_first: int, overlap: int, count: Callable[[str], int]
) -> tuple[int, int]:
    """``(lead, first)``: the first overlap unit, the previous chunk's tail that fits
    ``overlap``, and ``first`` again, moved by the paragraphs cut to find it."""
    if overlap == 0 or first == 0:
        return first, first
    units.refine(first)  # room is left for the first new sentence, not its paragraph
    lead, used = first, 0
    room = min(overlap, units.budget - units[first].tokens)
    while lead > prev_first:
        grown = units.refine(lead - 1) - 1
        lead, first = lead + grown, first + grown
        if used + units[lead - 1].tokens > room:
            break
        used += units[lead - 1].tokens
        lead -= 1
    # The estimate can be off at the edges; the overlap text itself must be within bounds.
    text = units.text
    while lead < first and count(text[units[lead].start : units[first - 1].end]) > overlap:
        lead += 1
    return lead, first
