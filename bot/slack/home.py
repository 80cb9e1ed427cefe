"""The App Home tab: what Briefbot does, how to use it, recent briefs and last week's usage."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sanitize import link, sanitize_slack
from bot.slack.blocks import HELP_TEXT
from bot.store import StoredBrief

if TYPE_CHECKING:
    from bot.slack.app import Deps

log = logging.getLogger(__name__)

USAGE_DAYS = 7
RECENT_LIMIT = 10


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def _brief_line(item: StoredBrief) -> str:
    title = item.title or item.brief.title or item.url or "Untitled"
    shown = link(item.url, title) if item.url else sanitize_slack(title)
    where = f" in <#{item.channel}>" if item.channel and item.channel[:1] in "CG" else ""
    stamp = int(item.created_at.timestamp())
    when = f"<!date^{stamp}^{{date_short_pretty}}|{item.created_at:%Y-%m-%d}>"
    return f"• {shown}{where} · {when}"


def build_home_view(
    recent: Sequence[StoredBrief], usage: dict[str, Any], *, days: int = USAGE_DAYS
) -> dict[str, Any]:
    """The Home tab view: pure, from the store's recent briefs and usage summary."""
    blocks: list[dict[str, Any]] = [_header("Briefbot"), _section(HELP_TEXT), {"type": "divider"}]
    blocks.append(_header("Recent briefs in this workspace"))
    if recent:
        lines = "\n".join(_brief_line(item) for item in recent[:RECENT_LIMIT])
        blocks.append(_section(lines))
    else:
        blocks.append(_section("No briefs yet. Paste a link in a channel I'm in to get one."))
    blocks.append({"type": "divider"})
    blocks.append(_header(f"Usage, last {days} days"))
    tokens = int(usage.get("tokens_in", 0)) + int(usage.get("tokens_out", 0))
    briefs, cached = int(usage.get("briefs", 0)), int(usage.get("cached", 0))
    cost = float(usage.get("cost_usd", 0.0))
    fields = [
        f"*Briefs*\n{briefs:,}" + (f" ({cached:,} from cache)" if cached else ""),
        f"*Tokens*\n{tokens:,}",
        f"*Estimated cost*\n${cost:.4f}" if 0 < cost < 0.01 else f"*Estimated cost*\n${cost:,.2f}",
    ]
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "Cost is estimated from list prices per model."}
            ],
        }
    )
    return {"type": "home", "blocks": blocks}


async def publish_home(client: AsyncWebClient, deps: Deps, *, user: str, team: str | None) -> None:
    """Read this workspace's briefs and usage, then publish the user's Home tab."""
    since = datetime.now(UTC) - timedelta(days=USAGE_DAYS)
    store = deps.store
    recent = await asyncio.to_thread(store.recent_briefs, team=team, limit=RECENT_LIMIT)
    usage = await asyncio.to_thread(store.usage_summary, team=team, since=since)
    try:
        await client.views_publish(user_id=user, view=build_home_view(recent, usage))
    except SlackApiError as exc:
        log.warning("could not publish the Home tab for %s: %s", user, exc.response.get("error"))


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        # Ack now, publish later: the store read and views.publish run after the ack.
        deps.spawn(publish_home(client, deps, user=event["user"], team=context.team_id))
