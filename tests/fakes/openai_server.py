"""A fake OpenAI-compatible server that the real ``openai`` client talks to over loopback.

It runs an aiohttp app on 127.0.0.1, port 0, in its own thread with its own event loop,
so it works the same whether the code under test is sync or runs on an asyncio loop.

Usage::

    with FakeOpenAI(delay=0.05) as server:
        server.enqueue(Reply.rate_limit(retry_after=1), {"summary": "...", ...})
        settings = make_settings(openai_api_key="sk-test", openai_base_url=server.base_url)
        ...
        assert len(server.chat_requests) == 2
        assert server.max_in_flight <= 4

As a pytest fixture::

    @pytest.fixture
    def openai_server() -> Iterator[FakeOpenAI]:
        with FakeOpenAI() as server:
            yield server

Endpoints: ``POST /v1/chat/completions`` and ``GET /v1/models``; with ``slots=N``, also
llama.cpp's ``GET /props`` (``total_slots``, ``n_ctx``), and at most N chat requests are
served at once: the rest queue in the server, their client timeouts running, as they do
in llama.cpp. ``max_active`` is the most served at once.

Replies to chat requests come first from the queue (``enqueue``), then from the
``responder`` (a callable given the request JSON), then from a default (:func:`echo_draft`)
that briefs the fenced article with its own first sentence, as summary and as the quote of
one topic: a grounded brief, so the bot posts it (an empty one would be hollow). Each
queued item is a :class:`Reply` or a mapping (sent as the message content, JSON-encoded).
Faults are replies too:

- ``Reply.rate_limit(retry_after=1)``: 429 with a ``Retry-After`` header;
  ``Reply.quota()``: 429 ``insufficient_quota``;
- ``Reply.error(500)`` (any status; ``retry_after=`` adds the header);
- ``Reply.hang(5)``: holds the request open (past the client's timeout), then drops it;
- ``Reply.reset()``: closes the connection without a response;
- ``Reply.raw("{not json")``: any message content, verbatim (malformed or off-schema);
- ``Reply.refuse("I can't")``: ``message.refusal`` set, content null;
- ``Reply.cut_off(draft)``: ``finish_reason "length"`` with truncated content;
- ``Reply.content_filter()``: ``finish_reason "content_filter"``.

Every reply carries usage: ``prompt_tokens`` is the exact tiktoken count of the request's
message contents (summed, no per-message overhead), ``completion_tokens`` that of the
reply content. Every request is recorded (:class:`RecordedRequest`, with monotonic
start/finish times) so tests can assert on prompts, call counts, waits and concurrency
(``max_in_flight``). ``delay`` (seconds, settable at any time) is added to every chat
reply; ``Reply(delay=...)`` overrides it for one reply. ``api_key=`` makes the server
answer 401 to any other bearer token.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from bot.tokens import count_tokens

ReplyKind = Literal["ok", "error", "hang", "reset"]
Responder = Callable[[dict[str, Any]], "Reply | Mapping[str, Any]"]


def empty_draft(summary: str = "A short summary.") -> dict[str, Any]:
    """A minimal schema-valid brief draft."""
    return {"summary": summary, "participants": [], "topics": [], "tensions": [], "next_steps": []}


_FENCED = re.compile(r"<article>\n(.*?)\n</article>", re.DOTALL)
_PARTIALS = re.compile(r"<partial_briefs>\n(.*?)\n</partial_briefs>", re.DOTALL)
_HEADER = ("Title:", "Site:", "Date:")


def echo_draft(body: Mapping[str, Any]) -> dict[str, Any]:
    """A grounded draft from the request itself: the article's first sentence of six words
    or more (at most 40) as the summary and one topic's quote; a reduce gets its first
    partial back."""
    messages = body.get("messages") or [{}]
    text = _text(messages[-1])
    partials = _PARTIALS.search(text)
    if partials:
        with contextlib.suppress(ValueError, IndexError, TypeError):
            first = json.loads(partials.group(1))[0]
            if isinstance(first, dict):
                return first
    fenced = _FENCED.search(text)
    lines = fenced.group(1).splitlines() if fenced else []
    body_lines = [line.strip() for line in lines if line.strip() and not line.startswith(_HEADER)]
    if not body_lines:
        return empty_draft()
    sentences = [s for line in body_lines for s in line.split(". ")]
    first = next((s for s in sentences if len(s.split()) >= 6), sentences[0])
    sentence = " ".join(first.split()[:40])
    return {**empty_draft(sentence), "topics": [{"name": "The story", "evidence": sentence}]}


@dataclass(frozen=True)
class Reply:
    """One scripted answer to a chat request (build it with the class methods)."""

    kind: ReplyKind = "ok"
    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    error_body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Seconds before answering; None means the server's ``delay``.
    delay: float | None = None
    #: For ``hang``: how long to hold the request before dropping it.
    hold: float = 0.0

    @classmethod
    def brief(cls, draft: Mapping[str, Any], *, delay: float | None = None) -> Reply:
        return cls(content=json.dumps(draft), delay=delay)

    @classmethod
    def raw(cls, content: str, *, delay: float | None = None) -> Reply:
        return cls(content=content, delay=delay)

    @classmethod
    def refuse(cls, message: str = "I'm sorry, I can't help with that.") -> Reply:
        return cls(refusal=message)

    @classmethod
    def cut_off(cls, draft: Mapping[str, Any] | None = None) -> Reply:
        text = json.dumps(draft or empty_draft("A summary that goes on and on"))
        return cls(content=text[: len(text) // 2], finish_reason="length")

    @classmethod
    def content_filter(cls) -> Reply:
        return cls(content=None, finish_reason="content_filter")

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> Reply:
        headers = {"Retry-After": _seconds(retry_after)} if retry_after is not None else {}
        body = {
            "message": message or f"fake error {status}",
            "type": code or ("server_error" if status >= 500 else "invalid_request_error"),
            "param": None,
            "code": code,
        }
        return cls(kind="error", status=status, error_body=body, headers=headers)

    @classmethod
    def rate_limit(
        cls, retry_after: float | None = 1, *, code: str = "rate_limit_exceeded"
    ) -> Reply:
        return cls.error(429, "Rate limit reached.", code=code, retry_after=retry_after)

    @classmethod
    def quota(cls) -> Reply:
        return cls.error(429, "You exceeded your current quota.", code="insufficient_quota")

    @classmethod
    def hang(cls, seconds: float = 5.0) -> Reply:
        return cls(kind="hang", hold=seconds)

    @classmethod
    def reset(cls) -> Reply:
        return cls(kind="reset")


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    started: float
    finished: float | None = None
    #: HTTP status sent; None when the connection was dropped (hang, reset).
    status: int | None = None
    kind: ReplyKind = "ok"
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    def message_text(self, role: str) -> str:
        """The text of all messages with this role, joined by blank lines."""
        return "\n\n".join(_text(m) for m in self.messages if m.get("role") == role)

    @property
    def user_text(self) -> str:
        return self.message_text("user")

    @property
    def system_text(self) -> str:
        return self.message_text("system")


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


class FakeOpenAI:
    """An OpenAI-compatible HTTP server on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        delay: float = 0.0,
        responder: Responder | None = None,
        models: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o"),
        api_key: str | None = None,
        slots: int | None = None,
        context: int = 8192,
    ) -> None:
        self.delay = delay
        self.slots = slots
        self.context = context
        self._slot_gate: asyncio.Semaphore | None = None
        self.active = 0
        self.max_active = 0
        self.responder = responder
        self.models = models
        self.api_key = api_key
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)
        self.in_flight = 0
        self.max_in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as the openai client's ``base_url`` (``url + "/v1"``)."""
        return f"{self.url}/v1"

    def start(self) -> FakeOpenAI:
        count_tokens("warm up")  # load the encoding now, not inside the first timed request
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-openai", daemon=True
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/props", self._props)
        if self.slots is not None:
            self._slot_gate = asyncio.Semaphore(self.slots)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        assert self._closing is not None and self._runner is not None
        self._closing.set()  # ends any hang at once
        await self._runner.cleanup()

    # --- scripting and inspection --------------------------------------------------

    def enqueue(self, *replies: Reply | Mapping[str, Any]) -> None:
        """Queue replies for the next chat requests, in order."""
        with self._lock:
            self._queue.extend(_as_reply(r) for r in replies)

    @property
    def pending(self) -> int:
        """Queued replies not used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def reset_records(self) -> None:
        """Forget recorded requests and the in-flight peak (the queue is kept)."""
        with self._lock:
            self._requests.clear()
            self.max_in_flight = self.in_flight

    # --- handlers ------------------------------------------------------------------

    def _record(self, request: web.Request, body: dict[str, Any] | None) -> RecordedRequest:
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=body,
            started=time.monotonic(),
        )
        with self._lock:
            self._requests.append(record)
        return record

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        body = {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                "param": None, "code": "invalid_api_key"}  # fmt: skip
        return web.json_response({"error": body}, status=401)

    async def _models(self, request: web.Request) -> web.Response:
        record = self._record(request, None)
        response = self._unauthorized(request) or web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                    for m in self.models
                ],
            }
        )
        record.status, record.finished = response.status, time.monotonic()
        return response

    async def _props(self, request: web.Request) -> web.Response:
        record = self._record(request, None)
        if self.slots is None:  # OpenAI, vLLM and Ollama have no /props
            response = web.json_response({"error": "not found"}, status=404)
        else:
            response = web.json_response(
                {
                    "default_generation_settings": {"n_ctx": self.context, "params": {}},
                    "total_slots": self.slots,
                    "model_alias": self.models[0],
                }
            )
        record.status, record.finished = response.status, time.monotonic()
        return response

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        self.in_flight += 1  # handlers run on this server's one loop: no lock needed
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        record: RecordedRequest | None = None
        try:
            body = await request.json()
            record = self._record(request, body)
            record.started = started
            record.prompt_tokens = sum(
                count_tokens(_text(m), body.get("model")) for m in body.get("messages", [])
            )
            denied = self._unauthorized(request)
            if denied is not None:
                record.status, record.kind = denied.status, "error"
                return denied
            if self._slot_gate is None:
                reply = self._next_reply(body)
                record.kind = reply.kind
                return await self._answer(request, record, reply)
            async with self._slot_gate:  # one slot per request; the rest wait here
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                try:
                    reply = self._next_reply(body)
                    record.kind = reply.kind
                    return await self._answer(request, record, reply)
                finally:
                    self.active -= 1
        finally:
            self.in_flight -= 1
            if record is not None:
                record.finished = time.monotonic()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            return _as_reply(self.responder(body))
        return Reply.brief(echo_draft(body))

    async def _answer(
        self, request: web.Request, record: RecordedRequest, reply: Reply
    ) -> web.StreamResponse:
        assert self._closing is not None
        if reply.kind == "reset":
            _drop(request)
            raise asyncio.CancelledError  # aiohttp's way to end a handler with no response
        if reply.kind == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=reply.hold)
            _drop(request)
            raise asyncio.CancelledError
        delay = self.delay if reply.delay is None else reply.delay
        if delay > 0:
            # Stopping the fake ends the delay at once: a request a test left in flight
            # would otherwise hold stop() for aiohttp's whole shutdown_timeout.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=delay)
            if self._closing.is_set():
                _drop(request)
                raise asyncio.CancelledError
        if reply.kind == "error":
            record.status = reply.status
            return web.json_response(
                {"error": dict(reply.error_body or {})},
                status=reply.status,
                headers=dict(reply.headers),
            )
        model = str((record.body or {}).get("model", "gpt-4o-mini"))
        answer = reply.content if reply.content is not None else (reply.refusal or "")
        record.completion_tokens = count_tokens(answer, model) if answer else 0
        record.status = 200
        completion = {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": reply.content,
                        "refusal": reply.refusal,
                    },
                    "finish_reason": reply.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": record.prompt_tokens,
                "completion_tokens": record.completion_tokens,
                "total_tokens": record.prompt_tokens + record.completion_tokens,
            },
        }
        return web.json_response(completion, headers=dict(reply.headers))


def _drop(request: web.Request) -> None:
    """Close the client's connection at once, without sending anything."""
    if request.transport is not None:
        request.transport.abort()


def _as_reply(item: Reply | Mapping[str, Any]) -> Reply:
    return item if isinstance(item, Reply) else Reply.brief(item)


__all__ = ["FakeOpenAI", "RecordedRequest", "Reply", "Responder", "echo_draft", "empty_draft"]
