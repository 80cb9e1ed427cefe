"""Light, conservative cleaning of pasted or extracted article text."""

from __future__ import annotations

import re
import unicodedata

from bot.ingest.junk import JUNK_PHRASES, junk_key

# Zero-width characters, soft hyphens, BOMs and bidi controls: invisible, and they break
# quote matching in grounding.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")

# Furniture that starts a line and runs on ("Subscribe to ... for $1", "Also Read: ...").
_JUNK_PREFIX = re.compile(
    r"^(also read|read also|read more|subscribe (to|for|now)|sign up (for|to)|follow us on|"
    r"share this|click here to|download the .{0,20}app|tags?:|topics:|"
    r"copyright (©|\(c\)|\d{4})|©|\(c\) ?\d{4}|all rights reserved)",
    re.IGNORECASE,
)
# A bare domain such as "www.fact.net.in" on a line of its own.
_BARE_DOMAIN = re.compile(r"^(https?://)?(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)+/?$", re.IGNORECASE)
# Lines removed wherever they appear: nothing but an ad slot marker.
_AD_MARKERS = frozenset(
    {
        "advertisement", "advertisements", "responsive banner",
        "story continues below advertisement", "article continues below advertisement",
        "scroll to continue with content",
    }
)  # fmt: skip
_SENTENCE_END = '.!?:;"”’)»…'
# Longest line (in words) that may be swept away below a junk marker: headline-sized.
_MAX_SWEPT_WORDS = 16
_MAX_PREFIXED_WORDS = 30


def _is_junk(line: str) -> bool:
    key = junk_key(line)
    if not key:
        return False
    if key in JUNK_PHRASES or _BARE_DOMAIN.match(key):
        return True
    # Furniture runs on for a few words; a long line is prose even if it starts alike.
    return bool(_JUNK_PREFIX.match(key)) and len(key.split()) <= _MAX_PREFIXED_WORDS


def _is_sweepable(line: str) -> bool:
    """Short, unpunctuated lines: brand names, related-headline titles, menu items."""
    stripped = line.strip()
    return (
        bool(stripped)
        and len(stripped.split()) <= _MAX_SWEPT_WORDS
        and stripped[-1] not in _SENTENCE_END
    )


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text.replace("\t", " "))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def _cut_trailing_junk(lines: list[str]) -> list[str]:
    """Cut the tail from its topmost junk line, if the tail is only junk and short lines."""
    cut = None
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if not line.strip():
            continue
        if _is_junk(line):
            cut = i
        elif not _is_sweepable(line):
            break
    return lines if cut is None else lines[:cut]


def _drop_duplicate_title(lines: list[str]) -> list[str]:
    """'Title\\n\\nTitle\\n\\nBody' -> 'Title\\n\\nBody' (copying a page often doubles it)."""
    filled = [i for i, line in enumerate(lines[:6]) if line.strip()]
    if len(filled) >= 2 and lines[filled[0]].strip() == lines[filled[1]].strip():
        return lines[: filled[0] + 1] + lines[filled[1] + 1 :]
    return lines


def clean_pasted_text(text: str) -> str:
    """Normalize whitespace, drop invisible characters, and cut trailing web junk."""
    lines = _normalize(text).split("\n")
    lines = [line for line in lines if junk_key(line) not in _AD_MARKERS or not line.strip()]
    lines = _drop_duplicate_title(lines)
    lines = _cut_trailing_junk(lines)
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()
