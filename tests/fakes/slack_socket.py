"""Socket Mode side of FakeSlack: the WebSocket endpoint, envelopes out, acks in.

Speaks what slack_sdk.socket_mode.aiohttp.SocketModeClient expects: a `hello` on connect,
pongs that echo the client's ping data (its staleness check parses them), envelopes as
JSON text frames, and Slack's `disconnect` message, after which the client calls
apps.connections.open again and reconnects.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

# Bounds how long a server-side close waits for the client's close frame.
CLOSE_TIMEOUT = 2.0


class SocketHub:
    """Connected Socket Mode clients, and the envelopes and acks exchanged with them.

    State is guarded by the owner's condition `cond`; `changed()` (called with it held)
    wakes the owner's waiters.
    """

    def __init__(self, cond: threading.Condition, changed: Callable[[], None]) -> None:
        self._cond, self._changed = cond, changed
        self.sockets: list[web.WebSocketResponse] = []
        self.total = 0  # connections accepted so far; reconnects add one
        self.envelopes: list[dict[str, Any]] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.closing = False

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The ws:// URL apps.connections.open hands out."""
        if self.closing:
            raise web.HTTPServiceUnavailable()
        # autoping answers the client's pings with pongs carrying the same data, as Slack does.
        ws = web.WebSocketResponse(autoping=True, timeout=CLOSE_TIMEOUT)
        await ws.prepare(request)
        with self._cond:
            count = len(self.sockets) + 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": count,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": request.query.get("app_id", "A1")},
            }
        )
        with self._cond:
            self.sockets.append(ws)
            self.total += 1
            self._changed()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._record_ack(msg.data)
        finally:
            with self._cond:
                if ws in self.sockets:
                    self.sockets.remove(ws)
                self._changed()
        return ws

    def _record_ack(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            return
        envelope_id = ack.get("envelope_id") if isinstance(ack, dict) else None
        if not envelope_id:
            return
        now = time.monotonic()
        with self._cond:
            sent = next(
                (e for e in reversed(self.envelopes) if e["envelope_id"] == envelope_id), None
            )
            self.acks[envelope_id] = {
                "payload": ack.get("payload"),
                "message": ack,
                "at": now,
                "latency": None if sent is None else now - sent["sent_at"],
            }
            self._changed()

    def connected(self) -> int:
        with self._cond:
            return sum(1 for ws in self.sockets if not ws.closed)

    async def push(self, message: dict[str, Any], *, record: bool) -> None:
        """Send to the newest live connection, as Slack sends each envelope to one of them."""
        with self._cond:
            live = [ws for ws in self.sockets if not ws.closed]
            if not live:
                raise AssertionError("FakeSlack: no Socket Mode client is connected")
            if record:
                self.envelopes.append({**message, "sent_at": time.monotonic()})
                self._changed()
        await live[-1].send_str(json.dumps(message))

    async def close_all(self) -> None:
        with self._cond:
            sockets = list(self.sockets)
        for ws in sockets:
            await ws.close(code=1001, message=b"fake-slack closed the connection")
