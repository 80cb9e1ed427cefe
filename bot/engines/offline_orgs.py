"""Organisation passes of the cast builder: names that act, organisations named by their
members, one-word names that recur, and shorter forms of one organisation's name.

A mixin of ``offline_people._Builder`` (kept apart so each module stays readable); it reads
the builder's entities and adds mentions through its ``add`` and ``_move``.
"""

from __future__ import annotations

from itertools import pairwise

from bot.engines.offline_cast import Entity, Kind, Mention
from bot.engines.offline_lexicon import CELESTIAL, COUNTRIES, DESCRIBED_ORG_HEADS, STOPWORDS
from bot.engines.offline_names import NOT_NAME, acts, gap_text
from bot.engines.offline_text import Doc, Sentence, Token

#: A one-word name used this often is a party of the story even without a verb of its own.
_RECURRING = 4


_BULLETS = frozenset("-–—•*>·▪")


def line_opener(text: str, pos: int) -> bool:
    """Whether the word at ``pos`` opens its line, after at most a bullet or a one-letter
    label: "- Take calls ...", "Q: Favorite apps?"."""
    line = text.rfind("\n", max(0, pos - 8), pos) + 1
    if line == 0 and pos > 8:
        return False
    lead = text[line:pos].strip()
    if len(lead) == 2 and lead[0].isalpha() and lead[1] == ":":
        return True
    return all(c in _BULLETS for c in lead)


def org_head(name: str) -> str:
    """The noun "the ..." would use for an organisation: "Ministry of Labour" -> "ministry"."""
    words = name.lower().replace("’", "'").split()
    if "of" in words[1:]:
        return words[words.index("of", 1) - 1]
    return words[-1].rstrip("'")


class OrgPasses:
    doc: Doc
    entities: dict[tuple[Kind, str], Entity]
    #: Name-like runs that were neither a person nor typed: text -> (sentence, span, acts).
    unclaimed: dict[str, list[tuple[Sentence, tuple[int, int], bool]]]

    def add(self, kind: Kind, name: str, sentence: Sentence, span: tuple[int, int]) -> Entity:
        raise NotImplementedError

    def _move(self, mention: Mention, source: Entity, target: Entity) -> None:
        raise NotImplementedError

    def acting_names(self) -> None:
        """ "Home Depot reported ... Home Depot sees": a name that is no person's, named
        twice or more and acting once, is an organisation."""
        people = {e.surname.lower() for e in self.entities.values() if e.kind == "person"}
        for text, uses in self.unclaimed.items():
            if len(uses) < 2 or not any(acting for _, _, acting in uses):
                continue
            if text.split()[-1].lower() in people:
                continue  # "Joe Smith" once said, once not: a person's, found already
            for sentence, span, acting in uses:
                org = self.add("org", text, sentence, span)
                org.acting = org.acting or acting

    def described_orgs(self) -> None:
        """Organisations named by their members: "the dockworkers' union" (or the same words
        as an organisation named elsewhere: "the port operators' association")."""
        named = [e for e in self.entities.values() if e.kind == "org" and " " in e.name]
        for sentence in self.doc.sentences:
            tokens = sentence.tokens
            for k in range(1, len(tokens) - 1):
                member, head = tokens[k], tokens[k + 1]
                # The tokenizer leaves a plural possessive's apostrophe in the gap.
                gap = gap_text(self.doc, member, head).strip()
                plural = member.lower.endswith("s") and gap in ("'", "’")
                if not plural or member.is_cap or head.is_cap:
                    continue
                if head.lower not in DESCRIBED_ORG_HEADS:
                    continue
                after = tokens[k + 2] if k + 2 < len(tokens) else None
                if after and after.is_cap and not gap_text(self.doc, head, after).strip():
                    continue  # "the steelworkers' union IG Stahl": named by its name
                first = k  # back over up to two modifiers to "the": "the port operators'"
                while first > 0 and k - first < 2 and tokens[first - 1].lower != "the":
                    if tokens[first - 1].is_cap:
                        break
                    first -= 1
                if first == 0 or tokens[first - 1].lower != "the":
                    continue
                if any(
                    gap_text(self.doc, a, b).strip() for a, b in pairwise(tokens[first - 1 : k + 1])
                ):
                    continue  # punctuation inside: not one noun phrase
                words = {t.lower for t in tokens[first : k + 2]}
                same = [e for e in named if words <= set(e.name.lower().split())]
                span = (tokens[first].start, head.end)
                if len(same) == 1:
                    self.add("org", same[0].name, sentence, span)
                elif not same:
                    text = self.doc.text[span[0] : span[1]]
                    self.add("org", text[:1].upper() + text[1:], sentence, span)

    def _in_run(self, tokens: list[Token], k: int) -> bool:
        """Whether tokens[k] is part of a longer capitalised name: it touches another
        capitalised word, or an "of" or "&" joins them ("Web of Angels", "Door & Window")."""

        def joins(a: int, b: int) -> bool:  # tokens[a] and tokens[b], a < b, one name
            return gap_text(self.doc, tokens[a], tokens[b]).strip() in ("", "&")

        before = (
            k > 0
            and tokens[k - 1].is_cap
            and joins(k - 1, k)
            # "The Steelers spent ...": a sentence's capitalised "The" is not part of a name.
            and not (k == 1 and tokens[0].lower in STOPWORDS)
        )
        after = k + 1 < len(tokens) and tokens[k + 1].is_cap and joins(k, k + 1)
        of = (
            k > 1
            and tokens[k - 1].lower == "of"
            and tokens[k - 2].is_cap
            and joins(k - 2, k - 1)
            and joins(k - 1, k)
        )
        return before or after or of

    def recurring_names(self) -> None:
        """One-word names that keep coming back and act ("Apple said"): organisations."""
        seen: dict[str, list[tuple[Sentence, Token, bool]]] = {}
        for sentence in self.doc.sentences:
            tokens = sentence.tokens
            for k, token in enumerate(tokens):
                if not token.is_cap:
                    continue
                low = token.lower
                # CELESTIAL: "life off Earth", "Europa": a place in space.
                if low in NOT_NAME or low in COUNTRIES or low in CELESTIAL:
                    continue
                if low in self.doc.lower_vocab:
                    continue
                if self._in_run(tokens, k):
                    continue  # part of a longer run: handled as a name or an organisation
                counted = k and tokens[k - 1].text.isdigit()
                if counted and not gap_text(self.doc, tokens[k - 1], token).strip():
                    continue  # "1 Red, 1 Yellow", "2 Tbsp.": a count of things, not a name
                # A weaker act ("Walmart will have") counts too, but not as a sentence's
                # opener; it still takes a second use to make an organisation.
                acting = acts(tokens, k, k + 1, strong=True) or (k > 0 and acts(tokens, k, k + 1))
                seen.setdefault(token.norm, []).append((sentence, token, acting))
        # Words of names found so far; a one-word organisation found by its context
        # ("press office Twitter") still gathers its other mentions here.
        single = {e.name.lower() for e in self.entities.values() if e.kind == "org"}
        known = {w.lower() for e in self.entities.values() for w in e.name.split()} - single
        starts = {s.start for s in self.doc.sentences}
        for word, uses in seen.items():
            if word.lower() in known or len(word) < 2:
                continue
            if all(
                token.start in starts or line_opener(self.doc.text, token.start)
                for _, token, _ in uses
            ):
                continue  # only ever a sentence or list item's opener: likely a common word
            # Acting ("Twitter pledged"), or an acronym named twice ("NASA", "BART"); a word
            # that merely recurs ("Stadia", "Medicaid") is as likely a product or a policy.
            acronym = word.isupper() and 3 <= len(word) <= 5
            acting = any(acting for _, _, acting in uses)
            found = word.lower() in single  # already an organisation: gather its mentions
            if found or (len(uses) >= 2 and (acronym or acting)) or len(uses) >= _RECURRING:
                for sentence, token, acting in uses:
                    org = self.add("org", word, sentence, (token.start, token.end))
                    org.acting = org.acting or acting

    def merge_org_forms(self) -> None:
        """ "Communist Party" after "Chinese Communist Party": a shorter form of exactly one
        longer organisation's name (its first or last words) is that organisation."""
        orgs = [e for e in self.entities.values() if e.kind == "org" and " " in e.name]
        # Every proper prefix and suffix of each name, so a long article stays linear.
        forms: dict[tuple[str, ...], list[Entity]] = {}
        for org in orgs:
            words = tuple(org.name.lower().split())
            for k in range(1, len(words)):
                for form in {words[:k], words[-k:]}:
                    forms.setdefault(form, []).append(org)
        for short in sorted(orgs, key=lambda e: len(e.name)):
            longer = {
                id(e): e
                for e in forms.get(tuple(short.name.lower().split()), [])
                if ("org", e.name.lower()) in self.entities
            }
            if len(longer) != 1:
                continue
            (target,) = longer.values()
            for mention in short.mentions:
                self._move(mention, short, target)
            target.acting = target.acting or short.acting
            del self.entities[("org", short.name.lower())]
