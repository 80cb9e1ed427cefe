"""`briefbot serve --mode http` as a real process: signed requests over real HTTP."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack, sign_request, slash_command_body
from tests.fakes.web import FakeWeb
from tests.test_slack_support import (
    SIGNING_SECRET,
    BotProcess,
    bot_env,
    bot_process,
    bot_settings,
    briefs_in,
    paste,
)

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]  # starts briefbot as a process


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def settings(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeSlack, llm: FakeOpenAI
) -> Settings:
    data_dir = tmp_path_factory.mktemp("http-bot")

    def make(**values: Any) -> Settings:
        return Settings(_env_file=None, data_dir=data_dir, **values)  # type: ignore[call-arg]

    return bot_settings(make, fake, llm)


@pytest.fixture(scope="module")
def bot(settings: Settings) -> Iterator[BotProcess]:
    """One `serve --mode http` process for the module (starting Python takes seconds)."""
    cwd = settings.data_dir
    with bot_process(["--mode", "http", "--port", "0"], bot_env(settings, cwd), cwd) as proc:
        proc.url()  # wait until it listens
        yield proc
        # Every test ran against this process; it must also stop cleanly on SIGTERM.
        assert proc.stop() == 0, proc.log
        assert "shutting down" in proc.log
        assert "Traceback" not in proc.log, proc.log


def post(
    url: str, body: bytes, *, content_type: str, headers: dict[str, str] | None = None,
    secret: str = SIGNING_SECRET, timestamp: int | None = None,
) -> tuple[int, bytes]:  # fmt: skip
    """POST a body signed the way Slack signs it; returns (status, body)."""
    all_headers = {"Content-Type": content_type, **sign_request(secret, body, timestamp=timestamp)}
    all_headers.update(headers or {})
    request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def post_event(url: str, envelope: dict[str, object], **kw: object) -> tuple[int, bytes]:
    return post(url, json.dumps(envelope).encode(), content_type="application/json", **kw)  # type: ignore[arg-type]


def jobs_in(settings: Settings) -> int:
    conn = sqlite3.connect(settings.data_dir / "briefbot.db")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
    finally:
        conn.close()


def test_signed_event_is_acked_and_briefed_in_its_thread(
    bot: BotProcess, fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI
) -> None:
    ts, envelope = paste(fake, f"<{web.url('/article')}>", channel="C1")
    llm.delay = 2.0  # the model is slow: an ack that waited for the brief would show it
    earlier = len(llm.chat_requests)  # the module's bot and fake are shared
    try:
        status, _ = post_event(bot.url(), envelope)
        assert status == 200
        # Acked before any model call finished: the work happens after the ack, so Slack's
        # 3 s deadline holds however slow the model is (no wall clock in this test).
        assert not any(r.finished for r in llm.chat_requests[earlier:])
        fake.wait_for(lambda f: len(briefs_in(f, "C1", ts)) == 1)
    finally:
        llm.delay = 0.0
    [placeholder] = [c for c in fake.calls_to("chat.postMessage") if c.params["channel"] == "C1"]
    assert placeholder.params["thread_ts"] == ts


def test_signed_slash_command_answers_in_channel(
    bot: BotProcess, fake: FakeSlack, web: FakeWeb
) -> None:
    body = slash_command_body(text=web.url("/article"), user_id="U9", channel_id="C2")
    status, answer = post(bot.url(), body, content_type="application/x-www-form-urlencoded")
    assert status == 200 and answer in (b"", b"{}")
    fake.wait_for(lambda f: any(m["text"].startswith("<@U9> asked") for m in f.messages_in("C2")))
    asked = next(m for m in fake.messages_in("C2") if m["text"].startswith("<@U9> asked"))
    fake.wait_for(lambda f: len(briefs_in(f, "C2", asked["ts"])) == 1)


def test_slash_help_is_answered_in_the_ack(bot: BotProcess, fake: FakeSlack) -> None:
    body = slash_command_body(text="help")
    status, answer = post(bot.url(), body, content_type="application/x-www-form-urlencoded")
    assert status == 200
    reply = json.loads(answer)
    assert reply["response_type"] == "ephemeral" and "/brief" in reply["text"]


def test_url_verification_challenge_is_answered(bot: BotProcess) -> None:
    status, answer = post_event(
        bot.url(), {"type": "url_verification", "challenge": "c-123", "token": "x"}
    )
    assert status == 200 and json.loads(answer) == {"challenge": "c-123"}


@pytest.mark.parametrize(
    ("secret", "age"),
    [("not-the-secret", 0), (SIGNING_SECRET, 6 * 60), (SIGNING_SECRET, -6 * 60)],
    ids=["bad signature", "expired", "from the future"],
)
def test_bad_or_stale_signatures_get_401_and_do_nothing(
    secret: str, age: int, bot: BotProcess, fake: FakeSlack, web: FakeWeb, settings: Settings
) -> None:
    before, jobs_before = len(fake.calls), jobs_in(settings)
    _, envelope = paste(fake, f"<{web.url('/article')}>", channel="C3")
    timestamp = int(time.time()) - age
    status, _ = post_event(bot.url(), envelope, secret=secret, timestamp=timestamp)
    assert status == 401
    body = slash_command_body(text=web.url("/article"))
    status, _ = post(
        bot.url(), body, content_type="application/x-www-form-urlencoded", secret=secret,
        timestamp=timestamp,
    )  # fmt: skip
    assert status == 401
    assert len(fake.calls) == before
    assert jobs_in(settings) == jobs_before


def test_an_event_and_three_retries_give_one_brief(
    bot: BotProcess, fake: FakeSlack, web: FakeWeb, settings: Settings
) -> None:
    jobs_before = len(fake.calls_to("chat.postMessage")), jobs_in(settings)
    ts, envelope = paste(fake, f"<{web.url('/article')}>", channel="C4")
    assert post_event(bot.url(), envelope)[0] == 200
    for n in (1, 2, 3):
        retry = {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"}
        assert post_event(bot.url(), envelope, headers=retry)[0] == 200
    fake.wait_for(lambda f: len(briefs_in(f, "C4", ts)) == 1)
    assert (len(fake.calls_to("chat.postMessage")), jobs_in(settings)) == (
        jobs_before[0] + 1, jobs_before[1] + 1,
    )  # fmt: skip


def test_health_readiness_and_metrics_share_the_port(bot: BotProcess) -> None:
    base = bot.url().removesuffix("/slack/events")
    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen(base + path, timeout=10) as resp:
            assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"
    with urllib.request.urlopen(base + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    assert "briefbot_jobs_in_flight" in text and "briefbot_jobs_queued" in text


# --- issue 15, finding 11: hostile unauthenticated requests get 4xx, never 500 ------------


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


_JSON = {"Content-Type": "application/json"}
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("body", "headers", "signed"),
    [
        (b'{"type":"event_callback"}', {**_JSON, "X-Slack-Request-Timestamp": "soon",
                                       "X-Slack-Signature": "v0=00"}, False),
        (b'{"type":"event_callback"}', {**_JSON, "X-Slack-Request-Timestamp": "1e999",
                                       "X-Slack-Signature": "v0=00"}, False),
        (b'{"type":"event_callback"}', {**_JSON, "X-Slack-Request-Timestamp": "-" + "9" * 40,
                                       "X-Slack-Signature": "v0=00"}, False),
        (b'{"type":"event_callback"}', _JSON, False),  # no signature headers at all
        (b"{not json", _JSON, False),
        (b"{not json", _JSON, True),
        (b"[1, 2, 3]", _JSON, True),
        (b'"just a string"', _JSON, True),
        (b"payload=%7Bnot+json", _FORM, False),
        (b"payload=%7Bnot+json", _FORM, True),
        (b"payload=%5B1%5D", _FORM, True),
        (b"payload=" + b"%FF%FE" * 10, _FORM, True),
        (b"\xff\xfe\x00garbage", {"Content-Type": "text/plain"}, True),
    ],
    ids=["bad timestamp", "huge timestamp", "negative timestamp", "unsigned", "bad json",
         "bad json signed", "json list", "json string", "bad payload", "bad payload signed",
         "payload list", "payload not utf-8", "binary body"],
)  # fmt: skip
def test_hostile_unauthenticated_requests_get_4xx_and_one_quiet_line(
    body: bytes, headers: dict[str, str], signed: bool, bot: BotProcess, fake: FakeSlack
) -> None:
    before_log, before_calls = len(bot.log), len(fake.calls)
    all_headers = {**headers, **(sign_request(SIGNING_SECRET, body) if signed else {})}
    status = _raw_post(bot.url(), body, all_headers)
    assert status in (400, 401), status
    deadline = time.monotonic() + 10  # the line is written before the answer; reading lags
    while "refused a request" not in bot.log[before_log:] and time.monotonic() < deadline:
        time.sleep(0.02)
    # The health endpoint still answers: the process is fine.
    base = bot.url().removesuffix("/slack/events")
    with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:
        assert resp.status == 200
    new = bot.log[before_log:]
    assert "Traceback" not in new and '"level": "error"' not in new, new
    [line] = [line for line in new.splitlines() if "refused a request" in line]
    assert '"level": "info"' in line and str(status) in line
    assert len(fake.calls) == before_calls
