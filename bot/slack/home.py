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

from bot.access import USER_REFUSED, AccessList
from bot.sanitize import link, sanitize_slack
from bot.slack.notices import HELP_TEXT
from bot.store import StoredBrief

if TYPE_CHECKING:
    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

USAGE_DAYS = 7
RECENT_LIMIT = 10
#: Briefs read from the store before filtering by what the viewer may see.
CANDIDATE_LIMIT = 50
#: Channels whose visibility is asked of Slack per Home tab, and member pages per channel.
MAX_CHANNEL_CHECKS = 20
MAX_MEMBER_PAGES = 10


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
    recent: Sequence[StoredBrief], usage: dict[str, Any] | None, *, days: int = USAGE_DAYS,
    notice: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The Home tab view: pure, from the briefs the viewer may see and the usage summary.

    ``usage=None`` leaves the usage out; ``notice`` (a refusal) replaces briefs and usage.
    """
    blocks: list[dict[str, Any]] = [_header("Briefbot"), _section(HELP_TEXT), {"type": "divider"}]
    if notice is not None:
        blocks.append(_section(notice))
        return {"type": "home", "blocks": blocks}
    blocks.append(_header("Recent briefs you can see"))
    if recent:
        lines = "\n".join(_brief_line(item) for item in recent[:RECENT_LIMIT])
        blocks.append(_section(lines))
    else:
        blocks.append(_section("No briefs yet. Paste a link in a channel I'm in to get one."))
    if usage is None:
        return {"type": "home", "blocks": blocks}
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


async def may_see(client: AsyncWebClient, channel: str, *, user: str) -> bool:
    """Whether ``user`` may see what was posted in ``channel``: public, or they are a member.

    Fails closed: a channel Slack won't describe (missing scope, deleted) is hidden.
    """
    try:
        info = (await client.conversations_info(channel=channel)).get("channel") or {}
        if not (info.get("is_private") or info.get("is_im") or info.get("is_mpim")):
            return bool(info)
        cursor = None
        for _ in range(MAX_MEMBER_PAGES):
            resp = await client.conversations_members(channel=channel, limit=1000, cursor=cursor)
            if user in (resp.get("members") or []):
                return True
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
    except SlackApiError as exc:
        log.info("Home tab: hiding briefs of %s (%s)", channel, exc.response.get("error"))
    return False


async def visible_briefs(
    client: AsyncWebClient, briefs: Sequence[StoredBrief], *, user: str, access: AccessList
) -> list[StoredBrief]:
    """The briefs ``user`` may see, newest first, at most RECENT_LIMIT of them."""
    verdicts: dict[str, bool] = {}
    shown: list[StoredBrief] = []
    for item in briefs:
        channel = item.channel
        if not channel or not access.channel_allowed(channel):
            continue
        if channel not in verdicts:
            if len(verdicts) >= MAX_CHANNEL_CHECKS:
                break
            verdicts[channel] = await may_see(client, channel, user=user)
        if verdicts[channel]:
            shown.append(item)
            if len(shown) >= RECENT_LIMIT:
                break
    return shown


async def publish_home(client: AsyncWebClient, deps: Deps, *, user: str, team: str | None) -> None:
    """Publish the user's Home tab: help, the briefs they may see, and (if allowed) usage."""
    access = AccessList.from_settings(deps.settings)
    if not access.user_allowed(user):
        # Outside the allow-list: no briefs, no token spend; only how to get access.
        view = build_home_view([], None, notice=USER_REFUSED)
    else:
        since = datetime.now(UTC) - timedelta(days=USAGE_DAYS)
        store = deps.store
        recent = await asyncio.to_thread(store.recent_briefs, team=team, limit=CANDIDATE_LIMIT)
        shown = await visible_briefs(client, recent, user=user, access=access)
        usage = await asyncio.to_thread(store.usage_summary, team=team, since=since)
        view = build_home_view(shown, usage)
    try:
        await client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        log.warning("could not publish the Home tab for %s: %s", user, exc.response.get("error"))


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        # Ack now, publish later: the store read and views.publish run after the ack.
        deps.spawn(publish_home(client, deps, user=event["user"], team=context.team_id))
