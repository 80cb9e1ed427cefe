"""Find article links in Slack message text, and tell media and Slack links apart."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

# Slack wraps every link it recognises in angle brackets: <url> or <url|label>. Mentions
# (<@U..>), channels (<#C..>) and broadcasts (<!here>) use the same brackets.
_SLACK_MARKUP = re.compile(r"<([^<>|\s]+)(?:\|([^<>]*))?>")
# Bare links, for text that did not come through Slack's formatter.
_BARE_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING_PUNCT = ".,;:!?'\"”’»)]}"

_MEDIA_EXTENSIONS = frozenset(
    {
        # images
        "jpg", "jpeg", "png", "gif", "webp", "bmp", "svg", "tif", "tiff", "ico", "heic", "avif",
        # video
        "mp4", "m4v", "mov", "avi", "mkv", "webm", "wmv", "flv", "m3u8", "mpd",
        # audio
        "mp3", "m4a", "aac", "wav", "flac", "ogg", "oga", "opus",
    }
)  # fmt: skip
# Hosts whose pages are players or image viewers, never articles.
_MEDIA_HOSTS = frozenset(
    {
        "youtube.com", "youtu.be", "youtube-nocookie.com", "vimeo.com", "giphy.com",
        "tenor.com", "imgur.com", "flickr.com", "instagram.com", "tiktok.com",
        "soundcloud.com", "open.spotify.com", "twitch.tv", "dailymotion.com", "loom.com",
    }
)  # fmt: skip
_SLACK_HOSTS = ("slack.com", "slack-edge.com", "slack-files.com", "slack-imgs.com", "slack.net")


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def _host_in(host: str, domains: frozenset[str] | tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def is_media_link(url: str) -> bool:
    """True for links to images, video or audio (by file extension or a known media host)."""
    if _host_in(_host(url), _MEDIA_HOSTS):
        return True
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return False
    last = path.rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[-1] in _MEDIA_EXTENSIONS


def is_slack_link(url: str) -> bool:
    """True for links to Slack itself: workspaces, message permalinks, uploaded files."""
    return _host_in(_host(url), _SLACK_HOSTS)


def _trim(url: str) -> str:
    """Drop punctuation that ends the sentence rather than the link (keeps balanced parens)."""
    while url and url[-1] in _TRAILING_PUNCT:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://")) and bool(_host(url))


def slack_links(text: str) -> list[tuple[str, str | None]]:
    """Every http(s) link in Slack markup or bare, as (url, label), in order, deduplicated."""
    found: list[tuple[int, str, str | None]] = []
    for m in _SLACK_MARKUP.finditer(text):
        target = m.group(1)
        if target[:1] in "@#!":  # user, channel and broadcast mentions
            continue
        # Slack escapes &, < and > inside links as HTML entities.
        label = html.unescape(m.group(2)).strip() if m.group(2) else None
        found.append((m.start(), html.unescape(target), label or None))
    outside = _SLACK_MARKUP.sub(lambda m: " " * len(m.group(0)), text)
    for m in _BARE_URL.finditer(outside):
        found.append((m.start(), _trim(html.unescape(m.group(0))), None))
    found.sort(key=lambda item: item[0])
    seen: set[str] = set()
    links: list[tuple[str, str | None]] = []
    for _, url, label in found:
        if _is_http(url) and url not in seen:
            seen.add(url)
            links.append((url, label))
    return links


def find_links(text: str) -> list[str]:
    """Article links in a Slack message: http(s) only, no Slack or media links, in order."""
    return [
        url for url, _ in slack_links(text) if not is_slack_link(url) and not is_media_link(url)
    ]
