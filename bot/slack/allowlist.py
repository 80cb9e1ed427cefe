"""The allow-list at the door: one Bolt middleware in front of every listener.

A refused request stores no job. Explicit requests (``/brief``, the shortcut, an
@mention) get a short private answer saying who can enable the bot; link pastes in a
channel that is not allowed are skipped silently, so the bot never spams a channel.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import AccessList

if TYPE_CHECKING:
    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

#: /brief subcommands anyone may use anywhere: they store nothing and reveal nothing.
OPEN_SUBCOMMANDS = frozenset({"help"})
#: Subcommands that check the user only, so a channel dropped from the list can still
#: have its stored briefs deleted.
ANY_CHANNEL_SUBCOMMANDS = frozenset({"forget"})

Next = Callable[[], Awaitable[Any]]


def command_refusal(access: AccessList, body: dict[str, Any]) -> str | None:
    """Why a /brief command is refused, or None."""
    word = (str(body.get("text") or "").split() or ["help"])[0].lower()
    if word in OPEN_SUBCOMMANDS:
        return None
    channel = None if word in ANY_CHANNEL_SUBCOMMANDS else str(body.get("channel_id") or "")
    return access.refusal(user=str(body.get("user_id") or ""), channel=channel)


def shortcut_refusal(access: AccessList, body: dict[str, Any]) -> str | None:
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id")
    return access.refusal(user=user, channel=str(channel or ""))


def register(app: AsyncApp, deps: Deps) -> None:
    @app.middleware
    async def allow_list(
        body: dict[str, Any], next: Next, client: AsyncWebClient, respond: AsyncRespond
    ) -> BoltResponse | None:
        access = AccessList.from_settings(deps.settings)
        if not (access.channels or access.users):
            return await next()
        if body.get("command"):
            refusal = command_refusal(access, body)
            if refusal is not None:
                log.info("refused %s from %s in %s", body.get("command"),
                         body.get("user_id"), body.get("channel_id"))  # fmt: skip
                # The ack itself carries the private answer.
                return BoltResponse(
                    status=200, body={"response_type": "ephemeral", "text": refusal}
                )
        elif body.get("type") == "message_action":
            refusal = shortcut_refusal(access, body)
            if refusal is not None:
                deps.spawn(_respond(respond, refusal))
                return BoltResponse(status=200, body="")
        elif body.get("type") == "event_callback":
            event = body.get("event") or {}
            kind = event.get("type")
            if kind in ("message", "app_mention"):
                user, channel = event.get("user"), str(event.get("channel") or "")
                refusal = access.refusal(user=user, channel=channel)
                if refusal is not None:
                    if kind == "app_mention" and user:
                        deps.spawn(tell_privately(client, event, refusal))
                    # A paste where the bot isn't enabled: nothing to say, nothing stored.
                    return BoltResponse(status=200, body="")
        return await next()


async def _respond(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def tell_privately(client: AsyncWebClient, event: dict[str, Any], text: str) -> None:
    """A note (a refusal, a rate limit) only the event's user sees, in its thread if any."""
    kwargs: dict[str, Any] = {}
    if event.get("thread_ts"):
        kwargs["thread_ts"] = event["thread_ts"]
    try:
        await client.chat_postEphemeral(
            channel=str(event["channel"]), user=str(event["user"]), text=text, **kwargs
        )
    except SlackApiError as exc:
        log.info("could not tell %s privately: %s",
                 event.get("user"), exc.response.get("error"))  # fmt: skip
