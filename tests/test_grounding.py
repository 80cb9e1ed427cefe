"""Grounding: evidence must be a verbatim quote; foreign URLs never reach a brief."""

from __future__ import annotations

import pytest

from bot.grounding import ground_brief, normalize_for_match, quote_in_text, strip_foreign_urls
from bot.models import Brief, BriefMeta, NextStep, Participant, Tension, Topic

ARTICLE = (
    "NEW DELHI \u2014 India and the United States on Tuesday agreed to \u201cdeepen\u201d "
    "defence ties, External Affairs Minister S.\u00a0Jaishankar said after the 2+2 dialogue.\n\n"
    "\u201cWe have a ten-year framework that is still to be signed,\u201d he told reporters, "
    "adding that talks on tariffs \u2013 a sore point since March \u2013 would continue.\n"
    "U.S. Secretary of State Marco Rubio\u2019s office disputed India\u2019s account of the "
    "mediation\u2026 officials in Washington called it \u2018premature\u2019.\n"
    "Full statement: https://www.state.gov/releases/2plus2-joint-statement and "
    "mea.gov.in/bilateral.htm for the Indian side.\u200b\n\n"
    "Related Stories\nResponsive Banner"
)


@pytest.mark.parametrize(
    ("quote", "grounded"),
    [
        # Typography differences are forgiven.
        ('agreed to "deepen" defence ties', True),
        ("agreed to \u201cdeepen\u201d defence ties", True),
        ("agreed to 'deepen' defence ties", True),
        ("India and the United States on Tuesday", True),
        ("NEW DELHI - India and the United States", True),
        ("NEW DELHI -- India", False),
        ("talks on tariffs - a sore point since March - would continue", True),
        ("talks on tariffs \u2014 a sore point since March \u2014 would continue", True),
        ("Minister S. Jaishankar said after the 2+2 dialogue", True),
        ("he told   reporters,\n adding that talks", True),
        ("disputed India's account of the mediation", True),
        ("of the mediation... officials in Washington", True),
        ("of the mediation \u2026 officials in Washington", True),
        # Edge quote marks and trailing punctuation are forgiven.
        ("\u201cWe have a ten-year framework that is still to be signed.\u201d", True),
        ('"he told reporters, adding that talks on tariffs"', True),
        ("officials in Washington called it 'premature'!", True),
        # Ellipsis joins fragments in order, never out of order.
        ("India and the United States ... would continue", True),
        ("We have a ten-year framework [...] talks on tariffs", True),
        ("would continue ... India and the United States", False),
        ("a ten-year framework . . . still to be signed", True),
        ("India and the United States ... was signed in Paris", False),
        # Wording and case are not forgiven.
        ("India and the US agreed to deepen defence ties", False),
        ("india and the united states on tuesday", False),
        ("We have a ten-year framework that was signed", False),
        ("The framework will be signed in May, officials said", False),
        # Words must be whole: no matching inside a longer word.
        ("and the United Stat", False),
        # Too short to prove anything.
        ("", False),
        ("   ", False),
        ("India", False),
        ("ten-year", False),
        ("on Tuesday", False),
        ("India ... dialogue ... March", False),
        ("...", False),
    ],
)
def test_quote_in_text(quote: str, grounded: bool) -> None:
    assert quote_in_text(quote, ARTICLE) is grounded


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("\u201cdeep\u201d \u2018end\u2019", "\"deep\" 'end'"),
        ("a\u2014b\u2013c\u2212d\u2010e", "a-b-c-d-e"),
        ("wait\u2026", "wait..."),
        ("  lots\n\tof \u00a0 space  ", "lots of space"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("\uff21\uff22\uff23 \ufb01", "ABC fi"),  # NFKC: full-width letters, ligature
        ("Keep Case", "Keep Case"),
        ("5\u2032 10\u2033", "5' 10\""),
    ],
)
def test_normalize_for_match(raw: str, normalized: str) -> None:
    assert normalize_for_match(raw) == normalized


def _brief(*, summary: str = "India and the US deepen defence ties.") -> Brief:
    return Brief(
        title="2+2 dialogue",
        url="https://example.com/source-article",
        summary=summary,
        participants=[
            Participant(
                name="S. Jaishankar",
                role="External Affairs Minister",
                evidence="External Affairs Minister S. Jaishankar said after the 2+2 dialogue",
            ),
            Participant(
                name="Narendra Modi",
                role="Prime Minister",
                evidence="Prime Minister Modi hailed the agreement as historic",  # invented
            ),
        ],
        topics=[
            Topic(name="Defence", evidence="agreed to \u201cdeepen\u201d defence ties"),
            Topic(name="Tariffs", evidence="tariffs"),  # too short
        ],
        tensions=[
            Tension(
                description="Mediation claim disputed",
                parties=["India", "United States"],
                evidence="Rubio's office disputed India's account of the mediation",
            ),
        ],
        next_steps=[
            NextStep(
                action="Sign the ten-year framework",
                evidence="a ten-year framework that is still to be signed",
            ),
            NextStep(
                action="Resume tariff talks at https://evil.example.net/phish",
                when="next month",
                evidence="The next round of tariff talks is set for next month",  # invented
            ),
        ],
        meta=BriefMeta(engine="openai", model="gpt-4o-mini"),
    )


def test_invented_evidence_is_dropped_and_counted() -> None:
    grounded = ground_brief(_brief(), ARTICLE)
    assert [p.name for p in grounded.participants] == ["S. Jaishankar"]
    assert [t.name for t in grounded.topics] == ["Defence"]
    assert [t.description for t in grounded.tensions] == ["Mediation claim disputed"]
    assert [s.action for s in grounded.next_steps] == ["Sign the ten-year framework"]
    assert grounded.meta.dropped_unverified == 3
    items = [*grounded.participants, *grounded.topics, *grounded.tensions, *grounded.next_steps]
    assert all(item.verified for item in items)
    # Everything else about the brief is untouched.
    assert grounded.meta.model == "gpt-4o-mini"
    assert grounded.summary == "India and the US deepen defence ties."
    assert grounded.url == "https://example.com/source-article"


def test_keep_unverified_flags_instead_of_dropping() -> None:
    grounded = ground_brief(_brief(), ARTICLE, keep_unverified=True)
    assert [(p.name, p.verified) for p in grounded.participants] == [
        ("S. Jaishankar", True),
        ("Narendra Modi", False),
    ]
    assert [(t.name, t.verified) for t in grounded.topics] == [
        ("Defence", True),
        ("Tariffs", False),
    ]
    assert [s.verified for s in grounded.next_steps] == [True, False]
    assert grounded.meta.dropped_unverified == 3
    # Kept, but still cleaned of links the article doesn't contain.
    assert grounded.next_steps[1].action == "Resume tariff talks at"


def test_grounding_returns_a_new_brief() -> None:
    brief = _brief()
    ground_brief(brief, ARTICLE)
    assert len(brief.participants) == 2 and brief.meta.dropped_unverified == 0


def test_summary_and_items_lose_foreign_urls_but_keep_source_urls() -> None:
    summary = (
        "Read the joint statement at https://www.state.gov/releases/2plus2-joint-statement. "
        "Claim your reward at https://evil.example.com/x?t=1 or <https://bit.ly/abc|here>."
    )
    grounded = ground_brief(_brief(summary=summary), ARTICLE)
    assert grounded.summary == (
        "Read the joint statement at https://www.state.gov/releases/2plus2-joint-statement. "
        "Claim your reward at or here."
    )


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("See https://www.state.gov/releases/2plus2-joint-statement.", None),
        ("See mea.gov.in/bilateral.htm for more", None),
        ("See https://evil.example.com/path for more", "See for more"),
        ("Go to www.evil.example.org now.", "Go to now."),
        ("Click (http://10.0.0.1/admin) now", "Click now"),
        ("Visit evil.com today", "Visit today"),
        ("A [phishing link](https://evil.io/p) here", "A phishing link here"),
        ("A <https://evil.io/p|Slack link> here", "A Slack link here"),
        ("A <https://evil.io/p> here", "A here"),
        ("ASP.NET, Node.js and the U.S. stay", None),
        ("No links at all.", None),
    ],
)
def test_strip_foreign_urls(text: str, cleaned: str | None) -> None:
    assert strip_foreign_urls(text, ARTICLE) == (text if cleaned is None else cleaned)
