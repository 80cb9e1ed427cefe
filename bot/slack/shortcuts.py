"""The "Brief this message" message shortcut."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.slack import intake, notices
from bot.slack.scopes import SHORTCUT_CALLBACK_ID

if TYPE_CHECKING:
    from bot.slack.deps import Deps

NOTHING_TO_BRIEF = "That message has no link or text I can brief."


def register(app: AsyncApp, deps: Deps) -> None:
    @app.shortcut(SHORTCUT_CALLBACK_ID)
    async def on_brief_this(ack: Any, body: dict[str, Any], respond: AsyncRespond) -> None:
        jobs = intake.shortcut_jobs(body, max_links=deps.settings.max_links_per_message)
        team = str((body.get("team") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        admitted = deps.admit(
            jobs, team=team, user=(body.get("user") or {}).get("id"), channel=channel
        )
        new = deps.enqueue(admitted.jobs)
        await ack()
        if admitted.note:
            deps.spawn(_tell(respond, admitted.note))
        elif not jobs:
            deps.spawn(_tell(respond, NOTHING_TO_BRIEF))
        elif not any(new):
            deps.spawn(_tell(respond, notices.already_briefed_message().text))


async def _tell(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
