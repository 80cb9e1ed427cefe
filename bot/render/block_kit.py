"""Block Kit messages for a brief: pure builders that respect Slack's limits.

A message holds at most 50 blocks, a section's text at most 3000 characters and a header
at most 150; ``chat.update`` rejects fallback text over about 4000 (``msg_too_long``).
A long brief continues in further messages instead of failing, and an over-long item is
split across sections at word boundaries. Item text comes from ``items.mrkdwn.j2``, so a
custom template changes Block Kit output too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.errors import ConfigError
from bot.models import Brief
from bot.render.templating import ITEMS_TEMPLATE, environment, template_errors
from bot.sanitize import own_links, sanitize_slack

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
FALLBACK_LIMIT = 2900
#: Soft cap on the text in one message: Slack folds long messages behind "Show more",
#: and a thread of readable messages beats one wall.
MESSAGE_CHAR_BUDGET = 12_000
CONTINUED = " (continued)"

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("Participants", "participants", "participant"),
    ("Topics", "topics", "topic"),
    ("Tensions", "tensions", "tension"),
    ("Next steps", "next_steps", "next_step"),
)


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage/chat.update payload: fallback ``text`` plus ``blocks``."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


# --- text helpers --------------------------------------------------------------------


def _entity_safe_cut(text: str, cut: int) -> int:
    """Move a hard cut back so it does not split an ``&amp;``-style escape."""
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        return amp if amp > 0 else cut
    return cut


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most ``limit`` chars, at line or word boundaries."""
    if limit < 10:
        raise ValueError("limit too small to split text")
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit + 1)
        if cut <= 0:  # one enormous word: cut it, but never inside an escape
            cut = _entity_safe_cut(text, limit)
            pieces.append(text[:cut])
            text = text[cut:]
        else:
            pieces.append(text[:cut].rstrip())
            text = text[cut + 1 :]
    if text.strip() or not pieces:
        pieces.append(text)
    return [piece for piece in pieces if piece] or [""]


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` chars, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    return split_text(text, limit - 1)[0].rstrip() + "…"


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_mrkdwn(truncate(text, SECTION_LIMIT))])


# --- packing -------------------------------------------------------------------------


@dataclass
class _Packer:
    """Fills messages with blocks, opening a "(continued)" message when one is full."""

    title: str  # sanitized plain title
    fallback: str  # sanitized fallback text of the first message
    messages: list[list[Block]] = field(default_factory=list)
    chars: int = 0
    fresh: bool = True  # nothing but the opening blocks in the current message yet
    divider_pending: bool = False

    def __post_init__(self) -> None:
        self.messages.append([])

    def _open_continuation(self) -> None:
        self.messages.append([_context(f"*{self.title}*{CONTINUED}")])
        self.chars = len(self.title) + len(CONTINUED)
        self.fresh = True

    def _fits(self, size: int, blocks: int = 1) -> bool:
        # One block stays free in every message for the footer.
        blocks_ok = len(self.messages[-1]) + blocks <= MAX_BLOCKS - 1
        return blocks_ok and (self.fresh or self.chars + size <= MESSAGE_CHAR_BUDGET)

    def add(self, block: Block, size: int = 0, *, opening: bool = False) -> None:
        if not self._fits(size):
            self._open_continuation()
        self.messages[-1].append(block)
        self.chars += size
        self.fresh = self.fresh and opening

    def add_divider(self) -> None:
        """Put a divider before the next section, unless that section opens a message."""
        self.divider_pending = True

    def add_section(self, text: str, *, heading: str | None = None) -> None:
        """Add a section; ``heading`` is repeated when the text lands in a new message."""
        divider = self.divider_pending and not self.fresh
        self.divider_pending = False
        if not self._fits(len(text), 2 if divider else 1):
            self._open_continuation()
            divider = False
            if heading is not None:
                text = f"{heading}{CONTINUED}\n{text}"
        if divider:
            self.messages[-1].append(DividerBlock())
        self.add(SectionBlock(text=_mrkdwn(text)), len(text))

    def finish(self, footer: str) -> list[SlackMessage]:
        if footer.strip():
            self.messages[-1].append(_context(footer))
        out: list[SlackMessage] = []
        for index, blocks in enumerate(self.messages):
            text = self.fallback if index == 0 else f"{self.title}{CONTINUED}"
            out.append(
                SlackMessage(
                    text=truncate(text, FALLBACK_LIMIT),
                    blocks=[block.to_dict() for block in blocks],  # validates Slack's limits
                )
            )
        return out


# --- the brief -----------------------------------------------------------------------


def _macros(template_dir: Path | None) -> Callable[[str], Callable[..., str]]:
    env = environment("mrkdwn", template_dir)
    with template_errors(ITEMS_TEMPLATE):
        module = env.get_template(ITEMS_TEMPLATE).module

    def macro(name: str) -> Callable[..., str]:
        func = getattr(module, name, None)
        if func is None:
            raise ConfigError(
                f"Template {ITEMS_TEMPLATE} has no macro {name!r}.",
                hint="Copy the built-in items.mrkdwn.j2 and change it, keeping every macro.",
            )

        def call(*args: Any) -> str:
            with template_errors(ITEMS_TEMPLATE):
                return str(func(*args)).strip()

        return call

    return macro


def _add_items(packer: _Packer, heading: str, items: Sequence[str]) -> None:
    # Leave room in every section for "<heading> (continued)\n", should it move messages,
    # and in every piece for the heading that opens the first section.
    cap = SECTION_LIMIT - len(heading) - len(CONTINUED) - 1
    piece_cap = cap - len(heading) - 1
    buffer, opens_with_heading = heading, True
    for item in items:
        for piece in split_text(item, piece_cap):
            if len(buffer) + 1 + len(piece) <= cap:
                buffer = f"{buffer}\n{piece}"
                continue
            packer.add_section(buffer, heading=None if opens_with_heading else heading)
            buffer, opens_with_heading = piece, False
    packer.add_section(buffer, heading=None if opens_with_heading else heading)


def build_messages(brief: Brief, *, template_dir: Path | None = None) -> list[SlackMessage]:
    """Block Kit messages for a brief: the first is the reply, the rest "(continued)"."""
    # Only the article's own link stays live in item text; any other URL is made inert.
    with own_links([brief.url]):
        return _build_messages(brief, template_dir=template_dir)


def _build_messages(brief: Brief, *, template_dir: Path | None) -> list[SlackMessage]:
    macro = _macros(template_dir)
    title = " ".join(sanitize_slack(brief.title or "").split()) or "Brief"
    summary = sanitize_slack(brief.summary.strip())
    fallback = f"{title}: {' '.join(summary.split())}" if summary else title
    packer = _Packer(title=truncate(title, 200), fallback=fallback)

    header = truncate(title, HEADER_LIMIT)
    packer.add(HeaderBlock(text=PlainTextObject(text=header, emoji=True)), opening=True)
    source = macro("source")(brief)
    if source:
        packer.add(_context(source), len(source), opening=True)
    if summary:
        for piece in split_text(summary, SECTION_LIMIT):
            packer.add_section(piece)

    for name, attr, macro_name in SECTIONS:
        items = getattr(brief, attr)
        if not items:
            continue
        render_item = macro(macro_name)
        heading = truncate(macro("section_title")(name), 200)
        packer.add_divider()
        _add_items(packer, heading, [render_item(item) for item in items])

    return packer.finish(macro("footer")(brief.meta))


def build_error_message(message: str) -> SlackMessage:
    """A short warning message for the thread, e.g. ``str(BriefbotError)``."""
    text = truncate(f":warning: {sanitize_slack(message.strip())}", FALLBACK_LIMIT)
    return SlackMessage(text=text, blocks=[SectionBlock(text=_mrkdwn(text)).to_dict()])


def build_placeholder(label: str) -> SlackMessage:
    """The "Reading <label>…" message posted first and later updated in place."""
    # The label is the link the user pasted: theirs, so it stays a link.
    shown = truncate(" ".join(sanitize_slack(label, keep_urls=[label]).split()), 200)
    shown = shown or "your text"
    text = f"Reading {shown}…"
    block = ContextBlock(elements=[_mrkdwn(f":hourglass_flowing_sand: {text}")])
    return SlackMessage(text=text, blocks=[block.to_dict()])
