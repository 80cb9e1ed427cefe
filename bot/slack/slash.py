"""The /brief slash command: brief a link or text, help, on|off, settings.

Other areas bring their own subcommands (the digest's: ``digests.SUBCOMMANDS``, joined
in :func:`all_subcommands`) and settings (:func:`add_setting`). A handler gets the dependencies,
the command body and the words after the subcommand, and returns the reply. Quick
handlers answer in the ack; ``after_ack=True`` handlers (network calls) run after an
empty ack and answer through the command's response_url.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import retention
from bot.ingest.load import word_count
from bot.language import LANGUAGE_CODE, language_name
from bot.sanitize import sanitize_slack
from bot.slack import digests, intake, notices
from bot.slack.limits import cap_text
from bot.slack.scopes import COMMAND
from bot.slack.subcommands import Handler, Reply, Subcommand

if TYPE_CHECKING:
    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

NO_ARTICLE = (
    "I brief article links and pasted text, not links to Slack, images or videos. "
    "Give me an article link, or paste the text."
)


def channel_view(deps: Deps, team: str, channel: str) -> notices.ChannelView:
    s = deps.settings
    engine = s.engine_name()
    return notices.ChannelView(
        engine=engine,
        model=s.model if engine == "openai" else None,
        language=deps.channels.language(team, channel) or s.language,
        template=str(s.template_dir) if s.template_dir else "built-in",
        auto_brief=deps.channels.auto_brief(team, channel),
        questions_any=deps.channels.questions_any(team, channel),
    )


async def _help(deps: Deps, body: dict[str, Any], args: str) -> Reply:
    return Reply(notices.help_message())


#: ``/brief settings <name> <value>`` handlers, added by the area that owns the setting.
_SETTINGS: dict[str, Handler] = {}


def add_setting(name: str, handler: Handler) -> None:
    """Answer ``/brief settings <name> <value>`` with ``handler`` (it gets the value)."""
    _SETTINGS[name.lower()] = handler


async def _settings(deps: Deps, body: dict[str, Any], args: str) -> Reply:
    if args:
        name, value = [*args.split(maxsplit=1), "", ""][:2]
        handler = _SETTINGS.get(name.lower())
        if handler is None:
            known = ", ".join(f"`{n}`" for n in sorted(_SETTINGS)) or "none"
            shown = sanitize_slack(name)[:40]
            return Reply(notices.text_message(f"There is no setting `{shown}`. Settings: {known}."))
        return await handler(deps, body, value.strip())
    view = channel_view(deps, str(body.get("team_id", "")), str(body.get("channel_id", "")))
    return Reply(notices.settings_message(view))


def _switch(on: bool) -> Handler:
    async def switch(deps: Deps, body: dict[str, Any], args: str) -> Reply:
        team, channel, user = (
            body.get("team_id", ""),
            body.get("channel_id", ""),
            body.get("user_id"),
        )
        deps.channels.set_auto_brief(str(team), str(channel), on, user=user)
        # In the channel, so everyone sees who changed it.
        return Reply(notices.toggled_message(on=on, user=user), in_channel=True)

    return switch


async def _forget(deps: Deps, body: dict[str, Any], args: str) -> Reply:
    team, channel = str(body.get("team_id", "")), str(body.get("channel_id", ""))
    gone = await asyncio.to_thread(
        retention.forget_channel, store=deps.store, queue=deps.queue, team=team, channel=channel
    )
    log.info("forget in %s by %s: %d brief(s), %d job(s), %d question(s), %d digest row(s)",
             channel, body.get("user_id"), gone.briefs, gone.jobs, gone.questions,
             gone.digest)  # fmt: skip
    text = forgotten_text(gone.briefs, gone.jobs, digest=gone.digest)
    if gone.questions:
        text += f" Also deleted {gone.questions} stored question(s) and answer(s)."
    return Reply(notices.text_message(text))


def forgotten_text(briefs: int, jobs: int, *, digest: int = 0) -> str:
    """The answer to ``/brief forget``: what was deleted."""
    plural = "" if briefs == 1 else "s"
    req = "" if jobs == 1 else "s"
    history = (
        f" Also deleted {digest} row{'' if digest == 1 else 's'} of digest history (feed items "
        "shown, digests posted); followed feeds and the schedule stay."
        if digest
        else ""
    )
    return (
        f"Deleted {briefs} stored brief{plural} of this channel (and the article text behind "
        f"them) and {jobs} finished request{req}. Messages already posted stay in Slack." + history
    )


#: The channel's own /brief subcommands; :func:`all_subcommands` adds the other areas'.
SUBCOMMANDS: dict[str, Subcommand] = {
    "help": Subcommand(_help),
    "settings": Subcommand(_settings, takes_args=True),
    "on": Subcommand(_switch(True)),
    "off": Subcommand(_switch(False)),
    "forget": Subcommand(_forget),
}


def all_subcommands() -> dict[str, Subcommand]:
    """Every ``/brief <word>`` the router answers, listed here rather than by import order."""
    return {**SUBCOMMANDS, **digests.SUBCOMMANDS}


async def _language(deps: Deps, body: dict[str, Any], value: str) -> Reply:
    """``/brief settings language <code>``: the language model briefs are written in."""
    team, channel = str(body.get("team_id", "")), str(body.get("channel_id", ""))
    current = deps.channels.language(team, channel) or deps.settings.language
    if not value:
        return Reply(notices.text_message(language_usage(current)))
    code = None if value.lower() == "default" else value
    if code is not None and not LANGUAGE_CODE.fullmatch(code):
        shown = sanitize_slack(value)[:40]
        return Reply(
            notices.text_message(f"`{shown}` is not a language code. " + language_usage(current))
        )
    user = body.get("user_id")
    deps.channels.set_language(team, channel, code, user=user)
    chosen = code or deps.settings.language
    who = f"<@{user}>" if user else "Someone"
    text = (
        f"{who} set the language of briefs in this channel to {language_name(chosen)} "
        f"(`{chosen}`). Model briefs are written in it; quotes stay in the article's language."
    )
    return Reply(notices.text_message(text), in_channel=True)


def language_usage(current: str) -> str:
    return (
        f"Briefs in this channel are written in {language_name(current)} (`{current}`). "
        f"Change it with `{COMMAND} settings language <code>` (an ISO 639-1 code such as "
        f"`de`, `es` or `pt-BR`), or `{COMMAND} settings language default`."
    )


add_setting("language", _language)


async def _ack(ack: Any, reply: Reply) -> None:
    await ack(
        text=reply.message.text,
        blocks=reply.message.blocks,
        response_type="in_channel" if reply.in_channel else "ephemeral",
    )


async def _answer_later(respond: AsyncRespond, reply: Awaitable[Reply]) -> None:
    answer = await reply
    await respond(
        text=answer.message.text,
        blocks=answer.message.blocks,
        response_type="in_channel" if answer.in_channel else "ephemeral",
        replace_original=False,
    )


def register(app: AsyncApp, deps: Deps) -> None:
    subcommands = all_subcommands()

    @app.command(COMMAND)
    async def on_brief(ack: Any, body: dict[str, Any], respond: AsyncRespond) -> None:
        text = str(body.get("text") or "").strip()
        word, args = [*text.split(maxsplit=1), "", ""][:2]
        sub = subcommands.get(word.lower() or "help")
        if sub is not None and (sub.takes_args or not args.strip()):
            if sub.after_ack:
                await ack()
                deps.spawn(_answer_later(respond, sub.handler(deps, body, args.strip())))
            else:
                await _ack(ack, await sub.handler(deps, body, args.strip()))
            return
        sources = intake.sources_of(text, allow_text=True)
        if not sources:
            await _ack(ack, Reply(notices.help_message(prefix=NO_ARTICLE)))
            return
        if sources[0].kind == "text" and word_count(text) < 2:
            # One word that is neither a subcommand nor a link: a typo, most likely.
            shown = sanitize_slack(text)[:50]
            prefix = f"I don't know `{COMMAND} {shown}`."
            await _ack(ack, Reply(notices.help_message(prefix=prefix)))
            return
        cap = deps.settings.max_links_per_message
        notes = [cap_text(len(sources), cap)] if len(sources) > cap else []
        admitted = deps.admit(
            [intake.command_job(body, sources[:cap])], team=str(body.get("team_id", "")),
            user=body.get("user_id"), channel=str(body.get("channel_id", "")),
        )  # fmt: skip
        deps.enqueue(admitted.jobs)
        notes += [admitted.note] if admitted.note else []
        if notes:  # what was not briefed, and why: privately, in the ack
            await _ack(ack, Reply(notices.text_message(" ".join(notes))))
            return
        # An empty ack: the "who asked" message and the brief follow in the channel.
        await ack()
