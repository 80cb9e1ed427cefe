"""Pure parts of the Slack bot: which messages become jobs, job identities, Block Kit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.models import Brief, BriefMeta, Source
from bot.slack import intake, notices
from bot.slack.home import build_home_view
from bot.slack.jobs import source_key
from bot.store import StoredBrief, normalize_url
from tests.fakes.slack import message_event, message_shortcut_payload
from tests.fakes.slack_state import validate_blocks

URL = "https://news.example.com/story"


def _event(text: str = f"<{URL}>", **changes: Any) -> dict[str, Any]:
    event = message_event(text, ts="1700000000.000100")
    event.update(changes)
    return event


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"subtype": "file_share"}, None),
        ({"thread_ts": "1700000000.000100"}, None),  # a thread's own parent
        ({"user": "UBOT"}, "own message"),
        ({"bot_id": "B1", "subtype": "bot_message"}, "subtype bot_message"),
        ({"bot_id": "B1"}, "bot message"),
        ({"subtype": "message_changed"}, "subtype message_changed"),
        ({"subtype": "message_deleted"}, "subtype message_deleted"),
        ({"subtype": "thread_broadcast"}, "subtype thread_broadcast"),
        ({"thread_ts": "1690000000.000001"}, "thread reply"),
        ({"channel_type": "im"}, "channel type im"),
        ({"hidden": True}, "hidden"),
    ],
)
def test_ignore_reason(changes: dict[str, Any], reason: str | None) -> None:
    assert intake.ignore_reason(_event(**changes), bot_user_id="UBOT") == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"<{URL}>", [URL]),
        (f"<{URL}|the story> and <https://b.example.org/x>", [URL, "https://b.example.org/x"]),
        (f"bare {URL}.", [URL]),
        ("<https://team.slack.com/archives/C1/p1>", []),
        ("<https://youtu.be/abc> <https://cdn.example.com/a.png>", []),
        ("<@U123> <!here> <#C1|general>", []),
    ],
)
def test_link_sources(text: str, expected: list[str]) -> None:
    assert [s.value for s in intake.link_sources(text)] == expected


def test_a_link_label_is_kept_for_the_placeholder() -> None:
    [source] = intake.link_sources(f"<{URL}|The story>")
    assert source.label == "The story"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"<{URL}>", [("url", URL)]),
        ("Some &lt;pasted&gt; words <@U1>", [("text", "Some <pasted> words")]),
        ("<https://youtu.be/abc>", []),
        ("   ", []),
    ],
)
def test_sources_of_links_else_text(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(s.kind, s.value) for s in intake.sources_of(text, allow_text=True)] == expected


def test_paste_jobs_one_per_link_threaded_under_the_message() -> None:
    event = _event(f"<{URL}> <https://b.example.org/x>")
    jobs = intake.paste_jobs(event, team="T1", bot_user_id="UBOT", event_id="Ev1")
    assert [j.payload["thread_ts"] for j in jobs] == [event["ts"]] * 2
    assert jobs[0].id == f"T1:C1:{event['ts']}:{URL}"
    assert {j.event_id for j in jobs} == {"Ev1"}


def test_mention_jobs() -> None:
    top = _event(f"<@UBOT> <{URL}>")
    [job] = intake.mention_jobs(top, team="T1", event_id=None, help_text="help")
    # Same identity as the paste of the same message: never briefed twice.
    assert job.id == intake.paste_jobs(top, team="T1", bot_user_id="UBOT", event_id=None)[0].id

    in_thread = _event("<@UBOT> brief this", ts="1700000000.000900", thread_ts="1700000000.000100")
    [job] = intake.mention_jobs(in_thread, team="T1", event_id=None, help_text="help")
    assert job.kind == intake.THREAD and job.payload["thread_ts"] == "1700000000.000100"

    [job] = intake.mention_jobs(_event("<@UBOT> hi"), team="T1", event_id=None, help_text="help")
    assert job.kind == intake.NOTICE and job.payload["text"] == "help"


def test_shortcut_jobs_answer_in_the_messages_thread() -> None:
    message = {"ts": "1700000000.000500", "thread_ts": "1700000000.000100", "text": f"<{URL}>"}
    payload = message_shortcut_payload(message=message, response_url="http://127.0.0.1:9/r")
    [job] = intake.shortcut_jobs(payload)
    assert job.payload["thread_ts"] == "1700000000.000100"
    assert job.payload["response_url"] == "http://127.0.0.1:9/r"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HTTPS://News.Example.com/story", "https://news.example.com/story"),
        ("https://news.example.com/story#comments", "https://news.example.com/story"),
        ("https://news.example.com/story?utm_source=x&id=3", "https://news.example.com/story?id=3"),
        ("https://news.example.com:443/story", "https://news.example.com/story"),
        ("https://news.example.com", "https://news.example.com/"),
        # Job ids and cache keys once differed on these: one normalizer serves both now.
        ("https://news.example.com/story?ref=twitter", "https://news.example.com/story"),
        ("https://news.example.com/story?b=2&a=1", "https://news.example.com/story?a=1&b=2"),
        ("https://news.example.com/story/", "https://news.example.com/story"),
    ],
)
def test_url_identity_ignores_case_fragments_and_tracking(a: str, b: str) -> None:
    def url(value: str) -> Source:
        return Source(kind="url", value=value)

    assert source_key(url(a)) == source_key(url(b))
    assert source_key(url(a)) == normalize_url(a)  # the job id and the cache key agree


def test_text_identity_ignores_whitespace() -> None:
    one = source_key(Source(kind="text", value="A  long\ntext"))
    assert one == source_key(Source(kind="text", value="A long text"))
    assert one != source_key(Source(kind="text", value="Another text"))


# --- Block Kit -------------------------------------------------------------------------


def test_asked_message_escapes_what_the_user_typed() -> None:
    msg = notices.asked_message("U1", [notices.quote_label("<!channel> read this & that")])
    assert "<!channel>" not in msg.text
    assert "&amp;" in msg.text and msg.text.startswith("<@U1> asked for a brief of “")


@pytest.mark.parametrize(
    "message",
    [
        notices.help_message(),
        notices.help_message(prefix="I don't know that."),
        notices.settings_message(
            notices.ChannelView(
                engine="openai",
                model="gpt-4o-mini",
                language="en",
                template="built-in",
                auto_brief=True,
            )
        ),
        notices.toggled_message(on=False, user="U1"),
        notices.asked_message(None, [f"<{URL}|a>"] * 7),
        notices.already_briefed_message(),
    ],
)
def test_bot_messages_are_valid_block_kit(message: Any) -> None:
    assert message.text
    assert validate_blocks(message.blocks) == []


def _stored(n: int, title: str) -> StoredBrief:
    brief = Brief(title=title, url=URL, summary="s", meta=BriefMeta(engine="offline"))
    return StoredBrief(
        id=n, key=f"k{n}", brief=brief, url=f"{URL}/{n}", title=title, team="T1",
        channel="C1", cached=False, created_at=datetime(2024, 5, 14, tzinfo=UTC),
    )  # fmt: skip


def test_home_view_lists_recent_briefs_and_usage() -> None:
    usage = {"briefs": 12, "cached": 2, "tokens_in": 9000, "tokens_out": 1000, "cost_usd": 0.0042}
    view = build_home_view([_stored(1, "Port strike ends"), _stored(2, "<!here> ping")], usage)
    text = str(view["blocks"])
    assert view["type"] == "home" and validate_blocks(view["blocks"]) == []
    assert "Port strike ends" in text and "<!here>" not in text
    assert "10,000" in text and "$0.0042" in text and "12 (2 from cache)" in text


def test_home_view_when_nothing_was_briefed_yet() -> None:
    view = build_home_view([], {"briefs": 0})
    assert "No briefs yet" in str(view["blocks"])
    assert validate_blocks(view["blocks"]) == []
