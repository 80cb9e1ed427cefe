"""Listeners for messages: link pastes in channels, and @mentions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import intake
from bot.slack.allowlist import tell_privately
from bot.slack.notices import MENTION_HELP

if TYPE_CHECKING:
    from bot.slack.deps import Deps

log = logging.getLogger(__name__)


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("team") or "")


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("message")
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> None:
        team = _team(body, event)
        jobs = intake.paste_jobs(
            event, team=team, bot_user_id=context.bot_user_id, event_id=body.get("event_id"),
            max_links=deps.settings.max_links_per_message,
        )  # fmt: skip
        if not jobs or not deps.channels.auto_brief(team, str(event["channel"])):
            return
        admitted = deps.admit(jobs, team=team, user=event.get("user"), channel=event["channel"])
        new = deps.enqueue(admitted.jobs)
        if admitted.note:
            deps.spawn(tell_privately(client, event, admitted.note))
        log.info("link paste %s: %d new job(s) of %d", body.get("event_id"), sum(new), len(new))

    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team = _team(body, event)
        jobs = intake.mention_jobs(
            event, team=team, event_id=body.get("event_id"), help_text=MENTION_HELP,
            max_links=deps.settings.max_links_per_message,
        )  # fmt: skip
        admitted = deps.admit(jobs, team=team, user=event.get("user"), channel=event["channel"])
        deps.enqueue(admitted.jobs)
        if admitted.note:
            deps.spawn(tell_privately(client, event, admitted.note))
