"""The offline engine: an extractive brief with no network, no key and no model.

Every evidence is a sentence of the article, so the brief is grounded by construction.
It reads English (``bot.language.OFFLINE_LANGUAGES``); other languages get the article's
opening sentences and a note. Heuristics live in the ``offline_*`` modules: text
(sentences), names and people, topics, tensions, steps, and the word lists in
``offline_lexicon``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from bot.config import Settings
from bot.engines.offline_people import Cast, find_cast
from bot.engines.offline_steps import find_next_steps
from bot.engines.offline_tensions import conflict_score, find_tensions
from bot.engines.offline_text import Doc, Sentence, content_words, is_junk_line, prepare
from bot.engines.offline_topics import find_topics
from bot.language import detect_language, offline_reads, unsupported_note
from bot.models import Article, Brief, BriefMeta, Participant

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Bumped when the algorithm changes, so cached offline briefs are rebuilt.
VERSION = "offline-4"
#: The default input cap (``BRIEFBOT_OFFLINE_MAX_CHARS``): about 100k tokens, ~2 s.
DEFAULT_MAX_CHARS = 400_000
SUMMARY_SENTENCES = 3
MAX_PARTICIPANTS = 16
_MAX_SUMMARY_WORDS = 60
_FALLBACK_CHARS = 500
_REDUNDANT = 0.5
# Up to three steps of 10% (two named parties, a conflict word): a tie-break between
# sentences of like centrality, not a rival to it.
_CORE_STEP = 0.1
_DISPUTE = 2.0
_PRONOUN_START = re.compile(r"^[\"“]?(?:He|She|They|It|This|These|That|Those|Both)\b")


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    """A crude stem so "reaffirmed" meets "reaffirm" and "tensions" meets "tension"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _stems(sentence: Sentence) -> set[str]:
    return {_stem(w) for w in content_words(sentence)}


def _centrality(doc: Doc) -> dict[int, float]:
    """How much each sentence shares the article's recurring words (title words count double)."""
    freq: Counter[str] = Counter(w for s in doc.sentences for w in _stems(s))
    title_words = {_stem(w) for w in re.findall(r"\w+", (doc.title or "").lower())}
    scores: dict[int, float] = {}
    for sentence in doc.sentences:
        words = _stems(sentence)
        if not words:
            scores[sentence.index] = 0.0
            continue
        weight = sum(freq[w] - 1 for w in words) + 2 * len(words & title_words)
        scores[sentence.index] = weight / math.sqrt(len(words))
    return scores


def _overlap(a: Sentence, b: Sentence) -> float:
    wa, wb = _stems(a), _stems(b)
    return len(wa & wb) / max(1, min(len(wa), len(wb)))


def _core_bonus(sentence: Sentence, cast: Cast) -> float:
    """How much a sentence carries the story's core: who acts (named parties) and the dispute."""
    named = {id(entity) for _, entity in cast.by_sentence.get(sentence.index, [])}
    disputed = conflict_score(sentence) >= _DISPUTE
    return 1.0 + _CORE_STEP * (min(2, len(named)) + (1 if disputed else 0))


def summarise(doc: Doc, cast: Cast | None = None) -> list[Sentence]:
    """The lead sentence plus the most central others, in article order; among sentences of
    like weight, those naming the parties and the dispute win."""
    pool = [s for s in doc.sentences if s.terminal] or list(doc.sentences)
    if not pool:
        return []
    lead = next((s for s in pool if len(s.tokens) >= 8), pool[0])
    chosen = [lead]
    scores = _centrality(doc)
    if cast is not None:
        scores = {s.index: scores[s.index] * _core_bonus(s, cast) for s in doc.sentences}
    ranked = sorted(pool, key=lambda s: (-scores[s.index], s.index))
    for sentence in ranked:
        if len(chosen) == SUMMARY_SENTENCES:
            break
        too_long = len(sentence.tokens) > _MAX_SUMMARY_WORDS
        if sentence in chosen or too_long or _PRONOUN_START.match(sentence.text):
            continue
        if any(_overlap(sentence, c) > _REDUNDANT for c in chosen):
            continue
        chosen.append(sentence)
    return sorted(chosen, key=lambda s: s.index)


def _participants(doc: Doc, cast: Cast) -> list[Participant]:
    out: list[Participant] = []
    for entity in cast.participants()[:MAX_PARTICIPANTS]:
        index = entity.role_sentence
        if index is None:
            index = min(entity.mentions, key=lambda m: m.start).sentence
        out.append(
            Participant(name=entity.name, role=entity.role, evidence=doc.sentences[index].text)
        )
    return out


def _safely(section: str, make: Callable[[], list[T]]) -> list[T]:
    """One section's items; a heuristic tripping on odd text costs that section, not the brief."""
    try:
        return make()
    except Exception:  # the brief must still go out; the log keeps the bug visible
        log.exception("offline engine: %s failed; section left empty", section)
        return []


def build_brief(article: Article, *, max_chars: int = DEFAULT_MAX_CHARS) -> Brief:
    """The extractive brief of ``article``; never raises on odd or empty text.

    Reads at most ``max_chars`` characters (the brief's note says where it stopped). An
    article in a language the rules don't read gets an honest minimal brief: its opening
    sentences as the gist, no items, and a note saying why."""
    text, cut = cap_text(article.text, max_chars)
    language = _safe_language(text)
    try:
        doc = prepare(text, article.title)
    except Exception:  # same policy as _safely: degrade to a text-only brief
        log.exception("offline engine: text preparation failed")
        doc = Doc(text=text, title=article.title, sentences=[], lower_vocab=frozenset())
    notes = [unsupported_note(language)] if language and not offline_reads(language) else []
    if cut:
        notes.append(f"The offline engine read the first {cut:,} characters of this article.")
    meta = BriefMeta(
        engine="offline",
        model=None,
        prompt_version=VERSION,
        language=language,
        note=" ".join(notes) or None,
    )
    title = article.title or doc.title
    url = article.canonical_url or article.final_url or article.url
    if not offline_reads(language):
        lead = _safely("summary", lambda: lead_sentences(doc))
        summary = " ".join(s.text for s in lead) or _fallback_summary(text, article.title)
        return Brief(title=title, url=url, summary=summary, meta=meta)
    empty = Cast(entities=[], by_sentence={})
    casts = _safely("participants", lambda: [find_cast(doc)])
    cast = casts[0] if casts else empty
    summary_sentences = _safely("summary", lambda: summarise(doc, cast))
    summary = " ".join(s.text for s in summary_sentences) or _fallback_summary(text, article.title)
    return Brief(
        title=title,
        url=url,
        summary=summary,
        participants=_safely("participants", lambda: _participants(doc, cast)),
        topics=_safely("topics", lambda: find_topics(doc, cast)),
        tensions=_safely("tensions", lambda: find_tensions(doc, cast)),
        next_steps=_safely("next steps", lambda: find_next_steps(doc, cast)),
        meta=meta,
    )


def cap_text(text: str, max_chars: int) -> tuple[str, int | None]:
    """``text`` cut to at most ``max_chars`` at a paragraph (else word) boundary, and the
    length it was cut to (None when it was not cut)."""
    if len(text) <= max_chars:
        return text, None
    floor = max_chars * 3 // 4  # don't give up a quarter of the allowance to find a break
    cut = text.rfind("\n", floor, max_chars)
    if cut < 0:
        cut = text.rfind(" ", floor, max_chars)
    if cut < 0:
        cut = max_chars
    return text[:cut], cut


def _safe_language(text: str) -> str | None:
    try:
        return detect_language(text)
    except Exception:  # no language is no reason to lose the brief: read it as English
        log.exception("offline engine: language detection failed")
        return None


def lead_sentences(doc: Doc) -> list[Sentence]:
    """The article's opening sentences: the gist when the rules can't read the language."""
    pool = [s for s in doc.sentences if s.terminal] or list(doc.sentences)
    return pool[:SUMMARY_SENTENCES]


def _fallback_summary(text: str, title: str | None) -> str:
    """No sentence survived cleaning: the text itself (trimmed), else the title."""
    lines = [line for line in text.splitlines() if not is_junk_line(line)]
    text = " ".join(" ".join(lines).split())
    if len(text) > _FALLBACK_CHARS:
        text = text[:_FALLBACK_CHARS].rsplit(" ", 1)[0] + "…"
    return text or (title or "")


class OfflineEngine:
    """Extractive briefs from the article text alone: the default with no OpenAI key."""

    name = "offline"
    version = VERSION

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def cache_version(self) -> str:
        return str(VERSION)

    async def aclose(self) -> None:
        """Nothing to release: no client, no connections."""

    async def brief(self, article: Article, *, language: str | None = None) -> Brief:
        # Linear, but a long article still takes seconds of CPU: in a worker thread the
        # event loop keeps answering Slack (acks, /healthz) meanwhile. ``language`` is the
        # model's output language; an extractive brief quotes the article as written.
        return await asyncio.to_thread(self.brief_sync, article)

    def brief_sync(self, article: Article) -> Brief:
        return build_brief(article, max_chars=self.settings.offline_max_chars)
