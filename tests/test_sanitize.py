"""Untrusted text can't ping anyone or form Slack markup once sanitized."""

from __future__ import annotations

import random
import re

import pytest

from bot.sanitize import escape_mrkdwn, link, safe_url, sanitize_slack, strip_mentions

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
        ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
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
