"""What a ``/brief <word>`` handler is and returns, shared by every area that adds one.

Kept apart from :mod:`bot.slack.slash` (the router) so that areas such as the digest's
can define subcommands without importing the router that lists them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.render import SlackMessage

if TYPE_CHECKING:
    from bot.slack.deps import Deps


@dataclass(frozen=True)
class Reply:
    """A subcommand's answer: private to the user unless ``in_channel``."""

    message: SlackMessage
    in_channel: bool = False


Handler = Callable[["Deps", dict[str, Any], str], Awaitable[Reply]]


@dataclass(frozen=True)
class Subcommand:
    handler: Handler
    takes_args: bool = False
    after_ack: bool = False


# Subcommand: without ``takes_args`` only the bare word matches, so that pasted text that
# happens to start with "help" is briefed; ``after_ack`` runs the handler after the ack.
