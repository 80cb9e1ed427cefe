"""Finding article links in Slack message text."""

from __future__ import annotations

import pytest

from bot.ingest.links import find_links, is_media_link, is_slack_link


def test_slack_markup_with_and_without_labels_in_order() -> None:
    text = (
        "Worth a read <https://news.example.com/a|news.example.com/a> and also "
        "<https://blog.example.org/post?id=1&amp;ref=slack>"
    )
    assert find_links(text) == [
        "https://news.example.com/a",
        "https://blog.example.org/post?id=1&ref=slack",  # Slack's &amp; undone
    ]


def test_mentions_channels_and_broadcasts_are_not_links() -> None:
    text = "<@U024BE7LH> <#C024BE7LR|general> <!here> <!subteam^S123|@team> see <https://x.example.com/s>"
    assert find_links(text) == ["https://x.example.com/s"]


def test_duplicates_are_dropped_keeping_first_position() -> None:
    text = "<https://a.example.com/1> <https://b.example.com/2> <https://a.example.com/1|again>"
    assert find_links(text) == ["https://a.example.com/1", "https://b.example.com/2"]


def test_bare_links_lose_sentence_punctuation_but_keep_balanced_parens() -> None:
    text = "Read https://a.example.com/story. Or (https://en.example.org/wiki/Foo_(bar))."
    assert find_links(text) == [
        "https://a.example.com/story",
        "https://en.example.org/wiki/Foo_(bar)",
    ]


def test_non_http_links_media_and_slack_links_are_ignored() -> None:
    text = (
        "<mailto:ops@example.com|ops@example.com> <ftp://files.example.com/x> "
        "<https://youtu.be/dQw4w9WgXcQ> <https://example.com/photo.JPG> "
        "<https://acme.slack.com/archives/C1/p123> <https://files.slack.com/files-pri/T1/x.pdf> "
        "<https://news.example.com/real-story>"
    )
    assert find_links(text) == ["https://news.example.com/real-story"]


def test_text_without_links() -> None:
    assert find_links("no links here, just <@U1> and <!channel>") == []


@pytest.mark.parametrize(
    ("url", "media"),
    [
        ("https://www.youtube.com/watch?v=abc", True),
        ("https://youtu.be/abc", True),
        ("https://vimeo.com/12345", True),
        ("https://media.giphy.com/media/x/giphy.gif", True),
        ("https://cdn.example.com/clip.mp4?sig=1", True),
        ("https://cdn.example.com/podcast/ep1.mp3", True),
        ("https://img.example.com/a/b/photo.webp", True),
        ("https://news.example.com/2024/05/14/story", False),
        ("https://news.example.com/story.html", False),
        ("https://example.com/report.pdf", False),
        ("https://notyoutube.com/watch", False),
    ],
)
def test_is_media_link(url: str, media: bool) -> None:
    assert is_media_link(url) is media


@pytest.mark.parametrize(
    ("url", "slack"),
    [
        ("https://acme.slack.com/archives/C1/p1", True),
        ("https://slack.com/apps", True),
        ("https://files.slack.com/files-pri/T1-F1/report.pdf", True),
        ("https://slack-files.com/T1-F1-abc", True),
        ("https://news.example.com/slack.com", False),
        ("https://notslack.com/", False),
    ],
)
def test_is_slack_link(url: str, slack: bool) -> None:
    assert is_slack_link(url) is slack
