"""Cleaning pasted text: whitespace, invisible characters, trailing web junk."""

from __future__ import annotations

import pytest

from bot.ingest.clean import clean_pasted_text

TITLE = "Ministers agree to extend the fisheries pact amid quota dispute"
BODY = (
    "Fisheries ministers from the three coastal states agreed on Friday to extend their "
    "joint management pact for another five years, officials said.\n\n"
    "The talks nearly collapsed over quotas for mackerel, which Norway says are too high. "
    "“We will not sign anything that empties the sea,” the Norwegian minister said."
)


def test_pasted_page_with_doubled_title_and_junk_tail() -> None:
    pasted = (
        f"{TITLE}\n\n{TITLE}\n\n{BODY}\n\nRelated Stories\n\nNo stories found.\n"
        "Responsive Banner\nFact Net\nwww.fact.net.in"
    )
    assert clean_pasted_text(pasted) == f"{TITLE}\n\n{BODY}"


def test_related_headlines_under_a_junk_heading_go_too() -> None:
    pasted = (
        f"{BODY}\n\nAlso Read\nEU court rules on trawler licences\n"
        "Coastal towns brace for a thin season\nShare this article\nFacebook\nTwitter"
    )
    assert clean_pasted_text(pasted) == BODY


@pytest.mark.parametrize(
    "ending",
    [
        "Copyright holders say the ruling will be appealed.",
        "Subscribers in the region said the service had improved.",
        "“Read more carefully next time,” she told reporters.",
        "The advertisement ran for three weeks before it was withdrawn.",
        "He declined to comment.",
    ],
)
def test_real_closing_sentences_are_kept(ending: str) -> None:
    text = f"{BODY}\n\n{ending}"
    assert clean_pasted_text(text) == text


def test_a_short_last_line_is_kept_without_a_junk_marker() -> None:
    text = f"{BODY}\n\nReporting by Ola Nordmann\nEditing by Kari Holm"
    assert clean_pasted_text(text) == text


def test_ad_slot_lines_inside_the_text_are_dropped() -> None:
    first, second = BODY.split("\n\n")
    pasted = f"{first}\n\nADVERTISEMENT\n\n{second}\n\nStory continues below advertisement"
    assert clean_pasted_text(pasted) == BODY


def test_whitespace_and_invisible_characters() -> None:
    messy = (
        "  First\u00a0line\u200b with\ttabs  \r\n\r\n\r\n\r\n"
        "Second\u2009line\x07 here\ufeff\r\n  \n"
    )
    assert clean_pasted_text(messy) == "First line with tabs\n\nSecond line here"


def test_cleaning_is_idempotent() -> None:
    pasted = f"{TITLE}\n\n{TITLE}\n\n{BODY}\n\nRelated Stories\nAdvertisement"
    once = clean_pasted_text(pasted)
    assert clean_pasted_text(once) == once


def test_empty_and_junk_only_text() -> None:
    assert clean_pasted_text("") == ""
    assert clean_pasted_text(" \u200b\n\n ") == ""
    assert clean_pasted_text("Advertisement\nRelated Stories") == ""


def test_furniture_only_the_offline_engine_knew_is_cut_too() -> None:
    # One junk list (bot/ingest/junk.py): these whole lines were the offline engine's alone.
    pasted = f"{BODY}\n\nBack to top\nLog in\nCookie\nCopyright"
    assert clean_pasted_text(pasted) == BODY
