"""Questions in a brief's thread: thin listeners, pure intake, and the job that answers.

An @mention with words in a thread (no link) is a question; with ``/brief settings
questions any`` a plain reply in a brief's thread is one too. Each question is a durable
job keyed by its message (team, channel, ts), so retries, the message event and the
app_mention event for the same reply, and restarts all give one answer. The answer job
posts a placeholder, answers from the thread's stored article (never fetched again) and
updates the placeholder in place, through the Poster (pacing, exactly-once recovery).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp

from bot.ask.models import Answer
from bot.ask.render import answer_message, hint_message, placeholder_message
from bot.ask.service import AskService
from bot.ask.store import AskStore, ThreadArticle
from bot.errors import BriefbotError
from bot.render import build_error_message
from bot.service import BriefResult
from bot.slack import intake, notices, slash
from bot.slack.jobs import Job, NewJob, job_identity
from bot.slack.poster import Poster
from bot.slack.subcommands import Reply

if TYPE_CHECKING:
    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

QUESTION = "question"
#: Longest question we take (Slack messages can be 40k characters).
MAX_QUESTION_CHARS = 2000


# --- intake: pure ----------------------------------------------------------------------


def question_text(event: dict[str, Any]) -> str | None:
    """The question in a thread reply (mentions removed), or None if it is not one."""
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not thread_ts or thread_ts == ts:
        return None
    text = str(event.get("text") or "")
    if intake.link_sources(text):
        return None  # a link in a thread asks for a brief of that link
    words = " ".join(intake.plain_text(text).split())
    return words[:MAX_QUESTION_CHARS] or None


def is_plain_reply(event: dict[str, Any], *, bot_user_id: str | None) -> bool:
    """A person's new reply in a thread (not a bot, an edit or a join)."""
    if event.get("subtype") not in (None, "", "file_share"):
        return False
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return False
    if bot_user_id and event.get("user") == bot_user_id:
        return False
    return event.get("channel_type") in ("channel", "group") and question_text(event) is not None


def question_job(
    event: dict[str, Any], *, team: str, origin: str, event_id: str | None
) -> NewJob | None:
    """The job answering a thread reply, keyed by the reply itself."""
    question = question_text(event)
    if question is None:
        return None
    channel, ts = str(event["channel"]), str(event["ts"])
    return NewJob(
        id=job_identity(team, channel, ts, QUESTION),
        kind=QUESTION,
        event_id=event_id,
        payload={
            "team": team, "channel": channel, "thread_ts": str(event["thread_ts"]),
            "question_ts": ts, "question": question, "user": event.get("user"),
            "origin": origin,
        },
    )  # fmt: skip


# --- listeners: thin -------------------------------------------------------------------


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("team") or "")


async def _mention_question(body: dict[str, Any]) -> bool:
    return question_text(body.get("event") or {}) is not None


async def _thread_reply(body: dict[str, Any], context: Any) -> bool:
    event = body.get("event") or {}
    return is_plain_reply(event, bot_user_id=getattr(context, "bot_user_id", None))


async def _questions_setting(deps: Deps, body: dict[str, Any], value: str) -> Reply:
    word = value.lower()
    if word not in ("any", "mention"):
        text = (
            "Use `/brief settings questions any` (every reply in a brief's thread is a "
            "question) or `/brief settings questions mention` (only replies that mention me)."
        )
        return Reply(notices.text_message(text))
    team, channel = str(body.get("team_id", "")), str(body.get("channel_id", ""))
    deps.channels.set_questions_any(team, channel, word == "any", user=body.get("user_id"))
    return Reply(notices.text_message(notices.questions_line(word == "any")[2:]))


slash.add_setting("questions", _questions_setting)


def register(app: AsyncApp, deps: Deps) -> None:
    # Registered before bot.slack.messages: Bolt runs the first listener that matches.
    @app.event("app_mention", matchers=[_mention_question])
    async def on_mention_question(body: dict[str, Any], event: dict[str, Any]) -> None:
        job = question_job(event, team=_team(body, event), origin="mention",
                           event_id=body.get("event_id"))  # fmt: skip
        if job is not None:
            deps.enqueue([job])

    @app.event("message", matchers=[_thread_reply])
    async def on_thread_reply(body: dict[str, Any], event: dict[str, Any]) -> None:
        team, channel = _team(body, event), str(event["channel"])
        if not deps.channels.questions_any(team, channel):
            return  # the app_mention event covers replies that mention the bot
        store = AskStore(deps.queue.conn)
        if not store.has_thread(team=team, channel=channel, thread_ts=str(event["thread_ts"])):
            return  # a conversation that isn't about a brief: stay out of it
        job = question_job(event, team=team, origin="reply", event_id=body.get("event_id"))
        if job is not None:
            deps.enqueue([job])


# --- the job ---------------------------------------------------------------------------


def _one_text(articles: list[ThreadArticle]) -> tuple[str, str | None, str | None]:
    """The text to answer from, its title and URL (several briefs in a thread: all of them)."""
    if len(articles) == 1:
        a = articles[0]
        return a.text, a.title, a.url
    return "\n\n".join(a.text for a in articles), "the articles briefed in this thread", None


class QuestionJobs:
    """Runs question jobs through the Poster; remembers each brief's article by thread."""

    def __init__(self, poster: Poster, service: AskService, store: AskStore) -> None:
        self.poster = poster
        self.service = service
        self.store = store

    def install(self) -> None:
        self.poster.handlers[QUESTION] = self.run
        self.poster.on_brief = self.remember

    async def remember(self, payload: dict[str, Any], result: BriefResult) -> None:
        """Keep the article of a brief posted in a thread, for questions asked there."""
        article = result.article
        self.store.remember_thread(
            team=payload["team"], channel=payload["channel"], thread_ts=payload["thread_ts"],
            key=result.cache_key, title=result.brief.title or article.title,
            url=result.brief.url, text=article.text,
        )  # fmt: skip

    async def run(self, job: Job) -> None:
        p = job.payload
        team, channel, thread_ts = p["team"], p["channel"], p["thread_ts"]
        articles = self.store.articles(team=team, channel=channel, thread_ts=thread_ts)
        if not articles and p.get("origin") == "reply":
            self.poster.queue.finish(job)  # brief gone (forgotten): nothing to say
            return
        if not articles and await self._brief_parent(job):
            return
        posted = await self.poster._earlier_posts(job, channel, thread_ts)
        if not articles:
            await self.poster._post_once(
                job, channel, thread_ts, hint_message(), known=posted.get(0)
            )
            self.poster.queue.finish(job)
            return
        ts = await self.poster._post_once(
            job, channel, thread_ts, placeholder_message(p["question"]), known=posted.get(0)
        )
        try:
            answer = await self._answer(p, articles)
        except BriefbotError as exc:
            log.info("question %s failed: %s (%s)", job.id, exc, exc.code)
            await self.poster._update(channel, ts, build_error_message(str(exc)), job=job, part=0)
            self.poster.queue.fail(job, f"{exc.code}: {exc}")
            return
        await self.poster._update(channel, ts, answer_message(answer), job=job, part=0)
        self.poster.queue.finish(job)

    async def _brief_parent(self, job: Job) -> bool:
        """A thread whose first message has an article link not briefed yet: brief it.

        "@Briefbot brief this please" under a link asks for its brief, as a bare mention
        does; the question can follow once the brief is there. True if a brief was queued.
        """
        p = job.payload
        resp = await self.poster._call(
            "conversations_replies", channel=p["channel"], ts=p["thread_ts"], limit=1
        )
        parents = [m for m in resp.get("messages") or [] if m.get("ts") == p["thread_ts"]]
        if not parents or not intake.link_sources(str(parents[0].get("text", ""))):
            return False
        children = intake.thread_parent_jobs(
            parents[0], team=p["team"], channel=p["channel"], user=p.get("user")
        )
        if not any(self.poster.queue.enqueue_many(children)):
            return False  # briefed before (its article not kept): the hint says what to do
        self.poster.queue.finish(job)
        self.poster.wake()
        return True

    async def _answer(self, p: dict[str, Any], articles: list[ThreadArticle]) -> Answer:
        where = {"team": p["team"], "channel": p["channel"]}
        # A rerun (restart, lost Slack answer) reuses the stored answer: one model call.
        known = self.store.answer_for(**where, question_ts=p["question_ts"])
        if known is not None:
            return known
        history = self.store.history(**where, thread_ts=p["thread_ts"], before=p["question_ts"])
        text, title, url = _one_text(articles)
        answer = await self.service.ask(
            text, p["question"], title=title, url=url, history=history, team=p["team"]
        )
        # The queue's connection lives on the event loop; one short autocommit insert.
        self.store.record_answer(
            answer, **where, thread_ts=p["thread_ts"], question_ts=p["question_ts"]
        )
        return answer
