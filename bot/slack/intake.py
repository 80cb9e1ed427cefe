"""Turn Slack payloads into jobs: which messages to brief, what to brief, where to answer.

Pure functions over plain dicts, so every filter rule is tested without a server.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from bot.ingest.links import is_media_link, is_slack_link, slack_links
from bot.models import Source
from bot.sanitize import strip_mentions
from bot.slack.jobs import NewJob, job_identity, source_key
from bot.slack.limits import cap_text

#: Links briefed from one message unless the caller says otherwise (the setting's default).
MAX_LINKS = 5

#: Message subtypes that are a person posting something new; every other subtype
#: (message_changed, message_deleted, bot_message, channel_join, ...) is ignored.
_NEW_MESSAGE_SUBTYPES = frozenset({None, "", "file_share"})
_CHANNEL_TYPES = frozenset({"channel", "group"})
_SLACK_LINK = re.compile(r"<(?:https?|mailto):[^<>]*>", re.IGNORECASE)
_BARE_LINK = re.compile(r"\bhttps?://\S+", re.IGNORECASE)
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^<>]*)?>")

# Job kinds (see bot.slack.poster for what each does).
BRIEF = "brief"
COMMAND = "command"
THREAD = "thread"
NOTICE = "notice"


@dataclass(frozen=True)
class Where:
    """A place to answer: the team, the channel and the thread root."""

    team: str
    channel: str
    thread_ts: str


def source_to_dict(source: Source) -> dict[str, Any]:
    return source.model_dump()


def source_from_dict(data: dict[str, Any]) -> Source:
    return Source.model_validate(data)


def link_sources(text: str) -> list[Source]:
    """Article links in Slack message text, with their labels; no Slack or media links."""
    return [
        Source(kind="url", value=url, label=label if label and label != url else None)
        for url, label in slack_links(text or "")
        if not is_slack_link(url) and not is_media_link(url)
    ]


def plain_text(text: str) -> str:
    """Slack message text as plain words: mentions removed, entities unescaped."""
    text = _MENTION.sub(" ", text or "")
    return html.unescape(strip_mentions(text)).strip()


def sources_of(text: str, *, allow_text: bool) -> list[Source]:
    """The article links in a message, else (when allowed) its text without any links."""
    links = link_sources(text)
    if links or not allow_text:
        return links
    # A message that is only a video or Slack link has nothing to brief.
    body = plain_text(_SLACK_LINK.sub(" ", text or ""))
    body = _BARE_LINK.sub(" ", body).strip()
    return [Source(kind="text", value=plain_text(text))] if body else []


def ignore_reason(event: dict[str, Any], *, bot_user_id: str | None) -> str | None:
    """Why a message event is not a link paste to brief, or None if it is one."""
    if event.get("subtype") not in _NEW_MESSAGE_SUBTYPES:
        return f"subtype {event.get('subtype')}"
    if event.get("bot_id") or event.get("bot_profile"):
        return "bot message"
    if bot_user_id and event.get("user") == bot_user_id:
        return "own message"
    if not event.get("user"):
        return "no user"
    if event.get("hidden"):
        return "hidden"
    if event.get("channel_type") not in _CHANNEL_TYPES:
        return f"channel type {event.get('channel_type')}"
    thread_ts = event.get("thread_ts")
    if thread_ts and thread_ts != event.get("ts"):
        # Replies are briefed only when the bot is mentioned: the app_mention listener does that.
        return "thread reply"
    return None


def brief_job(
    where: Where, anchor: str, source: Source, *, origin: str, user: str | None,
    event_id: str | None = None,
) -> NewJob:  # fmt: skip
    """One brief of one source, answered in ``where``'s thread."""
    return NewJob(
        id=job_identity(where.team, where.channel, anchor, source_key(source)),
        kind=BRIEF,
        event_id=event_id,
        payload={
            "team": where.team,
            "channel": where.channel,
            "thread_ts": where.thread_ts,
            "source": source_to_dict(source),
            "origin": origin,
            "user": user,
        },
    )


def capped_briefs(
    where: Where, anchor: str, sources: list[Source], *, origin: str, user: str | None,
    event_id: str | None = None, max_links: int = MAX_LINKS,
) -> list[NewJob]:  # fmt: skip
    """A brief per source up to ``max_links``, plus a note in the thread if some were skipped."""
    jobs = [
        brief_job(where, anchor, s, origin=origin, user=user, event_id=event_id)
        for s in sources[:max_links]
    ]
    if len(sources) > max_links:
        jobs.append(notice_job(where, anchor, cap_text(len(sources), max_links)))
    return jobs


def paste_jobs(
    event: dict[str, Any], *, team: str, bot_user_id: str | None, event_id: str | None,
    max_links: int = MAX_LINKS,
) -> list[NewJob]:  # fmt: skip
    """Jobs for a link pasted in a channel: one brief per link, in that message's thread."""
    if ignore_reason(event, bot_user_id=bot_user_id) is not None:
        return []
    ts = str(event["ts"])
    where = Where(team, str(event["channel"]), ts)
    sources = link_sources(str(event.get("text", "")))
    return capped_briefs(where, ts, sources, origin="paste", user=event.get("user"),
                         event_id=event_id, max_links=max_links)  # fmt: skip


def mention_jobs(
    event: dict[str, Any], *, team: str, event_id: str | None, help_text: str,
    max_links: int = MAX_LINKS,
) -> list[NewJob]:  # fmt: skip
    """Jobs for an @mention: its links; else, in a thread, the thread's parent; else help."""
    ts, channel = str(event["ts"]), str(event["channel"])
    thread_ts = str(event.get("thread_ts") or ts)
    where = Where(team, channel, thread_ts)
    user = event.get("user")
    sources = link_sources(str(event.get("text", "")))
    if sources:
        return capped_briefs(where, ts, sources, origin="mention", user=user, event_id=event_id,
                             max_links=max_links)  # fmt: skip
    if thread_ts != ts:
        return [
            NewJob(
                id=job_identity(team, channel, ts, "thread"),
                kind=THREAD,
                event_id=event_id,
                payload={"team": team, "channel": channel, "thread_ts": thread_ts, "user": user},
            )
        ]
    return [notice_job(where, ts, help_text, event_id=event_id)]


def notice_job(where: Where, anchor: str, text: str, *, event_id: str | None = None) -> NewJob:
    """A short text reply in a thread, posted once."""
    return NewJob(
        id=job_identity(where.team, where.channel, anchor, "notice"),
        kind=NOTICE,
        event_id=event_id,
        payload={
            "team": where.team, "channel": where.channel, "thread_ts": where.thread_ts,
            "text": text,
        },
    )  # fmt: skip


def shortcut_jobs(payload: dict[str, Any], *, max_links: int = MAX_LINKS) -> list[NewJob]:
    """Jobs for "Brief this message": its links, else its text, in its thread."""
    message = payload.get("message") or {}
    team = str((payload.get("team") or {}).get("id") or message.get("team") or "")
    channel = str((payload.get("channel") or {}).get("id") or "")
    ts = str(message.get("ts") or payload.get("message_ts") or "")
    if not (team and channel and ts):
        return []
    where = Where(team, channel, str(message.get("thread_ts") or ts))
    user = (payload.get("user") or {}).get("id")
    sources = sources_of(str(message.get("text", "")), allow_text=True)
    jobs = capped_briefs(where, ts, sources, origin="shortcut", user=user, max_links=max_links)
    for job in jobs:  # to explain privately if the bot can't post in that channel
        if job.kind == BRIEF:
            job.payload["response_url"] = payload.get("response_url")
    return jobs


def command_job(body: dict[str, Any], sources: list[Source]) -> NewJob:
    """A /brief request: post who asked in the channel, then brief each source under it."""
    team, channel = str(body.get("team_id", "")), str(body.get("channel_id", ""))
    return NewJob(
        id=job_identity(team, channel, "cmd", str(body.get("trigger_id", ""))),
        kind=COMMAND,
        payload={
            "team": team,
            "channel": channel,
            "user": body.get("user_id"),
            "sources": [source_to_dict(s) for s in sources],
            "response_url": body.get("response_url"),
        },
    )


def thread_parent_jobs(
    parent: dict[str, Any], *, team: str, channel: str, user: str | None,
    max_links: int = MAX_LINKS,
) -> list[NewJob]:  # fmt: skip
    """Briefs of a thread's parent message (for an @mention in the thread), in that thread."""
    ts = str(parent["ts"])
    where = Where(team, channel, ts)
    # The parent's identity matches its link-paste jobs, so it is never briefed twice.
    sources = sources_of(str(parent.get("text", "")), allow_text=True)
    return capped_briefs(where, ts, sources, origin="mention", user=user, max_links=max_links)
