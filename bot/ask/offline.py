"""The offline answerer: the article's best-matching sentences, quoted as they stand.

No model, no network. The answer is the sentence that best supports the question (BM25),
and up to two more that match nearly as well are quoted beside it. A question whose
content words the article barely shares is "not answered": we never guess.
"""

from __future__ import annotations

from bot.ask.models import MAX_QUOTES, AnswerDraft, Turn
from bot.ask.retrieval import MIN_SENTENCE_CHARS, Hit, SentenceIndex, terms

#: The best sentence must hold at least this share of the question's content words...
MIN_COVERAGE = 0.5
#: ...or, for questions of four or more content words, this many of them.
MIN_SHARED_WORDS = 3
#: Further quotes must score at least this share of the best sentence's score.
RELATIVE_SCORE = 0.6


def _supported(hit: Hit, question_terms: int) -> bool:
    shared = round(hit.coverage * question_terms)
    if question_terms <= 3:
        return hit.coverage >= MIN_COVERAGE
    # Longer questions: more than half their words, or three of them. Half of four is
    # too easy: the subject's own words ("the man", "Houston") match on every page.
    return hit.coverage > MIN_COVERAGE or shared >= MIN_SHARED_WORDS


def answer_offline(text: str, question: str, *, history: list[Turn] | None = None) -> AnswerDraft:
    """Answer from the article's own sentences; ``answered=False`` when none supports it."""
    index = SentenceIndex(text)
    query = question
    hits = [h for h in index.rank(query, k=12) if len(h.sentence) > MIN_SENTENCE_CHARS]
    wanted = len(set(terms(question)))
    if (not hits or not _supported(hits[0], wanted)) and history:
        # A follow-up ("and when?") leans on the last question's words.
        query = f"{history[-1].question} {question}"
        hits = [h for h in index.rank(query, k=12) if len(h.sentence) > MIN_SENTENCE_CHARS]
        wanted = len(set(terms(query)))
    if not hits or not _supported(hits[0], wanted):
        return AnswerDraft(answer="", quotes=[], answered=False)
    best = hits[0]
    quotes = [best.sentence]
    for hit in hits[1:]:
        if len(quotes) >= MAX_QUOTES or hit.score < best.score * RELATIVE_SCORE:
            break
        quotes.append(hit.sentence)
    return AnswerDraft(answer=best.sentence, quotes=quotes, answered=True)
