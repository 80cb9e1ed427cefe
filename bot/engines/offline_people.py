"""Who acts in the story: people (with their roles), organisations and countries.

No NLP model: capitalised-word runs, a title lexicon ("Defence Minister X", "federal
mediator X"), appositives ("X, the senior official of Y,"), speech verbs ("X said") and a
country table. Organisations without a name are found by their members ("the dockworkers'
union"). Later short mentions ("Jaishankar", "the union", "the minister") are merged into
the entity they refer to.
"""

from __future__ import annotations

import bisect
from collections import Counter
from itertools import pairwise

from bot.engines.offline_cast import Cast, Entity, Kind, Mention, salient
from bot.engines.offline_given_names import GIVEN_NAMES
from bot.engines.offline_lexicon import (
    COUNTRY_NAMES,
    HONORIFICS,
    ORG_OPENERS,
    ORG_WORDS,
    ROLE_MODIFIERS,
    TITLES,
)
from bot.engines.offline_lists import coordinated_names, drop_borrowed_roles
from bot.engines.offline_names import (
    NOT_NAME,
    ORG_NOUNS,
    ROLEISH,
    SUFFIXES,
    acts,
    aged,
    countries_in,
    gap_text,
    is_speaker,
    name_pairs,
    name_span,
    runs,
    strip_common_lead,
    surname,
    text_of,
    valid_name,
)
from bot.engines.offline_orgs import OrgPasses, org_head
from bot.engines.offline_roles import (
    after_role,
    appositive_role,
    look_back_role,
    other_role,
    plausible_role,
)
from bot.engines.offline_text import Doc, Sentence, Token

__all__ = ["Cast", "Entity", "Mention", "find_cast"]


class _Builder(OrgPasses):
    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.entities: dict[tuple[Kind, str], Entity] = {}
        self.by_sentence: dict[int, list[tuple[Mention, Entity]]] = {}
        #: Sorted mention offsets per entity (by id), kept during the short-mention pass.
        self.starts: dict[int, list[int]] = {}
        #: How often each capitalised word stands alone (no capitalised word before it).
        self.alone: Counter[str] = Counter(
            t.norm
            for s in doc.sentences
            for k, t in enumerate(s.tokens)
            if t.is_cap and (k == 0 or not s.tokens[k - 1].is_cap)
        )
        self.name_pairs = name_pairs(doc)
        #: Name-like runs that were neither a person nor typed: text -> (sentence, span, acts).
        self.unclaimed: dict[str, list[tuple[Sentence, tuple[int, int], bool]]] = {}

    def add(self, kind: Kind, name: str, sentence: Sentence, span: tuple[int, int]) -> Entity:
        key = (kind, name.lower())
        entity = self.entities.get(key)
        if entity is None:
            entity = self.entities[key] = Entity(name=name, kind=kind)
        pairs = self.by_sentence.setdefault(sentence.index, [])
        # A mention lies in its sentence: look there, not through every mention so far.
        if not any(m.start == span[0] and e is entity for m, e in pairs):
            mention = Mention(sentence.index, span[0], span[1])
            entity.mentions.append(mention)
            pairs.append((mention, entity))
            if id(entity) in self.starts:
                bisect.insort(self.starts[id(entity)], span[0])
        return entity

    def set_role(self, entity: Entity, role: str | None, sentence: Sentence) -> None:
        if not role or entity.role or role.lower().rstrip(".") in HONORIFICS:
            return
        if not plausible_role(role):
            return
        entity.role, entity.role_sentence = role, sentence.index

    def person_with_title(self, sentence: Sentence, run: list[Token]) -> bool:
        """ "External Affairs Minister S Jaishankar": role, then name, in one run."""
        titles = [k for k, t in enumerate(run) if t.lower in TITLES]
        if not titles:
            return False
        m = titles[-1]
        while m + 1 < len(run) and run[m + 1].lower in ROLEISH:
            m += 1
        name = run[m + 1 :]
        # "Deputy Director of Public Prosecutions Lena Berg": a common word at the front of
        # the "name", or a role left on a modifier ("of Public"), still belongs to the role.
        while len(name) > 2 and (
            not valid_name(name, self.doc)
            or name[0].lower in self.doc.lower_vocab
            or run[m].lower in ROLE_MODIFIERS
        ):
            m += 1
            name = run[m + 1 :]
        if not valid_name(name, self.doc) or run[m].lower in ("of", "for"):
            # "CEO of Take-Two", "Head of Fundamental Research": what the title is of.
            return False
        span = (name[0].start, name[-1].end)
        person = self.add("person", name_span(self.doc, name), sentence, span)
        role = run[: m + 1]
        self.set_role(person, text_of(self.doc, role), sentence)
        for country, first, last in countries_in(role):
            entity = self.add("country", country, sentence, (first.start, last.end))
            entity.mentions[-1].in_role = True
        return True

    def described_person(self, sentence: Sentence, run: list[Token]) -> bool:
        """ "Browns DL Sheldon Richardson": a descriptor, then a name whose surname the
        article uses alone elsewhere; the descriptor is the role."""
        if len(run) < 4 or any(len(t.norm) == 1 or t.lower in SUFFIXES for t in run):
            return False
        name = run[-2:]
        if not valid_name(name, self.doc) or countries_in(name):
            return False
        if self.alone[surname(name_span(self.doc, name))] < 1:
            return False
        span = (name[0].start, name[-1].end)
        person = self.add("person", name_span(self.doc, name), sentence, span)
        self.set_role(person, text_of(self.doc, run[:-2]), sentence)
        return True

    def scan_full_names(self, sentence: Sentence) -> None:
        tokens = sentence.tokens
        for i, j in runs(self.doc, tokens):
            run = strip_common_lead(tokens[i:j], self.doc, sentence, name_pairs=self.name_pairs)
            run = after_role(run)
            if not run:
                continue
            i = tokens.index(run[0])
            if self.person_with_title(sentence, run) or self.described_person(sentence, run):
                continue
            low = [t.lower for t in run]
            before = tokens[i - 1] if i > 0 else None
            # "the union IG Stahl" names an organisation; "center Maurkice Pouncey" a player.
            named_org = (
                before is not None
                and not before.is_cap
                and before.lower in ORG_NOUNS
                and before.lower not in TITLES
                and not gap_text(self.doc, before, run[0]).strip()  # "public works, Omar"
            )
            is_org = (
                low[-1] in ORG_WORDS
                or named_org  # "the steelworkers' union IG Stahl"
                or any(a in ORG_OPENERS and b == "of" for a, b in pairwise(low))
            )
            countries = countries_in(run)
            span = (run[0].start, run[-1].end)
            whole_country = len(countries) == 1 and (countries[0][1], countries[0][2]) == (
                run[0],
                run[-1],
            )
            if is_org and not whole_country:  # "European Union" is the EU, a country-like actor
                org = self.add("org", name_span(self.doc, run), sentence, span)
                org.acting = org.acting or acts(tokens, i, j)
            for country, first, last in countries:
                entity = self.add("country", country, sentence, (first.start, last.end))
                # "The European Union is set to fine ...": a country acting, not a place.
                entity.acting = entity.acting or (whole_country and acts(tokens, i, j, strong=True))
            if is_org or countries or len(run) < 2:
                continue
            if not valid_name(run, self.doc):
                if self._brand_like(run):  # "Home Depot": common words, yet a name
                    self._unclaimed(run, sentence, acts(tokens, i, j, strong=True))
                continue
            role = appositive_role(self.doc, sentence, tokens, j) or look_back_role(
                self.doc, tokens, i, sentence
            )
            named_again = self.alone[surname(name_span(self.doc, run))] >= 1
            if (
                role
                or is_speaker(self.doc, tokens, i, j)
                or aged(self.doc, tokens, j)
                or (named_again and len(run) <= 3 and not countries_in(run))
                or (run[0].lower in GIVEN_NAMES and len(run) <= 3)
            ):
                # A role, a quote, an age ("Elizabeth A. Burton, 32,"), or the surname used
                # alone elsewhere ("Matt Bevin ... Bevin said"): a person, not a place.
                person = self.add("person", name_span(self.doc, run), sentence, span)
                self.set_role(person, role, sentence)
            else:
                self._unclaimed(run, sentence, acts(tokens, i, j, strong=True))

    def _unclaimed(self, run: list[Token], sentence: Sentence, acting: bool) -> None:
        uses = self.unclaimed.setdefault(name_span(self.doc, run), [])
        uses.append((sentence, (run[0].start, run[-1].end), acting))

    def _brand_like(self, run: list[Token]) -> bool:
        """Capitalised words, no title among them, and one that is no common word: "Home
        Depot" may be a company; "Home Secretary" or "New Year" is not."""
        if len(run) > 4 or any(t.lower in TITLES or not t.is_cap for t in run):
            return False
        return any(
            t.lower not in NOT_NAME and t.lower not in self.doc.lower_vocab and t.norm.isalpha()
            for t in run
        )

    def merge_short_names(self) -> None:
        """ "the Commission" is the "European Commission", and "President Trump" is "Donald
        Trump", when only one longer name ends that way."""
        for kind in ("org", "person"):
            same = [e for e in self.entities.values() if e.kind == kind]
            # A person's shorter form may keep a middle name: "Hawk Sawyer" is "Kathleen
            # Hawk Sawyer"; an organisation's one-word form its last word.
            shorts = [e for e in same if kind == "person" or " " not in e.name]
            for short in shorts:
                if (kind, short.name.lower()) not in self.entities:
                    continue  # merged into another already
                tail = short.name.lower().split()
                longer = [
                    e
                    for e in same
                    if e is not short
                    and (kind, e.name.lower()) in self.entities
                    and e.name.lower().split()[-len(tail) :] == tail
                    and len(e.name.split()) > len(tail)
                ]
                if len(longer) != 1 or other_role(short, longer[0]):
                    continue
                target = longer[0]
                for mention in short.mentions:
                    self._move(mention, short, target)
                target.acting = target.acting or short.acting
                if target.role is None and short.role is not None:
                    target.role, target.role_sentence = short.role, short.role_sentence
                del self.entities[(kind, short.name.lower())]

    def _move(self, mention: Mention, source: Entity, target: Entity) -> None:
        target.mentions.append(mention)
        pairs = self.by_sentence[mention.sentence]
        pairs[:] = [(m, target if m is mention and e is source else e) for m, e in pairs]

    def short_mentions(self) -> None:
        """Later mentions of people and organisations already found: "Trump", "Jaishankar",
        "the union" (when one union was named)."""
        by_surname: dict[str, list[Entity]] = {}
        by_head: dict[str, list[Entity]] = {}
        by_role: dict[str, list[Entity]] = {}
        for entity in self.entities.values():
            self.starts[id(entity)] = sorted(m.start for m in entity.mentions)
            if entity.kind == "person":
                by_surname.setdefault(entity.surname.lower(), []).append(entity)
                role_head = entity.role.split()[-1].lower() if entity.role else ""
                if role_head in TITLES and role_head not in HONORIFICS:
                    by_role.setdefault(role_head, []).append(entity)
            elif entity.kind == "org" and " " in entity.name:
                by_head.setdefault(org_head(entity.name), []).append(entity)
        for sentence in self.doc.sentences:
            self._scan_short(sentence, by_surname, by_head, by_role)

    def _scan_short(
        self,
        sentence: Sentence,
        by_surname: dict[str, list[Entity]],
        by_head: dict[str, list[Entity]],
        by_role: dict[str, list[Entity]],
    ) -> None:
        tokens = sentence.tokens
        for k, token in enumerate(tokens):
            if token.is_cap:
                matches = by_surname.get(token.norm.lower(), [])
                kind: Kind = "person"
                if len(matches) == 1 and self._complete_name(matches[0], sentence, k):
                    continue
            elif k and tokens[k - 1].lower == "the":
                matches = salient(by_head.get(token.norm.lower(), []), token.start, self.starts)
                kind = "org"
                if not matches:
                    # "criticised the minister": the person whose role ends so.
                    matches = salient(by_role.get(token.norm.lower(), []), token.start, self.starts)
                    kind = "person"
            else:
                continue
            if len(matches) == 1:
                entity = matches[0]
                covered = any(
                    m.start <= token.start < m.end and e is entity
                    for m, e in self.by_sentence.get(sentence.index, [])
                )
                if not covered:
                    self.add(kind, entity.name, sentence, (token.start, token.end))

    def _complete_name(self, person: Entity, sentence: Sentence, k: int) -> bool:
        """ "Donald Trump" after "President Trump": the full name is the person's name."""
        tokens = sentence.tokens
        if " " in person.name or k == 0 or not tokens[k - 1].is_cap:
            return False
        full = tokens[k - 1 : k + 1]
        if gap_text(self.doc, full[0], full[1]).strip() or not valid_name(full, self.doc):
            return False
        del self.entities[("person", person.name.lower())]
        person.name = name_span(self.doc, full)
        self.entities[("person", person.name.lower())] = person
        self.add("person", person.name, sentence, (full[0].start, full[1].end))
        return True

    def name_countries(self) -> None:
        """Call a country what the article calls it most ("Britain", "U.S."), not a demonym."""
        for entity in self.entities.values():
            if entity.kind != "country":
                continue
            forms = Counter(
                self.doc.text[m.start : m.end]
                for m in entity.mentions
                if self.doc.text[m.start : m.end].lower() in COUNTRY_NAMES
            )
            if forms:
                entity.name = forms.most_common(1)[0][0]


def find_cast(doc: Doc) -> Cast:
    """People, organisations and countries of ``doc`` with every mention."""
    builder = _Builder(doc)
    for sentence in doc.sentences:
        builder.scan_full_names(sentence)
    builder.acting_names()
    builder.merge_org_forms()
    builder.merge_short_names()
    builder.described_orgs()
    coordinated_names(builder)
    builder.recurring_names()
    builder.short_mentions()
    builder.name_countries()
    drop_borrowed_roles(list(builder.entities.values()))
    for mentions in builder.by_sentence.values():
        mentions.sort(key=lambda pair: pair[0].start)
    return Cast(
        entities=list(builder.entities.values()),
        by_sentence=builder.by_sentence,
        lower_vocab=doc.lower_vocab,
    )
