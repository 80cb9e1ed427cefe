"""Next steps: plans, commitments, deadlines and dates.

A cue ("will", "agreed to", "looked forward to", "plans to", "is expected by") marks a
sentence; the words after it become the action (a gerund turned into a verb: "signing" ->
"Sign"), the words before it the owner, and a time expression the "when".
"""

from __future__ import annotations

import re

from bot.engines.offline_lexicon import REPORTING_VERBS, STOPWORDS, wordset
from bot.engines.offline_people import Cast
from bot.engines.offline_phrases import (
    base_verb,
    clause_bounds,
    extend_list,
    find_when,
    is_pronoun,
    resolve_pronoun,
    shorten,
    tidy,
)
from bot.engines.offline_text import Doc, Sentence, Token
from bot.models import NextStep

MAX_STEPS = 8
_DATED_WEIGHT = 0.75
_THRESHOLD = 1.5
_MAX_WORDS = 18

# (pattern, weight, kind): kind says how to read the words after the cue.
_STEP_CUES: list[tuple[re.Pattern[str], float, str]] = [
    (re.compile(r"\blook(?:ed|s|ing)? forward to\b", re.I), 2.0, "gerund"),
    (re.compile(r"\b(?:agreed|agree|agrees)\s+to\b", re.I), 2.0, "verb"),
    (
        re.compile(r"\b(?:plans?|planned|planning|intends?|intended|aims?|aimed)\s+to\b", re.I),
        2.0,
        "verb",
    ),
    (
        re.compile(
            r"\b(?:pledged|promised|vowed|committed|undertook|decided|resolved)\s+to\b", re.I
        ),
        1.5,
        "verb",
    ),
    (
        re.compile(
            r"\b(?:is|are|was|were)\s+(?:set|due|expected|scheduled|slated|likely)\s+to\b", re.I
        ),
        2.0,
        "verb",
    ),
    (
        re.compile(
            r"\b(?:has|have|had)\s+(?P<when>(?:\d+|\w+)\s+(?:working\s+)?(?:days|weeks|months))\s+to\b",
            re.I,
        ),
        2.0,
        "verb",
    ),
    (re.compile(r"\b(?:will|shall)\b(?!\s+not\b)", re.I), 1.5, "verb"),
    # Future and obligation in other words: "is going to", "has to", "have got to".
    (re.compile(r"\b(?:is|are|am|was|were)\s+going\s+to\b", re.I), 1.5, "verb"),
    (re.compile(r"\b(?:has|have)\s+(?:got\s+)?to\b", re.I), 1.5, "verb"),
    # "Sentencing is scheduled for Feb. 14": an event with its date.
    (
        re.compile(
            r"\b(?:is|are|was|were|been)\s+(?:scheduled|set|slated|due)\s+(?:for|on)\b", re.I
        ),
        2.0,
        "clause",
    ),
    (re.compile(r"\bfaces?\s+(?:up\s+to|a\s+maximum|a\s+possible)\b", re.I), 1.5, "clause"),
    # "should have", "could have": what might have been, not what is ahead.
    (re.compile(r"\b(?:should|must)\b(?!\s+(?:not|have)\b)", re.I), 1.5, "verb"),
    (re.compile(r"\b(?:has|have|is|are)\s+yet\s+to\b", re.I), 1.5, "verb"),
    (re.compile(r"\bneeds?\s+to\b", re.I), 1.5, "verb"),
    # Intent and preparation: "hopes to", "is preparing to", "is considering".
    (
        re.compile(
            r"\b(?:hopes?|hoped|wants?|seeks?|sought|(?:is|are)\s+(?:preparing|working))\s+to\b",
            re.I,
        ),
        1.5,
        "verb",
    ),
    (re.compile(r"\b(?:is|are)\s+considering\b", re.I), 1.5, "clause"),
    (re.compile(r"\b(?:has|have)\s+until\b", re.I), 2.0, "clause"),
    # What may happen is ahead too: "the deal could raise $12bn", "an appeal may be filed".
    (re.compile(r"(?:\b[Mm]ight|\b[Cc]ould|\bmay)\b(?!\s+(?:not\b|have\b|\d))"), 1.5, "verb"),
    (re.compile(r"\b(?:looking into|investigating|reviewing)\b", re.I), 1.5, "clause"),
    (re.compile(r"\bwould\b(?!\s+(?:not|have)\b)", re.I), 0.5, "verb"),
    (
        re.compile(
            r"\bto be (?:signed|held|announced|published|finali[sz]ed|completed|launched|"
            r"released|decided)\b",
            re.I,
        ),
        2.0,
        "clause",
    ),
    (re.compile(r"\b(?:is|are)\s+expected\b(?!\s+to)", re.I), 1.5, "clause"),
    (re.compile(r"\bexpects?\s+(?:\w+\s+){1,3}?to\b", re.I), 1.0, "clause"),
    (re.compile(r"\bnext (?:meeting|round|session|summit|hearing|vote)\b", re.I), 1.0, "clause"),
    (re.compile(r"\bdeadline\b", re.I), 1.0, "clause"),
]
_CONCRETE = re.compile(
    r"\b(?:sign|vote|publish|meet|hold|decide|announce|launch|file|deliver)", re.I
)
_DETERMINER_BEFORE = re.compile(
    r"\b(?:a|an|the|any|no|its|their|his|her|our|this|that|new)\s+$", re.I
)
# Nouns whose "that" clause is a wish or a fear, not a plan ("guarantees that no jobs
# will be lost").
_WISH_NOUNS = wordset(
    "guarantee guarantees assurance assurances fear fears concern concerns worry worries "
    "hope hopes demand demands call calls doubt doubts risk chance possibility idea "
    "speculation rumour rumours rumor rumors claim claims suggestion suggestions"
)


# ", who brokered a deal in 2019": background about someone, not when the step happens.
_RELATIVE = re.compile(r",\s+(?:who|whom|whose|which)\b[^,;:–—]*")


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


_ATTRIBUTION = re.compile(
    r",\s*(?:the\s+)?[\w’'.\- ]{1,60}?\s(?:said|says|told\s+\w+|added)\.?\s*$"
)
_NEGATED = re.compile(r"(?:\bnever|\bnot|n[’']t)\s+$", re.I)
_OWNER_DETERMINERS = wordset("the a an its their his her our this that these those both all")
_AUXILIARIES = wordset(
    "has have had is are was were will would shall should can could may might must do does "
    "did been also still now already jointly both formally"
)


def _subject_tokens(sentence: Sentence, floor: int, cue_start: int) -> list[Token] | None:
    """Words before a cue back to a clause boundary (or ``floor``); None if not a plan."""
    start, _ = clause_bounds(sentence, cue_start)
    words = [t for t in sentence.tokens if max(start, floor) <= t.start and t.end <= cue_start]
    if not words:  # They “agreed to ...": the quote opens inside the clause
        start, _ = clause_bounds(sentence, cue_start, quotes=False)
        words = [t for t in sentence.tokens if max(start, floor) <= t.start and t.end <= cue_start]
    before = [t for t in sentence.tokens if t.end <= start]
    if len(before) > 1 and before[-1].lower == "that" and before[-2].lower in _WISH_NOUNS:
        return None
    if words and words[0].lower in ("no", "none", "nothing"):
        return None
    return words


def _owner(
    doc: Doc, cast: Cast, sentence: Sentence, words: list[Token], last: str | None
) -> tuple[str | None, int | None]:
    """Who will act, and where that subject starts (for actions quoted whole)."""
    speech = [k for k, t in enumerate(words) if t.lower in REPORTING_VERBS]
    if speech:
        speaker, words = words[: speech[-1]], words[speech[-1] + 1 :]
        if words and words[0].lower == "that":
            words = words[1:]
        if len(words) == 1 and words[0].lower in ("it", "they", "he", "she") and speaker:
            words = speaker
    while len(words) > 1 and words[-1].lower in _AUXILIARIES:
        words = words[:-1]  # "the parties had agreed to": the owner is "the parties"
    if not words or len(words) > 7:
        return None, None
    text = tidy(doc.text[words[0].start : words[-1].end], keep_article=True)
    if is_pronoun(text):
        person = resolve_pronoun(cast, sentence)
        if person is not None:
            return person.name, words[0].start
        return (last if text.lower() in ("they", "we") else None), words[0].start
    return _actor(doc, cast, sentence, words, text), words[0].start


def _actor(doc: Doc, cast: Cast, sentence: Sentence, words: list[Token], text: str) -> str | None:
    """The owner as an actor: a participant named in it (by its full name), or a noun
    phrase ("the union", "officials"); never an adverb or an auxiliary ("Undoubtedly
    it", "Had")."""
    lo, hi = words[0].start, words[-1].end
    for mention, entity in cast.by_sentence.get(sentence.index, []):
        if lo <= mention.start < hi and not mention.in_role:
            return entity.name
    first = words[0]
    if first.lower in _OWNER_DETERMINERS:
        return text if len(words) > 1 else None
    if first.lower in _AUXILIARIES or first.lower.endswith("ly"):
        return None
    if first.lower in STOPWORDS:
        return None
    # A common noun ("Officials", "residents"): seen in lower case in the article.
    return text if first.lower in doc.lower_vocab or not first.is_cap else None


def _antecedent(cast: Cast, sentence: Sentence, cue_start: int) -> str | None:
    """ "said Hill, who will testify Thursday": the one named just before "who"."""
    before = [t for t in sentence.tokens if t.end <= cue_start]
    if not before or before[-1].lower != "who":
        return None
    named = [e for m, e in cast.by_sentence.get(sentence.index, []) if m.end <= before[-1].start]
    return named[-1].name if named else None


def _action(doc: Doc, start: int, end: int, *, gerund: bool) -> str:
    """The step's action text: base-form verb first ("Sign a new ten-year framework")."""
    span = doc.text[start:end]
    span = re.sub(r"\s*\([^)]*\)", "", span)  # drop parenthetical expansions
    when = find_when(span)
    if when:
        span = (span[: when.start()] + span[when.end() :]).strip()
    # ", the Interior Ministry said": who said it, not part of what will be done.
    span = _ATTRIBUTION.sub("", span)
    words = shorten(span, _MAX_WORDS).split()
    if gerund and words:
        words[0] = base_verb(words[0])
    action = tidy(" ".join(words), keep_article=True).lstrip("-–— ")
    if all(w.lower() in STOPWORDS for w in re.findall(r"[\w’']+", action)):
        return ""  # "have here": no content word, no action
    return action


def _step_spans(sentence: Sentence, cue_end: int, stop: int) -> list[tuple[int, int]]:
    """The cue's complement, then any "including X" / "as well as X" items after it."""
    # Quotes don't end the complement: 'pledged to take “decisive corrective action”'.
    _, end = clause_bounds(sentence, cue_end, subordinators=False, quotes=False)
    spans = [(cue_end, min(stop, extend_list(sentence, end)))]
    text = sentence.text
    for match in re.finditer(r",\s+(?:including|as well as)\s+(?=\w+ing\b)", text):
        start = sentence.start + match.end()
        if not spans[0][1] <= start < stop:
            continue
        _, sub_end = clause_bounds(sentence, start, subordinators=False)
        spans.append((start, min(stop, extend_list(sentence, sub_end, max_words=3))))
    return spans


def _cues(sentence: Sentence) -> list[tuple[re.Match[str], float, str]]:
    """Non-overlapping step cues of a sentence, in order."""
    hits: list[tuple[re.Match[str], float, str]] = []
    for pattern, weight, kind in _STEP_CUES:
        for match in pattern.finditer(sentence.text):
            if kind == "verb" and _DETERMINER_BEFORE.search(sentence.text[: match.start()]):
                continue  # "any plan to close": a noun, not a plan
            if match.group().lower() == "would":
                said = any(
                    t.lower in REPORTING_VERBS
                    for t in sentence.tokens
                    if t.start - sentence.start < match.start()
                )
                # "would" is a plan only with a date: "members would strike on 14 March".
                weight = 1.0 if said else 0.5
            if not any(m.start() < match.end() and match.start() < m.end() for m, _, _ in hits):
                hits.append((match, weight, kind))
    hits.sort(key=lambda h: h[0].start())
    # A clause cue and a verb cue in one clause are one step; the stronger cue reads it
    # ("agreed to hold the next round of talks", "The next round of talks will be ...").
    kept: list[tuple[re.Match[str], float, str]] = []
    for hit in hits:
        if kept and (hit[2] == "clause") != (kept[-1][2] == "clause"):
            _, end = clause_bounds(
                sentence, sentence.start + kept[-1][0].end(), subordinators=False
            )
            if sentence.start + hit[0].start() < end:
                if hit[1] > kept[-1][1]:
                    kept[-1] = hit
                continue
        kept.append(hit)
    return kept


_PAST_FINITE = wordset(
    "was were had did began took went came made won lost met held left ran gave became "
    "brought fell found got kept spent stood thought wrote rose shot struck sought sold "
    "paid led told saw knew grew drew flew threw broke chose spoke drove rode fought caught "
    "heard"
)
# After these an "-ed" word is a participle, not a past-tense verb: "is scheduled",
# "has signed" (present perfect counts as done, but "will be" is no past).
_BEFORE_PARTICIPLE = wordset("is are be been being will to has have am the a an")


def _told_in_past(sentence: Sentence, when: re.Match[str]) -> bool:
    """Whether the words before a date carry a past-tense verb: an account, not a plan."""
    cut = sentence.start + when.start()
    before = [t for t in sentence.tokens if t.end <= cut]
    for k, token in enumerate(before):
        if token.lower in _PAST_FINITE:
            return True
        previous = before[k - 1].lower if k else ""
        if (
            k
            and len(token.lower) > 4
            and token.lower.endswith("ed")
            and not token.is_cap
            and previous not in _BEFORE_PARTICIPLE
        ):
            return True
    return False


def find_next_steps(doc: Doc, cast: Cast) -> list[NextStep]:
    """Forward-looking commitments, plans and deadlines, with owner and time when given."""
    scored: list[tuple[float, int, NextStep]] = []
    last_owner: str | None = None
    for sentence in doc.sentences:
        hits = _cues(sentence)
        sentence_when = find_when(_RELATIVE.sub(_blank, sentence.text))
        if not hits and sentence_when is not None and not _told_in_past(sentence, sentence_when):
            # No cue, but a date ahead ("The finals take place on 18-24 November"): an
            # event on the calendar, read from the clause around its date. A clause in
            # the past tense ("He was shot down over Hanoi in 1967") is background.
            hits = [(sentence_when, _DATED_WEIGHT, "clause")]
        floor = sentence.start
        owner: str | None = None
        for n, (match, weight, kind) in enumerate(hits):
            score = weight + (1.0 if sentence_when else 0.0)
            cue_start, cue_end = sentence.start + match.start(), sentence.start + match.end()
            stop = sentence.start + hits[n + 1][0].start() if n + 1 < len(hits) else sentence.end
            words = _subject_tokens(sentence, floor, cue_start)
            floor = cue_end
            if score < _THRESHOLD or words is None:
                continue
            if _NEGATED.search(sentence.text, max(0, match.start() - 12), match.start()):
                continue  # "never intended to harm": a denial, not a plan
            if n and (not words or words[-1].lower == "and"):
                subject_start = None  # "... by Friday and plans to publish": same owner
            else:
                owner, subject_start = _owner(doc, cast, sentence, words, last_owner)
                owner = owner or _antecedent(cast, sentence, cue_start)
            steps = _steps_for(doc, sentence, match, kind, cue_end=cue_end, stop=stop)
            for k, (action, start, end, quoted) in enumerate(steps):
                if quoted and subject_start is not None:
                    action = _action(doc, subject_start, end, gerund=False)
                # A passive or quoted clause ("India would be hit with ...") has no doer.
                step_owner = None if quoted else owner
                only = k == 0 and len(hits) == 1  # a lone cue owns the sentence's date
                when_text = _when_for(doc, match, start, end, sentence_when, first=only)
                if len(action.split()) < 2 and not (step_owner and when_text):
                    continue  # a bare "Be" or "Go" says nothing; "Decide" with owner and date does
                step = NextStep(
                    action=action, owner=step_owner, when=when_text, evidence=sentence.text
                )
                bonus = (1.0 if step.when else 0.0) + (0.5 if _CONCRETE.match(action) else 0.0)
                scored.append((score + bonus, len(scored), step))
        last_owner = owner or last_owner
    scored.sort(key=lambda item: (-item[0], item[1]))
    best = sorted(scored[:MAX_STEPS], key=lambda item: item[1])
    return [step for _, _, step in best]


def _steps_for(
    doc: Doc, sentence: Sentence, match: re.Match[str], kind: str, *, cue_end: int, stop: int
) -> list[tuple[str, int, int, bool]]:
    """(action, span start, span end, quoted whole?) for one cue."""
    if kind == "clause":
        start, end = clause_bounds(sentence, sentence.start + match.start())
        action = _action(doc, start, end, gerund=False)
        return [(action, start, end, True)] if len(action.split()) >= 2 else []
    out: list[tuple[str, int, int, bool]] = []
    for k, (start, end) in enumerate(_step_spans(sentence, cue_end, stop)):
        first_word = doc.text[start:end].split()[:1]
        bare = first_word[0].lower().strip(".,;:!?\"'“”") if first_word else ""
        passive = bare in ("be", "been", "remain", "stay")
        if passive and len(doc.text[start:end].split()) < 2:
            continue  # "It will be.": nothing to do
        action = _action(doc, start, end, gerund=kind == "gerund" or k > 0)
        if action:
            out.append((action, start, end, passive))
    return out


def _when_for(
    doc: Doc,
    match: re.Match[str],
    start: int,
    end: int,
    sentence_when: re.Match[str] | None,
    *,
    first: bool,
) -> str | None:
    if "when" in match.re.groupindex and match.group("when"):
        return match.group("when")
    inside = find_when(doc.text[start:end])
    if inside:
        return inside.group()
    return sentence_when.group() if sentence_when and first else None
