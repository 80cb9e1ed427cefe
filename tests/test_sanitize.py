"""Untrusted text can't ping anyone or form Slack markup once sanitized."""

from __future__ import annotations

import random
import re

import pytest

from bot.sanitize import (
    escape_mrkdwn,
    link,
    own_links,
    safe_url,
    sanitize_slack,
    strip_mentions,
)

# Any of these in posted text would be read by Slack as a control sequence.
CONTROL = re.compile(r"<[!@#]")
BARE_BROADCAST = re.compile(r"(?<!\w)[@＠﹫](channel|here|everyone)\b", re.IGNORECASE)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!channel> read this", "channel read this"),
        ("<!here>", "here"),
        ("<!everyone>", "everyone"),
        ("<!channel|x>", "channel"),
        ("<!here|@here>", "here"),
        ("<!subteam^S123|@team>", "team"),
        ("<!subteam^S123>", "team"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
        ("ask <@U123>", "ask U123"),
        ("ask <@W123|name>", "ask name"),
        ("see <#C123|general>", "see #general"),
        ("see <#C123>", "see #C123"),
        ("@channel look", "channel look"),
        ("@here", "here"),
        ("hey @everyone!", "hey everyone!"),
        ("@@Here twice", "Here twice"),
        ("＠channel full-width", "channel full-width"),
        ("(@here)", "(here)"),
        ("write to ops@here.com", "write to ops@here.com"),
        ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<https://evil.example|click>", "&lt;hxxps://evil[.]example|click&gt;"),
        # Already-escaped text stays literal: it displays as "&lt;!channel&gt;", pings no one.
        ("&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"),
        # Nested tries: peeling one sequence must not expose another.
        ("<!<!here>>", "here"),
        ("<<!here>!channel>", "&lt;here!channel&gt;"),
        ("<!chan<!here>nel>", "chanherenel"),
        ("@<!x|here>", "here"),
        ("<@W1|hi @channel>", "hi channel"),
        ("<!channel", "&lt;!channel"),
        ("plain text, no markup", "plain text, no markup"),
        ("", ""),
    ],
)
def test_sanitize_slack(raw: str, expected: str) -> None:
    assert sanitize_slack(raw) == expected


def test_sanitized_text_never_forms_markup() -> None:
    """Random splices of hostile fragments never survive as markup or a broadcast."""
    fragments = [
        "<",
        ">",
        "!",
        "@",
        "#",
        "|",
        "&",
        "channel",
        "here",
        "everyone",
        "subteam^S1",
        "<!here>",
        "<@U1>",
        "&lt;",
        "&gt;",
        "&amp;",
        " ",
        "x",
        "＠",
        "<#C1|g>",
        "\n",
    ]
    rng = random.Random(20240601)
    for _ in range(3000):
        raw = "".join(rng.choice(fragments) for _ in range(rng.randint(1, 12)))
        out = sanitize_slack(raw)
        assert "<" not in out and ">" not in out, raw
        assert not CONTROL.search(out), raw
        assert not BARE_BROADCAST.search(out), raw
        # Every "&" starts one of Slack's three escapes, so none can be misread.
        assert re.fullmatch(r"([^&]|&amp;|&lt;|&gt;)*", out, re.DOTALL), raw


def test_strip_mentions_keeps_text_unescaped() -> None:
    assert strip_mentions("<!here> & <@U1>") == "here & U1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a & b", "a &amp; b"),
        ("<>", "&lt;&gt;"),
        ("&amp;", "&amp;amp;"),
        ("*bold* _it_ `code`", "*bold* _it_ `code`"),
    ],
)
def test_escape_mrkdwn(raw: str, expected: str) -> None:
    assert escape_mrkdwn(raw) == expected


@pytest.mark.parametrize(
    ("url", "label", "expected"),
    [
        ("https://example.com/a", "Title", "<https://example.com/a|Title>"),
        ("http://example.com", None, "<http://example.com|http://example.com>"),
        ("https://e.com/?a=1&b=2", "A & B", "<https://e.com/?a=1&amp;b=2|A &amp; B>"),
        ("https://e.com/a|b>c", "x", "<https://e.com/a%7Cb%3Ec|x>"),
        ("https://e.com", "hi <!here> > you", "<https://e.com|hi here &gt; you>"),
        ("https://e.com", "two\nlines", "<https://e.com|two lines>"),
        ("javascript:alert(1)", "click", "click"),
        ("ftp://e.com/file", "file", "file"),
        ("https:///nohost", "x", "x"),
        ("https://e.com/\x00", "x", "x"),
        ("not a url", None, "not a url"),
    ],
)
def test_link(url: str, label: str | None, expected: str) -> None:
    assert link(url, label) == expected


def test_safe_url_only_http() -> None:
    assert safe_url("HTTPS://Example.com/x") == "HTTPS://Example.com/x"
    assert safe_url("mailto:a@b.c") is None
    assert safe_url("//example.com") is None


# --- issue 15, finding 9: URLs, bidi controls and formatting-wrapped broadcasts ----------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Log in at https://evil.example/login now",
         "Log in at hxxps://evil[.]example/login now"),
        ("HTTP://Evil.example:8080/x?a=b.", "HXXP://Evil[.]example:8080/x?a=b."),
        ("go to www.evil.example/pay", "go to www[.]evil[.]example/pay"),
        ("(see https://evil.example)", "(see hxxps://evil[.]example)"),
        ("_@channel_ look", "_channel_ look"),
        ("*@here* now", "*here* now"),
        ("~@everyone~", "~everyone~"),
        ("`@here`", "`here`"),
        ("_＠channel_", "_channel_"),
        ("write to ops@here.com", "write to ops@here.com"),
        ("safe\u202egnp.exe", "safegnp.exe"),
        ("".join(map(chr, [0x202A, 0x202B, 0x202C, 0x202D, 0x2066, 0x2067, 0x2068, 0x2069,
                           0x200E, 0x200F, 0x061C])) + "ok", "ok"),
    ],
)  # fmt: skip
def test_urls_go_inert_and_hidden_tricks_are_removed(raw: str, expected: str) -> None:
    assert sanitize_slack(raw) == expected


def test_only_the_articles_own_link_stays_live() -> None:
    own = "https://news.example/story"
    text = f"Read {own}, not https://evil.example/login."
    with own_links([own]):
        assert sanitize_slack(text) == f"Read {own}, not hxxps://evil[.]example/login."
    assert "https://" not in sanitize_slack(text)  # outside a brief nothing is kept


def test_every_posted_brief_has_no_foreign_live_url_bidi_or_wrapped_ping() -> None:
    """Through the real Block Kit builder: role, topic, tension, next step and gist."""
    from bot.models import Brief, BriefMeta, NextStep, Participant, Tension, Topic
    from bot.render import build_messages

    evil = "Log in at https://evil.example/login \u202e _@channel_"
    brief = Brief(
        title="T", url="https://news.example/a", summary=f"Gist. {evil}",
        participants=[Participant(name="Ann", role=evil, evidence="e")],
        topics=[Topic(name=evil, evidence="e")],
        tensions=[Tension(description=evil, parties=["x"], evidence="e")],
        next_steps=[NextStep(action=evil, owner="o", when="w", evidence="e")],
        meta=BriefMeta(engine="offline"),
    )  # fmt: skip
    posted = str([(m.text, m.blocks) for m in build_messages(brief)])
    assert "https://evil" not in posted and "evil.example" not in posted
    assert posted.count("hxxps://evil[.]example/login") >= 5
    assert "\u202e" not in posted and "@channel" not in posted
    assert "<https://news.example/a|" in posted  # the article's own link is still a link


def test_url_and_broadcast_patterns_are_linear_on_adversarial_input() -> None:
    import time

    for text in ("http://" * 30_000, "www." * 50_000, "_@" * 50_000 + "channe",
                 "https://a" + "." * 200_000, "@" * 200_000 + "her"):  # fmt: skip
        started = time.process_time()
        sanitize_slack(text)
        assert time.process_time() - started < 1.0
