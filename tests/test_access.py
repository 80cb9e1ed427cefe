"""Who may use the bot: the channel and user allow-lists, and the daily token budget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.access import (
    BUDGET_FALLBACK_REASON,
    CHANNEL_REFUSED,
    USER_REFUSED,
    AccessList,
    BudgetExceeded,
    check_budget,
    start_of_utc_day,
)
from bot.config import Settings
from bot.errors import QuotaError
from bot.models import Source
from bot.service import BriefService
from bot.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import (
    FakeSlack,
    app_mention_event,
    event_callback,
    message_shortcut_payload,
    slash_command_payload,
)
from tests.fakes.web import FakeWeb
from tests.test_slack_support import bot_running, bot_settings, briefs_in, paste

BUDGET_WORDS = "This workspace has used its daily token budget"


# --- the allow-list as a rule ---------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "users", "user", "channel", "expected"),
    [
        ("", "", "U1", "C1", None),  # no lists: everyone, everywhere
        ("C1", "", "U1", "C1", None),
        ("C1,C2", "", "U1", "C3", CHANNEL_REFUSED),
        (" c1 ;  C2 ", "", "U1", "C2", None),  # spaces, semicolons, lower case
        ("", "U1, U2", "U2", "C9", None),
        ("", "U1", "U3", "C1", USER_REFUSED),
        ("C1", "U1", "U1", "C2", CHANNEL_REFUSED),  # the channel is checked first
        ("C1", "U1", "U2", "C1", USER_REFUSED),
        ("C1", "U1", None, "C1", USER_REFUSED),  # no user at all
        ("C1", "U1", "U1", None, None),  # user-only check (e.g. /brief forget)
    ],
)
def test_allow_list_refusals(
    make_settings: Callable[..., Settings],
    channels: str,
    users: str,
    user: str | None,
    channel: str | None,
    expected: str | None,
) -> None:
    access = AccessList.from_settings(make_settings(allowed_channels=channels, allowed_users=users))
    assert access.refusal(user=user, channel=channel) == expected


def test_refusals_say_what_to_change() -> None:
    assert "BRIEFBOT_ALLOWED_CHANNELS" in CHANNEL_REFUSED and "admin" in CHANNEL_REFUSED
    assert "BRIEFBOT_ALLOWED_USERS" in USER_REFUSED and "admin" in USER_REFUSED


def test_settings_read_the_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import load_settings

    monkeypatch.setenv("BRIEFBOT_ALLOWED_CHANNELS", "C0123ABC,C0456DEF")
    monkeypatch.setenv("BRIEFBOT_DAILY_TOKEN_BUDGET", "50000")
    settings = load_settings(None)
    assert AccessList.from_settings(settings).channels == {"C0123ABC", "C0456DEF"}
    assert settings.daily_token_budget == 50_000
    assert settings.retention_days == 30


# --- the budget as a rule -------------------------------------------------------------


def _log_usage(store: Store, *, team: str, tokens: int, at: datetime) -> None:
    from bot.models import Brief

    brief = Brief.model_validate(
        {"title": "t", "summary": "s", "meta": {"engine": "openai", "model": "gpt-4o-mini"}}
    )
    brief.meta.tokens_in, brief.meta.tokens_out = tokens - tokens // 4, tokens // 4
    store.put_brief(f"k-{team}-{at.isoformat()}", brief, url=None, title="t", team=team,
                    channel="C1", created_at=at, cache=False)  # fmt: skip


def test_budget_counts_this_utc_day_and_this_team_only(
    make_settings: Callable[..., Settings],
) -> None:
    now = datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
    settings = make_settings(daily_token_budget=1000)
    with Store.open("sqlite://") as store:
        _log_usage(store, team="T1", tokens=900, at=now - timedelta(hours=1))
        _log_usage(store, team="T1", tokens=5000, at=now - timedelta(days=1))  # yesterday
        _log_usage(store, team="T2", tokens=5000, at=now)  # another workspace
        check_budget(settings, store, "T1", now=now)  # 900 < 1000
        _log_usage(store, team="T1", tokens=100, at=now)
        with pytest.raises(QuotaError) as err:
            check_budget(settings, store, "T1", now=now)
        # Unlimited, no store (the CLI) or no team: never refused.
        check_budget(make_settings(daily_token_budget=0), store, "T1", now=now)
        check_budget(settings, None, "T1", now=now)
        check_budget(settings, store, None, now=now)
    assert str(err.value) == (
        "This workspace has used its daily token budget (1,000 tokens); briefs resume at "
        "00:00 UTC, or ask an admin to raise BRIEFBOT_DAILY_TOKEN_BUDGET."
    )
    assert start_of_utc_day(now) == datetime(2024, 5, 14, tzinfo=UTC)


TEXT_A = (
    "The harbour board met the dockworkers' union on Tuesday. Chair Ana Lind said the "
    "board would publish the pay offer by Friday. The union asked for a review in June. "
    "Members will vote on the offer next week, and the port expects the ships waiting "
    "outside the harbour to be unloaded within four days of a yes vote."
)
TEXT_B = (
    "The city council voted to extend the tram line to the airport. Mayor Tomas Berg "
    "said work would start in spring. Opponents said the cost estimate was too low. "
    "The transport authority will publish a revised budget in May, and residents along "
    "the route can comment on the plans at three public meetings this month."
)


async def test_service_falls_back_offline_once_the_budget_is_spent(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    settings = make_settings(
        openai_api_key="sk-test", openai_base_url=llm.base_url, engine="openai",
        daily_token_budget=10, llm_max_attempts=1,
    )  # fmt: skip
    with Store.open("sqlite://") as store:
        service = BriefService(settings, store=store)
        first = await service.brief(Source(kind="text", value=TEXT_A), team="T1")
        assert first.brief.meta.engine == "openai" and first.brief.meta.tokens_in > 10
        second = await service.brief(Source(kind="text", value=TEXT_B), team="T1")
        # Another workspace has its own budget.
        other = await service.brief(Source(kind="text", value=TEXT_B), team="T2")
        # A cached brief costs nothing, so it still answers from the cache.
        again = await service.brief(Source(kind="text", value=TEXT_A), team="T1")
        await service.engine.aclose()  # type: ignore[attr-defined]
    assert second.brief.meta.engine == "offline"
    assert second.brief.meta.fallback_reason == BUDGET_FALLBACK_REASON
    assert other.brief.meta.engine == "openai"
    assert again.brief.meta.cached and again.brief.meta.engine == "openai"
    assert len(llm.chat_requests) == 2  # the first brief and T2's; none after the budget


async def test_without_offline_fallback_the_budget_refuses_with_its_message(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    settings = make_settings(
        openai_api_key="sk-test", openai_base_url=llm.base_url, engine="openai",
        daily_token_budget=10, offline_fallback=False, llm_max_attempts=1,
    )  # fmt: skip
    with Store.open("sqlite://") as store:
        service = BriefService(settings, store=store)
        await service.brief(Source(kind="text", value=TEXT_A), team="T1")
        with pytest.raises(BudgetExceeded) as err:
            await service.brief(Source(kind="text", value=TEXT_B), team="T1")
        await service.engine.aclose()  # type: ignore[attr-defined]
    assert isinstance(err.value, QuotaError)
    assert str(err.value).startswith(BUDGET_WORDS) and "00:00 UTC" in str(err.value)
    assert len(llm.chat_requests) == 1


async def test_offline_engine_is_never_held_back_by_the_budget(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(engine="offline", daily_token_budget=1, offline_fallback=False)
    with Store.open("sqlite://") as store:
        _log_usage(store, team="T1", tokens=10_000, at=datetime.now(UTC))
        result = await BriefService(settings, store=store).brief(
            Source(kind="text", value=TEXT_A), team="T1"
        )
    assert result.brief.meta.engine == "offline" and result.brief.meta.fallback_reason is None


# --- the budget and the allow-list in the running bot ----------------------------------


async def test_budget_reached_in_slack_gives_a_labelled_offline_brief(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, daily_token_budget=10)
    async with bot_running(settings, fake):
        ts1, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", ts1)) == 1)
        ts2, envelope = paste(fake, f"<{web.url('/article.txt')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", ts2)) == 1)
    assert len(llm.chat_requests) == 1
    first, second = briefs_in(fake, "C1", ts1)[0], briefs_in(fake, "C1", ts2)[0]
    assert "Written offline" not in str(first["blocks"])
    assert "Written offline because the daily token budget is reached" in str(second["blocks"])


async def test_budget_reached_without_fallback_says_so_in_the_thread(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, daily_token_budget=10, offline_fallback=False)
    async with bot_running(settings, fake):
        ts1, envelope = paste(fake, f"<{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", ts1)) == 1)
        ts2, envelope = paste(fake, f"<{web.url('/article.txt')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: BUDGET_WORDS in str(f.thread("C1", ts2)))
    [reply] = fake.thread("C1", ts2)
    assert "BRIEFBOT_DAILY_TOKEN_BUDGET" in reply["text"] and "00:00 UTC" in reply["text"]
    assert len(llm.chat_requests) == 1


@pytest.fixture
def guarded(make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI) -> Settings:
    return bot_settings(make_settings, fake, llm, allowed_channels="C1", allowed_users="U1,U2")


def _acked(eid: str) -> Callable[[FakeSlack], bool]:
    return lambda f: eid in f.acks


async def test_slash_command_outside_the_allow_list_is_refused_privately(
    guarded: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(guarded, fake) as bot:
        elsewhere = fake.send_envelope(
            "slash_commands", slash_command_payload(text=web.url("/article"), channel_id="C9")
        )
        stranger = fake.send_envelope(
            "slash_commands",
            slash_command_payload(text=web.url("/article"), user_id="U7", trigger_id="t2"),
        )
        settings_elsewhere = fake.send_envelope(
            "slash_commands", slash_command_payload(text="settings", channel_id="C9")
        )
        helped = fake.send_envelope(
            "slash_commands", slash_command_payload(text="help", channel_id="C9", user_id="U7")
        )
        await fake.await_for(
            lambda f: {elsewhere, stranger, settings_elsewhere, helped} <= f.acks.keys()
        )
        assert bot.deps.queue.counts() == {}  # no job stored for a refused request
    expected = {elsewhere: CHANNEL_REFUSED, stranger: USER_REFUSED}
    expected[settings_elsewhere] = CHANNEL_REFUSED
    for eid, words in expected.items():
        payload = fake.acks[eid]["payload"]
        assert payload == {"response_type": "ephemeral", "text": words}
    assert "/brief" in fake.acks[helped]["payload"]["text"]  # help is open to everyone
    assert fake.calls_to("chat.postMessage") == []


async def test_pastes_where_the_bot_is_not_enabled_are_skipped_silently(
    guarded: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(guarded, fake) as bot:
        _, other_channel = paste(fake, f"<{web.url('/article')}>", channel="C9")
        _, other_user = paste(fake, f"<{web.url('/article')}>", user="U7")
        ids = [fake.send_envelope("events_api", e) for e in (other_channel, other_user)]
        await fake.await_for(lambda f: set(ids) <= f.acks.keys())
        assert bot.deps.queue.counts() == {}
        # An allowed user in an allowed channel is briefed as usual.
        ts, allowed = paste(fake, f"<{web.url('/article')}>", user="U2")
        fake.send_envelope("events_api", allowed)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", ts)) == 1)
    assert [c.params["channel"] for c in fake.calls_to("chat.postMessage")] == ["C1"]
    assert fake.ephemerals == []


async def test_mention_outside_the_allow_list_gets_an_ephemeral_refusal(
    guarded: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    async with bot_running(guarded, fake) as bot:
        ts = fake.add_message("C9", text=f"<@UBOT> <{web.url('/article')}>", user="U1")
        event = app_mention_event(f"<@UBOT> <{web.url('/article')}>", channel="C9", ts=ts)
        fake.send_envelope("events_api", event_callback(event))
        await fake.await_for(lambda f: len(f.ephemerals) == 1)
        assert bot.deps.queue.counts() == {}
    [note] = fake.ephemerals
    assert (note["channel"], note["user"], note["text"]) == ("C9", "U1", CHANNEL_REFUSED)
    assert fake.calls_to("chat.postMessage") == []


async def test_shortcut_outside_the_allow_list_is_answered_privately(
    guarded: Settings, fake: FakeSlack, web: FakeWeb
) -> None:
    url = fake.response_url()
    async with bot_running(guarded, fake) as bot:
        text = f"<{web.url('/article')}>"
        message = {"ts": fake.add_message("C1", text=text, user="U2"), "text": text}
        payload = message_shortcut_payload(message=message, user_id="U7", response_url=url)
        eid = fake.send_envelope("interactive", payload)
        await fake.await_for(lambda f: len(f.responses) == 1)
        assert eid in fake.acks
        assert bot.deps.queue.counts() == {}
    body = fake.responses[0]["body"]
    assert body["text"] == USER_REFUSED and body["response_type"] == "ephemeral"
    assert fake.calls_to("chat.postMessage") == []
