"""The Digest model and its pure composition from briefs: themes, tensions, next steps.

Offline, related articles are grouped by the participants and topics they share
(union-find over normalized names), and each theme's one-line synthesis is built from
those shared names. The model path (bot.digest.synthesis) replaces only the themes and
their one-liners; tensions and next steps always come from the grounded briefs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from bot.digest.dates import parse_when
from bot.engines.llm_schema import normalize_name
from bot.models import Brief

MAX_TENSIONS = 8
MAX_STEPS = 12
GIST_LIMIT = 220
#: On a busy day a name in over half the articles ("Reuters", "government") links
#: everything to everything; it stops counting as a shared name.
GENERIC_SHARE = 0.5
GENERIC_MIN_ARTICLES = 6
#: A theme bigger than this is split along narrower shared names.
MAX_THEME = 10

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“'‘(\[]?[A-Z0-9])")


# --- the model ---------------------------------------------------------------------


class DigestItem(BaseModel):
    title: str
    url: str | None = None
    gist: str
    #: Link to the brief's thread in Slack, when the bot posted one.
    permalink: str | None = None
    origin: Literal["channel", "feed"] = "channel"
    feed: str | None = None


class Theme(BaseModel):
    title: str
    synthesis: str = ""
    items: list[DigestItem] = Field(default_factory=list)


class DigestTension(BaseModel):
    description: str
    parties: list[str] = Field(default_factory=list)
    article: str
    url: str | None = None
    #: A party also appears in another article of the digest.
    across: bool = False


class DigestStep(BaseModel):
    action: str
    owner: str | None = None
    when: str | None = None
    due: date | None = None
    article: str
    url: str | None = None


class Digest(BaseModel):
    channel: str
    date: date
    since: datetime | None = None
    themes: list[Theme] = Field(default_factory=list)
    tensions: list[DigestTension] = Field(default_factory=list)
    next_steps: list[DigestStep] = Field(default_factory=list)
    more_tensions: int = 0
    more_steps: int = 0
    #: Footer lines: "posted late", feed problems, items over the cap.
    notes: list[str] = Field(default_factory=list)
    synthesis: Literal["offline", "openai", "none"] = "none"
    late: bool = False

    @property
    def articles(self) -> int:
        return sum(len(theme.items) for theme in self.themes)

    @property
    def is_empty(self) -> bool:
        return self.articles == 0


# --- inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestArticle:
    """One article going into a digest: its brief (if any) and where it came from."""

    title: str
    url: str | None
    brief: Brief | None
    permalink: str | None = None
    origin: Literal["channel", "feed"] = "channel"
    feed: str | None = None
    #: Shown when there is no brief (a feed entry whose page couldn't be read).
    fallback_gist: str = ""


@dataclass(frozen=True)
class ThemeDraft:
    """A group of articles (indices into the input) with a title and a one-liner."""

    title: str
    synthesis: str
    members: tuple[int, ...]


# --- helpers -----------------------------------------------------------------------


def gist(article: DigestArticle) -> str:
    """The first sentence of the brief's summary, kept to one line."""
    text = article.brief.summary if article.brief else article.fallback_gist
    text = " ".join(text.split())
    first = _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""
    if len(first) > GIST_LIMIT:
        first = first[: GIST_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return first


def and_join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _names(brief: Brief | None) -> dict[str, tuple[str, str]]:
    """Normalized name -> (display name, "topic" | "participant") for one brief."""
    found: dict[str, tuple[str, str]] = {}
    if brief is None:
        return found
    for topic in brief.topics:
        key = normalize_name(topic.name)
        if key:
            found.setdefault(key, (topic.name.strip(), "topic"))
    for person in brief.participants:
        key = normalize_name(person.name)
        if key:
            found.setdefault(key, (person.name.strip(), "participant"))
    return found


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _one_liner(n: int, topics: list[str], people: list[str]) -> str:
    if topics and people:
        return (
            f"{n} articles on {and_join(topics[:2])}, with {and_join(people[:2])} in more than one."
        )
    if topics:
        return f"{n} articles on {and_join(topics[:3])}."
    return f"{n} articles featuring {and_join(people[:3])}."


Names = list[dict[str, tuple[str, str]]]


def _components(members: Sequence[int], names: Names, excluded: set[str]) -> list[list[int]]:
    """Connected groups of articles, linked by any shared name not excluded (union-find)."""
    uf = _UnionFind(len(names))
    first_holder: dict[str, int] = {}
    for i in members:
        for key in names[i]:
            if key in excluded:
                continue
            if key in first_holder:
                uf.union(first_holder[key], i)
            else:
                first_holder[key] = i
    groups: dict[int, list[int]] = {}
    for i in members:
        groups.setdefault(uf.find(i), []).append(i)
    return list(groups.values())


def _split(
    group: Sequence[int], names: Names, excluded: set[str]
) -> list[tuple[list[int], set[str]]]:
    """A group too big to read, split by dropping its weakest links first.

    Union-find chains: A shares a name with B, B another with C... A busy day can end in
    one theme of thirty. Names shared by the fewest articles are the bridges between
    real themes; they are dropped one by one until the group falls into at least two
    themes. A group that only scatters into loners stays whole.
    """
    if len(group) <= MAX_THEME:
        return [(list(group), excluded)]
    counts = Counter(k for i in group for k in names[i] if k not in excluded)
    dropped = set(excluded)
    for key, _ in sorted(counts.items(), key=lambda kv: (kv[1], kv[0])):
        dropped.add(key)
        parts = _components(group, names, dropped)
        if sum(1 for part in parts if len(part) >= 2) >= 2:
            return [piece for part in parts for piece in _split(part, names, dropped)]
    return [(list(group), excluded)]


def offline_themes(articles: Sequence[DigestArticle]) -> list[ThemeDraft]:
    """Group articles that share participants or topics; singletons go to one last theme."""
    names: Names = [_names(a.brief) for a in articles]
    held = Counter(key for found in names for key in found)
    n = len(articles)
    generic = {
        key for key, c in held.items() if n >= GENERIC_MIN_ARTICLES and c > GENERIC_SHARE * n
    }
    themes: list[ThemeDraft] = []
    loners: list[int] = []
    groups = _components(range(n), names, generic)
    for members, excluded in [piece for g in groups for piece in _split(g, names, generic)]:
        if len(members) < 2:
            loners.extend(members)
            continue
        counts = Counter(key for i in members for key in names[i] if key not in generic)
        # Names that split a bigger group describe it less well than the group's own.
        ranked = sorted(
            (key for key, c in counts.most_common() if c >= 2), key=lambda k: k in excluded
        )
        display = {key: names[i][key] for i in reversed(members) for key in names[i]}
        topics = [display[k][0] for k in ranked if display[k][1] == "topic"]
        people = [display[k][0] for k in ranked if display[k][1] == "participant"]
        title = and_join((topics + people)[:2])
        themes.append(
            ThemeDraft(
                title=title[:1].upper() + title[1:],
                synthesis=_one_liner(len(members), topics, people),
                members=tuple(members),
            )
        )
    themes.sort(key=lambda t: (-len(t.members), t.members[0]))
    if loners:
        title = "Also new" if themes else "New articles"
        themes.append(ThemeDraft(title=title, synthesis="", members=tuple(sorted(loners))))
    return themes


def _item(article: DigestArticle) -> DigestItem:
    return DigestItem(
        title=article.title,
        url=article.url,
        gist=gist(article),
        permalink=article.permalink,
        origin=article.origin,
        feed=article.feed,
    )


def cross_tensions(articles: Sequence[DigestArticle]) -> list[DigestTension]:
    """Tensions from every brief, deduplicated; those whose parties recur elsewhere first."""
    names = [set(_names(a.brief)) for a in articles]
    seen: set[str] = set()
    found: list[DigestTension] = []
    for i, article in enumerate(articles):
        if article.brief is None:
            continue
        elsewhere = set().union(*(names[j] for j in range(len(articles)) if j != i))
        for tension in article.brief.tensions:
            key = normalize_name(tension.description)
            if not key or key in seen:
                continue
            seen.add(key)
            parties = [normalize_name(p) for p in tension.parties]
            found.append(
                DigestTension(
                    description=tension.description.strip(),
                    parties=[p.strip() for p in tension.parties],
                    article=article.title,
                    url=article.url,
                    across=any(p in elsewhere for p in parties if p),
                )
            )
    # Stable: within each group the articles' own order is kept.
    found.sort(key=lambda t: not t.across)
    return found


def dated_steps(articles: Sequence[DigestArticle], *, day: date) -> list[DigestStep]:
    """Next steps from every brief, sorted by the date their "when" names; undated last."""
    seen: set[str] = set()
    found: list[DigestStep] = []
    for article in articles:
        if article.brief is None:
            continue
        for step in article.brief.next_steps:
            key = normalize_name(step.action)
            if not key or key in seen:
                continue
            seen.add(key)
            found.append(
                DigestStep(
                    action=step.action.strip(),
                    owner=step.owner,
                    when=step.when,
                    due=parse_when(step.when, day),
                    article=article.title,
                    url=article.url,
                )
            )
    found.sort(key=lambda s: (s.due is None, s.due or day))
    return found


def assemble(
    articles: Sequence[DigestArticle],
    *,
    channel: str,
    day: date,
    since: datetime | None,
    themes: Sequence[ThemeDraft] | None = None,
    synthesis: Literal["offline", "openai", "none"] = "offline",
    notes: Sequence[str] = (),
    late: bool = False,
) -> Digest:
    """The digest of ``articles``; ``themes`` from the model, or grouped offline."""
    if not articles:
        return Digest(channel=channel, date=day, since=since, notes=list(notes), late=late)
    drafts = list(themes) if themes is not None else offline_themes(articles)
    tensions = cross_tensions(articles)
    steps = dated_steps(articles, day=day)
    return Digest(
        channel=channel,
        date=day,
        since=since,
        themes=[
            Theme(
                title=t.title, synthesis=t.synthesis, items=[_item(articles[i]) for i in t.members]
            )
            for t in drafts
        ],
        tensions=tensions[:MAX_TENSIONS],
        more_tensions=max(0, len(tensions) - MAX_TENSIONS),
        next_steps=steps[:MAX_STEPS],
        more_steps=max(0, len(steps) - MAX_STEPS),
        notes=list(notes),
        synthesis=synthesis,
        late=late,
    )
