"""Block Kit for the bot's own words: help, channel settings, "who asked" and failures.

Pure functions that return plain dicts (briefs themselves come from ``bot.render``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.render import SlackMessage
from bot.sanitize import sanitize_slack
from bot.slack.scopes import COMMAND

HELP_TEXT = (
    "*Briefbot* reads articles so you don't have to: it answers a link with a short brief "
    "(the gist, who's involved, topics, tensions and next steps, each backed by a quote).\n"
    f"• Paste a link in a channel I'm in: the brief arrives in its thread "
    f"(`{COMMAND} off` stops that here).\n"
    f"• `{COMMAND} <link or text>`: a brief of that, posted in this channel.\n"
    "• The *Brief this message* shortcut (⋯ on any message): a brief of its links or text.\n"
    "• Mention me with a link, or in the thread of a message with a link.\n"
    "• Mention me with a question in a brief's thread: I answer from the article, with quotes "
    f"(`{COMMAND} settings questions any` takes every reply in a brief's thread).\n"
    f"• `{COMMAND} on` / `{COMMAND} off`: auto-briefs for links pasted in this channel.\n"
    f"• `{COMMAND} digest daily 08:00 [Area/City]` or `{COMMAND} digest weekdays 07:30`: "
    "a morning digest of this channel's briefs and feeds, at your local time unless you "
    f"name a zone. `{COMMAND} digest show`, `{COMMAND} digest now`, `{COMMAND} digest off`.\n"
    f"• `{COMMAND} follow <RSS or Atom URL>`, `{COMMAND} unfollow <URL>`, `{COMMAND} feeds`: "
    "the feeds whose new items go in the digest.\n"
    f"• `{COMMAND} forget`: delete the briefs stored for this channel.\n"
    f"• `{COMMAND} settings`: this channel's settings.  `{COMMAND} help`: this message."
)

MENTION_HELP = (
    "Mention me with a link (`@Briefbot https://…`), or mention me in the thread of a "
    f"message with a link, and I'll brief it there. `{COMMAND} help` shows everything I do."
)

NOT_IN_CHANNEL = (
    "I'm not a member of this channel, so I can't post the brief here. "
    "Invite me with `/invite @Briefbot`, then try again."
)

NOTHING_IN_PARENT = "I couldn't find a link or any text to brief in this thread's first message."

UNEXPECTED = "Something went wrong on our side while briefing {label}. Try again in a minute."

GAVE_UP = (
    "Briefbot stopped trying to brief {label}: it failed or was interrupted {attempts} times. "
    "Paste the article text instead, or try a different link."
)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def help_message(*, prefix: str | None = None) -> SlackMessage:
    """The /brief help, optionally after a line saying what was wrong."""
    text = f"{prefix}\n\n{HELP_TEXT}" if prefix else HELP_TEXT
    return SlackMessage(text=text, blocks=[_section(text)])


@dataclass(frozen=True)
class ChannelView:
    """What /brief settings shows."""

    engine: str
    model: str | None
    language: str
    template: str
    auto_brief: bool
    questions_any: bool = False


def settings_message(view: ChannelView) -> SlackMessage:
    engine = f"{view.engine} ({view.model})" if view.model else view.engine
    auto = "on" if view.auto_brief else "off"
    switch = "off" if view.auto_brief else "on"
    lines = [
        "*Briefbot settings for this channel*",
        f"• Engine: `{sanitize_slack(engine)}`",
        f"• Language of model briefs: `{sanitize_slack(view.language)}` "
        f"(`{COMMAND} settings language <code>` to change it)",
        f"• Template: `{sanitize_slack(view.template)}`",
        f"• Auto-briefs for pasted links: *{auto}* (`{COMMAND} {switch}` to turn them {switch})",
        questions_line(view.questions_any),
    ]
    text = "\n".join(lines)
    return SlackMessage(text=text, blocks=[_section(text)])


def questions_line(any_reply: bool) -> str:
    """The settings line for questions in a brief's thread."""
    if any_reply:
        return (
            "• Questions in a brief's thread: *any reply* "
            f"(`{COMMAND} settings questions mention` for @mentions only)"
        )
    return (
        "• Questions in a brief's thread: *@mentions only* "
        f"(`{COMMAND} settings questions any` to take every reply)"
    )


def toggled_message(*, on: bool, user: str | None) -> SlackMessage:
    """The in-channel note after /brief on|off, so everyone sees who changed it."""
    who = f"<@{user}>" if user else "Someone"
    if on:
        text = (
            f"{who} turned on auto-briefs: links pasted in this channel get a brief "
            "in their thread."
        )
    else:
        text = f"{who} turned off auto-briefs here. `{COMMAND} <link>` still works."
    return SlackMessage(text=text, blocks=[_context(text)])


def quote_label(text: str) -> str:
    """Words the user typed, safe to echo in mrkdwn, in quotes."""
    return "“" + " ".join(sanitize_slack(text).split())[:120] + "”"


def asked_message(user: str | None, shown: list[str]) -> SlackMessage:
    """The short in-channel message a /brief answers under; ``shown`` is already safe mrkdwn."""
    who = f"<@{user}>" if user else "Someone"
    if len(shown) == 1:
        what = shown[0]
    else:
        what = f"{len(shown)} links: " + ", ".join(shown[:5]) + ("…" if len(shown) > 5 else "")
    text = f"{who} asked for a brief of {what}"
    return SlackMessage(text=text, blocks=[_section(f":newspaper: {text}")])


def text_message(text: str) -> SlackMessage:
    """A plain reply of the bot's own words (already safe mrkdwn)."""
    return SlackMessage(text=text, blocks=[_section(text)])


def already_briefed_message() -> SlackMessage:
    text = "That's already briefed in its thread."
    return SlackMessage(text=text, blocks=[_context(text)])
