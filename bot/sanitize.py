"""Make untrusted text (articles, model output) safe to post to Slack.

Slack reads ``<...>`` as control sequences: ``<!channel>`` pings a whole channel,
``<@U123>`` pings a person, ``<!subteam^S1>`` a user group. Text we did not write must
never form one. :func:`sanitize_slack` turns existing control sequences into plain words
and then escapes ``&``, ``<`` and ``>`` (Slack's only escapes), so no new one can appear.
See https://api.slack.com/reference/surfaces/formatting#escaping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit

__all__ = [
    "defang_urls",
    "escape_mrkdwn",
    "link",
    "own_links",
    "safe_url",
    "sanitize_slack",
    "strip_bidi",
    "strip_mentions",
]

# One control sequence: "<" + a sigil (!, @ or #) + anything but brackets + ">".
# Inner brackets are excluded so nested tries are peeled from the inside out.
_CONTROL = re.compile(r"<([!@#])([^<>|]*)(?:\|([^<>]*))?>")
# Bare broadcast words: Slack pings these when a client sends link_names=1. Not inside
# a word, so "ops@here.com" stays an address.
# "_" counts as a boundary too: Slack reads _@channel_ (italic) as a broadcast. One "@"
# only: runs of them are collapsed first (a "+" here rescanned a long run of "@" from
# every position, which was quadratic).
_BARE_BROADCAST = re.compile(
    r"(?<![^\W_])[@\uff20\ufe6b](channel|here|everyone)(?![^\W_])", re.IGNORECASE
)
_AT_RUN = re.compile(r"[@\uff20\ufe6b]{2,}")
_BROADCASTS = frozenset({"channel", "here", "everyone", "group"})
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Bidi controls (LRE..RLO, LRI..PDI, LRM/RLM, ALM) can reorder what a reader sees, e.g.
# make "exe.pdf" read as "fdp.exe"; they never carry meaning in a brief.
_BIDI = str.maketrans(
    dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
)
# A URL Slack would auto-link: a scheme or "www." then anything up to a space or bracket.
# One literal prefix and one character class: linear, no backtracking.
_AUTOLINK = re.compile(r"(?i:\bhttps?://|\bwww\.)[^\s<>]+")
_URL_TRAILING = ".,;:!?)]}'\""
# The article's own links, which may stay live in item text (set while rendering a brief).
_OWN_LINKS: ContextVar[frozenset[str]] = ContextVar("own_links", default=frozenset())
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
    text = _AT_RUN.sub("@", text)  # "@@here" -> "@here"
    previous = None
    while previous != text:  # "@<!x|here>" -> "@here" -> "here"
        previous = text
        text = _BARE_BROADCAST.sub(r"\1", text)
    return text


def strip_bidi(text: str) -> str:
    """Remove bidirectional control characters."""
    return text.translate(_BIDI)


@contextmanager
def own_links(urls: Iterable[str | None]) -> Iterator[None]:
    """While rendering a brief: its own link(s) stay live in item text; other URLs go inert."""
    token = _OWN_LINKS.set(frozenset(u.strip() for u in urls if u and u.strip()))
    try:
        yield
    finally:
        _OWN_LINKS.reset(token)


def _defang(url: str) -> str:
    # "hxxps://evil[.]example/login": the well-known defanged form. Readable and easy to
    # re-type on purpose, but neither the scheme nor the host is one Slack will link.
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    cut = min((i for i in (rest.find(c) for c in "/?#|\\") if i != -1), default=len(rest))
    host = rest[:cut].replace(".", "[.]")
    scheme = re.sub("(?i)tt", lambda m: "xx" if m.group(0).islower() else "XX", scheme, count=1)
    return f"{scheme}{sep}{host}{rest[cut:]}"


def defang_urls(text: str, *, keep: Iterable[str] | None = None) -> str:
    """Make every URL in ``text`` inert for Slack, except those in ``keep`` (default: own links)."""
    kept = _OWN_LINKS.get() if keep is None else frozenset(k.strip() for k in keep if k)

    def one(match: re.Match[str]) -> str:
        url = match.group(0)
        core = url.rstrip(_URL_TRAILING)
        if core in kept or url in kept:
            return url
        return _defang(core) + url[len(core) :]

    return _AUTOLINK.sub(one, text)


def escape_mrkdwn(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` the way Slack expects; nothing else is touched."""
    return text.translate(_ESCAPES)


def sanitize_slack(text: str, *, keep_urls: Iterable[str] | None = None) -> str:
    """Make untrusted text safe to post: no bidi controls, no mention or broadcast syntax,
    no live URL but the article's own (see :func:`own_links`), and Slack's escapes applied.
    """
    return escape_mrkdwn(defang_urls(strip_mentions(strip_bidi(text)), keep=keep_urls))


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
    # A label is not auto-linked inside <url|label>, but a URL in it still misleads unless
    # it is the target itself.
    shown = sanitize_slack(label if label is not None and label.strip() else url, keep_urls=[url])
    # A label can't hold a newline; "|" is fine (Slack splits at the first one) but ">" isn't,
    # and sanitize_slack has already escaped it.
    shown = " ".join(shown.split())
    target = safe_url(url)
    if target is None:
        return shown
    return f"<{target}|{shown}>"
