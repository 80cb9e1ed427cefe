"""Rendering briefs: Markdown, Slack mrkdwn, Slack Block Kit and JSON. Pure functions."""

from bot.render.blocks import (
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
