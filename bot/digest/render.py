"""Render a Digest: Block Kit messages (within Slack's limits), mrkdwn, Markdown and JSON.

Pure: permalinks are resolved by the runner before rendering. A long digest continues in
further messages (the runner posts them as replies in the first one's thread); every
message is validated by slack_sdk's block models on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.digest.compose import Digest, DigestItem, DigestStep, DigestTension
from bot.render.block_kit import (
    FALLBACK_LIMIT,
    HEADER_LIMIT,
    MAX_BLOCKS,
    MESSAGE_CHAR_BUDGET,
    SECTION_LIMIT,
    SlackMessage,
    split_text,
    truncate,
)
from bot.sanitize import link, safe_url, sanitize_slack

CONTINUED = " (continued)"


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def title_of(digest: Digest) -> str:
    return f"Digest for {long_date(digest.date)}"


def empty_line(digest: Digest) -> str:
    """The "nothing new" line for an empty day."""
    if digest.since is None:
        return "Nothing new today."
    since: datetime = digest.since
    return f"Nothing new since {long_date(since.date())}."


def _plain(text: str | None) -> str:
    return " ".join(sanitize_slack(text or "").split())


# --- mrkdwn pieces -----------------------------------------------------------------


def item_line(item: DigestItem) -> str:
    title = link(item.url, item.title) if item.url else _plain(item.title)
    line = f"• *{title}*"
    if item.gist:
        line += f" — {_plain(item.gist)}"
    extras = []
    if item.permalink and safe_url(item.permalink):
        extras.append(link(item.permalink, "brief"))
    if item.feed:
        extras.append(f"_via {_plain(item.feed)}_")
    return line + (" · " + " · ".join(extras) if extras else "")


def tension_line(tension: DigestTension) -> str:
    parties = f" ({_plain(', '.join(tension.parties))})" if tension.parties else ""
    source = link(tension.url, tension.article) if tension.url else _plain(tension.article)
    return f"• {_plain(tension.description)}{parties} — _{source}_"


def step_line(step: DigestStep) -> str:
    when = f"*{short_date(step.due)}* " if step.due else ""
    owner = f" ({_plain(step.owner)})" if step.owner else ""
    said = f" — “{_plain(step.when)}”" if step.when and not step.due else ""
    source = link(step.url, step.article) if step.url else _plain(step.article)
    return f"• {when}{_plain(step.action)}{owner}{said} — _{source}_"


@dataclass(frozen=True)
class _Section:
    heading: str
    lines: list[str]
    divider_before: bool = False


def _sections(digest: Digest) -> list[_Section]:
    out: list[_Section] = []
    for theme in digest.themes:
        heading = f"*{_plain(theme.title)}*"
        if theme.synthesis:
            heading += f"\n_{_plain(theme.synthesis)}_"
        out.append(_Section(heading, [item_line(i) for i in theme.items]))
    if digest.tensions:
        lines = [tension_line(t) for t in digest.tensions]
        if digest.more_tensions:
            lines.append(f"_…and {digest.more_tensions} more in the briefs._")
        out.append(_Section("*Tensions across the articles*", lines, divider_before=True))
    if digest.next_steps:
        lines = [step_line(s) for s in digest.next_steps]
        if digest.more_steps:
            lines.append(f"_…and {digest.more_steps} more in the briefs._")
        out.append(_Section("*Next steps*", lines, divider_before=True))
    return out


def _footer(digest: Digest) -> str:
    return "\n".join(_plain(note) for note in digest.notes)


def _summary(digest: Digest) -> str:
    n, t = digest.articles, len(digest.themes)
    since = f" since {short_date(digest.since.date())}" if digest.since else ""
    return f"{n} article{'s' if n != 1 else ''}{since} in {t} theme{'s' if t != 1 else ''}"


# --- Block Kit -----------------------------------------------------------------------


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, SECTION_LIMIT))])


@dataclass
class _Packer:
    title: str
    messages: list[list[Block]] = field(default_factory=lambda: [[]])
    chars: int = 0
    fresh: bool = True

    def _fits(self, size: int, blocks: int) -> bool:
        # One block stays free in every message for the footer.
        room = len(self.messages[-1]) + blocks <= MAX_BLOCKS - 1
        return room and (self.fresh or self.chars + size <= MESSAGE_CHAR_BUDGET)

    def add(self, text: str, *, divider: bool = False, heading: str | None = None) -> None:
        if not self._fits(len(text), 2 if divider else 1):
            self.messages.append([_context(f"*{self.title}*{CONTINUED}")])
            self.chars, self.fresh, divider = len(self.title), True, False
            if heading is not None:
                text = f"{heading}{CONTINUED}\n{text}"
        if divider and self.messages[-1]:
            self.messages[-1].append(DividerBlock())
        self.messages[-1].append(SectionBlock(text=MarkdownTextObject(text=text)))
        self.chars += len(text)
        self.fresh = False


def _add_section(packer: _Packer, section: _Section) -> None:
    # Room for "<heading> (continued)\n" should a later piece open a new message.
    first_line = section.heading.split("\n", 1)[0]
    cap = SECTION_LIMIT - len(first_line) - len(CONTINUED) - 1
    buffer, first = truncate(section.heading, cap), True
    for line in section.lines:
        for piece in split_text(line, cap - len(first_line) - 1):
            if len(buffer) + 1 + len(piece) <= cap:
                buffer = f"{buffer}\n{piece}"
                continue
            packer.add(
                buffer,
                divider=first and section.divider_before,
                heading=None if first else first_line,
            )
            buffer, first = piece, False
    packer.add(
        buffer, divider=first and section.divider_before, heading=None if first else first_line
    )


def build_digest_messages(digest: Digest, *, empty: str | None = None) -> list[SlackMessage]:
    """Block Kit messages: the first is the top-level post, the rest go in its thread.

    An empty digest gives one short message with ``empty`` (default: the "nothing new" line).
    """
    title = title_of(digest)
    if digest.is_empty:
        line = empty or empty_line(digest)
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{title}*\n{line}"))]
        if digest.notes:
            blocks.append(_context(_footer(digest)))
        return [SlackMessage(text=f"{title}: {line}", blocks=[b.to_dict() for b in blocks])]
    packer = _Packer(title=title)
    packer.messages[0].append(HeaderBlock(text=PlainTextObject(text=truncate(title, HEADER_LIMIT))))
    packer.messages[0].append(_context(_summary(digest)))
    for section in _sections(digest):
        _add_section(packer, section)
    footer = _footer(digest)
    if footer:
        packer.messages[-1].append(_context(footer))
    fallback = f"{title}: {_summary(digest)}."
    return [
        SlackMessage(
            text=truncate(fallback if i == 0 else f"{title}{CONTINUED}", FALLBACK_LIMIT),
            blocks=[block.to_dict() for block in blocks],  # to_dict validates Slack's limits
        )
        for i, blocks in enumerate(packer.messages)
    ]


# --- text formats --------------------------------------------------------------------


def render_mrkdwn(digest: Digest) -> str:
    """The digest as one Slack mrkdwn text (for logs, previews and plain-text clients)."""
    title = title_of(digest)
    if digest.is_empty:
        return f"*{title}*\n{empty_line(digest)}"
    parts = [f"*{title}*", f"_{_summary(digest)}_"]
    parts += [section.heading + "\n" + "\n".join(section.lines) for section in _sections(digest)]
    if digest.notes:
        parts.append(_footer(digest))
    return "\n\n".join(parts)


def _md(text: str | None) -> str:
    return " ".join((text or "").replace("[", "\\[").replace("]", "\\]").split())


def _md_link(url: str | None, label: str) -> str:
    target = safe_url(url) if url else None
    return f"[{_md(label)}]({target})" if target else _md(label)


def render_markdown(digest: Digest) -> str:
    """The digest as Markdown (CLI preview)."""
    lines = [f"# {title_of(digest)}", ""]
    if digest.is_empty:
        return "\n".join([*lines, empty_line(digest), ""])
    lines += [f"_{_summary(digest)}_", ""]
    for theme in digest.themes:
        lines.append(f"## {_md(theme.title)}")
        if theme.synthesis:
            lines += ["", f"_{_md(theme.synthesis)}_"]
        lines.append("")
        for item in theme.items:
            extra = f" ([brief]({item.permalink}))" if item.permalink else ""
            via = f" _via {_md(item.feed)}_" if item.feed else ""
            gist = f" — {_md(item.gist)}" if item.gist else ""
            lines.append(f"- **{_md_link(item.url, item.title)}**{gist}{extra}{via}")
        lines.append("")
    if digest.tensions:
        lines += ["## Tensions across the articles", ""]
        for t in digest.tensions:
            parties = f" ({_md(', '.join(t.parties))})" if t.parties else ""
            lines.append(f"- {_md(t.description)}{parties} — _{_md_link(t.url, t.article)}_")
        lines.append("")
    if digest.next_steps:
        lines += ["## Next steps", ""]
        for s in digest.next_steps:
            when = f"**{short_date(s.due)}** " if s.due else ""
            owner = f" ({_md(s.owner)})" if s.owner else ""
            said = f" — “{_md(s.when)}”" if s.when and not s.due else ""
            lines.append(f"- {when}{_md(s.action)}{owner}{said} — _{_md_link(s.url, s.article)}_")
        lines.append("")
    if digest.notes:
        lines += ["---", "", *(f"- {_md(note)}" for note in digest.notes), ""]
    return "\n".join(lines)


def render_json(digest: Digest) -> str:
    return digest.model_dump_json(indent=2)
