"""Ask the article, without Slack: retrieval, the offline answerer, grounding, the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.ask.model import history_within
from bot.ask.models import AnswerDraft, Turn
from bot.ask.offline import answer_offline
from bot.ask.retrieval import GAP, SentenceIndex, terms
from bot.ask.service import ground_answer
from bot.config import Settings
from bot.slack.questions import is_plain_reply, question_text
from bot.tokens import count_tokens
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.web import ARTICLE_TEXT
from tests.test_cli import assert_one_line_error, briefbot

WAGES = "wages will rise by 6.5 per cent this year and by a further 4 per cent in 2025"


def test_the_best_sentence_for_a_question_is_the_one_that_answers_it() -> None:
    [best, *_] = SentenceIndex(ARTICLE_TEXT).rank("When is the union's ratification vote?")
    assert "scheduled for May 21" in best.sentence


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much will wages rise this year?", "6.5 per cent"),
        ("Who leads the Halden branch of the union?", "Tomas Berg"),
        ("How many container ships were waiting offshore?", "forty container ships"),
        ("Who is the mayor of Halden?", "Ingrid Solberg"),
    ],
)
def test_offline_answers_quote_the_sentence_holding_the_answer(
    question: str, expected: str
) -> None:
    draft = answer_offline(ARTICLE_TEXT, question)
    assert draft.answered
    assert any(expected in q for q in draft.quotes)
    assert all(q in ARTICLE_TEXT for q in draft.quotes)
    assert len(draft.quotes) <= 3


@pytest.mark.parametrize(
    "question",
    ["What is the price of bitcoin?", "Who won the football match?", "???", "and?"],
)
def test_offline_says_not_answered_rather_than_guessing(question: str) -> None:
    assert answer_offline(ARTICLE_TEXT, question) == AnswerDraft(
        answer="", quotes=[], answered=False
    )


def test_a_follow_up_leans_on_the_previous_question() -> None:
    history = [Turn(question="Who leads the union branch in Halden?", answer="Tomas Berg.")]
    draft = answer_offline(ARTICLE_TEXT, "and what will he recommend?", history=history)
    assert draft.answered
    assert any("recommend that they accept it" in q for q in draft.quotes)


def test_passages_keep_within_the_budget_and_mark_gaps() -> None:
    long_text = "\n\n".join([ARTICLE_TEXT] * 12)
    index = SentenceIndex(long_text)
    passages = index.passages("When is the ratification vote?", budget=200)
    assert count_tokens(passages) <= 200 + 10  # the gap markers
    assert "scheduled for May 21" in passages
    assert GAP in passages
    assert index.passages("anything", budget=100_000) == long_text


def test_grounding_keeps_real_quotes_and_unanswers_an_answer_with_none() -> None:
    draft = AnswerDraft(answer="6.5%", quotes=[WAGES, "Wages will triple."], answered=True)
    grounded, dropped = ground_answer(draft, ARTICLE_TEXT)
    assert grounded.quotes == [WAGES] and dropped == 1 and grounded.answered
    invented = AnswerDraft(answer="They doubled.", quotes=["Wages doubled overnight."],
                           answered=True)  # fmt: skip
    grounded, dropped = ground_answer(invented, ARTICLE_TEXT)
    assert grounded == AnswerDraft(answer="", quotes=[], answered=False) and dropped == 1


def test_grounding_strips_links_the_article_does_not_hold() -> None:
    draft = AnswerDraft(answer="See https://evil.example/x for more.", quotes=[WAGES],
                        answered=True)  # fmt: skip
    grounded, _ = ground_answer(draft, ARTICLE_TEXT)
    assert "evil.example" not in grounded.answer


def test_history_keeps_the_latest_turns_within_the_budget() -> None:
    turns = [Turn(question=f"Question {i} " + "word " * 40, answer="Answer.") for i in range(10)]
    kept = history_within(turns, budget=150, model=None)
    assert kept and kept[-1] == turns[-1]
    assert len(kept) < len(turns)
    assert history_within(turns, budget=0, model=None) == []


def test_terms_are_linear_on_adversarial_text() -> None:
    hostile = ("a" * 50_000 + " ") * 20 + "_" * 200_000 + "é" * 100_000
    started = time.process_time()
    terms(hostile)
    assert time.process_time() - started < 1.0


@pytest.mark.parametrize(
    ("event", "question"),
    [
        ({"text": "<@UBOT> when is the vote?", "ts": "2", "thread_ts": "1"}, "when is the vote?"),
        ({"text": "<@UBOT>", "ts": "2", "thread_ts": "1"}, None),  # asks for the parent's brief
        ({"text": "<@UBOT> <https://x.example/a>", "ts": "2", "thread_ts": "1"}, None),
        ({"text": "<@UBOT> when is the vote?", "ts": "1"}, None),  # not in a thread
        ({"text": "<@UBOT> ping <!channel>", "ts": "2", "thread_ts": "1"}, "ping channel"),
    ],
)
def test_which_thread_replies_are_questions(event: dict[str, str], question: str | None) -> None:
    assert question_text(event) == question


def test_bot_messages_and_edits_are_never_questions() -> None:
    base = {"text": "when?", "ts": "2", "thread_ts": "1", "user": "U1", "channel_type": "channel"}
    assert is_plain_reply(base, bot_user_id="UBOT")
    assert not is_plain_reply({**base, "bot_id": "B1"}, bot_user_id="UBOT")
    assert not is_plain_reply({**base, "user": "UBOT"}, bot_user_id="UBOT")
    assert not is_plain_reply({**base, "subtype": "message_changed"}, bot_user_id="UBOT")


@pytest.mark.subprocess
def test_cli_ask_answers_offline_in_markdown_and_json(tmp_path: Path) -> None:
    source = tmp_path / "article.txt"
    source.write_text(ARTICLE_TEXT)
    proc = briefbot("-q", "ask", str(source), "Who is the mayor of Halden?", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Ingrid Solberg" in proc.stdout and "offline" in proc.stdout
    proc = briefbot("ask", str(source), "What is the price of bitcoin?", "--format", "json",
                    cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["answered"] is False and answer["quotes"] == []
    assert answer["engine"] == "offline"


@pytest.mark.subprocess
def test_cli_ask_with_an_empty_question_is_one_line(tmp_path: Path) -> None:
    source = tmp_path / "article.txt"
    source.write_text(ARTICLE_TEXT)
    assert_one_line_error(briefbot("ask", str(source), "  ", cwd=tmp_path), "question")


def test_doctor_names_the_scope_thread_replies_need(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.slack.scopes import REQUIRED_SCOPES
    from tests.test_doctor import _doctor, _keyed

    scopes = [s for s in REQUIRED_SCOPES if s != "groups:history"]
    with FakeSlack(scopes=scopes) as slack, FakeOpenAI() as llm:
        result = _doctor(monkeypatch, **_keyed(slack, llm.base_url))
    assert result.status("Slack scopes") == "fail"
    assert "missing groups:history" in result.detail("Slack scopes")


async def test_tokens_spent_on_questions_count_against_the_daily_budget(
    make_settings: Callable[..., Settings], llm: FakeOpenAI, tmp_path: Path
) -> None:
    from bot.access import BudgetExceeded, check_budget
    from bot.ask.models import Answer
    from bot.ask.service import AskService
    from bot.ask.store import AskStore
    from bot.store import Store
    from bot.store.db import connect

    settings = make_settings(openai_api_key="sk-test", openai_base_url=llm.base_url,
                             daily_token_budget=1000)  # fmt: skip
    with Store.open(f"sqlite:///{tmp_path / 'bot.db'}") as store:
        spent = Answer(question="q", answer="a", answered=True, engine="openai", tokens_in=1000)
        conn = connect(store.path)
        AskStore(conn).record_answer(spent, team="T1", channel="C1", thread_ts="1",
                                     question_ts="2")  # fmt: skip
        conn.close()
        with pytest.raises(BudgetExceeded):  # briefs see the questions' tokens too
            check_budget(settings, store, "T1")
        service = AskService(settings, store=store)
        answer = await service.ask(ARTICLE_TEXT, "Who is the mayor of Halden?", team="T1")
        await service.aclose()
    assert llm.chat_requests == []
    assert answer.engine == "offline" and answer.answered
    assert answer.fallback_reason == "the daily token budget is reached"
