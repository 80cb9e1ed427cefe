"""Request bodies shaped like the ones Slack sends to an app, and Slack's request signing.

Use them to drive the bot in HTTP mode (POST a signed body) or Socket Mode
(`FakeSlack.send_envelope(type_, payload)`):

- `sign_request(secret, body)` -> the X-Slack-Request-Timestamp / X-Slack-Signature headers;
- `event_callback(event)` -> an Events API envelope (a dict; `json.dumps` it to POST);
- `message_event(...)`, `app_mention_event(...)` -> the inner `event` dicts;
- `slash_command_payload(...)` (dict, Socket Mode) / `slash_command_body(...)` (form bytes);
- `message_shortcut_payload(...)` (dict) / `message_shortcut_body(...)` (form `payload=JSON`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

# Where respond() goes when a test did not pass `fake.response_url()`: a closed loopback port,
# so a stray call fails fast instead of leaving the machine.
UNSET_RESPONSE_URL = "http://127.0.0.1:1/response/unset"

_event_ids = itertools.count(1)


def sign_request(
    signing_secret: str, body: bytes | str, *, timestamp: int | None = None
) -> dict[str, str]:
    """Headers Slack adds to every HTTP request: v0 HMAC-SHA256 of "v0:{ts}:{body}"."""
    ts = int(time.time()) if timestamp is None else timestamp
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(ts).encode() + b":" + raw
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = "T1",
    event_id: str | None = None,
    event_time: int | None = None,
    api_app_id: str = "A1",
) -> dict[str, Any]:
    """An Events API `event_callback` envelope around `event` (a fresh event_id unless given)."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id or 'ctx'}",
    }


def message_event(
    text: str,
    *,
    channel: str = "C1",
    user: str = "U1",
    ts: str = "1690000000.000100",
    thread_ts: str | None = None,
    channel_type: str = "channel",
    team_id: str = "T1",
) -> dict[str, Any]:
    """A plain user `message` event as Slack delivers it."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type,
        "team": team_id,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def app_mention_event(
    text: str,
    *,
    channel: str = "C1",
    user: str = "U1",
    ts: str = "1690000000.000200",
    thread_ts: str | None = None,
    team_id: str = "T1",
) -> dict[str, Any]:
    """An `app_mention` event; put `<@UBOT>` in `text` as a real mention would."""
    event = message_event(text, channel=channel, user=user, ts=ts, thread_ts=thread_ts)
    event.pop("channel_type")
    event["type"] = "app_mention"
    event["team"] = team_id
    return event


def slash_command_payload(
    *,
    command: str = "/brief",
    text: str,
    user_id: str = "U1",
    channel_id: str = "C1",
    team_id: str = "T1",
    response_url: str | None = None,
    trigger_id: str = "t1",
) -> dict[str, str]:
    """The fields of a slash command (the Socket Mode payload; form-encoded over HTTP)."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": f"chan-{channel_id.lower()}",
        "user_id": user_id,
        "user_name": f"user-{user_id.lower()}",
        "command": command,
        "text": text,
        "api_app_id": "A1",
        "is_enterprise_install": "false",
        "response_url": response_url or UNSET_RESPONSE_URL,
        "trigger_id": trigger_id,
    }


def slash_command_body(
    *,
    command: str = "/brief",
    text: str,
    user_id: str = "U1",
    channel_id: str = "C1",
    team_id: str = "T1",
    response_url: str | None = None,
    trigger_id: str = "t1",
) -> bytes:
    """A slash command as Slack POSTs it: application/x-www-form-urlencoded."""
    fields = slash_command_payload(
        command=command,
        text=text,
        user_id=user_id,
        channel_id=channel_id,
        team_id=team_id,
        response_url=response_url,
        trigger_id=trigger_id,
    )
    return urlencode(fields).encode()


def message_shortcut_payload(
    *,
    callback_id: str = "brief_this_message",
    message: dict[str, Any],
    channel_id: str = "C1",
    user_id: str = "U1",
    team_id: str = "T1",
    response_url: str | None = None,
) -> dict[str, Any]:
    """A `message_action` (message shortcut) payload; `message` needs at least ts and text."""
    return {
        "type": "message_action",
        "token": "verification-token-unused",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": "fake"},
        "user": {
            "id": user_id,
            "username": f"user-{user_id.lower()}",
            "team_id": team_id,
            "name": f"user-{user_id.lower()}",
        },
        "channel": {"id": channel_id, "name": f"chan-{channel_id.lower()}"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": "t1",
        "response_url": response_url or UNSET_RESPONSE_URL,
        "message_ts": message.get("ts", ""),
        "message": {"type": "message", **message},
    }


def message_shortcut_body(
    *,
    callback_id: str = "brief_this_message",
    message: dict[str, Any],
    channel_id: str = "C1",
    user_id: str = "U1",
    team_id: str = "T1",
    response_url: str | None = None,
) -> bytes:
    """A message shortcut as Slack POSTs it: form-encoded `payload=<JSON>`."""
    payload = message_shortcut_payload(
        callback_id=callback_id,
        message=message,
        channel_id=channel_id,
        user_id=user_id,
        team_id=team_id,
        response_url=response_url,
    )
    return urlencode({"payload": json.dumps(payload)}).encode()
