"""Block Kit messages: Slack's limits hold for any brief, and nothing is lost."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.errors import ConfigError
from bot.models import Brief, BriefMeta, NextStep, Participant, Tension, Topic
from bot.render import SlackMessage, build_error_message, build_messages, build_placeholder
from bot.render.block_kit import split_text, truncate
from tests.test_render import hostile_brief

CONTROL = re.compile(r"<[!@#]")


def small_brief(**overrides: Any) -> Brief:
    data: dict[str, Any] = {
        "title": "Ports strike ends",
        "url": "https://www.news.example.com/ports",
        "summary": "Dock workers & owners agreed a 3-year deal.",
        "participants": [Participant(name="Ana Ruiz", role="union chief", evidence="Ruiz said")],
        "topics": [Topic(name="Wages", evidence="wages rise 4%", verified=False)],
        "tensions": [Tension(description="Automation", parties=["union"], evidence="robots")],
        "next_steps": [NextStep(action="Vote", when="Friday", evidence="vote on Friday")],
        "meta": BriefMeta(engine="openai", model="gpt-4o-mini", cached=True),
    }
    data.update(overrides)
    return Brief(**data)


def section_texts(message: SlackMessage) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


def all_text(messages: list[SlackMessage]) -> str:
    return "\n".join(json.dumps(m.blocks, ensure_ascii=False) + m.text for m in messages)


def assert_within_limits(messages: list[SlackMessage]) -> None:
    for message in messages:
        assert 1 <= len(message.blocks) <= 50
        assert 0 < len(message.text) <= 3000
        for block in message.blocks:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= 3000
            if block["type"] == "header":
                assert 0 < len(block["text"]["text"]) <= 150
            if block["type"] == "context":
                assert all(len(e["text"]) <= 3000 for e in block["elements"])
        # Slack's own models accept the payload back (they validate limits on to_dict).
        for block in Block.parse_all(message.blocks):
            block.to_dict()


def test_small_brief_is_one_message() -> None:
    [message] = build_messages(small_brief())
    assert_within_limits([message])
    types = [b["type"] for b in message.blocks]
    assert types == [
        "header",
        "context",
        "section",
        "divider",
        "section",
        "divider",
        "section",
        "divider",
        "section",
        "divider",
        "section",
        "context",
    ]
    assert message.blocks[0]["text"] == {
        "type": "plain_text",
        "text": "Ports strike ends",
        "emoji": True,
    }
    assert message.blocks[1]["elements"][0]["text"] == (
        "Source: <https://www.news.example.com/ports|news.example.com>"
    )
    assert section_texts(message) == [
        "Dock workers &amp; owners agreed a 3-year deal.",
        "*Participants*\n• *Ana Ruiz* — union chief\n> _“Ruiz said”_",
        "*Topics*\n• *Wages* _(unverified)_\n> _“wages rise 4%”_",
        "*Tensions*\n• Automation — union\n> _“robots”_",
        "*Next steps*\n• Vote — Friday\n> _“vote on Friday”_",
    ]
    assert message.blocks[-1]["elements"][0]["text"] == "openai · gpt-4o-mini · cached"
    assert message.text == "Ports strike ends: Dock workers &amp; owners agreed a 3-year deal."


@pytest.mark.parametrize("field", ["participants", "topics", "tensions", "next_steps"])
def test_empty_sections_are_omitted(field: str) -> None:
    [message] = build_messages(small_brief(**{field: []}))
    assert len(section_texts(message)) == 4
    assert message.blocks.count({"type": "divider"}) == 3


def test_fallback_footer_and_no_url() -> None:
    meta = BriefMeta(engine="offline", fallback_reason="the model timed out")
    [message] = build_messages(small_brief(url=None, title=None, meta=meta))
    assert message.blocks[0]["text"]["text"] == "Brief"
    assert message.blocks[1]["type"] == "section"  # no source line without a URL
    assert message.blocks[-1]["elements"][0]["text"] == (
        "Offline engine · Written offline because the model timed out"
    )


def huge_brief() -> Brief:
    words = " ".join(f"w{i}&x" for i in range(2000))  # over 10,000 chars once escaped
    return Brief(
        title="T" * 300,
        url="https://example.com/long",
        summary="Long summary. " * 600,
        participants=[
            Participant(name=f"Person{i}", role="official", evidence=f"quote number {i}")
            for i in range(200)
        ],
        topics=[Topic(name="Enormous", evidence=words)],
        tensions=[Tension(description=f"Dispute{i}", evidence="x" * 120) for i in range(60)],
        next_steps=[NextStep(action=f"Step{i}", evidence="y") for i in range(40)],
        meta=BriefMeta(engine="openai", model="gpt-4o"),
    )


def test_long_brief_continues_in_more_messages() -> None:
    messages = build_messages(huge_brief())
    assert len(messages) > 3
    assert_within_limits(messages)
    assert messages[0].blocks[0]["type"] == "header"
    assert messages[0].blocks[0]["text"]["text"].endswith("…")
    for message in messages[1:]:
        assert message.text.endswith("(continued)")
        assert message.blocks[0]["type"] == "context"
        assert message.blocks[0]["elements"][0]["text"].endswith("(continued)")
    # The footer comes once, at the very end.
    assert messages[-1].blocks[-1]["elements"][0]["text"] == "openai · gpt-4o"
    text = all_text(messages)
    assert text.count("openai · gpt-4o") == 1


def test_long_brief_loses_nothing() -> None:
    messages = build_messages(huge_brief())
    text = all_text(messages)
    for i in range(200):
        assert f"*Person{i}* — official" in text
        assert f"quote number {i}”" in text
    for i in range(60):
        assert f"• Dispute{i}\\n" in text  # JSON-escaped newline after the item line
    for i in range(40):
        assert f"Step{i}" in text
    # The 10,000-char quote is split at word boundaries, every word kept whole.
    words = re.findall(r"w\d+&amp;x", text)
    assert sorted(set(words), key=lambda w: int(w[1:-6])) == [f"w{i}&amp;x" for i in range(2000)]
    summary = " ".join(t for m in messages for t in section_texts(m) if "Long summary" in t)
    assert summary.count("Long summary.") == 600


def test_a_section_moving_to_a_new_message_repeats_its_heading() -> None:
    messages = build_messages(huge_brief())
    firsts = [section_texts(m)[0] for m in messages[1:]]
    # Participants overflow the first message, and the huge quote spans several.
    assert firsts[0].startswith("*Participants* (continued)\n• *Person")
    assert sum(t.startswith("*Topics* (continued)\n") for t in firsts) >= 2


def test_many_tiny_items_respect_the_block_limit() -> None:
    # Each item nearly fills a section, so blocks (not characters) run out first.
    brief = small_brief(
        topics=[Topic(name=f"Topic{i}", evidence="z " * 1400) for i in range(120)],
    )
    messages = build_messages(brief)
    assert_within_limits(messages)
    text = all_text(messages)
    assert all(f"*Topic{i}*" in text for i in range(120))


def test_injection_never_reaches_blocks() -> None:
    brief = hostile_brief()
    messages = build_messages(brief)
    text = all_text(messages)
    assert not CONTROL.search(text)
    assert "@everyone" not in text and "@here" not in text and "@channel" not in text
    assert_within_limits(messages)


def test_custom_items_template_shapes_blocks(tmp_path: Path) -> None:
    from importlib import resources

    default = resources.files("bot.render.templates").joinpath("items.mrkdwn.j2").read_text()
    custom = default.replace("*{{ name }}*", ":pushpin: *{{ name | upper }}*")
    (tmp_path / "items.mrkdwn.j2").write_text(custom, encoding="utf-8")
    [message] = build_messages(small_brief(), template_dir=tmp_path)
    assert section_texts(message)[1].startswith(":pushpin: *PARTICIPANTS*\n")


def test_incomplete_items_template_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "items.mrkdwn.j2").write_text(
        "{% macro participant(p) %}{{ p.name }}{% endmacro %}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="has no macro 'source'"):
        build_messages(small_brief(), template_dir=tmp_path)


def test_broken_items_macro_names_file_and_line(tmp_path: Path) -> None:
    from importlib import resources

    default = resources.files("bot.render.templates").joinpath("items.mrkdwn.j2").read_text()
    (tmp_path / "items.mrkdwn.j2").write_text(default.replace("t.name", "t.nope"), "utf-8")
    with pytest.raises(ConfigError) as info:
        build_messages(small_brief(), template_dir=tmp_path)
    assert re.search(
        r"items\.mrkdwn\.j2, line \d+ is broken: .*has no attribute 'nope'", str(info.value)
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Couldn't fetch the page.", ":warning: Couldn't fetch the page."),
        ("Bad <!channel> & co", ":warning: Bad channel &amp; co"),
    ],
)
def test_error_message(message: str, expected: str) -> None:
    built = build_error_message(message)
    assert built.text == expected
    assert built.blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": expected}}]


def test_error_message_is_capped() -> None:
    built = build_error_message("word " * 2000)
    assert len(built.text) <= 3000 and built.text.endswith("…")


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("https://example.com/a?b=1&c=2", "Reading https://example.com/a?b=1&amp;c=2…"),
        ("<@U1> <!here>", "Reading U1 here…"),
        ("", "Reading your text…"),
    ],
)
def test_placeholder(label: str, text: str) -> None:
    built = build_placeholder(label)
    assert built.text == text
    assert built.blocks[0]["elements"][0]["text"] == f":hourglass_flowing_sand: {text}"


@pytest.mark.parametrize(
    ("text", "limit", "pieces"),
    [
        ("short", 10, ["short"]),
        ("aaaa bbbb cccc", 10, ["aaaa bbbb", "cccc"]),
        ("line one\nline two", 12, ["line one", "line two"]),
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
        ("xxxxxxx&amp;yyy", 10, ["xxxxxxx", "&amp;yyy"]),  # never splits an escape
    ],
)
def test_split_text(text: str, limit: int, pieces: list[str]) -> None:
    assert split_text(text, limit) == pieces


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("one two three four", 12) == "one two…"
