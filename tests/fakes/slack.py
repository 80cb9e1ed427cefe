"""A loopback fake of Slack that the real slack_sdk / slack_bolt clients talk to.

`FakeSlack` serves the Web API, a Socket Mode WebSocket and response_url endpoints on
127.0.0.1:<port 0>, from its own thread and asyncio loop, so sync tests, async tests on
any loop, and a bot subprocess can all use it::

    with FakeSlack() as fake:                      # or fake = FakeSlack().start(); fake.stop()
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        fake.wait_for(lambda f: f.messages_in("C1")[0]["text"] == "hi")

Addresses: api_url ("http://127.0.0.1:PORT/api/", for base_url= / settings.slack_api_url),
base_url, app_token ("xapp-test"; any xapp- token works), response_url() -> a fresh URL.

Recording (safe from any thread; every list/dict returned is a copy):
    calls: list[Call]           every Web API call in order: Call(method, params, headers,
                                at=time.monotonic(), status, response), plus .ok and .error.
                                params = query + body; blocks/attachments/view/metadata sent
                                as JSON strings are decoded. A call and its effect on the
                                state are recorded together.
    calls_to(method) -> list[Call]
    messages_in(channel) -> list[dict]   messages in ts order with updates applied (text,
                                blocks, "edited", "updates": n); replies carry thread_ts,
                                parents get thread_ts and reply_count. user is the bot's id.
    thread(channel, thread_ts) -> list[dict]   the replies only (parent excluded).
    message(channel, ts) -> dict | None
    ephemerals: list[dict]      chat.postEphemeral: channel, user, ts, thread_ts, text, blocks.
    views: dict[user_id, view]  last views.publish per user.
    reactions: dict[(channel, ts), list[name]]
    responses: list[dict]       bodies POSTed to a response_url(): {"id", "body", "at"}.
    rate_limited: Counter[method]   429s answered (fail_next and set_rate_limit alike).
    acks: dict[envelope_id, dict]   {"payload": ack payload or None, "message": raw ack,
                                "at": monotonic, "latency": seconds since it was sent}.
    envelopes: list[dict]       envelopes sent, each with "sent_at".
    socket_connections_total: int   WebSocket connections accepted so far.

Seeding: add_channel(id, *, name=None, is_member=True, is_archived=False);
add_user(id, *, name=None, tz="Europe/London", tz_offset=0);
add_message(channel, *, text, user="U1", ts=None, thread_ts=None) -> ts (a user's message).

Waiting (bounded; AssertionError with the call log on timeout). A predicate that raises
LookupError or TypeError (e.g. messages_in(c)[0] too early) counts as "not yet":
    wait_for(predicate, *, timeout=10.0)          sync tests; predicate(fake) -> bool
    await await_for(predicate, *, timeout=10.0)   async tests: never block a loop the bot
                                                  runs on with wait_for
    wait_connected(n=1, timeout=10.0) / await await_connected(n=1, timeout=10.0)

Faults:
    fail_next(method, *, error=None, status=200, retry_after=None, times=1)
        status=429 -> HTTP 429, Retry-After (default 1), {"ok": false, "error": "ratelimited"};
        error="msg_too_long" / "channel_not_found" / "invalid_auth" / ... -> 200 ok:false;
        status>=500 -> that status with error "internal_error" unless given.
    drop_next(method, *, apply=True, times=1)   cut the connection with no answer; apply=True
        performs the call first (the message is stored, the answer lost). Call.status is 0.
    set_rate_limit(method, *, per_channel_per_second)   over the rate (per channel param):
        429 + Retry-After (whole seconds, >= 1).

Socket Mode:
    socket_clients() -> int     open connections now.
    send_envelope(type_, payload, *, envelope_id=None, retry_attempt=0, retry_reason="",
                  accepts_response_payload=None) -> envelope_id
        to the newest client (AssertionError if none); None means True for slash_commands
        and interactive, False for events_api, as Slack does. Blocks until written.
    redeliver(envelope_id, *, retry_reason="timeout") -> new envelope_id
        Slack's retry: same payload (so the same event_id), retry_attempt + 1.
    send_disconnect(reason="refresh_requested")   Slack's disconnect message; slack_sdk
                                                  reconnects via apps.connections.open.
    disconnect_sockets()        close every WebSocket server-side.

Web API: "Authorization: Bearer xoxb-..." required (none: not_authed; other: invalid_auth;
apps.connections.open wants xapp-: not_allowed_token_type). Methods: auth.test (with the
x-oauth-scopes header), chat.postMessage/update/delete/postEphemeral/getPermalink,
conversations.info/join/history/replies/members, users.info, views.publish, reactions.add/remove,
bots.info, team.info, apps.connections.open; others -> unknown_method. Limits: chat.update
text over 4000 -> msg_too_long (postMessage: over 40000); blocks are checked like Slack
(over 50, section text over 3000, header over 150, ...) -> invalid_blocks with
response_metadata.messages; update of an unknown ts -> message_not_found.
conversations.history/replies see only messages posted through the fake or seeded with
add_message (replies: thread_not_found otherwise); they honour oldest/latest/inclusive/limit.
Bodies and signing for HTTP mode live in tests.fakes.slack_payloads (re-exported here).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from tests.fakes.slack_faults import FaultPlan
from tests.fakes.slack_oauth import FakeOAuth
from tests.fakes.slack_payloads import (
    app_mention_event,
    event_callback,
    message_event,
    message_shortcut_body,
    message_shortcut_payload,
    sign_request,
    slash_command_body,
    slash_command_payload,
)
from tests.fakes.slack_socket import SocketHub
from tests.fakes.slack_state import Call, Workspace
from tests.fakes.slack_wait import Waiters
from tests.fakes.slack_webapi import DEFAULT_SCOPES, WebApi, bearer, read_params

__all__ = [
    "Call", "FakeSlack", "app_mention_event", "event_callback", "message_event",
    "message_shortcut_body", "message_shortcut_payload", "sign_request",
    "slash_command_body", "slash_command_payload",
]  # fmt: skip

_T = TypeVar("_T")
Predicate = Callable[["FakeSlack"], bool]


class FakeSlack:
    """Fake Slack Web API + Socket Mode on 127.0.0.1:<port 0>, in its own thread and loop."""

    app_token: str = "xapp-test"

    def __init__(
        self,
        *,
        bot_user_id: str = "UBOT",
        team_id: str = "T1",
        bot_id: str = "BBOT",
        scopes: Sequence[str] = DEFAULT_SCOPES,
    ) -> None:
        self.bot_user_id, self.team_id, self.bot_id = bot_user_id, team_id, bot_id
        self.scopes = tuple(scopes)
        self.workspace = Workspace(bot_user_id=bot_user_id, team_id=team_id, bot_id=bot_id)
        self._cond = threading.Condition()  # RLock inside: predicates may call our getters
        self._faults = FaultPlan()
        self._api = WebApi(
            self.workspace,
            self._faults,
            scopes=scopes,
            socket_url=lambda: f"ws://127.0.0.1:{self.port}/socket",
        )
        self._hub = SocketHub(self._cond, self._changed)
        self._calls: list[Call] = []
        self._responses: list[dict[str, Any]] = []
        self._waiters = Waiters(self, self._cond, self._report)
        self._response_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def oauth(self) -> FakeOAuth:
        """oauth.v2.access: grant install codes, see issued per-team tokens."""
        return self._api.oauth

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1:0 and serve from a daemon thread; returns self once listening."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # handed to start()'s caller below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="FakeSlack", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"FakeSlack failed to start: {failure!r}")
        return self

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/socket", self._hub.handle)
        app.router.add_post("/response/{rid}", self._handle_response)
        # A short shutdown_timeout: stop() must not wait a minute on a stuck client.
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        """Close sockets, stop serving and join the thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    async def _shutdown(self) -> None:
        self._hub.closing = True  # no reconnects while we close
        await self._hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # --- recorded state (copies, safe from any thread) -----------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        with self._cond:
            return self.workspace.snapshot(channel)

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [
            m for m in self.messages_in(channel)
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]  # fmt: skip

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._cond:
            return copy.deepcopy(self.workspace.find(channel, ts))

    @property
    def ephemerals(self) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self.workspace.ephemerals)

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self.workspace.views)

    @property
    def reactions(self) -> dict[tuple[str, str], list[str]]:
        with self._cond:
            return copy.deepcopy(self.workspace.reactions)

    @property
    def responses(self) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._responses)

    @property
    def rate_limited(self) -> Counter[str]:
        with self._cond:
            return Counter(self._faults.rate_limited)

    @property
    def acks(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._hub.acks)

    @property
    def envelopes(self) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._hub.envelopes)

    @property
    def socket_connections_total(self) -> int:
        with self._cond:
            return self._hub.total

    # --- seeding -------------------------------------------------------------------------

    def add_channel(
        self, channel_id: str, *, name: str | None = None, is_member: bool = True,
        is_archived: bool = False,
    ) -> None:  # fmt: skip
        """Declare a channel; is_member=False makes posts fail with not_in_channel."""
        with self._cond:
            chan = self.workspace.channel(channel_id)
            chan.update(is_member=is_member, is_archived=is_archived)
            if name is not None:
                chan["name"] = name

    def add_private_channel(self, channel_id: str, *, members: list[str]) -> None:
        """A private channel (or DM) whose conversations.members lists ``members``."""
        with self._cond:
            chan = self.workspace.channel(channel_id)
            chan.update(is_private=True, is_channel=False, is_group=True, members=list(members))

    def add_user(
        self, user_id: str, *, name: str | None = None, tz: str = "Europe/London",
        tz_offset: int = 0,
    ) -> None:  # fmt: skip
        """Declare a user as users.info will describe them."""
        with self._cond:
            user = self.workspace.user(user_id)
            user.update(tz=tz, tz_offset=tz_offset)
            if name is not None:
                user.update(name=name, real_name=name)

    def add_message(
        self, channel: str, *, text: str, user: str = "U1", ts: str | None = None,
        thread_ts: str | None = None,
    ) -> str:  # fmt: skip
        """Store a (user's) message so history/replies/update see it; returns its ts."""
        message: dict[str, Any] = {"user": user, "text": text}
        if ts is not None:
            message["ts"] = ts
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        with self._cond:
            stored = self.workspace.add_message(channel, message)
            self._changed()
            return str(stored["ts"])

    def response_url(self) -> str:
        """A fresh response_url; whatever is POSTed to it lands in `responses`."""
        return f"{self.base_url}/response/{next(self._response_ids)}"

    # --- faults --------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail (429 answers carry Retry-After)."""
        with self._cond:
            self._faults.fail_next(
                method, error=error, status=status, retry_after=retry_after, times=times
            )

    def drop_next(self, method: str, *, apply: bool = True, times: int = 1) -> None:
        """Cut the connection instead of answering the next `times` calls to `method`.

        apply=True first performs the call (the message is stored, as when Slack got the
        request but the answer was lost); apply=False drops it unperformed.
        """
        with self._cond:
            self._faults.drop_next(method, apply=apply, times=times)

    def set_rate_limit(self, method: str, *, per_channel_per_second: float) -> None:
        """Answer 429 + Retry-After when `method` is called faster than this per channel."""
        with self._cond:
            self._faults.set_rate_limit(method, per_channel_per_second=per_channel_per_second)

    # --- waiting -------------------------------------------------------------------------

    def _changed(self) -> None:
        """Wake every waiter; call with self._cond held."""
        self._waiters.changed()

    def wait_for(self, predicate: Predicate, *, timeout: float = 10.0) -> None:
        """Block until predicate(self) holds; AssertionError with the call log on timeout."""
        self._waiters.wait(predicate, timeout)

    async def await_for(
        self,
        predicate: Predicate,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - mirrors wait_for; enforced inside
    ) -> None:
        """wait_for for async tests: yields to the loop (where the bot may be running)."""
        await self._waiters.await_(predicate, timeout)

    def wait_connected(self, n: int = 1, timeout: float = 10.0) -> None:
        """Block until at least `n` Socket Mode clients are connected."""
        self.wait_for(lambda f: f.socket_clients() >= n, timeout=timeout)

    async def await_connected(
        self,
        n: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - mirrors wait_connected
    ) -> None:
        """wait_connected for async tests."""
        await self.await_for(lambda f: f.socket_clients() >= n, timeout=timeout)

    def _report(self, headline: str) -> str:
        hub = self._hub
        lines = [
            f"FakeSlack: {headline}",
            f"sockets connected={hub.connected()} total={hub.total}",
            f"envelopes sent={len(hub.envelopes)} acked={sorted(hub.acks)}",
            f"responses={len(self._responses)} rate_limited={dict(self._faults.rate_limited)}",
            f"{len(self._calls)} calls (last 40):",
        ]
        for c in self._calls[-40:]:
            params = json.dumps(c.params, default=str)
            lines.append(f"  {c.method} -> {c.status} {c.error or 'ok'} {params[:300]}")
        return "\n".join(lines)

    # --- Web API -------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, bad_body = await read_params(request)
        headers = dict(request.headers)
        token = bearer(headers.get("Authorization", "")) or str(params.pop("token", ""))
        now = time.monotonic()
        extra: dict[str, str]
        with self._cond:
            drop = None if bad_body or not token else self._faults.take_drop(method)
            if bad_body:
                status, body, extra = 200, {"ok": False, "error": "invalid_json"}, {}
            elif drop is False:
                status, body, extra = 0, {"ok": False, "error": "connection_dropped"}, {}
            else:
                status, body, extra = self._api.answer(
                    method, params, token, now, headers.get("Authorization", "")
                )
            if drop is not None:
                status, body = 0, {**body, "dropped": True}
            # Recorded with its effect on the state in one step, so waiters see both.
            self._calls.append(Call(method, params, headers, now, status, body))
            self._changed()
        if drop is not None and request.transport is not None:
            request.transport.abort()  # the client sees the connection die, no answer
            raise asyncio.CancelledError
        extra["Content-Type"] = "application/json; charset=utf-8"
        return web.Response(status=status, body=json.dumps(body).encode(), headers=extra)

    async def _handle_response(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        with self._cond:
            self._responses.append(
                {"id": request.match_info["rid"], "body": body, "at": time.monotonic()}
            )
            self._changed()
        return web.Response(text="ok")

    # --- Socket Mode ---------------------------------------------------------------------

    def socket_clients(self) -> int:
        """Socket Mode connections open right now."""
        return self._hub.connected()

    def send_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool | None = None,
    ) -> str:
        """Push a Socket Mode envelope to the newest connected client; returns its envelope_id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = type_ in ("slash_commands", "interactive")
        envelope = {
            "envelope_id": envelope_id, "type": type_, "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt, "retry_reason": retry_reason,
        }  # fmt: skip
        self._run(self._hub.push(envelope, record=True))
        return envelope_id

    def redeliver(self, envelope_id: str, *, retry_reason: str = "timeout") -> str:
        """Resend an envelope as Slack's retry does: same payload, retry_attempt + 1, new id."""
        with self._cond:
            sent = [e for e in self._hub.envelopes if e["envelope_id"] == envelope_id]
        if not sent:
            raise AssertionError(f"FakeSlack: no envelope {envelope_id!r} was sent")
        last = sent[-1]
        return self.send_envelope(
            last["type"],
            last["payload"],
            retry_attempt=last["retry_attempt"] + 1,
            retry_reason=retry_reason,
            accepts_response_payload=last["accepts_response_payload"],
        )

    def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's disconnect message; slack_sdk then opens a new connection."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
        self._run(self._hub.push(message, record=False))

    def disconnect_sockets(self) -> None:
        """Close every Socket Mode WebSocket server-side (auto-reconnecting clients come back)."""
        self._run(self._hub.close_all())

    def _run(self, coro: Coroutine[Any, Any, _T], timeout: float = 10.0) -> _T:
        """Run `coro` on the fake's loop from a test thread (never from the fake's own loop)."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("FakeSlack is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)
