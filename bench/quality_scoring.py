"""Pure scoring for the brief-quality bench: labels and briefs in, counts out.

Everything here works on plain dicts (a brief as ``Brief.model_dump()``, a label as its JSON),
so the unit tests need neither the engine nor the corpus. The matching rules are written up
at the top of ``bench/quality.py``; the functions below are those rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.quality_junk import (
    FUNCTION_WORDS,
    Vocabulary,
    fold,
    junk_reason,
    plain,
    words,
    wordset,
)

Label = Mapping[str, Any]
BriefDict = Mapping[str, Any]


# Honorifics and titles dropped before names are compared ("Gov. Eric Holcomb" is Eric Holcomb).
TITLES = wordset(
    """mr mrs ms mx dr prof sir dame lord lady rev fr st
    sen senator rep representative gov governor president pres vice
    lt col gen maj capt sgt adm cmdr det insp supt chief judge justice
    rt hon the"""
)
SUFFIXES = wordset("jr sr ii iii iv")
# Words that make a label name an organisation, whose last word is not a surname.
ORG_WORDS = wordset(
    """party department office police university college school academy agency ministry
    commission committee council senate house court team club league association union
    company corp inc ltd group bank exchange times post news press observatory center
    centre institute foundation service services force army navy government administration
    board bureau network fund program programme county city state"""
)


def name_key(name: str) -> str:
    """A name for comparison: folded, possessive and punctuation dropped, titles stripped."""
    tokens = [t.removesuffix("'s") for t in words(name)]
    while tokens and tokens[0] in TITLES:
        tokens = tokens[1:]
    return " ".join(tokens)


def label_keys(participant: Mapping[str, Any]) -> set[str]:
    """Every form that counts as naming this labelled participant."""
    names = [participant["name"], *participant.get("aliases", [])]
    keys = {name_key(n) for n in names}
    tokens = name_key(participant["name"]).split()
    while tokens and tokens[-1] in SUFFIXES:
        tokens = tokens[:-1]
    # A person's surname alone names them ("Esper"); an organisation's last word does not.
    if 2 <= len(tokens) <= 4 and not ORG_WORDS.intersection(tokens):
        keys.add(tokens[-1])
    keys.discard("")
    return keys


def content_tokens(text: str) -> set[str]:
    """Tokens that carry meaning: no function words, no one-letter tokens, plural s dropped."""
    return {
        t.removesuffix("s") if len(t) > 3 else t
        for t in words(text)
        if len(t) > 1 and t not in FUNCTION_WORDS  # titles stay: "Governor" is a role
    }


def role_matches(role: str | None, labelled: str | None) -> bool:
    """A role is right when it shares a content word with the labelled role."""
    if not role or not labelled:
        return False
    return bool(content_tokens(role) & content_tokens(labelled))


@dataclass
class ParticipantScore:
    labelled: int = 0
    labelled_core: int = 0
    found: int = 0
    found_core: int = 0
    listed: int = 0
    correct: int = 0  # listed items that name a labelled participant (first mention only)
    with_role: int = 0  # matched participants whose label gives a role
    role_right: int = 0
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    matched_items: set[int] = field(default_factory=set)  # indices into brief participants


def score_participants(brief: BriefDict, label: Label) -> ParticipantScore:
    """Match brief participants to labelled ones, one to one; repeats count as extras.

    An ``optional`` participant (a passing mention) may be listed without counting against
    precision, and is not counted in recall when it is left out.
    """
    score = ParticipantScore()
    wanted = list(label.get("participants", []))
    any_core = any(p.get("core") for p in wanted)
    required = [not p.get("optional") for p in wanted]
    score.labelled = sum(required)
    score.labelled_core = sum(1 for p in wanted if p.get("core") or not any_core)
    keys = [label_keys(p) for p in wanted]
    taken: set[int] = set()
    for n, item in enumerate(brief.get("participants", [])):
        score.listed += 1
        key = name_key(item.get("name", ""))
        hit = next((i for i, k in enumerate(keys) if key in k and i not in taken), None)
        if hit is None:
            score.extra.append(item.get("name", ""))
            continue
        taken.add(hit)
        score.matched_items.add(n)
        score.correct += 1
        if wanted[hit].get("role"):
            score.with_role += 1
            score.role_right += role_matches(item.get("role"), wanted[hit]["role"])
    for i, p in enumerate(wanted):
        core = bool(p.get("core") or not any_core)
        if i in taken:
            score.found += required[i]
            score.found_core += core
        elif required[i]:
            score.missed.append(p["name"])
    return score


def covers(text: str, keys: Iterable[str]) -> bool:
    """True when the text holds every key; a key "a|b" holds when either alternative does."""
    folded = fold(text)
    return all(any(fold(alt) in folded for alt in key.split("|") if alt) for key in keys)


def label_problems(label: Label, article_text: str) -> list[str]:
    """What in a label cannot be found in its article: a typo there caps recall silently."""
    problems = []
    for kind in ("tensions", "next_steps"):
        for want in label.get(kind, []):
            keys = _keys_of(want)
            if not covers(article_text, keys):
                problems.append(f"{label['id']}: {kind} keys {keys} not all in the text")
    names = f" {name_key(article_text)} "
    for person in label.get("participants", []):
        if not any(f" {key} " in names for key in label_keys(person)):
            problems.append(f"{label['id']}: participant {person['name']!r} not in the text")
    return problems


def _item_text(item: Mapping[str, Any]) -> str:
    parts: list[Any] = [
        item.get("description"),
        item.get("action"),
        item.get("owner"),
        item.get("when"),
        item.get("evidence"),
        *(item.get("parties") or []),
    ]
    return " ".join(str(p) for p in parts if p)


def _keys_of(labelled: Mapping[str, Any]) -> list[str]:
    """The label's key terms, or its description's content words when it lists none."""
    if labelled.get("keys"):
        return list(labelled["keys"])
    text = labelled.get("description") or labelled.get("action") or ""
    return sorted(content_tokens(text))


def found_items(items: Iterable[Mapping[str, Any]], labelled: Iterable[Label]) -> list[bool]:
    """For each labelled tension or next step: does some brief item cover its key terms?"""
    texts = [_item_text(item) for item in items]
    return [any(covers(t, _keys_of(want)) for t in texts) for want in labelled]


_KINDS = ("participants", "topics", "tensions", "next_steps")


def brief_items(brief: BriefDict) -> list[tuple[str, Mapping[str, Any]]]:
    return [(kind, item) for kind in _KINDS for item in brief.get(kind, []) or []]


def verbatim(evidence: str, article_text: str) -> bool:
    """Evidence found in the article after whitespace, quote-mark and dash normalization."""
    quote = plain(evidence)
    return bool(quote) and quote in plain(article_text)


def honest_note(rendered: str, article_text: str) -> bool:
    """The rendered brief says which languages the offline engine reads (and the page doesn't)."""
    said = fold(rendered)
    source = fold(article_text)
    return any(w in said and w not in source for w in ("english", "language"))


@dataclass
class PageScore:
    """Everything counted for one page and one brief (engine or baseline)."""

    page: str
    english: bool
    participants: ParticipantScore
    tensions: list[bool]
    steps: list[bool]
    items: int
    junk: list[str]
    quotes: int
    verbatim: int
    honest: bool | None  # non-English pages only


def score_page(
    brief: BriefDict,
    label: Label,
    *,
    article_text: str,
    rendered: str,
    vocabulary: Vocabulary,
) -> PageScore:
    english = label.get("language", "en") == "en"
    items = brief_items(brief)
    people = score_participants(brief, label)
    junk: list[str] = []
    for n, (kind, item) in enumerate(items):
        if kind == "participants" and n in people.matched_items:
            continue  # a labelled participant is never junk ("Chargers" is a team)
        # An engine that does not read the page's language cannot name anything in it.
        reason = junk_reason(kind, item, vocabulary) if english else "non-English page"
        if reason:
            value = item.get("name") or item.get("description") or item.get("action")
            junk.append(f"{kind}: {value!r} ({reason})")
    quotes = [str(item.get("evidence") or "") for _, item in items]
    return PageScore(
        page=str(label["id"]),
        english=english,
        participants=people,
        tensions=found_items(brief.get("tensions", []), label.get("tensions", [])),
        steps=found_items(brief.get("next_steps", []), label.get("next_steps", [])),
        items=len(items),
        junk=junk,
        quotes=len(quotes),
        verbatim=sum(verbatim(q, article_text) for q in quotes),
        honest=None if english else (not items and honest_note(rendered, article_text)),
    )


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def summarise(pages: list[PageScore]) -> dict[str, Any]:
    """The bench's figures over a set of pages."""
    en = [p for p in pages if p.english]
    ps = [p.participants for p in en]
    tensions = [hit for p in en for hit in p.tensions]
    steps = [hit for p in en for hit in p.steps]
    foreign = [p for p in pages if not p.english]
    return {
        "pages": len(pages),
        "recall": ratio(sum(s.found for s in ps), sum(s.labelled for s in ps)),
        "core_recall": ratio(sum(s.found_core for s in ps), sum(s.labelled_core for s in ps)),
        "precision": ratio(sum(s.correct for s in ps), sum(s.listed for s in ps)),
        "role_accuracy": ratio(sum(s.role_right for s in ps), sum(s.with_role for s in ps)),
        "tension_recall": ratio(sum(tensions), len(tensions)),
        "step_recall": ratio(sum(steps), len(steps)),
        "matched": sum(tensions) + sum(steps),
        "labelled_items": len(tensions) + len(steps),
        "junk_share": ratio(sum(len(p.junk) for p in pages), sum(p.items for p in pages)),
        "junk_share_en": ratio(sum(len(p.junk) for p in en), sum(p.items for p in en)),
        "verbatim_share": ratio(sum(p.verbatim for p in pages), sum(p.quotes for p in pages)),
        "honest": ratio(sum(bool(p.honest) for p in foreign), len(foreign)),
        "foreign_pages": len(foreign),
    }
