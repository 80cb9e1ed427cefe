"""Rendering briefs: Markdown, Slack mrkdwn, Slack Block Kit and JSON. Pure functions.

Names are imported lazily: Block Kit needs slack_sdk, which a Markdown brief on the command
line never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.render.block_kit import (
        SlackMessage,
        build_error_message,
        build_messages,
        build_placeholder,
    )
    from bot.render.templating import (
        render_json,
        render_markdown,
        render_mrkdwn,
        template_version,
    )

_BLOCKS = ("SlackMessage", "build_error_message", "build_messages", "build_placeholder")
_TEMPLATING = ("render_json", "render_markdown", "render_mrkdwn", "template_version")
__all__ = [
    "SlackMessage",
    "build_error_message",
    "build_messages",
    "build_placeholder",
    "render_json",
    "render_markdown",
    "render_mrkdwn",
    "template_version",
]


def __getattr__(name: str) -> Any:
    if name in _BLOCKS:
        from bot.render import block_kit

        return getattr(block_kit, name)
    if name in _TEMPLATING:
        from bot.render import templating

        return getattr(templating, name)
    raise AttributeError(f"module 'bot.render' has no attribute {name!r}")
