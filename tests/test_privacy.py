"""Privacy: retention purges, `/brief forget`, and secrets that never reach logs or Slack."""

from __future__ import annotations

import json
import logging
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import retention
from bot.access import USER_REFUSED
from bot.config import Settings
from bot.models import Brief
from bot.slack.jobs import JobQueue, NewJob
from bot.slack.slash import forgotten_text
from bot.store import Store
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.slack import FakeSlack, sign_request, slash_command_payload
from tests.fakes.slack_payloads import slash_command_body
from tests.fakes.web import FakeWeb
from tests.test_slack_support import (
    BotProcess,
    bot_env,
    bot_running,
    bot_settings,
    briefs_in,
    paste,
)

# Real-looking secrets: the shapes Slack and OpenAI issue, so a leak can't hide behind "test".
BOT_TOKEN = "xoxb-2814976321-5523198834215-Zq8RkT3vWm1XcY7pLs4NdHfE"
APP_TOKEN = "xapp-1-A05KQ7R3T9B-5523198834216-4f9c2e7a1b3d5f7e9a0c2e4f6a8b0d1c3e5f7a9b1d3f5e7c9a"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
OPENAI_KEY = "sk-proj-Jq3vT9xR2mW7yK5pL8nB4cF6hD1gS0aZ-Xe2Rt5Yu8Io3Pa6Sd9Fg1Hj4Kl7Zx0Cv"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, OPENAI_KEY)
PASTED = (
    "The harbour board met the dockworkers' union on Tuesday. Chair Ana Lind said the board "
    "would publish the pay offer by Friday. The union asked for a review in June. Members "
    "will vote on the offer next week, and the port expects the ships waiting outside the "
    "harbour to be unloaded within four days of a yes vote."
)


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=OPENAI_KEY) as server:
        yield server


# --- retention ---------------------------------------------------------------------------


def _brief(title: str) -> Brief:
    return Brief.model_validate({"title": title, "summary": "s", "meta": {"engine": "offline"}})


def _seed(store: Store, queue: JobQueue, *, now: datetime) -> None:
    """Briefs, article text and finished jobs: one of each 40 days old, one of each fresh."""
    for name, age in (("old", timedelta(days=40)), ("new", timedelta(hours=1))):
        store.put_brief(f"key-{name}", _brief(name), url=f"https://example.com/{name}",
                        title=name, team="T1", channel="C1", article_text=f"{name} text",
                        created_at=now - age)  # fmt: skip
        payload = {"team": "T1", "channel": "C1", "source": {"kind": "text", "value": name}}
        queue.enqueue(NewJob(id=f"job-{name}", kind="brief", payload=payload))
        stamp = (now - age).timestamp()
        queue.conn.execute("UPDATE jobs SET state='done', updated_at=? WHERE id=?",
                           (stamp, f"job-{name}"))  # fmt: skip
    queue.enqueue(NewJob(id="job-waiting", kind="brief", payload={"channel": "C1"}))
    queue.conn.execute("UPDATE jobs SET updated_at=? WHERE id='job-waiting'",
                       ((now - timedelta(days=40)).timestamp(),))  # fmt: skip


def _left(store: Store, queue: JobQueue) -> tuple[list[str], list[str], list[str]]:
    briefs = sorted(b.title or "" for b in store.recent_briefs(limit=100))
    cached = sorted(r[0] for r in store._query("SELECT article_text FROM brief_cache"))
    jobs = sorted(r[0] for r in queue.conn.execute("SELECT id FROM jobs"))
    return briefs, cached, jobs


def test_purge_deletes_what_is_older_than_the_retention_period(
    make_settings: Callable[..., Settings],
) -> None:
    now = datetime.now(UTC)
    settings = make_settings(retention_days=30)
    with Store.open(settings.database_url) as store:
        queue = JobQueue.open(store.path)
        _seed(store, queue, now=now)
        kept_forever = retention.purge(make_settings(retention_days=0), store=store, queue=queue)
        assert kept_forever == retention.Purged(0, 0)
        done = retention.purge(settings, store=store, queue=queue, now=now)
        left = _left(store, queue)
        queue.close()
    assert done == retention.Purged(briefs=2, jobs=1)  # log row + cache entry; one job
    # The queued job is still someone's request in progress: it stays, whatever its age.
    assert left == (["new"], ["new text"], ["job-new", "job-waiting"])


async def test_serve_purges_old_rows_when_it_starts(
    make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, retention_days=30)
    with Store.open(settings.database_url) as store:
        queue = JobQueue.open(store.path)
        _seed(store, queue, now=datetime.now(UTC))
        queue.close()
    async with bot_running(settings, fake) as bot:
        left = _left(bot.deps.store, bot.deps.queue)
        # ...and keeps purging in the background for as long as it runs.
        assert any("purge_forever" in repr(t.get_coro()) for t in bot.deps.tasks)
    assert left[0] == ["new"] and left[1] == ["new text"]
    assert "job-old" not in left[2] and "job-new" in left[2]


# --- /brief forget ---------------------------------------------------------------------


def _acked(eid: str) -> Callable[[FakeSlack], bool]:
    return lambda f: eid in f.acks


async def test_forget_deletes_this_channels_briefs_and_jobs_only(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, openai_api_key=OPENAI_KEY)
    async with bot_running(settings, fake) as bot:
        for channel in ("C1", "C2"):
            ts, envelope = paste(fake, f"<{web.url('/article')}>", channel=channel)
            fake.send_envelope("events_api", envelope)
            await fake.await_for(lambda f, c=channel, t=ts: len(briefs_in(f, c, t)) == 1)
        await fake.await_for(lambda f: bot.deps.queue.counts() == {"done": 2})
        eid = fake.send_envelope("slash_commands", slash_command_payload(text="forget"))
        await fake.await_for(_acked(eid))
        store, queue = bot.deps.store, bot.deps.queue
        c1, c2 = store.recent_briefs(channel="C1"), store.recent_briefs(channel="C2")
        jobs = [r[0] for r in queue.conn.execute("SELECT id FROM jobs")]
        again = fake.send_envelope("slash_commands", slash_command_payload(text="forget"))
        await fake.await_for(_acked(again))
    answer = fake.acks[eid]["payload"]
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == forgotten_text(1, 1)
    assert fake.acks[again]["payload"]["text"] == forgotten_text(0, 0)
    assert c1 == [] and len(c2) == 1
    assert len(jobs) == 1 and ":C2:" in jobs[0]


async def test_forget_is_for_allowed_users_only_but_works_in_any_channel(
    make_settings: Callable[..., Settings], fake: FakeSlack, llm: FakeOpenAI
) -> None:
    settings = bot_settings(make_settings, fake, llm, allowed_users="U1", allowed_channels="C1")
    async with bot_running(settings, fake) as bot:
        bot.deps.store.put_brief("k", _brief("x"), url=None, title="x", team="T1", channel="C5")
        stranger = fake.send_envelope(
            "slash_commands", slash_command_payload(text="forget", user_id="U7", channel_id="C5")
        )
        await fake.await_for(_acked(stranger))
        still_there = len(bot.deps.store.recent_briefs(channel="C5"))
        # C5 is not (or no longer) on the list; an allowed user may still clear it.
        admin = fake.send_envelope(
            "slash_commands",
            slash_command_payload(text="forget", channel_id="C5", trigger_id="t2"),
        )
        await fake.await_for(_acked(admin))
        gone = bot.deps.store.recent_briefs(channel="C5") == []
    assert fake.acks[stranger]["payload"]["text"] == USER_REFUSED
    assert still_there == 1
    assert fake.acks[admin]["payload"]["text"] == forgotten_text(1, 0) and gone


# --- secrets -------------------------------------------------------------------------------


def _leaks(text: str) -> list[str]:
    """Which secrets (or a long piece of one) appear in ``text``."""
    found = []
    for secret in SECRETS:
        # The full value, or its distinctive tail (a provider may echo a prefix only).
        if secret in text or secret[-16:] in text:
            found.append(secret[:8] + "…")
    return found


def _slack_side(fake: FakeSlack) -> str:
    """Everything the bot sent Slack, except the Authorization header it must send."""
    parts: list[Any] = [c.params for c in fake.calls]
    parts += [m for c in ("C1", "C2", "C3") for m in fake.messages_in(c)]
    parts += [fake.ephemerals, fake.responses, [a.get("payload") for a in fake.acks.values()]]
    return json.dumps(parts, default=str)


def _log_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter()
    lines = []
    for record in records:
        lines.append(record.getMessage())
        lines.append(json.dumps({k: str(v) for k, v in vars(record).items()}))
        if record.exc_info:
            lines.append(formatter.formatException(record.exc_info))
    return "\n".join(lines)


async def test_a_session_with_faults_leaks_no_secret_into_logs_or_slack(
    make_settings: Callable[..., Settings],
    fake: FakeSlack,
    web: FakeWeb,
    llm: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, libraries included, unredacted
    settings = bot_settings(
        make_settings, fake, llm, slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN,
        slack_signing_secret=SIGNING_SECRET, openai_api_key=OPENAI_KEY,
    )  # fmt: skip
    async with bot_running(settings, fake):
        ts, envelope = paste(fake, f"read this <{web.url('/article')}>")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: len(briefs_in(f, "C1", ts)) == 1)
        # Slack refuses the token on one call: that job fails, the bot carries on.
        fake.fail_next("chat.postMessage", error="invalid_auth")
        _, envelope = paste(fake, f"<{web.url('/article.txt')}>", channel="C2")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: any(c.error == "invalid_auth" for c in f.calls))
        # The model rejects the key, echoing part of it as OpenAI does.
        masked = f"{OPENAI_KEY[:8]}{'*' * 20}{OPENAI_KEY[-4:]}"
        llm.enqueue(Reply.error(401, f"Incorrect API key provided: {masked}.",
                                code="invalid_api_key"))  # fmt: skip
        url = fake.response_url()
        fake.send_envelope("slash_commands", slash_command_payload(
            text=PASTED, channel_id="C3", response_url=url))  # fmt: skip
        await fake.await_for(lambda f: "rejected the API key" in str(f.messages_in("C3")))
        fake.send_envelope("slash_commands", slash_command_payload(text="settings"))
        await fake.await_for(lambda f: len(f.acks) >= 4)
    assert caplog.records, "nothing was logged: the scan would prove nothing"
    assert _leaks(_log_text(caplog.records)) == []
    assert _leaks(_slack_side(fake)) == []
    # The bot really used the secrets (so the scan looked at a live session).
    assert any(c.headers.get("Authorization") == f"Bearer {BOT_TOKEN}" for c in fake.calls)
    assert llm.chat_requests


@pytest.mark.slow
@pytest.mark.subprocess
def test_serve_process_at_debug_leaks_no_secret_on_stderr(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    tmp_path: Any,
) -> None:  # fmt: skip
    settings = bot_settings(make_settings, fake, llm, openai_api_key=OPENAI_KEY)
    env = bot_env(settings, tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                  SLACK_SIGNING_SECRET=SIGNING_SECRET, OPENAI_API_KEY=OPENAI_KEY)  # fmt: skip
    command = [sys.executable, "-m", "bot", "--debug", "serve"]
    proc = BotProcess(["--mode", "http", "--port", "0"], env, tmp_path, command=command)
    try:
        url = proc.url()
        ts, envelope = paste(fake, f"<{web.url('/article')}>")
        assert _post(url, json.dumps(envelope).encode(), "application/json") == 200
        fake.wait_for(lambda f: len(briefs_in(f, "C1", ts)) == 1)
        llm.enqueue(Reply.error(401, "Incorrect API key provided.", code="invalid_api_key"))
        body = slash_command_body(text=PASTED, channel_id="C2")
        assert _post(url, body, "application/x-www-form-urlencoded") == 200
        fake.wait_for(lambda f: "rejected the API key" in str(f.messages_in("C2")))
        fake.fail_next("chat.postMessage", error="invalid_auth")
        _, envelope = paste(fake, f"<{web.url('/article.txt')}>", channel="C3")
        assert _post(url, json.dumps(envelope).encode(), "application/json") == 200
        fake.wait_for(lambda f: any(c.error == "invalid_auth" for c in f.calls))
        # A request signed with the wrong secret is logged as refused, nothing more.
        assert _post(url, body, "application/x-www-form-urlencoded", secret="wrong") == 401
        assert proc.stop() == 0
    finally:
        if proc.proc.poll() is None:
            proc.kill()
    assert "invalid_auth" in proc.log  # the fault reached the log...
    assert _leaks(proc.log) == [], proc.log  # ...and no secret did


def _post(url: str, body: bytes, content_type: str, *, secret: str = SIGNING_SECRET) -> int:
    headers = {"Content-Type": content_type, **sign_request(secret, body, timestamp=None)}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
