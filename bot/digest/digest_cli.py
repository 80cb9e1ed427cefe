"""``briefbot digest preview|run-due``: wired into bot/cli.py by ``add_digest_parser``.

``preview`` prints what a channel would get now (nothing is claimed, posted or marked
seen); ``run-due`` runs every due slot once, for cron users, and posts to Slack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot.config import Settings
from bot.errors import ConfigError

EXIT_ERROR = 1


def add_digest_parser(subparsers: Any) -> None:
    """Add ``digest preview`` and ``digest run-due`` to the ``briefbot`` parser."""
    p = subparsers.add_parser(
        "digest",
        help="preview a channel's digest, or run the due ones (cron)",
        description=(
            "Morning digests: each subscribed channel gets one digest at its local time. "
            "The Slack bot runs them by itself; run-due is for running them from cron."
        ),
    )
    actions = p.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    pv = actions.add_parser(
        "preview",
        help="print the digest a channel would get now (posts nothing)",
        description="Print the digest CHANNEL would get now. Nothing is posted or recorded.",
    )
    pv.add_argument("--channel", required=True, help="Slack channel ID, e.g. C0123456789")
    pv.add_argument(
        "--format",
        choices=["markdown", "slack", "json"],
        default="markdown",
        help="markdown (default), slack (Block Kit messages as posted) or json",
    )
    actions.add_parser(
        "run-due",
        help="post every digest that is due now, once (needs SLACK_BOT_TOKEN)",
        description=(
            "Post every digest slot that is due now, exactly once even if the bot is also "
            "running. Run it every few minutes from cron. Needs SLACK_BOT_TOKEN."
        ),
    )


def _client(settings: Settings, *, required: bool) -> Any:
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        if required:
            raise ConfigError(
                "Posting digests needs a Slack bot token.",
                hint="Set SLACK_BOT_TOKEN (xoxb-...) in your environment or .env.",
            )
        return None
    from bot.slack.client import build_web_client

    return build_web_client(settings)


async def _preview(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, not at the top: the parser is built on every `briefbot` start.
    from bot.digest.delivery import preview
    from bot.digest.render import build_digest_messages, render_json, render_markdown
    from bot.store import Store

    client = _client(settings, required=False)  # only for permalinks, when a token is set
    with Store.open(settings.database_url) as store:
        digest = await preview(
            settings, store, channel=args.channel, now=datetime.now(UTC), client=client
        )
    if args.format == "json":
        print(render_json(digest))
    elif args.format == "slack":
        messages = build_digest_messages(digest)
        print(json.dumps([{"text": m.text, "blocks": m.blocks} for m in messages], indent=2))
    else:
        print(render_markdown(digest), end="")
    return 0


async def _run_due(settings: Settings) -> int:
    from bot.digest.delivery import run_due
    from bot.store import Store

    client = _client(settings, required=True)
    with Store.open(settings.database_url) as store:
        results = await run_due(settings, store, client, now=datetime.now(UTC))
    for r in results:
        late = " (late)" if r.late else ""
        detail = f": {r.error}" if r.error else ""
        print(f"{r.channel}\t{r.status}{late}\t{r.articles} articles\t{r.slot_key}{detail}")
    if not results:
        print("No digest is due.", file=sys.stderr)
    return EXIT_ERROR if any(r.status == "failed" for r in results) else 0


def run_digest_cli(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``briefbot digest ...``; BriefbotError propagates to the CLI's one-line handler."""
    if args.digest_command == "preview":
        return asyncio.run(_preview(args, settings))
    return asyncio.run(_run_due(settings))
