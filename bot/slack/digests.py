"""``/brief digest ...``, ``/brief follow|unfollow <url>`` and ``/brief feeds`` in Slack.

Thin handlers over bot.digest.subscriptions: they take the team, channel and user from the
slash command, look up the user's Slack time zone when a schedule names none, and show
the reply privately. ``bot.slack.slash.all_subcommands`` lists them for the router.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.schedule import parse_schedule_command, parse_zone
from bot.digest.subscriptions import handle_digest_command, handle_feed_command
from bot.errors import InputError
from bot.slack import notices
from bot.slack.subcommands import Reply, Subcommand

if TYPE_CHECKING:
    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

FALLBACK_ZONE = "UTC"
NO_USER_ZONE = (
    "I couldn't read your time zone from Slack, so this schedule uses UTC. "
    "To change it, name a zone: `/brief digest daily 08:00 Europe/London`."
)


def _ids(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """(team, channel, user) of a slash command."""
    user = body.get("user_id")
    return str(body.get("team_id", "")), str(body.get("channel_id", "")), str(user or "") or None


def needs_user_zone(args: str) -> bool:
    """True for a schedule that names no zone (mistakes are the handler's to explain)."""
    try:
        command = parse_schedule_command(args)
    except InputError:
        return False
    return command.action == "schedule" and command.tz is None


async def user_zone(client: AsyncWebClient | None, user: str | None) -> str | None:
    """The user's time zone from their Slack profile (users.info); None if Slack can't say."""
    if client is None or not user:
        return None
    try:
        resp = await client.users_info(user=user)
        zone = (resp.get("user") or {}).get("tz")
        # Slack's tz is an IANA name; an unknown one is treated like a missing one.
        return parse_zone(str(zone)) if zone else None
    except Exception as exc:  # any failure only costs the default: UTC, and we say so
        log.warning("no time zone for user %s: %s", user, exc)
        return None


async def digest_command(deps: Deps, body: dict[str, Any], args: str) -> Reply:
    """``/brief digest daily 08:00 [Area/City] | weekdays 07:30 | off | now | show``."""
    team, channel, user = _ids(body)
    client = await deps.clients(team) if deps.clients else deps.client  # the team's token
    user_tz: str | None = None
    note = ""
    if needs_user_zone(args):
        user_tz = await user_zone(client, user)
        if user_tz is None:
            user_tz, note = FALLBACK_ZONE, NO_USER_ZONE
    text = await handle_digest_command(
        args, settings=deps.settings, store=deps.store, team=team, channel=channel,
        user_tz=user_tz, client=client, user=user, pacer=deps.pacer,
    )  # fmt: skip
    return Reply(notices.text_message(f"{text}\n{note}" if note else text))


def feed_command(verb: str) -> Callable[[Deps, dict[str, Any], str], Awaitable[Reply]]:
    """``/brief follow <url>``, ``/brief unfollow <url>`` or ``/brief feeds``."""

    async def handler(deps: Deps, body: dict[str, Any], args: str) -> Reply:
        team, channel, user = _ids(body)
        text = await handle_feed_command(
            f"{verb} {args}".strip(), settings=deps.settings, store=deps.store, team=team,
            channel=channel, user=user,
        )  # fmt: skip
        return Reply(notices.text_message(text))

    return handler


# Answered after the ack: they call Slack (users.info), compose and post a digest, or
# read a feed over the network, any of which can outlast Slack's 3 s.
SUBCOMMANDS: dict[str, Subcommand] = {
    "digest": Subcommand(digest_command, takes_args=True, after_ack=True),
    "follow": Subcommand(feed_command("follow"), takes_args=True, after_ack=True),
    "unfollow": Subcommand(feed_command("unfollow"), takes_args=True),
    "feeds": Subcommand(feed_command("feeds")),
}
