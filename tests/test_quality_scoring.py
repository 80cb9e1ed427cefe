"""The quality bench's matching and junk rules, on hand-made labels (no corpus, no engine)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.quality_baseline import baseline_brief
from bench.quality_junk import junk_reason, vocabulary_of
from bench.quality_scoring import (
    covers,
    found_items,
    label_keys,
    label_problems,
    role_matches,
    score_page,
    score_participants,
    summarise,
    verbatim,
)

ARTICLE = (
    "A New York man pleaded guilty Monday to threatening Rep. Ilhan Omar, prosecutors said. "
    "Patrick W. Carlineo Jr., 55, faces up to 10 years in prison. "
    "Sentencing is scheduled for Feb. 14. "
    "His attorney, Sonya Zoghlin, said Carlineo never intended to harm Omar. "
    "The team lost the game, and the shield broke in the game."
)
LABEL: dict[str, Any] = {
    "id": "p1",
    "genre": "courts",
    "language": "en",
    "split": "tune",
    "participants": [
        {"name": "Patrick W. Carlineo Jr.", "role": "New York man", "core": True},
        {"name": "Ilhan Omar", "role": "U.S. Rep., D-Minn.", "core": True},
        {"name": "Sonya Zoghlin", "role": "Carlineo's attorney"},
        {"name": "U.S. Attorney's Office", "aliases": ["prosecutors"], "role": "prosecution"},
        {"name": "Associated Press", "role": "news agency", "optional": True},
    ],
    "tensions": [
        {
            "description": "defence denies intent",
            "parties": ["Sonya Zoghlin"],
            "keys": ["never intended", "Zoghlin|Carlineo"],
        },
    ],
    "next_steps": [{"action": "sentencing", "owner": "court", "keys": ["sentencing", "Feb. 14"]}],
}
VOCAB = vocabulary_of([ARTICLE, "We met at the Shield office. Then a shield fell on the game."])


def participant(name: str, role: str | None = None) -> dict[str, Any]:
    return {"name": name, "role": role, "evidence": name}


def test_surname_alias_and_titles_match_but_an_organisations_last_word_does_not() -> None:
    person = label_keys({"name": "Patrick W. Carlineo Jr."})
    assert {"patrick w carlineo jr", "carlineo"} <= person
    office = label_keys({"name": "U.S. Attorney's Office", "aliases": ["prosecutors"]})
    assert "office" not in office
    assert "prosecutors" in office
    brief = {"participants": [participant("Rep. Ilhan Omar"), participant("Carlineo")]}
    score = score_participants(brief, LABEL)
    assert (score.found, score.correct, score.listed) == (2, 2, 2)
    assert score.missed == ["Sonya Zoghlin", "U.S. Attorney's Office"]


def test_an_optional_participant_is_free_to_list_or_leave_out() -> None:
    listed = score_participants({"participants": [participant("Associated Press")]}, LABEL)
    assert (listed.correct, listed.listed, listed.found, listed.labelled) == (1, 1, 0, 4)
    left_out = score_participants({"participants": []}, LABEL)
    assert "Associated Press" not in left_out.missed
    assert left_out.labelled == 4


def test_a_second_item_for_one_participant_counts_against_precision() -> None:
    brief = {"participants": [participant("Ilhan Omar"), participant("Omar"), participant("Phase")]}
    score = score_participants(brief, LABEL)
    assert (score.found, score.correct, score.listed) == (1, 1, 3)
    assert score.extra == ["Omar", "Phase"]
    # Recall over core participants only: 1 of the 2 marked core.
    assert (score.found_core, score.labelled_core) == (1, 2)


@pytest.mark.parametrize(
    ("role", "labelled", "right"),
    [
        ("attorney", "Carlineo's attorney", True),
        ("Senate Leader", "Senator representing Yobe North; Senate Leader", True),
        ("president", "chairman, CEO and president", True),
        ("Vice President", "Carlineo's attorney", False),
        (None, "Carlineo's attorney", False),
        ("the of", "the office", False),  # function words alone never make a role right
    ],
)
def test_role_accuracy_is_content_word_overlap(
    role: str | None, labelled: str, right: bool
) -> None:
    assert role_matches(role, labelled) is right


def test_key_terms_all_needed_and_alternatives_any() -> None:
    assert covers("Sentencing is scheduled for Feb. 14.", ["sentencing", "Feb. 14"])
    assert not covers("Sentencing is scheduled.", ["sentencing", "Feb. 14"])
    assert covers("Zoghlin says he never intended harm", ["never intended", "Zoghlin|Carlineo"])
    step = {"action": "Sentencing", "owner": None, "when": "Feb. 14", "evidence": "x"}
    assert found_items([step], LABEL["next_steps"]) == [True]
    assert found_items([{"action": "Harm Omar", "evidence": "harm"}], LABEL["next_steps"]) == [
        False
    ]


@pytest.mark.parametrize(
    ("kind", "item", "reason"),
    [
        ("participants", {"name": "I'm"}, "all function words"),
        ("participants", {"name": "Shield"}, "common word as a name"),
        ("participants", {"name": "Carlineo never"}, "name ends in a function word"),
        ("participants", {"name": "Carlineo"}, None),
        ("participants", {"name": "UK"}, None),
        ("participants", {"name": "Al"}, "too short"),
        ("participants", {"name": "The Associated Press"}, None),
        ("topics", {"name": "Und"}, None),  # foreign words are the language rule's business
        ("topics", {"name": "Didn't"}, "all function words"),
        ("topics", {"name": "game"}, "one-word generic topic"),
        ("topics", {"name": "sentencing hearing"}, None),
        ("tensions", {"description": "Denied that he", "parties": ["X"]}, "fragment"),
        (
            "tensions",
            {"description": "Omar versus Carlineo", "parties": []},
            "tension without parties",
        ),
        ("next_steps", {"action": "Harm Omar", "owner": "Undoubtedly it"}, "owner is not an actor"),
        (
            "next_steps",
            {"action": "Sentencing on Feb. 14", "owner": "Had"},
            "owner is not an actor",
        ),
        ("next_steps", {"action": "Sentencing on Feb. 14", "owner": "the court"}, None),
        ("next_steps", {"action": "Meet the thresholds", "owner": "His campaign"}, None),
        ("next_steps", {"action": "Look closer by 2023", "owner": "NASA's mission"}, None),
        ("next_steps", {"action": "Need some mason jars", "owner": "You"}, "owner is not an actor"),
    ],
)
def test_junk_detector(kind: str, item: dict[str, Any], reason: str | None) -> None:
    assert junk_reason(kind, item, VOCAB) == reason


def test_verbatim_ignores_whitespace_and_quote_marks_but_not_words() -> None:
    assert verbatim("Sentencing  is\nscheduled for Feb. 14.", ARTICLE)
    assert verbatim("His attorney, Sonya Zoghlin, said", ARTICLE.replace("'", "’"))
    assert not verbatim("Sentencing is scheduled for Feb. 15.", ARTICLE)
    assert not verbatim("", ARTICLE)


def test_page_score_and_summary() -> None:
    brief = {
        "participants": [participant("Carlineo", "New York man"), participant("Shield")],
        "topics": [{"name": "guilty plea", "evidence": "pleaded guilty Monday"}],
        "tensions": [],
        "next_steps": [{"action": "Sentencing", "when": "Feb. 14", "evidence": "Feb. 14."}],
    }
    page = score_page(brief, LABEL, article_text=ARTICLE, rendered="", vocabulary=VOCAB)
    assert page.junk == ["participants: 'Shield' (common word as a name)"]
    assert (page.quotes, page.verbatim) == (4, 3)  # "Shield" is not in the article
    figures = summarise([page])
    assert figures["recall"] == 1 / 4
    assert figures["precision"] == 1 / 2
    assert figures["role_accuracy"] == 1.0
    assert (figures["tension_recall"], figures["step_recall"]) == (0.0, 1.0)
    assert figures["matched"] == 1
    assert figures["junk_share"] == figures["junk_share_en"] == 1 / 4


def test_non_english_page_is_honest_only_when_empty_and_noted() -> None:
    label = {"id": "de1", "genre": "business", "language": "de", "split": "tune"}
    text = "Die Patienten und die Daten."
    empty: dict[str, Any] = {"participants": [], "topics": []}
    note = "The offline engine reads English only; a model handles other languages."
    honest = score_page(empty, label, article_text=text, rendered=note, vocabulary=VOCAB)
    assert honest.honest is True
    silent = score_page(empty, label, article_text=text, rendered="Die Patienten", vocabulary=VOCAB)
    assert silent.honest is False
    junky = {"participants": [participant("Patienten")], "topics": [{"name": "Und"}]}
    page = score_page(junky, label, article_text=text, rendered=note, vocabulary=VOCAB)
    assert page.honest is False
    assert len(page.junk) == 2  # every item on a page the engine cannot read is junk
    assert summarise([page])["honest"] == 0.0


def test_baseline_takes_capitalised_runs_and_keyword_sentences() -> None:
    brief = baseline_brief(ARTICLE)
    names = [p["name"] for p in brief["participants"]]
    assert "Sonya Zoghlin" in names
    assert "New York" in names
    assert "A New York" not in names
    assert [s["evidence"] for s in brief["next_steps"]] == ["Sentencing is scheduled for Feb. 14."]
    assert all(verbatim(item["evidence"], ARTICLE) for item in brief["participants"])


def test_baseline_regexes_stay_linear_on_adversarial_text() -> None:
    import time

    hostile = "A" + " Bb" * 20_000 + "." * 20_000 + " '" * 20_000 + "x'y" * 20_000
    started = time.process_time()
    baseline_brief(hostile)
    vocabulary_of([hostile])
    # Generous bound: the linear scan takes well under a second; a stall takes minutes.
    assert time.process_time() - started < 5


def test_label_problems_name_keys_and_participants_missing_from_the_text() -> None:
    # The office is found by its alias "prosecutors"; the agency is named nowhere.
    assert label_problems(LABEL, ARTICLE) == ["p1: participant 'Associated Press' not in the text"]
    typo = {**LABEL, "participants": [], "next_steps": [{"keys": ["sentencing", "Feb. 41"]}]}
    assert label_problems(typo, ARTICLE) == [
        "p1: next_steps keys ['sentencing', 'Feb. 41'] not all in the text"
    ]
