"""The one list of web junk: page furniture that is never article prose.

Both readers of untrusted text use it: ``bot.ingest.clean`` cuts trailing furniture from
extracted and pasted text, and the offline engine (``bot.engines.offline_text``) skips
furniture lines when it picks a title and sentences. Every phrase is junk as a whole line
(compared by ``junk_key``). A tell-tale also marks a short line as junk wherever it appears
in it ("Click here to subscribe to our newsletter"): the offline engine's test, which only
skips lines; cleaning cuts text, so it matches whole lines only.
"""

from __future__ import annotations

_TELLTALES = (
    "related stories", "related articles", "related news", "advertisement", "sponsored",
    "subscribe", "sign up", "newsletter", "share this", "share on", "read more", "also read",
    "click here", "follow us", "cookie", "all rights reserved", "copyright", "©",
    "you may also like", "recommended for you", "most read", "trending", "log in", "login",
    "comments", "print this", "skip to", "back to top", "download the app",
)  # fmt: skip
# Words a sentence may well contain ("had", "Facebook", "shares"): junk only as a whole line.
_WHOLE_LINES = (
    "related posts", "related", "related content", "related coverage", "related topics",
    "more stories", "more from this section", "no stories found", "no related stories found",
    "responsive banner", "advertisements", "ad", "sponsored content", "sponsored stories",
    "promoted stories", "promoted content", "story continues below advertisement",
    "article continues below advertisement", "continue reading below",
    "scroll to continue with content", "read also", "read next", "must read",
    "you might also like", "recommended", "recommended stories", "trending now",
    "trending stories", "top stories", "latest news", "latest stories", "most popular",
    "popular stories", "share this article", "share this story", "share this post",
    "share article", "share", "share on facebook", "share on twitter", "share on x",
    "share on whatsapp", "share on linkedin", "share via email", "facebook", "twitter",
    "whatsapp", "linkedin", "telegram", "email", "print", "copy link", "subscribe now",
    "subscribe to our newsletter", "sign up for our newsletter", "follow us on google news",
    "leave a comment", "post a comment", "view comments", "tags", "topics", "loading",
    "loading...", "click here to subscribe",
)  # fmt: skip

#: Every furniture phrase, lowercased: each is junk as a whole line.
JUNK_PHRASES: frozenset[str] = frozenset(_TELLTALES + _WHOLE_LINES)
#: The phrases that make a short line junk wherever they appear in it.
TELLTALES: tuple[str, ...] = _TELLTALES


def junk_key(line: str) -> str:
    """A line as the list spells it: lowercased, decoration and trailing stops stripped."""
    return line.strip().strip("|•·-–—:>#*_ ").rstrip(".…!").strip().lower()


def is_junk_phrase(line: str) -> bool:
    """The whole line is one furniture phrase ("Related Stories", "Share", "Advertisement")."""
    return junk_key(line) in JUNK_PHRASES
