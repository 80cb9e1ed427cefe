"""Text preparation for the offline engine: clean lines, sentences with offsets, tokens.

Every sentence is ``text[start:end]`` of the article, so evidence taken from one is a
verbatim quote. Page furniture ("Related Stories", bare domains, banners) and headline
lines never become sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.engines.offline_lexicon import STOPWORDS, TERMINATORS
from bot.ingest.junk import TELLTALES, is_junk_phrase
from bot.sentences import CLOSERS as _CLOSERS
from bot.sentences import split_spans

_TERMINAL_CHARS = ".!?…。！？।؟۔"
_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|\d+(?:[.,]\d+)+|[^\W_]+(?:['’\-+][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s?$")
# "I’m", "We’re", "They’ll": a pronoun and a verb, never a name ("O’Brien" is one).
_CONTRACTION = re.compile(r"['’](?:m|re|ll|ve|d|t)$", re.I)
_WRAP_MIN_CHARS = 35
#: Longer "sentences" are cut into pieces (see ``_pieces``).
MAX_SENTENCE_CHARS = 1200
_DATELINE_CHARS = 80
# "BERLIN, Dec 13 (Reuters) - " or "NEW DELHI: " before a story's first sentence.
# The place may end in spaces and dashes ("LONDON -- "), so it is the one run that can
# give back characters; it is bounded by the window it is matched in (so a search from
# every capital stays linear), and the other runs are possessive (issue 15).
_DATELINE = re.compile(
    rf"(?:[A-Z][A-Z.'’ -]{{2,{_DATELINE_CHARS - 1}}}(?=[,\s(\-–—:])"
    r"(?:,\s*+[A-Z][a-z]{2,8}\.?\s++\d{1,2})?"
    r"(?:\s*+\((?:Reuters|AP|AFP|PTI|IANS|ANI|Bloomberg|dpa|Xinhua|UNI)\))?+|"
    r"\((?:Reuters|AP|AFP|PTI|IANS|ANI|Bloomberg|dpa|Xinhua|UNI)\))\s*+[-–—:]\s++(?=[A-Z“\"‘'])"
)
_URLISH = re.compile(r"^(?:https?://|www\.)\S*$|^[\w-]+(?:\.[\w-]+)+(?:/\S*)?$", re.I)


class Token:
    """One word of a sentence with absolute offsets into the article text."""

    __slots__ = ("end", "is_cap", "lower", "norm", "possessive", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.start = start
        self.end = end
        #: The word without a possessive ending ("Trump’s" -> "Trump").
        self.norm = (_POSSESSIVE.sub("", text) or text) if len(text) > 2 else text
        self.possessive = self.norm != text
        self.is_cap = text[0].isupper() and _CONTRACTION.search(text) is None
        self.lower = self.norm.lower()

    def __repr__(self) -> str:
        return f"Token({self.text!r}, {self.start}, {self.end})"


@dataclass
class Sentence:
    """A content sentence: ``doc.text[start:end]``."""

    index: int
    start: int
    end: int
    text: str
    #: Ends with terminal punctuation (a standfirst line may not).
    terminal: bool
    paragraph: int
    tokens: list[Token] = field(default_factory=list)

    def words(self) -> list[str]:
        return [t.lower for t in self.tokens]


@dataclass
class Doc:
    """The article text reduced to what the heuristics read."""

    text: str
    title: str | None
    sentences: list[Sentence]
    #: Words seen in lower case in the prose: a capitalised form of one is a common word.
    lower_vocab: frozenset[str]


def _norm_line(line: str) -> str:
    return " ".join(re.findall(r"\w+", line.lower()))


def is_junk_line(line: str) -> bool:
    """Page furniture: related-story headers, banners, share prompts, bare domains."""
    stripped = line.strip().strip("|•·-–—*#>").strip()
    if not stripped:
        return True
    if _URLISH.match(stripped):
        return True
    if is_junk_phrase(stripped):
        return True
    low = stripped.lower()
    words = low.split()
    return len(words) <= 12 and any(phrase in low for phrase in TELLTALES)


def _is_terminator(line: str) -> bool:
    low = _norm_line(line)
    return any(low == term or low.startswith(term + " ") for term in TERMINATORS)


def _ends_terminal(line: str) -> bool:
    return line.rstrip().rstrip(_CLOSERS)[-1:] in tuple(_TERMINAL_CHARS)


def _is_prose_line(line: str) -> bool:
    """A line that reads as a sentence rather than a heading or label."""
    stripped = line.strip()
    if _ends_terminal(stripped):
        # CJK text has no spaces: judge it by length instead of words.
        return len(stripped.split()) >= 3 or len(stripped) >= 12
    words = stripped.split()
    if len(words) < 10:
        return False
    # A Title Case line is a headline even when long.
    caps = sum(1 for w in words if w[:1].isupper())
    return caps / len(words) < 0.6


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line without its surrounding spaces; a blank line is empty."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + len(line.rstrip())))
        else:
            spans.append((pos, pos))
        pos += len(line) + 1
    return spans


def _blocks(text: str) -> list[list[tuple[int, int]]]:
    """Non-blank line spans grouped by the blank lines between them."""
    blocks: list[list[tuple[int, int]]] = [[]]
    for start, end in _lines(text):
        if start == end:
            if blocks[-1]:
                blocks.append([])
        else:
            blocks[-1].append((start, end))
    return [block for block in blocks if block]


def _is_wrapped(text: str, block: list[tuple[int, int]]) -> bool:
    """Hard-wrapped prose: most lines are long and stop mid-sentence."""
    inner = block[:-1]
    if len(inner) < 2:
        return False
    broken = sum(1 for s, e in inner if e - s >= _WRAP_MIN_CHARS and not _ends_terminal(text[s:e]))
    return broken * 2 >= len(inner)


def _paragraphs(text: str, title: str | None) -> list[tuple[int, int]]:
    """Prose paragraphs as spans; headline repeats, junk and everything after a
    'Related Stories' header are dropped. Wrapped lines are joined."""
    title_norm = _norm_line(title) if title else None
    paragraphs: list[tuple[int, int]] = []

    def flush(span: tuple[int, int] | None) -> None:
        if span and _is_prose_line(text[span[0] : span[1]]):
            paragraphs.append(span)

    for block in _blocks(text):
        if _is_wrapped(text, block):
            kept = [(s, e) for s, e in block if not is_junk_line(text[s:e])]
            if kept:
                flush((kept[0][0], kept[-1][1]))
            continue
        current: tuple[int, int] | None = None
        for start, end in block:
            line = text[start:end]
            if paragraphs and _is_terminator(line):
                flush(current)
                return paragraphs
            if is_junk_line(line) or (title_norm is not None and _norm_line(line) == title_norm):
                flush(current)
                current = None
            elif (
                current and line[:1].islower() and not _ends_terminal(text[current[0] : current[1]])
            ):
                current = (current[0], end)  # a wrapped line continues the sentence
            else:
                flush(current)
                current = (start, end)
        flush(current)
    return paragraphs


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Words of ``text`` with offsets shifted by ``offset``."""
    return [Token(m.group(), m.start() + offset, m.end() + offset) for m in _TOKEN.finditer(text)]


def detect_title(text: str) -> str | None:
    """The first line when it reads as a headline (short, no closing period)."""
    for start, end in _lines(text):
        line = text[start:end]
        if start == end:
            continue
        if is_junk_line(line) or _ends_terminal(line) or len(line.split()) > 20:
            return None
        return line
    return None


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence cut at white space into pieces of at most ``MAX_SENTENCE_CHARS``.

    No real sentence is that long; an unpunctuated wall of text is, and every heuristic
    that reads a sentence whole would then cost the square of the wall's length."""
    pieces: list[tuple[int, int]] = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        if cut <= start:
            cut = start + MAX_SENTENCE_CHARS
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def prepare(text: str, title: str | None) -> Doc:
    """Split ``text`` into content sentences with tokens."""
    title = title or detect_title(text)
    found: list[tuple[int, int, int]] = []
    for p_index, (p_start, p_end) in enumerate(_paragraphs(text, title)):
        for s_start, s_end in split_spans(text, p_start, p_end):
            # A dateline is short: matching a bounded window keeps a long line linear.
            dateline = _DATELINE.match(text, s_start, min(s_end, s_start + _DATELINE_CHARS))
            if dateline and len(text[dateline.end() : s_end].split()) >= 3:
                s_start = dateline.end()
            if not is_junk_line(text[s_start:s_end]):
                found.extend((a, b, p_index) for a, b in _pieces(text, s_start, s_end))
    # A standfirst line is often repeated as a body sentence: keep one copy, the
    # punctuated one when there is one.
    chosen: dict[str, tuple[int, int, int]] = {}
    for span in found:
        key = _norm_line(text[span[0] : span[1]])
        if not key:
            continue
        if key not in chosen or (
            _ends_terminal(text[span[0] : span[1]])
            and not _ends_terminal(text[chosen[key][0] : chosen[key][1]])
        ):
            chosen[key] = span
    sentences: list[Sentence] = []
    for s_start, s_end, p_index in sorted(chosen.values()):
        body = text[s_start:s_end]
        sentences.append(
            Sentence(
                index=len(sentences),
                start=s_start,
                end=s_end,
                text=body,
                terminal=_ends_terminal(body),
                paragraph=p_index,
                tokens=tokenize(body, s_start),
            )
        )
    lower_vocab = frozenset(
        t.norm
        for s in sentences
        for t in s.tokens
        if t.norm[:1].islower() and t.norm.isalpha() and not _in_address(text, t)
    ) | _label_words(sentences)
    return Doc(text=text, title=title, sentences=sentences, lower_vocab=lower_vocab)


def _label_words(sentences: list[Sentence]) -> frozenset[str]:
    """Capitalised words that open three or more sentences, each before a different word,
    and never stand capitalised inside one: a section label whose line break the extractor
    lost ("Summary BED may ...", "Summary Yoga can ..."), as common as a lower-case word."""
    followers: dict[str, set[str]] = {}
    inside: set[str] = set()
    for sentence in sentences:
        tokens = sentence.tokens
        for k, token in enumerate(tokens):
            if not token.is_cap:
                continue
            if k == 0 and len(tokens) > 1:
                followers.setdefault(token.norm, set()).add(tokens[1].norm)
            elif k:
                inside.add(token.norm)
    return frozenset(
        word.lower() for word, after in followers.items() if len(after) >= 3 and word not in inside
    )


def _in_address(text: str, token: Token) -> bool:
    """ "www.ascom.com", "press@acme.org": a name written in lower case inside an address
    says nothing about the word being common."""
    before = text[token.start - 1 : token.start]
    after = text[token.end : token.end + 2]
    return before in (".", "@", "/") or (after[:1] in (".", "@") and after[1:].isalnum())


def content_words(sentence: Sentence) -> list[str]:
    """Lower-case words of a sentence that carry meaning (no stopwords, no numbers)."""
    return [w for w in sentence.words() if w not in STOPWORDS and not w[0].isdigit() and len(w) > 1]
