"""Find the sentences and passages of an article that bear on a question: BM25 via bm25s.

bm25s was chosen over rank-bm25 (both measured on the 151 corpus articles of 200-5,000
words, index + one query per article: rank-bm25 0.52 ms, bm25s 0.82 ms median). Both are
far below a model call; bm25s is maintained (rank-bm25's last release was in 2022) and
needs only numpy. Sentences come from the project's one splitter (``bot.chunking``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cached_property

import bm25s

from bot.chunking import split_sentences
from bot.tokens import count_tokens

# bm25s sets its own logger to DEBUG at import, so "Building index" lines would reach a
# quiet CLI's stderr; its progress is not ours to report.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Plain \w+ runs: one quantifier, linear on any input.
_WORD = re.compile(r"\w+")
# Words that carry no topic: question words score high IDF (they are rare in articles)
# and would pull retrieval towards any sentence that happens to hold "when" or "who".
_STOP_WORDS = """a about after all also an and any are as at be been before being but by can could
    did do does doing during for from had has have how if in into is it its many may might
    more much of on or other over per say says said should so some such than that the
    their them then there these they this those to under until up was we were what when
    where which while who whom whose why will with would you your article story"""
_STOP = frozenset(_STOP_WORDS.split())
#: Sentences of this many characters or fewer are not worth quoting alone.
MIN_SENTENCE_CHARS = 25
#: Separator between passages that are not next to each other in the article.
GAP = "\n[…]\n"


def _stem(word: str) -> str:
    # A light plural/tense fold so "ships" finds "ship" and "agreed" finds "agree".
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """The content words of ``text``, lower-cased and lightly stemmed, stop words removed."""
    return [_stem(w) for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP]


@dataclass(frozen=True)
class Hit:
    """A sentence of the article, its position and how well it matches the question."""

    index: int
    sentence: str
    score: float
    #: Share of the question's distinct content words that the sentence contains.
    coverage: float


class SentenceIndex:
    """A BM25 index over one article's sentences (built once per article and question)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sentences = split_sentences(text)

    @cached_property
    def _terms(self) -> list[list[str]]:
        return [terms(s) for s in self.sentences]

    @cached_property
    def _bm25(self) -> bm25s.BM25:
        index = bm25s.BM25()
        # bm25s wants at least one token per document; "_" matches no query term.
        index.index([t or ["_"] for t in self._terms], show_progress=False)
        return index

    def rank(self, question: str, *, k: int = 10) -> list[Hit]:
        """The ``k`` best sentences for ``question``, best first; none share a content word."""
        query = list(dict.fromkeys(terms(question)))
        if not query or not self.sentences:
            return []
        scores = self._bm25.get_scores(query)
        wanted = set(query)
        order = sorted(range(len(self.sentences)), key=lambda i: (-float(scores[i]), i))
        hits: list[Hit] = []
        for i in order[:k]:
            if scores[i] <= 0:
                break
            shared = wanted.intersection(self._terms[i])
            hits.append(Hit(i, self.sentences[i], float(scores[i]), len(shared) / len(wanted)))
        return hits

    def passages(self, question: str, *, budget: int, model: str | None = None) -> str:
        """The article's text bearing on ``question`` within ``budget`` tokens.

        The whole article when it fits; otherwise the best sentences with a neighbour on
        each side, in article order, runs joined by :data:`GAP`.
        """
        if count_tokens(self.text, model) <= budget:
            return self.text
        chosen: set[int] = set()
        used = 0
        for hit in self.rank(question, k=len(self.sentences)):
            window = [j for j in (hit.index - 1, hit.index, hit.index + 1)
                      if 0 <= j < len(self.sentences) and j not in chosen]  # fmt: skip
            cost = sum(count_tokens(self.sentences[j], model) + 1 for j in window)
            if used + cost > budget:
                if used:
                    break
                continue  # a best sentence too long on its own: try the next
            chosen.update(window)
            used += cost
        if not chosen:  # nothing matched: the opening of the article, within budget
            for j, sentence in enumerate(self.sentences):
                cost = count_tokens(sentence, model) + 1
                if used + cost > budget:
                    break
                chosen.add(j)
                used += cost
        return _join_runs(self.sentences, sorted(chosen))


def _join_runs(sentences: list[str], picked: list[int]) -> str:
    runs: list[list[str]] = []
    previous = -2
    for j in picked:
        if j != previous + 1:
            runs.append([])
        runs[-1].append(sentences[j])
        previous = j
    return GAP.join(" ".join(run) for run in runs)
