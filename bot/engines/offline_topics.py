"""Topics: agenda enumerations, cue phrases ("tensions over X", "commitment to X") and
recurring noun phrases, each with the sentence that holds it as evidence."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.engines.offline_keyphrases import keyphrases
from bot.engines.offline_lexicon import GENERIC_NOUNS, STOPWORDS, wordset
from bot.engines.offline_people import Cast
from bot.engines.offline_phrases import tidy
from bot.engines.offline_text import Doc, Sentence, tokenize
from bot.models import Topic

MAX_TOPICS = 6
#: Topics the rules may fill before YAKE's keyphrases get the rest.
_RULE_TOPICS = 4
_MAX_TOPIC_WORDS = 5

_LIST_SUBJECT = re.compile(
    r"^(?P<list>.+?),?\s+(?:were|was|are|is|will be|would be)\s+(?:also\s+|all\s+)?"
    r"(?:discussed|on the agenda|covered|addressed|raised|reviewed|debated|among the|"
    r"(?:the\s+)?(?:main\s+|key\s+|chief\s+|top\s+|other\s+)?(?:selling points|features|"
    r"priorities|issues|topics|sticking points|focus|areas))",
    re.I,
)
_LIST_OBJECT = re.compile(
    r"\b(?:discussed|discuss|discussing|covered|cover|addressed|focused on|focus on|"
    r"focusing on|agenda (?:included|includes|will include)|talks (?:on|about|covered)|"
    r"topics (?:included|include)|issues such as|such as|ranging from|negotiations on|"
    r"dispute over|disputes over|concerns (?:about|over))\s+(?P<list>.+)",
    re.I,
)
_CUE_OBJECT = re.compile(
    r"\b(?:tensions?|row|rift|dispute|disagreement|standoff|stand-off|differences)\s+"
    r"(?:between\s+[^,;.]+?\s+)?(?:over|on|about)\s+(?P<np>[^,;:.–—“”\"()]+)",
    re.I,
)
_COMMITMENT = re.compile(
    r"\bcommitment to\s+(?:the\s+)?(?P<np>[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*){0,3})"
)
_ITEM_LEAD = re.compile(
    r"^(?:including|and|or|the|a|an|also|especially|notably|"
    r"strengthening|increasing|enhancing|boosting|improving|expanding|advancing|promoting|"
    r"deepening|building)\s+",
    re.I,
)
_ITEM_TAIL = re.compile(r"\s+(?:and|or)\s+(?:more|others|so on)$|\s+(?:among others|etc\.?)$", re.I)
_VERBISH = re.compile(r"(?:ed|ing)$")
# Adjective and adverb endings: never the head of a topic phrase.
_MODIFIER = re.compile(r"(?:ical|ional|eral|ive|ous|ic|ful|less|ly|able|ible)$")
_NOUNS_LIKE_MODIFIERS = wordset(
    "initiative initiatives objective executive representative incentive alternative "
    "directive detective relative narrative perspective motive archive native general "
    "mineral minerals traffic music topic logic republic clinic critic mechanic panic magic "
    "fabric graphic tactic rhetoric epidemic pandemic supply family ally rally assembly "
    "monopoly italy july anomaly reply"
)
_IRREGULAR_VERBS = wordset(
    "held made met took gave came went saw put set sent kept left led told paid won lost "
    "began begun brought bought built chose fell felt found got grew heard hit hurt knew "
    "laid meant ran rose sat sold spent spoke stood struck taught thought understood wrote "
    "seems seem sounded"
)
_WORD = re.compile(r"[^\W_]+(?:['’\-+][^\W_]+)*")


@dataclass
class _Candidate:
    name: str
    sentence: Sentence
    score: float


_PREPOSITIONS = wordset("at in for on with from to through under over across")


def _clean_item(item: str) -> str | None:
    item = item.strip(" \t\n,;:.“”\"'()")
    for _ in range(3):
        item = _ITEM_LEAD.sub("", item).strip()
    item = _ITEM_TAIL.sub("", item).strip(" ,;:.")
    words = item.split()
    if len(words) > _MAX_TOPIC_WORDS:
        # "job guarantees at the Gdansk plant" -> "job guarantees"
        cuts = [
            k for k, w in enumerate(words[: _MAX_TOPIC_WORDS + 1]) if w.lower() in _PREPOSITIONS
        ]
        words = words[: cuts[-1]] if cuts and cuts[-1] >= 1 else []
        item = " ".join(words)
    if not words or len(words) > _MAX_TOPIC_WORDS:
        return None
    if words[0].lower() in STOPWORDS or words[-1].lower() in STOPWORDS:
        return None
    inner = {w.lower() for w in words[1:-1]}
    if (inner & STOPWORDS) - {"and", "of", "for", "on", "in", "&"}:
        return None
    if any(w.lower() in ("said", "says", "added") for w in words):
        return None
    return item


def _split_list(text: str) -> list[str]:
    """Items of an enumeration, stopping where the list ends and a clause begins."""
    parts = [p.strip() for p in re.split(r"[,;]\s*", text) if p.strip()]
    items: list[str] = []
    for n, bare in enumerate(parts):
        words = bare.split()
        if len(words) > 1 and words[0].lower() in ("and", "or") and _VERBISH.search(words[1]):
            break
        last = n == len(parts) - 1 or re.search(r"[.!?]$", bare)
        joined = re.search(r"\s(?:and|or)\s", bare)
        if joined and len(parts) > 1 and (last or len(words) > _MAX_TOPIC_WORDS):
            # "A, B, C and D": the last part holds two items.
            items.extend([bare[: joined.start()], bare[joined.end() :]])
        elif len(words) > _MAX_TOPIC_WORDS + 3:
            break
        else:
            items.append(bare)
        if last:
            break
    return items


def _enumerations(sentence: Sentence) -> list[str]:
    text = sentence.text
    found: list[str] = []
    subject = _LIST_SUBJECT.search(text)
    if subject:
        found.extend(_split_list(subject.group("list")))
    for match in _LIST_OBJECT.finditer(text):
        found.extend(_split_list(match.group("list")))
    return [item for item in (_clean_item(i) for i in found) if item]


def _cue_topics(sentence: Sentence) -> list[str]:
    names: list[str] = []
    for match in _CUE_OBJECT.finditer(sentence.text):
        for part in re.split(r"\s+and\s+", match.group("np")):
            item = _clean_item(part)
            if item:
                names.append(item)
    names.extend(m.group("np") for m in _COMMITMENT.finditer(sentence.text))
    return names


def _frequent_phrases(doc: Doc, banned: set[str], *, min_single: int = 3) -> list[_Candidate]:
    """Noun phrases (1-3 words, no stopwords or verbs) that recur in the article."""
    counts: Counter[str] = Counter()
    first: dict[str, Sentence] = {}
    # The headline counts once: its words are what the article is about.
    title = Sentence(index=-1, start=0, end=0, text="", terminal=False, paragraph=-1)
    title.tokens = tokenize(doc.title or "")
    for sentence in [title, *doc.sentences]:
        run: list[str] = []
        for token in [*sentence.tokens, None]:
            word = token.lower if token else ""
            ok = (
                token is not None
                and word not in STOPWORDS
                and word not in banned
                and not word[:1].isdigit()
                and not _VERBISH.search(word)
                and word not in _IRREGULAR_VERBS
                and len(word) > 2
                and not token.is_cap
            )
            if ok:
                run.append(word)
                continue
            for size in (1, 2, 3):
                for k in range(len(run) - size + 1):
                    gram = run[k : k + size]
                    if gram[-1] in GENERIC_NOUNS or gram[0] in GENERIC_NOUNS:
                        continue
                    if _MODIFIER.search(gram[-1]) and gram[-1] not in _NOUNS_LIKE_MODIFIERS:
                        continue
                    phrase = " ".join(gram)
                    counts[phrase] += 1
                    if sentence is not title:
                        first.setdefault(phrase, sentence)
            run = []
    in_longer: dict[str, int] = {}
    for phrase, count in counts.items():
        if count >= 2 and " " in phrase:
            for word in phrase.split():
                in_longer[word] = max(in_longer.get(word, 0), count)
    out: list[_Candidate] = []
    for phrase, count in counts.items():
        size = len(phrase.split())
        if phrase not in first:
            continue
        if size == 1:
            # Count only the uses outside a recurring longer phrase ("defence cooperation").
            count -= in_longer.get(phrase, 0)
        if count >= min_single or (size > 1 and count >= 2):
            # Words that recur on their own too ("defence", "cooperation") break ties.
            salience = 0.1 * sum(counts[w] for w in phrase.split()) if size > 1 else 0.0
            score = count * (1 + 0.5 * (size - 1)) + salience
            out.append(_Candidate(phrase, first[phrase], score))
    return out


def _words_of(name: str) -> set[str]:
    return set(_WORD.findall(name.lower()))


def _place(candidate: _Candidate, chosen: list[_Candidate]) -> bool:
    """Add ``candidate`` unless a chosen topic covers it; a more specific phrase replaces
    the vaguer one it contains ("Trade" -> "Trade and investment")."""
    words = _words_of(candidate.name)
    for k, other in enumerate(chosen):
        other_words = _words_of(other.name)
        if words <= other_words:
            return False
        if other_words < words:
            chosen[k] = candidate
            return True
    chosen.append(candidate)
    return True


def _phrase_counts(doc: Doc, sizes: set[int]) -> Counter[tuple[str, ...]]:
    """How often each word sequence of the given lengths occurs: one pass over the
    article, so counting every candidate's mentions stays linear in its length."""
    counts: Counter[tuple[str, ...]] = Counter()
    for sentence in doc.sentences:
        words = [t.text.lower() for t in sentence.tokens]
        for size in sizes:
            for k in range(len(words) - size + 1):
                counts[tuple(words[k : k + size])] += 1
    return counts


def _key(name: str) -> tuple[str, ...]:
    return tuple(t.text.lower() for t in tokenize(name))


def _fill(chosen: list[_Candidate], pool: list[_Candidate], people: set[str], limit: int) -> None:
    for candidate in pool:
        if len(chosen) >= limit:
            return
        low_words = {w.lower() for w in _WORD.findall(candidate.name)}
        if not low_words or low_words <= people:
            continue
        if candidate.name.lower() in candidate.sentence.text.lower():
            _place(candidate, chosen)


def _is_topic(name: str, doc: Doc) -> bool:
    """Several words, or one proper noun: a lone common noun ("Game") says nothing."""
    words = _WORD.findall(name)
    if len(words) != 1:
        return bool(words)
    return words[0][:1].isupper() and words[0].lower() not in doc.lower_vocab


def find_topics(doc: Doc, cast: Cast) -> list[Topic]:
    """What the article is about: named agenda items and disputes first, then recurring
    noun phrases, then YAKE's keyphrases."""
    people = {w.lower() for e in cast.entities for w in _WORD.findall(e.name)}
    found = [
        (name, sentence)
        for sentence in doc.sentences
        for name in [*_enumerations(sentence), *_cue_topics(sentence)]
    ]
    counts = _phrase_counts(doc, {len(_key(name)) for name, _ in found})
    named = [_Candidate(name, sentence, 1.5 + counts[_key(name)]) for name, sentence in found]
    named.sort(key=lambda c: (-c.score, c.sentence.index))
    recurring = sorted(_frequent_phrases(doc, people), key=lambda c: (-c.score, c.sentence.index))
    pool = [c for c in [*named, *recurring] if _is_topic(c.name, doc)]
    chosen: list[_Candidate] = []
    _fill(chosen, pool, people, _RULE_TOPICS)
    phrases = [
        _Candidate(name, sentence, 0.0) for name, sentence in keyphrases(doc, limit=MAX_TOPICS)
    ]
    _fill(chosen, phrases, people, MAX_TOPICS)
    return [Topic(name=tidy(c.name), evidence=c.sentence.text) for c in chosen]
