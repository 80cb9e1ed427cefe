"""One way to post to Slack: paced per channel and marked with who posted it.

The job poster (bot/slack/poster.py) and the digest (bot/digest/delivery.py) both post
through ``post_message``, so a digest waits its turn behind briefs in the same channel and
carries the same message-metadata marker a resumed job uses to find its own posts.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.render.block_kit import SlackMessage
from bot.slack.pacing import ChannelPacer

METADATA_TYPE = "briefbot_job"


def marker(owner: str, part: int) -> dict[str, Any]:
    """Message metadata naming the job (or digest slot) and part that posted a message."""
    return {"event_type": METADATA_TYPE, "event_payload": {"job": owner, "part": part}}


async def post_message(
    client: AsyncWebClient, pacer: ChannelPacer, channel: str, message: SlackMessage, *,
    thread_ts: str | None, metadata: dict[str, Any],
) -> str:  # fmt: skip
    """Wait for the channel's pace, post ``message`` (no unfurls), and return its ts."""
    await pacer.wait(channel)
    kwargs: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
    resp = await client.chat_postMessage(
        channel=channel, text=message.text, blocks=message.blocks or None,
        unfurl_links=False, unfurl_media=False, metadata=metadata, **kwargs,
    )  # fmt: skip
    return str(resp["ts"])
