"""The Slack fake speaks Slack's wire protocols to the real slack_sdk and slack_bolt clients."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import (
    FakeSlack,
    app_mention_event,
    event_callback,
    message_shortcut_body,
    message_shortcut_payload,
    sign_request,
    slash_command_body,
    slash_command_payload,
)

BOT_TOKEN = "xoxb-test"
SECRET = "shhh-signing-secret"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=fake.api_url)


# --- Web API through the real clients ---------------------------------------------------


def test_sync_client_posts_updates_and_reads_back(fake: FakeSlack, client: WebClient) -> None:
    auth = client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T1")
    assert "chat:write" in auth.headers["x-oauth-scopes"].split(",")

    parent = client.chat_postMessage(channel="C1", text="a link")
    reply = client.chat_postMessage(channel="C1", thread_ts=parent["ts"], text="Working…")
    assert float(reply["ts"]) > float(parent["ts"])
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Gist*"}}]
    updated = client.chat_update(channel="C1", ts=reply["ts"], text="Brief", blocks=blocks)
    assert (updated["ts"], updated["text"]) == (reply["ts"], "Brief")

    [final] = fake.thread("C1", parent["ts"])
    assert (final["text"], final["blocks"], final["updates"]) == ("Brief", blocks, 1)
    assert fake.messages_in("C1")[0]["reply_count"] == 1

    eph = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert eph["message_ts"] and fake.ephemerals[0]["text"] == "only you"
    link = client.chat_getPermalink(channel="C1", message_ts=parent["ts"])
    assert (
        link["permalink"] == f"https://fake.slack.com/archives/C1/p{parent['ts'].replace('.', '')}"
    )
    assert [c.method for c in fake.calls] == [
        "auth.test", "chat.postMessage", "chat.postMessage", "chat.update",
        "chat.postEphemeral", "chat.getPermalink",
    ]  # fmt: skip
    assert fake.calls_to("chat.update")[0].params["blocks"] == blocks


async def test_async_client_speaks_the_same_protocol(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    posted = await client.chat_postMessage(channel="C9", text="hello")
    await client.chat_update(channel="C9", ts=posted["ts"], text="hello again")
    link = await client.chat_getPermalink(channel="C9", message_ts=posted["ts"])
    user = await client.users_info(user="U7")
    chan = await client.conversations_info(channel="C9")
    await client.reactions_add(channel="C9", timestamp=posted["ts"], name="eyes")
    await client.views_publish(user_id="U7", view={"type": "home", "blocks": []})

    assert fake.message("C9", posted["ts"])["text"] == "hello again"  # type: ignore[index]
    assert link["permalink"].startswith("https://fake.slack.com/archives/C9/p")
    assert (user["user"]["tz"], user["user"]["tz_offset"]) == ("Europe/London", 0)
    assert chan["channel"]["is_member"] is True
    assert fake.reactions[("C9", posted["ts"])] == ["eyes"]
    assert fake.views["U7"]["type"] == "home"


def test_token_is_required_and_must_be_a_bot_token(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=fake.api_url).chat_postMessage(channel="C1", text="x")
    assert missing.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxp-user", base_url=fake.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as unknown:
        WebClient(token=BOT_TOKEN, base_url=fake.api_url).api_call("no.suchMethod")
    assert unknown.value.response["error"] == "unknown_method"


def test_chat_update_enforces_slacks_limits(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="placeholder")["ts"]

    def update_error(**kwargs: Any) -> dict[str, Any]:
        with pytest.raises(SlackApiError) as err:
            client.chat_update(channel="C1", ts=ts, **kwargs)
        return dict(err.value.response.data)

    assert update_error(text="x" * 4001)["error"] == "msg_too_long"
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
    assert update_error(text="t", blocks=[section] * 51)["error"] == "invalid_blocks"
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}
    too_long = update_error(text="t", blocks=[long_section])
    assert too_long["error"] == "invalid_blocks"
    assert "/blocks/0/text/text" in too_long["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError) as unknown_ts:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert unknown_ts.value.response["error"] == "message_not_found"

    client.chat_update(channel="C1", ts=ts, text="x" * 4000, blocks=[section] * 50)
    assert fake.message("C1", ts)["text"] == "x" * 4000  # type: ignore[index]


def test_fail_next_injects_errors_in_order(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", error="channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C1", text="x")
        assert err.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert [c.error for c in fake.calls] == ["channel_not_found", "channel_not_found", None]
    assert fake.messages_in("C1")[0]["text"] == "x"


def test_not_in_channel_is_answered_for_channels_the_bot_left(fake: FakeSlack) -> None:
    fake.add_channel("C2", name="news", is_member=False)
    with pytest.raises(SlackApiError) as err:
        WebClient(token=BOT_TOKEN, base_url=fake.api_url).chat_postMessage(channel="C2", text="x")
    assert err.value.response["error"] == "not_in_channel"


def test_form_encoded_calls_are_understood(fake: FakeSlack, client: WebClient) -> None:
    parent = fake.add_message("C1", text="https://example.org/story", user="U2")
    blocks = [{"type": "divider"}]
    client.api_call(
        "chat.postMessage",
        params={"channel": "C1", "thread_ts": parent, "text": "t", "blocks": json.dumps(blocks)},
    )
    call = fake.calls_to("chat.postMessage")[0]
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.params["blocks"] == blocks
    replies = client.conversations_replies(channel="C1", ts=parent)["messages"]
    assert [(m["user"], m.get("blocks")) for m in replies] == [("U2", None), ("UBOT", blocks)]


def test_history_and_replies_page_like_slack(fake: FakeSlack, client: WebClient) -> None:
    old = fake.add_message("C1", text="old")
    parent = fake.add_message("C1", text="parent")
    reply = client.chat_postMessage(channel="C1", thread_ts=parent, text="reply")["ts"]
    newest = client.chat_postMessage(channel="C1", text="newest")["ts"]

    history = client.conversations_history(channel="C1", oldest=old)["messages"]
    assert [m["ts"] for m in history] == [newest, parent]  # newest first, oldest exclusive
    head = client.conversations_replies(channel="C1", ts=parent, limit=1)
    assert [m["text"] for m in head["messages"]] == ["parent"] and head["has_more"]
    later = client.conversations_replies(channel="C1", ts=parent, oldest=reply, inclusive=True)
    assert [m["ts"] for m in later["messages"]] == [parent, reply]
    with pytest.raises(SlackApiError) as err:
        client.conversations_replies(channel="C1", ts="1.000001")
    assert err.value.response["error"] == "thread_not_found"


def test_concurrent_posts_get_unique_increasing_ts(fake: FakeSlack) -> None:
    def post(n: int) -> None:
        WebClient(token=BOT_TOKEN, base_url=fake.api_url).chat_postMessage(
            channel="C1", text=str(n)
        )

    workers = [threading.Thread(target=post, args=(n,)) for n in range(12)]
    for worker in workers:
        worker.start()
    fake.wait_for(lambda f: len(f.messages_in("C1")) == 12, timeout=10)
    for worker in workers:
        worker.join(5)
    stamps = [m["ts"] for m in fake.messages_in("C1")]
    assert stamps == sorted(set(stamps), key=float) and len(stamps) == 12


def test_server_errors_surface_as_slack_api_errors(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("users.info", status=503)
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U1")
    assert (err.value.response.status_code, err.value.response["error"]) == (
        503,
        "internal_error",
    )


async def test_drop_next_cuts_the_connection_after_or_before_applying(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[])
    fake.drop_next("chat.postMessage", apply=True)
    fake.drop_next("chat.postMessage", apply=False)
    for text in ("stored", "lost"):
        with pytest.raises(aiohttp.ClientError):
            await client.chat_postMessage(channel="C1", text=text)
    await client.chat_postMessage(channel="C1", text="answered")
    assert [m["text"] for m in fake.messages_in("C1")] == ["stored", "answered"]
    assert [c.status for c in fake.calls] == [0, 0, 200]


async def test_sdk_default_retry_reposts_a_dropped_message(fake: FakeSlack) -> None:
    """Why the bot must not let slack_sdk retry chat.postMessage on connection errors."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)  # default retry handlers
    [handler] = client.retry_handlers
    assert isinstance(handler, AsyncConnectionErrorRetryHandler)
    # Its backoff adds up to 1 s of random jitter; the retry decision is what's shown here.
    handler.interval_calculator = FixedValueRetryIntervalCalculator(fixed_internal=0.0)
    fake.drop_next("chat.postMessage", apply=True)
    await client.chat_postMessage(channel="C1", text="brief")
    assert [m["text"] for m in fake.messages_in("C1")] == ["brief", "brief"]


# --- rate limits ------------------------------------------------------------------------


def test_429_surfaces_with_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "7"
    assert fake.rate_limited["chat.postMessage"] == 1


def test_retry_handler_waits_the_retry_after_delay(
    fake: FakeSlack, sdk_sleeps: list[float]
) -> None:
    handler = RateLimitErrorRetryHandler(max_retry_count=1)
    client = WebClient(token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[handler])
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    first, second = fake.calls_to("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert len(sdk_sleeps) == 1 and sdk_sleeps[0] >= 1.0  # the fake's Retry-After: 1


async def test_async_retry_handler_waits_the_retry_after_delay(
    fake: FakeSlack, sdk_sleeps: list[float]
) -> None:
    handler = AsyncRateLimitErrorRetryHandler(max_retry_count=1)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[handler])
    fake.fail_next("chat.update", status=429, retry_after=1)
    ts = (await client.chat_postMessage(channel="C1", text="x"))["ts"]
    assert (await client.chat_update(channel="C1", ts=ts, text="y"))["ok"]
    first, second = fake.calls_to("chat.update")
    assert (first.status, second.status) == (429, 200)
    assert len(sdk_sleeps) == 1 and sdk_sleeps[0] >= 1.0


def test_per_channel_rate_limit(fake: FakeSlack, client: WebClient) -> None:
    fake.set_rate_limit("chat.postMessage", per_channel_per_second=1)
    client.chat_postMessage(channel="C1", text="one")
    client.chat_postMessage(channel="C2", text="other channel")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="two")
    assert err.value.response.status_code == 429
    assert int(err.value.response.headers["Retry-After"]) >= 1
    assert fake.rate_limited["chat.postMessage"] == 1
    assert [m["text"] for m in fake.messages_in("C1")] == ["one"]


# --- waiting ----------------------------------------------------------------------------


def test_wait_for_wakes_on_a_call_from_another_thread(fake: FakeSlack) -> None:
    def post_later() -> None:
        WebClient(token=BOT_TOKEN, base_url=fake.api_url).chat_postMessage(channel="C1", text="x")

    worker = threading.Thread(target=post_later)
    worker.start()
    fake.wait_for(lambda f: len(f.messages_in("C1")) == 1, timeout=5)
    worker.join(5)


def test_wait_for_times_out_with_the_call_log(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="only this")
    with pytest.raises(AssertionError, match=r"chat\.postMessage -> 200 ok") as err:
        fake.wait_for(lambda f: len(f.calls) > 1, timeout=0.05)
    assert "not met in 0.05s" in str(err.value)


# The bot's queue or a file changes without any call to the fake: the wait must still end
# soon after the condition holds, not sleep out its limit (the lost wake-up). The wait's own
# limit is far beyond pytest-timeout's for these tests, so a lost wake-up fails them.
@pytest.mark.timeout(20)
def test_wait_for_sees_state_the_fake_does_not_own(fake: FakeSlack) -> None:
    done = threading.Event()
    threading.Timer(0.05, done.set).start()
    fake.wait_for(lambda f: done.is_set(), timeout=600)


@pytest.mark.timeout(20)
async def test_await_for_sees_state_the_fake_does_not_own(fake: FakeSlack) -> None:
    done = threading.Event()
    threading.Timer(0.05, done.set).start()
    await fake.await_for(lambda f: done.is_set(), timeout=600)


async def test_await_for_lets_the_test_loop_run(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    task = asyncio.create_task(client.chat_postMessage(channel="C1", text="x"))
    await fake.await_for(lambda f: len(f.calls_to("chat.postMessage")) == 1, timeout=5)
    assert (await task)["ok"]
    with pytest.raises(AssertionError):
        await fake.await_for(lambda f: False, timeout=0.05)


# --- Socket Mode ------------------------------------------------------------------------


@pytest.fixture
async def sdk_socket(fake: FakeSlack) -> AsyncIterator[SocketModeClient]:
    web = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    client = SocketModeClient(app_token=fake.app_token, web_client=web)

    async def ack(sm: Any, req: SocketModeRequest) -> None:
        await sm.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    client.socket_mode_request_listeners.append(ack)
    await client.connect()
    yield client
    await client.close()


async def test_sdk_socket_client_receives_and_acks(
    fake: FakeSlack, sdk_socket: SocketModeClient
) -> None:
    await fake.await_for(lambda f: f.socket_clients() == 1)
    opened = fake.calls_to("apps.connections.open")
    assert len(opened) == 1 and opened[0].headers["Authorization"] == "Bearer xapp-test"
    body = event_callback(app_mention_event("<@UBOT> brief this"))
    envelope_id = fake.send_envelope("events_api", body)
    await fake.await_for(lambda f: envelope_id in f.acks)
    ack = fake.acks[envelope_id]
    assert ack["payload"] is None and ack["latency"] >= 0  # recorded, in seconds


async def test_sdk_socket_client_reconnects(fake: FakeSlack, sdk_socket: SocketModeClient) -> None:
    await fake.await_for(lambda f: f.socket_clients() == 1)
    fake.disconnect_sockets()
    await fake.await_for(lambda f: f.socket_connections_total == 2 and f.socket_clients() == 1)
    fake.send_disconnect("refresh_requested")
    await fake.await_for(lambda f: f.socket_connections_total == 3 and f.socket_clients() == 1)
    assert len(fake.calls_to("apps.connections.open")) == 3
    envelope_id = fake.send_envelope("events_api", event_callback(app_mention_event("hi")))
    await fake.await_for(lambda f: envelope_id in f.acks)


async def test_redelivery_keeps_the_event_and_counts_the_attempt(
    fake: FakeSlack, sdk_socket: SocketModeClient
) -> None:
    await fake.await_connected()
    first = fake.send_envelope("events_api", event_callback(app_mention_event("hi")))
    retry = fake.redeliver(first)
    await fake.await_for(lambda f: {first, retry} <= f.acks.keys())
    original, again = fake.envelopes
    assert again["payload"]["event_id"] == original["payload"]["event_id"]
    assert (again["retry_attempt"], again["retry_reason"]) == (1, "timeout")


@pytest.mark.timeout(20)  # a stop that waits on the client would hang here
async def test_stop_is_quick_with_a_client_still_connected(fake: FakeSlack) -> None:
    web = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    client = SocketModeClient(app_token=fake.app_token, web_client=web)
    await client.connect()
    try:
        await fake.await_connected()
        fake.stop()  # from the client's own loop, the worst case
    finally:
        client.auto_reconnect_enabled = False
        await client.close()


async def test_bolt_app_in_socket_mode(fake: FakeSlack) -> None:
    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Any) -> None:
        await say(text="on it", thread_ts=event["ts"])

    @app.command("/brief")
    async def on_brief(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack("queued")
        await respond(f"brief of {command['text']}")

    @app.shortcut("brief_this_message")
    async def on_shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        await ack()

    handler = AsyncSocketModeHandler(app, fake.app_token)
    await handler.connect_async()
    try:
        await fake.await_for(lambda f: f.socket_clients() == 1)
        event = app_mention_event("<@UBOT> please", ts="1690000000.000500")
        mention = fake.send_envelope("events_api", event_callback(event), retry_attempt=1)
        await fake.await_for(lambda f: len(f.thread("C1", "1690000000.000500")) == 1)
        assert fake.thread("C1", "1690000000.000500")[0]["text"] == "on it"

        url = fake.response_url()
        command = fake.send_envelope(
            "slash_commands", slash_command_payload(text="https://example.org/a", response_url=url)
        )
        await fake.await_for(lambda f: command in f.acks and len(f.responses) == 1)
        assert fake.acks[command]["payload"] == {"text": "queued"}
        assert fake.responses[0]["body"]["text"] == "brief of https://example.org/a"

        message = {"ts": "1690000000.000900", "text": "pasted text", "user": "U2"}
        shortcut = fake.send_envelope("interactive", message_shortcut_payload(message=message))
        await fake.await_for(lambda f: mention in f.acks and shortcut in f.acks)
    finally:
        await handler.close_async()


# --- HTTP mode (Events API) helpers -----------------------------------------------------


def test_sign_request_passes_slacks_verifier() -> None:
    body = json.dumps(event_callback(app_mention_event("hi"))).encode()
    headers = sign_request(SECRET, body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b" ", headers)
    stale = sign_request(SECRET, body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (slash_command_body(text="https://example.org/a"), "command"),
        (message_shortcut_body(message={"ts": "1.000100", "text": "t"}), "shortcut"),
    ],
    # Named, not by the body: a shortcut's body holds the time it was made, so ids taken
    # from it differ between xdist workers and the workers refuse to start.
    ids=["command", "shortcut"],
)
async def test_http_bodies_parse_in_bolt(body: bytes, kind: str, fake: FakeSlack) -> None:
    app = AsyncApp(
        signing_secret=SECRET, client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    )
    seen: list[str] = []

    @app.command("/brief")
    async def on_brief(ack: Any, command: dict[str, Any]) -> None:
        seen.append(f"command:{command['text']}")
        await ack()

    @app.shortcut("brief_this_message")
    async def on_shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        seen.append(f"shortcut:{shortcut['message']['text']}")
        await ack()

    headers: dict[str, str | Sequence[str]] = {
        **sign_request(SECRET, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
    assert response.status == 200
    assert seen == [{"command": "command:https://example.org/a", "shortcut": "shortcut:t"}[kind]]
