"""Make untrusted text (articles, model output) safe to post to Slack.

Slack reads ``<...>`` as control sequences: ``<!channel>`` pings a whole channel,
``<@U123>`` pings a person, ``<!subteam^S1>`` a user group. Text we did not write must
never form one. :func:`sanitize_slack` turns existing control sequences into plain words
and then escapes ``&``, ``<`` and ``>`` (Slack's only escapes), so no new one can appear.
See https://api.slack.com/reference/surfaces/formatting#escaping.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["escape_mrkdwn", "link", "safe_url", "sanitize_slack", "strip_mentions"]

# One control sequence: "<" + a sigil (!, @ or #) + anything but brackets + ">".
# Inner brackets are excluded so nested tries are peeled from the inside out.
_CONTROL = re.compile(r"<([!@#])([^<>|]*)(?:\|([^<>]*))?>")
# Bare broadcast words: Slack pings these when a client sends link_names=1. Not inside
# a word, so "ops@here.com" stays an address.
_BARE_BROADCAST = re.compile(r"(?<!\w)[@\uff20\ufe6b]+(channel|here|everyone)\b", re.IGNORECASE)
_BROADCASTS = frozenset({"channel", "here", "everyone", "group"})
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Characters that would end or split a <url|label> sequence, percent-encoded in URLs.
_URL_UNSAFE = str.maketrans({"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", '"': "%22"})


def _replace_control(match: re.Match[str]) -> str:
    sigil, body, label = match.group(1), match.group(2).strip(), match.group(3)
    if sigil == "!" and body.lower() in _BROADCASTS:
        word = body  # <!channel>, <!here|@here> -> "channel", "here"
    elif sigil == "!" and body.startswith("subteam^") and not (label or "").strip():
        word = "team"
    elif label is not None and label.strip():
        # <@W123|name>, <#C123|general>, <!subteam^S1|@team>, <!date^...|fallback>
        word = label.strip().lstrip("@#\uff20\ufe6b")
    elif sigil == "!":
        word = body.split("^", 1)[0]  # <!date^...> and other commands -> their name
    else:
        word = body
    word = word or "someone"
    return f"#{word}" if sigil == "#" else word


def strip_mentions(text: str) -> str:
    """Turn Slack mentions, broadcasts and channel links into plain words; don't escape."""
    previous = None
    # Repeat until stable: removing an inner sequence can expose an outer one.
    while previous != text:
        previous = text
        text = _CONTROL.sub(_replace_control, text)
    previous = None
    while previous != text:  # "@@here" -> "@here" -> "here"
        previous = text
        text = _BARE_BROADCAST.sub(r"\1", text)
    return text


def escape_mrkdwn(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` the way Slack expects; nothing else is touched."""
    return text.translate(_ESCAPES)


def sanitize_slack(text: str) -> str:
    """Strip mention/broadcast syntax from untrusted text, then escape it for Slack."""
    return escape_mrkdwn(strip_mentions(text))


def safe_url(url: str) -> str | None:
    """The URL escaped for use inside ``<...>``, or None unless it is absolute http(s)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    # Only the characters that would end or split the sequence are encoded.
    return escape_mrkdwn(url.translate(_URL_UNSAFE))


def link(url: str, label: str | None = None) -> str:
    """A Slack link ``<url|label>``; just the escaped label when the URL is not http(s)."""
    shown = sanitize_slack(label if label is not None and label.strip() else url)
    # A label can't hold a newline; "|" is fine (Slack splits at the first one) but ">" isn't,
    # and sanitize_slack has already escaped it.
    shown = " ".join(shown.split())
    target = safe_url(url)
    if target is None:
        return shown
    return f"<{target}|{shown}>"
