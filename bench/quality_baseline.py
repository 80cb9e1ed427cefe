"""The naive baseline the bench scores beside the engine: no NLP, a few regexes.

- participants: runs of capitalised words (two or more words, or one word that is not the
  first of its sentence), the ten most frequent, no role;
- topics: the five most frequent content words;
- tensions: sentences with a dispute keyword, parties = the capitalised runs in them;
- next steps: sentences with a future/plan keyword, owner = their first capitalised run.

Every item's evidence is its whole sentence, so the baseline quotes verbatim by design.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from bench.quality_junk import FUNCTION_WORDS, words

# A sentence ends at . ! or ? before a capital or an opening quote, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[A-Z\"“‘'(])|\n+")
# A capitalised word and its capitalised successors; no nested quantifiers.
_CAPITAL_RUN = re.compile(r"\b[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*)*")
TENSION_WORDS = (
    "dispute", "criticised", "criticized", "accused", "accuse", "opposed", "oppose",
    "against", "clash", "fight", "row", "rejected", "denied", "lawsuit", "sued", "protest",
    "condemned", "disagree", "feud", "versus",
)  # fmt: skip
STEP_WORDS = (
    "will", "plans", "plan to", "scheduled", "expected to", "set to", "is due", "are due",
    "next week", "next month", "next year", "to be held", "intends", "upcoming",
)  # fmt: skip
MAX_PARTICIPANTS = 10
MAX_TOPICS = 5
MAX_SENTENCES = 5


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _runs(sentence: str) -> list[str]:
    """Capitalised runs, except a lone capitalised word opening the sentence."""
    runs = []
    for match in _CAPITAL_RUN.finditer(sentence):
        run = match.group().rstrip(".'’")
        if match.start() == 0 and " " not in run:
            continue
        head, _, rest = run.partition(" ")
        if rest and head.lower() in FUNCTION_WORDS:  # "A New York man" names New York
            run = rest
        runs.append(run)
    return runs


def _has(sentence: str, keywords: tuple[str, ...]) -> bool:
    padded = f" {' '.join(words(sentence))} "
    return any(f" {k} " in padded for k in keywords)


def baseline_brief(text: str) -> dict[str, Any]:
    """A brief in the shape of ``Brief.model_dump()``, made by the naive rules above."""
    said = sentences(text)
    first_seen: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for sentence in said:
        for run in _runs(sentence):
            counts[run] += 1
            first_seen.setdefault(run, sentence)
    participants = [
        {"name": name, "role": None, "evidence": first_seen[name]}
        for name, _ in counts.most_common(MAX_PARTICIPANTS)
    ]
    vocab: Counter[str] = Counter(
        w for w in words(text) if len(w) > 3 and w not in FUNCTION_WORDS and not w.isdigit()
    )
    topics = []
    for word, _ in vocab.most_common(MAX_TOPICS):
        evidence = next((s for s in said if word in words(s)), "")
        topics.append({"name": word, "evidence": evidence})
    tensions = [
        {"description": s, "parties": _runs(s), "evidence": s}
        for s in said
        if _has(s, TENSION_WORDS)
    ][:MAX_SENTENCES]
    steps = [
        {"action": s, "owner": next(iter(_runs(s)), None), "when": None, "evidence": s}
        for s in said
        if _has(s, STEP_WORDS)
    ][:MAX_SENTENCES]
    return {
        "summary": " ".join(said[:3]),
        "participants": participants,
        "topics": topics,
        "tensions": tensions,
        "next_steps": steps,
    }
