"""No hollow brief: a model brief gutted by verification is never posted as it is.

What the issue saw from a real small model: every item's quote failed the check, the
summary was ``<img src=``, and the brief went out with a junk gist and four empty
sections. Now the summary is checked too, and such a brief is replaced by the offline
brief labelled with the reason, or, with the fallback off, by a one-line message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.errors import ModelOutputError
from bot.grounding import summary_supported, unsupported_summary_sentences
from bot.models import Article
from bot.service import BriefService
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.test_cli import REPO, SAMPLE, briefbot

SAMPLE_TEXT = SAMPLE.read_text(encoding="utf-8")
QUOTE = "Negotiators return to the table on Monday after a week of walkouts"
GOOD_SUMMARY = (
    "Negotiators return to the table on Monday after a week of walkouts that left more "
    "than 40 ships waiting off the coast."
)


def _draft(summary: str, quotes: list[str]) -> dict[str, Any]:
    topics = [{"name": f"Topic {i}", "evidence": q} for i, q in enumerate(quotes)]
    return {"summary": summary, "participants": [], "topics": topics,
            "tensions": [], "next_steps": []}  # fmt: skip


async def _brief(settings: Settings, llm: FakeOpenAI, draft: dict[str, Any]) -> Any:
    llm.enqueue(draft)
    service = BriefService(settings, store=None)
    return (await service.brief_article(Article(text=SAMPLE_TEXT, title="Port talks"))).brief


@pytest.fixture
def model_settings(make_settings: Callable[..., Settings], llm: FakeOpenAI) -> Settings:
    return make_settings(openai_api_key="sk-test", openai_base_url=llm.base_url)


@pytest.mark.parametrize(
    ("summary", "quotes", "reason"),
    [
        # The brief: markup for a gist, all five quotes invented.
        ("<img src=", ["an invented quote about nothing"] * 5, "summary is not supported"),
        # A fluent gist of another story, with real quotes.
        (
            "Lockdowns across Norway forced bakeries to close for the winter season.",
            [QUOTE],
            "summary is not supported",
        ),
        # A good gist, but 3 of 4 quotes invented.
        (
            GOOD_SUMMARY,
            [
                QUOTE,
                "the union burned the port down",
                "ships sank at dawn today",
                "the minister resigned in tears",
            ],
            "3 of 4 dropped",
        ),
        # A good gist and nothing to back it.
        (GOOD_SUMMARY, [], "no point it could back with a quote"),
    ],
    ids=["markup-gist-all-invented", "unsupported-gist", "most-dropped", "no-points"],
)
async def test_a_hollow_model_brief_becomes_the_labelled_offline_brief(
    model_settings: Settings, llm: FakeOpenAI, summary: str, quotes: list[str], reason: str
) -> None:
    brief = await _brief(model_settings, llm, _draft(summary, quotes))
    assert brief.meta.engine == "offline"
    assert reason in (brief.meta.fallback_reason or "")
    assert brief.summary != summary and "<img" not in brief.summary
    assert summary_supported(brief.summary, SAMPLE_TEXT)
    assert brief.participants or brief.topics or brief.tensions or brief.next_steps
    # The model's call was spent: it still counts.
    assert brief.meta.llm_calls == 1 and brief.meta.model == model_settings.model


async def test_a_grounded_model_brief_is_posted_with_its_summary_check_recorded(
    model_settings: Settings, llm: FakeOpenAI
) -> None:
    brief = await _brief(model_settings, llm, _draft(GOOD_SUMMARY, [QUOTE, "invented, this one"]))
    assert brief.meta.engine == "openai" and brief.meta.fallback_reason is None
    assert brief.meta.summary_supported is True
    assert brief.summary == GOOD_SUMMARY and brief.meta.dropped_unverified == 1


async def test_with_the_fallback_off_the_user_is_told_the_answer_could_not_be_verified(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    settings = make_settings(openai_api_key="sk-test", openai_base_url=llm.base_url,
                             offline_fallback=False)  # fmt: skip
    with pytest.raises(ModelOutputError) as caught:
        await _brief(settings, llm, _draft("<img src=", ["invented"]))
    message = str(caught.value)
    assert "could not be verified" in message and "summary is not supported" in message
    assert "\n" not in message and "BRIEFBOT_OFFLINE_FALLBACK" in message


async def test_an_answer_cut_off_twice_becomes_the_labelled_offline_brief(
    model_settings: Settings, llm: FakeOpenAI
) -> None:
    cut = Reply(content='{"summary": "Negotiators return', finish_reason="length")
    llm.enqueue(cut, cut)
    service = BriefService(model_settings, store=None)
    brief = (await service.brief_article(Article(text=SAMPLE_TEXT))).brief
    assert brief.meta.engine == "offline" and "cut off" in (brief.meta.fallback_reason or "")
    assert len(llm.chat_requests) == 2


@pytest.mark.subprocess
def test_the_cli_prints_the_labelled_offline_brief_not_the_husk(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    llm.enqueue(_draft("<img src=", ["an invented quote about nothing"] * 5))
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": llm.base_url,
           "BRIEFBOT_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    proc = briefbot("brief", str(SAMPLE), "--no-cache", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "<img" not in proc.stdout
    footer = [line for line in proc.stdout.splitlines() if "Written offline because" in line]
    assert len(footer) == 1 and "summary is not supported by the article" in footer[0]
    llm.enqueue(_draft("<img src=", ["invented"]))
    proc = briefbot("brief", str(SAMPLE), "--no-cache", "--format", "json", env=env, cwd=tmp_path)
    [brief] = json.loads(proc.stdout)["briefs"]  # the one JSON shape: {"briefs": [...]}
    meta = brief["meta"]
    assert meta["engine"] == "offline" and "summary is not supported" in meta["fallback_reason"]
    assert REPO.is_dir()


@pytest.mark.parametrize(
    ("summary", "supported"),
    [
        (GOOD_SUMMARY, True),
        # Inflections and a paraphrase with the article's own words pass.
        ("Negotiators returned to the table after walkouts left ships waiting.", True),
        ("<img src=", False),
        ("<b>Talks resume</b> on Monday after a week of walkouts.", False),
        ("", False),
        ("Talks.", False),  # too short to say anything checkable
        # Invented numbers fail even when the words are the article's.
        ("Negotiators return to the table on Monday after 9 weeks of walkouts.", False),
        # One unsupported sentence is enough.
        (GOOD_SUMMARY + " Bakeries across Norway closed for the winter.", False),
    ],
)
def test_summary_support(summary: str, supported: bool) -> None:
    assert summary_supported(summary, SAMPLE_TEXT) is supported


def test_the_summary_check_is_linear_on_adversarial_input() -> None:
    hostile = "<" * 50_000 + " a." * 50_000 + "x" * 100_000 + "!" * 50_000
    started = time.process_time()
    unsupported_summary_sentences(hostile, SAMPLE_TEXT * 50)
    unsupported_summary_sentences("word " * 100_000, hostile)
    # About 0.17 s of CPU; a quadratic scan of these 250k characters takes minutes. CPU
    # time, not wall time: a busy CI machine can't fail it.
    assert time.process_time() - started < 5.0
