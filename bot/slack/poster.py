"""Run one job: post a placeholder, brief, update it in place, continue in the thread.

Exactly once, across kills and restarts. Every message we post carries Slack message
metadata naming its job and part; its ts is stored right after posting. A job that runs
again (``attempts > 1``) first looks in its thread for parts it posted but could not
record, so a kill between posting and recording never leads to a second post:

    claim -> [find earlier posts] -> placeholder (post, store ts) -> brief
          -> chat.update part 0 -> post/update parts 1..n (store each ts) -> done

Updates are idempotent, so a rerun after any later kill point rewrites the same messages
(the brief comes from the cache). The window that remains: finding earlier posts needs
conversations.replies to show them. Where the bot can't read the history (a DM, where it
has no im:history), a post whose ts was lost (killed in the instant between Slack storing
it and us storing its ts, or its answer lost in transit) is posted again: a stale
"Reading…" line, or a continuation part shown twice; never a second brief.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.errors import BriefbotError
from bot.render import SlackMessage, build_error_message, build_messages, build_placeholder
from bot.sanitize import link
from bot.service import BriefResult, BriefService, describe_source
from bot.slack import intake, notices
from bot.slack.channels import ChannelSettings
from bot.slack.jobs import MAX_ATTEMPTS, Job, JobQueue
from bot.slack.pacing import ChannelPacer
from bot.slack.posting import METADATA_TYPE, marker, post_message

log = logging.getLogger(__name__)

_JOB_CLIENT: contextvars.ContextVar[AsyncWebClient | None] = contextvars.ContextVar(
    "briefbot_job_client", default=None
)
#: Slack errors that mean we may not post there; the person who asked is told privately.
_CANT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
_TOO_BIG = frozenset({"msg_too_long", "invalid_blocks"})
_FALLBACK_CHARS = 3500


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or f"http_{exc.response.status_code}")


def _is_transient(exc: SlackApiError) -> bool:
    return exc.response.status_code in (429, 500, 502, 503, 504) or _slack_error(exc) in (
        "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
    )  # fmt: skip


class Poster:
    """Turns claimed jobs into Slack messages."""

    def __init__(
        self,
        *,
        settings: Settings,
        client: AsyncWebClient,
        queue: JobQueue,
        service: BriefService,
        pacer: ChannelPacer,
        wake: Callable[[], None] = lambda: None,
        channels: ChannelSettings | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.queue = queue
        self.service = service
        self.pacer = pacer
        self.wake = wake
        #: Multi-workspace installs: the client holding a job's team token (bot/fleet/tokens).
        self.clients: Callable[[str], Awaitable[AsyncWebClient]] | None = None
        #: More job kinds, run like the built-in ones (e.g. questions, bot.slack.questions).
        self.handlers: dict[str, Callable[[Job], Awaitable[None]]] = {}
        #: Called with (job payload, result) after each brief, before it is posted.
        self.on_brief: Callable[[dict[str, Any], BriefResult], Awaitable[None]] | None = None
        self.channels = channels

    async def run(self, job: Job) -> None:
        """Run a claimed job to done, failed, or back to the queue for a later retry."""
        if self.clients is not None:
            try:
                # A context variable: jobs of different teams run side by side.
                _JOB_CLIENT.set(await self.clients(str(job.payload.get("team") or "")))
            except BriefbotError as exc:  # uninstalled meanwhile: nobody to post for
                self.queue.fail(job, f"{exc.code}: {exc}")
                return
        try:
            if job.exhausted:
                await self._give_up(job)
                return
            handler = {
                intake.BRIEF: self._brief,
                intake.COMMAND: self._command,
                intake.THREAD: self._thread,
                intake.NOTICE: self._notice,
                **self.handlers,
            }[job.kind]
            await handler(job)
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Slack unreachable, or the answer lost: run again later; the rerun first looks
            # for what this attempt may have posted.
            self._retry_or_fail(job, f"{type(exc).__name__}: {exc}")
        except SlackApiError as exc:
            # Rate limits and 5xx that outlasted the client's retries are transient too;
            # any other error (not_in_channel, invalid_auth...) won't fix itself.
            if _is_transient(exc):
                self._retry_or_fail(job, _slack_error(exc))
            else:
                log.warning("job %s failed: Slack said %s", job.id, _slack_error(exc))
                self.queue.fail(job, _slack_error(exc))
                if _slack_error(exc) in _CANT_POST:
                    # Someone asked (/brief, the shortcut): tell them privately why nothing came.
                    await self._respond(job.payload.get("response_url"), notices.NOT_IN_CHANNEL)
        except Exception as exc:
            log.exception("job %s failed unexpectedly", job.id)
            self.queue.fail(job, f"{type(exc).__name__}: {exc}")

    def _retry_or_fail(self, job: Job, error: str) -> None:
        if job.attempts >= MAX_ATTEMPTS:
            log.error("job %s gave up after %d attempts: %s", job.id, job.attempts, error)
            self.queue.fail(job, error)
            return
        delay = min(60.0, 2.0**job.attempts)
        log.warning("job %s will retry in %.0fs: %s", job.id, delay, error)
        self.queue.retry_later(job, delay=delay, error=error)

    async def _give_up(self, job: Job) -> None:
        """A job claimed past the cap: say so where it was asked, and fail it for good.

        Only cheap Slack calls happen here, never the fetch or parse that may be the poison.
        """
        p = job.payload
        error = f"gave up after {MAX_ATTEMPTS} attempts (last: {job.error or 'interrupted'})"
        log.error("job %s %s", job.id, error)
        if job.kind == intake.BRIEF:
            label = describe_source(intake.source_from_dict(p["source"]))
            msg = build_error_message(notices.GAVE_UP.format(label=label, attempts=MAX_ATTEMPTS))
            posted = await self._earlier_posts(job, p["channel"], p["thread_ts"])
            known = job.placeholder_ts or posted.get(0)
            if known is not None:
                await self._update(p["channel"], known, msg, job=job, part=0)
            else:
                await self._post_once(job, p["channel"], p["thread_ts"], msg, known=None)
        else:
            label = "your request"
            await self._respond(
                p.get("response_url"),
                notices.GAVE_UP.format(label=label, attempts=MAX_ATTEMPTS),
            )
        self.queue.fail(job, error)

    # --- job kinds -----------------------------------------------------------------------

    async def _brief(self, job: Job) -> None:
        p = job.payload
        channel, thread_ts = p["channel"], p["thread_ts"]
        source = intake.source_from_dict(p["source"])
        label = describe_source(source)
        posted = await self._earlier_posts(job, channel, thread_ts)
        placeholder = await self._post_once(
            job, channel, thread_ts, build_placeholder(label), known=posted.get(0)
        )
        messages, error, log_id = await self._brief_messages(source, label, payload=p)
        await self._update(channel, placeholder, messages[0], job=job, part=0)
        if log_id is not None and self.service.store is not None:
            # The digest links to this message from the log; it never guesses the thread.
            await asyncio.to_thread(
                self.service.store.mark_posted, log_id, job_id=job.id, channel=channel,
                thread_ts=thread_ts, message_ts=placeholder,
            )  # fmt: skip
        replies = list(job.reply_ts)
        while len(replies) + 1 in posted:  # parts posted by a killed attempt, not yet recorded
            replies.append(posted[len(replies) + 1])
        for part, message in enumerate(messages[1:], start=1):
            if part <= len(replies):
                await self._update(channel, replies[part - 1], message, job=job, part=part)
                continue
            ts = await self._post(channel, thread_ts, message, job=job, part=part)
            replies.append(ts)
            self.queue.set_replies(job, replies)
        # A rerun may produce a shorter brief than the parts already posted.
        for ts in replies[len(messages) - 1 :]:
            await self._call("chat_delete", channel=channel, ts=ts)
        if len(replies) > len(messages) - 1:
            self.queue.set_replies(job, replies[: len(messages) - 1])
        if error is None:
            self.queue.finish(job)
        else:  # the thread says what went wrong; the row keeps why
            self.queue.fail(job, error)

    async def _brief_messages(
        self, source: Any, label: str, *, payload: dict[str, Any]
    ) -> tuple[list[SlackMessage], str | None, int | None]:
        """The brief's messages and its log id, or one short error message and the error."""
        try:
            team, channel = payload["team"], payload["channel"]
            # The channel's /brief settings language, else BRIEFBOT_LANGUAGE.
            language = self.channels.language(team, channel) if self.channels else None
            result = await self.service.brief(source, team=team, channel=channel, language=language)
            messages = build_messages(result.brief, template_dir=self.settings.template_dir)
            if self.on_brief is not None:
                await self.on_brief(payload, result)
        except BriefbotError as exc:
            log.info("brief of %s failed: %s (%s)", label, exc, exc.code)
            return [build_error_message(str(exc))], f"{exc.code}: {exc}", None
        except Exception as exc:
            # The traceback goes to the log; the thread gets a short, safe sentence.
            log.exception("unexpected error while briefing %s", label)
            unexpected = build_error_message(notices.UNEXPECTED.format(label=label))
            return [unexpected], f"{type(exc).__name__}: {exc}", None
        return messages, None, result.log_id

    async def _command(self, job: Job) -> None:
        p = job.payload
        sources = [intake.source_from_dict(s) for s in p["sources"]]
        shown = [
            link(s.value, s.label) if s.kind == "url" else notices.quote_label(describe_source(s))
            for s in sources
        ]
        known = job.placeholder_ts
        if known is None and job.attempts > 1:
            known = await self._find_in_history(job, p["channel"])
        anchor = await self._post_once(
            job, p["channel"], None, notices.asked_message(p.get("user"), shown), known=known
        )
        where = intake.Where(p["team"], p["channel"], anchor)
        children = [
            intake.brief_job(where, anchor, s, origin="command", user=p.get("user"))
            for s in sources
        ]
        self.queue.enqueue_many(children)
        self.queue.finish(job)
        self.wake()

    async def _thread(self, job: Job) -> None:
        p = job.payload
        channel, thread_ts = p["channel"], p["thread_ts"]
        resp = await self._call("conversations_replies", channel=channel, ts=thread_ts, limit=1)
        parents = [m for m in resp.get("messages") or [] if m.get("ts") == thread_ts]
        children = (
            intake.thread_parent_jobs(
                parents[0],
                team=p["team"],
                channel=channel,
                user=p.get("user"),
                max_links=self.settings.max_links_per_message,
            )
            if parents
            else []
        )
        new = self.queue.enqueue_many(children) if children else []
        if any(new):
            self.queue.finish(job)
            self.wake()
            return
        note = (
            notices.already_briefed_message()
            if children
            else notices.text_message(notices.NOTHING_IN_PARENT)
        )
        posted = await self._earlier_posts(job, channel, thread_ts)
        await self._post_once(job, channel, thread_ts, note, known=posted.get(0))
        self.queue.finish(job)

    async def _notice(self, job: Job) -> None:
        p = job.payload
        posted = await self._earlier_posts(job, p["channel"], p["thread_ts"])
        msg = notices.text_message(p["text"])
        await self._post_once(job, p["channel"], p["thread_ts"], msg, known=posted.get(0))
        self.queue.finish(job)

    # --- posting -------------------------------------------------------------------------

    async def _post_once(
        self, job: Job, channel: str, thread_ts: str | None, message: SlackMessage, *,
        known: str | None,
    ) -> str:  # fmt: skip
        """Part 0 of a job: the stored ts, one found in Slack, or a new post (stored at once)."""
        ts = job.placeholder_ts or known
        if ts is None:
            ts = await self._post(channel, thread_ts, message, job=job, part=0)
        if ts != job.placeholder_ts:
            self.queue.set_placeholder(job, ts)
        return ts

    async def _post(
        self, channel: str, thread_ts: str | None, message: SlackMessage, *, job: Job, part: int
    ) -> str:
        return await post_message(
            _JOB_CLIENT.get() or self.client, self.pacer, channel, message,
            thread_ts=thread_ts, metadata=marker(job.id, part),
        )  # fmt: skip

    async def _update(
        self, channel: str, ts: str, message: SlackMessage, *, job: Job, part: int
    ) -> None:
        try:
            await self._call(
                "chat_update", channel=channel, ts=ts, text=message.text, blocks=message.blocks,
                metadata=marker(job.id, part),
            )  # fmt: skip
        except SlackApiError as exc:
            if _slack_error(exc) not in _TOO_BIG:
                raise
            # The render layer keeps within Slack's limits; if Slack still refuses, post the
            # plain text rather than leave the placeholder spinning.
            log.warning("chat.update refused (%s); falling back to plain text", _slack_error(exc))
            text = message.text[:_FALLBACK_CHARS]
            await self._call("chat_update", channel=channel, ts=ts, text=text, blocks=[])

    async def _call(self, method: str, **kwargs: Any) -> Any:
        return await getattr(_JOB_CLIENT.get() or self.client, method)(**kwargs)

    async def _respond(self, response_url: str | None, text: str) -> None:
        if not response_url:
            return
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        # slack_sdk's own client for response_url: Slack's payload shape, its timeouts and
        # error handling, instead of a hand-rolled aiohttp post.
        try:
            response = await AsyncWebhookClient(response_url, timeout=10).send(
                text=text, response_type="ephemeral"
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not answer the slash command: %s", exc)
            return
        if response.status_code != 200:
            log.warning("could not answer the slash command: HTTP %s", response.status_code)

    # --- recovery ------------------------------------------------------------------------

    async def _earlier_posts(self, job: Job, channel: str, thread_ts: str) -> dict[int, str]:
        """Parts this job posted on an earlier attempt, by part number (first attempt: none)."""
        if job.attempts <= 1:
            return {}
        found: dict[int, str] = {}
        cursor: str | None = None
        for _ in range(20):  # 20 pages of 200 replies: far beyond any real thread
            kwargs: dict[str, Any] = {"cursor": cursor} if cursor else {}
            try:
                resp = await self._call(
                    "conversations_replies", channel=channel, ts=thread_ts, limit=200,
                    include_all_metadata=True, **kwargs,
                )  # fmt: skip
            except SlackApiError as exc:
                if _is_transient(exc):
                    raise
                log.info("can't read thread %s to resume job %s: %s", thread_ts, job.id, exc)
                return found
            found.update(_parts_of(job, resp.get("messages") or []))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found

    async def _find_in_history(self, job: Job, channel: str) -> str | None:
        """The top-level message a command job posted before it was killed, if any."""
        try:
            resp = await self._call(
                "conversations_history", channel=channel, oldest=f"{job.created_at - 60:.6f}",
                limit=200, include_all_metadata=True,
            )  # fmt: skip
        except SlackApiError as exc:
            # Rate limits and 5xx that outlasted the client's retries are transient too;
            # any other error (not_in_channel, invalid_auth...) won't fix itself.
            if _is_transient(exc):
                raise
            return None
        return _parts_of(job, resp.get("messages") or []).get(0)


def _parts_of(job: Job, messages: list[dict[str, Any]]) -> dict[int, str]:
    found: dict[int, str] = {}
    for m in messages:
        meta = m.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if meta.get("event_type") == METADATA_TYPE and payload.get("job") == job.id:
            try:
                found.setdefault(int(payload.get("part", 0)), str(m["ts"]))
            except (TypeError, ValueError):
                continue
    return found
