"""Grounding: keep only brief items whose evidence is a verbatim quote from the article.

Matching forgives typography (curly vs straight quotes, dash kinds, whitespace, NBSP,
zero-width characters, Unicode compatibility forms) but not wording: case and words
must match. An ellipsis in a quote may join fragments that appear in order.

It also removes any URL the article doesn't contain from the brief's text, so a page
can't use the model to smuggle a link into a channel.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TypeVar

from pydantic import BaseModel

from bot.models import Brief

#: A quote needs at least this many words and characters to count as evidence.
MIN_QUOTE_WORDS = 3
MIN_QUOTE_CHARS = 12

_TYPOGRAPHY = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′‵`´", "'"),
        **dict.fromkeys("“”„‟″‶«»〝〞＂", '"'),
        **dict.fromkeys("‐‑‒–—―−﹘﹣－", "-"),
        "…": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2007": " ",
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", None),
    }
)
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# "...", ". . .", "[...]" or "(...)" with any spacing around it.
# (?<!\s): a match never starts inside a run of spaces it already failed on (quadratic).
# and no two \s* sit either side of an optional bracket (they'd split a run every way).
_ELLIPSIS = re.compile(r"(?<!\s)\s*(?:[\[(]\s*)?\.\s?\.\s?\.(?:\s?\.)*\s*(?:[\])]\s*)?")
_EDGE_PUNCT = " '\".,;:!?-"

# URLs with a scheme, www. hosts, and bare lower-case hosts under common TLDs (Slack
# auto-links those; lower case only, so "ASP.NET" or "Node.js" in prose survive).
_URL = re.compile(
    r"(?i:\b(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]*://|www\.))[^\s<>\"'`|]+"
    # The lookbehinds stop a match starting mid-host: "a-" or "a." * 10,000 was quadratic.
    r"|\b(?<![a-z0-9-])(?<![a-z0-9-]\.)(?:[a-z0-9-]+\.)+"
    r"(?:com|net|org|io|co|ai|app|dev|info|biz|xyz|ru|cn|ly|me|to|gg"
    r"|gov|edu|uk|us|in|de|fr)\b(?:/[^\s<>\"'`|]*)?"
)
_SLACK_LINK = re.compile(r"<([^<>|\s]+)(?:\|([^<>]*))?>")
_MARKDOWN_LINK = re.compile(r"\[([^\[\]]*)\]\(([^()\s]+)\)")
_URL_TRAILING = ".,;:!?)]}'\""

_Item = TypeVar("_Item", bound=BaseModel)


def normalize_for_match(text: str) -> str:
    """``text`` in the form quotes are compared in: typography folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text.translate(_TYPOGRAPHY)).translate(_TYPOGRAPHY)
    return _WHITESPACE.sub(" ", text).strip()


def _match_form(text: str) -> str:
    # Models often swap inner double quotes for single ones when writing JSON strings.
    return normalize_for_match(text).replace('"', "'")


def _is_substantial(fragment: str) -> bool:
    words = _WORD.findall(fragment)
    return len(fragment) >= MIN_QUOTE_CHARS and len(words) >= MIN_QUOTE_WORDS


def _fragments(quote: str) -> list[str]:
    """The quote's exact pieces, split at ellipses, without edge quote marks or punctuation."""
    pieces = (piece.strip(_EDGE_PUNCT) for piece in _ELLIPSIS.split(_match_form(quote)))
    return [piece for piece in pieces if piece]


def _find_in_order(fragments: list[str], norm_text: str) -> bool:
    pos = 0
    for fragment in fragments:
        # Word boundaries at the ends, so "sign" doesn't match inside "signed".
        pattern = rf"(?<!\w){re.escape(fragment)}(?!\w)"
        match = re.compile(pattern).search(norm_text, pos)
        if match is None:
            return False
        pos = match.end()
    return True


def _grounded(quote: str, norm_text: str) -> bool:
    fragments = _fragments(quote)
    # One fragment must be a real quote; short pieces joined by "..." prove nothing alone.
    if not fragments or not any(_is_substantial(fragment) for fragment in fragments):
        return False
    return _find_in_order(fragments, norm_text)


def quote_in_text(quote: str, text: str) -> bool:
    """Whether ``quote`` is a verbatim (typography-insensitive) quote from ``text``.

    An ellipsis may join fragments that appear in ``text`` in the same order. Quotes
    under 3 words or 12 characters (in their longest fragment) are never grounded.
    """
    return _grounded(quote, _match_form(text))


def _url_is_in(url: str, article_text: str, article_lower: str) -> bool:
    return url in article_text or url.lower() in article_lower


def strip_foreign_urls(text: str, article_text: str) -> str:
    """Remove from ``text`` every URL that ``article_text`` does not contain."""
    article_lower = article_text.lower()

    def keep(url: str) -> bool:
        return _url_is_in(url.rstrip(_URL_TRAILING), article_text, article_lower)

    def slack_link(match: re.Match[str]) -> str:
        if keep(match.group(1)):
            return match.group(0)
        return match.group(2) or ""

    def markdown_link(match: re.Match[str]) -> str:
        return match.group(0) if keep(match.group(2)) else match.group(1)

    def bare_url(match: re.Match[str]) -> str:
        url = match.group(0)
        core = url.rstrip(_URL_TRAILING)
        return url if keep(core) else url[len(core) :]

    cleaned = _SLACK_LINK.sub(slack_link, text)
    cleaned = _MARKDOWN_LINK.sub(markdown_link, cleaned)
    cleaned = _URL.sub(bare_url, cleaned)
    if cleaned == text:
        return text
    cleaned = re.sub(r"\(\s*\)|\[\s*\]|<\s*>", "", cleaned)
    cleaned = re.sub(r"[^\S\n]{2,}", " ", cleaned)
    return re.sub(r"[^\S\n]+([.,;:!?])", r"\1", cleaned).strip()


def _without_foreign_urls(item: _Item, article_text: str) -> _Item:
    """A copy of ``item`` with foreign URLs removed from all of its text fields."""
    update: dict[str, object] = {}
    for name, value in item:
        if isinstance(value, str):
            cleaned: object = strip_foreign_urls(value, article_text)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            cleaned = [strip_foreign_urls(v, article_text) for v in value]
        else:
            continue
        if cleaned != value:
            update[name] = cleaned
    return item.model_copy(update=update) if update else item


def ground_brief(brief: Brief, article_text: str, *, keep_unverified: bool = False) -> Brief:
    """Check every item's evidence against ``article_text``; drop (or flag) those that fail.

    ``meta.dropped_unverified`` counts the items that failed verification in this call,
    whether they were dropped or kept with ``verified=False``. Foreign URLs are removed
    from the summary, the title and every item. ``brief.url`` is the source link the
    pipeline set, so it is left alone.
    """
    norm_text = _match_form(article_text)
    failed = 0

    def check(items: list[_Item]) -> list[_Item]:
        nonlocal failed
        kept: list[_Item] = []
        for item in items:
            ok = _grounded(str(getattr(item, "evidence", "")), norm_text)
            if not ok:
                failed += 1
                if not keep_unverified:
                    continue
            item = item.model_copy(update={"verified": ok})
            kept.append(_without_foreign_urls(item, article_text))
        return kept

    return brief.model_copy(
        update={
            "title": strip_foreign_urls(brief.title, article_text) if brief.title else None,
            "summary": strip_foreign_urls(brief.summary, article_text),
            "participants": check(brief.participants),
            "topics": check(brief.topics),
            "tensions": check(brief.tensions),
            "next_steps": check(brief.next_steps),
            "meta": brief.meta.model_copy(update={"dropped_unverified": failed}),
        }
    )
