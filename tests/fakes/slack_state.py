"""The workspace behind FakeSlack: Web API method handlers over in-memory channels and messages.

Pure and synchronous: FakeSlack calls `Workspace.handle(method, params)` under its lock and
turns the returned dict into the HTTP answer. Limits follow Slack's documented ones.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.slack_blocks import POST_TEXT_LIMIT, UPDATE_TEXT_LIMIT, validate_blocks

Handler = Callable[["Workspace", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One Web API request as the fake received it, and what it answered."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


def _err(error: str, *messages: str) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error": error}
    if messages:
        body["response_metadata"] = {"messages": list(messages)}
    return body


def _decode_json_field(value: Any) -> Any:
    """Form-encoded calls carry blocks/attachments as JSON strings; JSON calls as lists."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Workspace:
    """One team's channels, users and messages, and the Web API methods over them."""

    def __init__(self, *, bot_user_id: str, team_id: str, bot_id: str, app_id: str = "A1") -> None:
        self.bot_user_id, self.team_id, self.bot_id, self.app_id = (
            bot_user_id, team_id, bot_id, app_id,
        )  # fmt: skip
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}  # user_id -> last published Home tab view
        self.reactions: dict[tuple[str, str], list[str]] = {}
        self.deleted: list[dict[str, Any]] = []
        self._ts_counter = 0

    # --- state helpers -------------------------------------------------------------------

    def next_ts(self) -> str:
        """Slack-style message ts, strictly increasing: 1700000000.000100, .000200, ..."""
        self._ts_counter += 1
        micros = self._ts_counter * 100
        return f"{1_700_000_000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def channel(self, channel_id: str) -> dict[str, Any]:
        if channel_id[:1] in ("U", "W"):  # posting to a user id opens/uses their DM
            channel_id = "D" + channel_id
        if channel_id not in self.channels:
            self.channels[channel_id] = {
                "id": channel_id,
                "name": f"chan-{channel_id.lower()}",
                "is_channel": channel_id.startswith("C"),
                "is_group": channel_id.startswith("G"),
                "is_im": channel_id.startswith("D"),
                "is_private": not channel_id.startswith("C"),
                "is_archived": False,
                "is_member": True,
                "context_team_id": self.team_id,
            }
        return self.channels[channel_id]

    def user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            name = f"user-{user_id.lower()}"
            self.users[user_id] = {
                "id": user_id,
                "team_id": self.team_id,
                "name": name,
                "real_name": name.title(),
                "deleted": False,
                "is_bot": user_id == self.bot_user_id,
                "tz": "Europe/London",
                "tz_label": "Greenwich Mean Time",
                "tz_offset": 0,
                "profile": {"real_name": name.title(), "display_name": name},
            }
        return self.users[user_id]

    def add_message(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        """Store a message (ts assigned if missing), linking it into its parent's thread."""
        msgs = self.messages.setdefault(self.channel(channel)["id"], [])
        message.setdefault("type", "message")
        message.setdefault("ts", self.next_ts())
        msgs.append(message)
        msgs.sort(key=lambda m: float(m["ts"]))
        parent_ts = message.get("thread_ts")
        if parent_ts and parent_ts != message["ts"]:
            parent = self.find(channel, parent_ts)
            if parent is not None:
                parent["thread_ts"] = parent_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
        return message

    def find(self, channel: str, ts: str) -> dict[str, Any] | None:
        for msg in self.messages.get(self.channel(channel)["id"], []):
            if msg["ts"] == ts:
                return msg
        return None

    def snapshot(self, channel: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self.messages.get(self.channel(channel)["id"], []))

    # --- Web API -------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = METHODS.get(method)
        if handler is None:
            return _err("unknown_method")
        return handler(self, params)

    def _message_content(
        self, params: dict[str, Any], *, text_limit: int, require: bool = True
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Text/blocks/attachments of a post or update, or an error answer."""
        content: dict[str, Any] = {}
        for key in ("blocks", "attachments", "metadata"):
            if key in params:
                content[key] = _decode_json_field(params[key])
        if "text" in params:
            content["text"] = str(params["text"])
        if require and not (
            content.get("text") or content.get("blocks") or content.get("attachments")
        ):
            return content, _err("no_text")
        if len(content.get("text", "")) > text_limit:
            return content, _err("msg_too_long")
        if "blocks" in content:
            problems = validate_blocks(content["blocks"])
            if problems:
                return content, _err("invalid_blocks", *problems)
        return content, None

    def _postable(
        self, params: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        channel_id = params.get("channel")
        if not channel_id:
            return None, _err("channel_not_found")
        chan = self.channel(str(channel_id))
        if chan["is_archived"]:
            return chan, _err("is_archived")
        if not chan["is_member"]:
            return chan, _err("not_in_channel")
        return chan, None

    def chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chan, error = self._postable(params)
        if error or chan is None:
            return error or _err("channel_not_found")
        content, error = self._message_content(params, text_limit=POST_TEXT_LIMIT)
        if error:
            return error
        message: dict[str, Any] = {
            "user": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id,
            "team": self.team_id, **content,
        }  # fmt: skip
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
            if str(params.get("reply_broadcast", "")).lower() in ("true", "1"):
                message["subtype"] = "thread_broadcast"
        message = self.add_message(chan["id"], message)
        return {
            "ok": True,
            "channel": chan["id"],
            "ts": message["ts"],
            "message": copy.deepcopy(message),
        }

    def chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        if not channel_id:
            return _err("channel_not_found")
        message = self.find(channel_id, ts)
        if message is None:
            return _err("message_not_found")
        if message.get("user") != self.bot_user_id:
            return _err("cant_update_message")
        if not any(key in params for key in ("text", "blocks", "attachments")):
            return _err("no_text")
        # Slack keeps fields the update leaves out (blocks: [] clears them).
        content, error = self._message_content(params, text_limit=UPDATE_TEXT_LIMIT, require=False)
        if error:
            return error
        message.update(content)
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        message["updates"] = message.get("updates", 0) + 1
        return {
            "ok": True, "channel": self.channel(channel_id)["id"], "ts": ts,
            "text": message.get("text", ""), "message": copy.deepcopy(message),
        }  # fmt: skip

    def chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        message = self.find(channel_id, ts) if channel_id else None
        if message is None:
            return _err("message_not_found")
        if message.get("user") != self.bot_user_id:
            return _err("cant_delete_message")
        self.messages[self.channel(channel_id)["id"]].remove(message)
        self.deleted.append(message)
        return {"ok": True, "channel": self.channel(channel_id)["id"], "ts": ts}

    def chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        chan, error = self._postable(params)
        if error or chan is None:
            return error or _err("channel_not_found")
        if not params.get("user"):
            return _err("user_not_found")
        content, error = self._message_content(params, text_limit=POST_TEXT_LIMIT)
        if error:
            return error
        ts = self.next_ts()
        self.ephemerals.append(
            {"channel": chan["id"], "user": str(params["user"]), "ts": ts,
             "thread_ts": params.get("thread_ts"), **content}
        )  # fmt: skip
        return {"ok": True, "message_ts": ts}

    def chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        # Lenient on purpose: user messages reach the bot via events, not via this store.
        channel_id, ts = str(params.get("channel", "")), str(params.get("message_ts", ""))
        if not channel_id or not ts:
            return _err("message_not_found")
        link = f"https://fake.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel_id, "permalink": link}

    def conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return _err("channel_not_found")
        return {"ok": True, "channel": copy.deepcopy(self.channel(str(params["channel"])))}

    def conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        chan = self.channel(str(params.get("channel", "")))
        chan["is_member"] = True
        return {"ok": True, "channel": copy.deepcopy(chan)}

    def conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        msgs = [m for m in self.snapshot(str(params.get("channel", ""))) if _is_top_level(m)]
        page, has_more = _window(list(reversed(msgs)), params)  # newest first, like Slack
        return {"ok": True, "messages": page, "has_more": has_more}

    def conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = str(params.get("ts", ""))
        msgs = [
            m for m in self.snapshot(str(params.get("channel", "")))
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]  # fmt: skip
        if not msgs:
            return _err("thread_not_found")
        # The parent always comes first; oldest/latest narrow the replies after it.
        parent = [m for m in msgs if m["ts"] == ts]
        replies, _ = _window([m for m in msgs if m["ts"] != ts], {**params, "limit": len(msgs)})
        limit = int(params.get("limit") or 1000)
        page = (parent + replies)[:limit]
        return {"ok": True, "messages": page, "has_more": len(parent) + len(replies) > limit}

    def conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return _err("channel_not_found")
        members = list(self.channel(str(params["channel"])).get("members", []))
        start = int(params.get("cursor") or 0)  # our cursor is an offset, opaque to clients
        limit = int(params.get("limit") or 100)
        page = members[start : start + limit]
        more = start + limit < len(members)
        meta = {"next_cursor": str(start + limit) if more else ""}
        return {"ok": True, "members": page, "response_metadata": meta}

    def users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("user"):
            return _err("user_not_found")
        return {"ok": True, "user": copy.deepcopy(self.user(str(params["user"])))}

    def views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = _decode_json_field(params.get("view"))
        if not params.get("user_id") or not isinstance(view, dict):
            return _err("invalid_arguments")
        problems = validate_blocks(view.get("blocks", []))
        if problems:
            return _err("invalid_blocks", *problems)
        stored = {"id": f"V{len(self.views) + 1:04d}", "team_id": self.team_id, **view}
        self.views[str(params["user_id"])] = stored
        return {"ok": True, "view": copy.deepcopy(stored)}

    def reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        names = self.reactions.setdefault(_reaction_key(params), [])
        if params.get("name") in names:
            return _err("already_reacted")
        names.append(str(params.get("name")))
        return {"ok": True}

    def reactions_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        names = self.reactions.get(_reaction_key(params), [])
        if params.get("name") not in names:
            return _err("no_reaction")
        names.remove(str(params.get("name")))
        return {"ok": True}

    def bots_info(self, params: dict[str, Any]) -> dict[str, Any]:
        bot = {
            "id": self.bot_id, "deleted": False, "name": "briefbot", "updated": 1700000000,
            "app_id": self.app_id, "user_id": self.bot_user_id, "icons": {},
        }  # fmt: skip
        return {"ok": True, "bot": bot}

    def team_info(self, params: dict[str, Any]) -> dict[str, Any]:
        team = {"id": self.team_id, "name": "Fake Team", "domain": "fake", "icon": {}}
        return {"ok": True, "team": team}


def _is_top_level(message: dict[str, Any]) -> bool:
    return message.get("thread_ts") in (None, message["ts"])


def _window(
    msgs: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], bool]:
    """Apply oldest/latest (exclusive unless inclusive=true) and limit as Slack does."""
    inclusive = str(params.get("inclusive", "")).lower() in ("true", "1")
    oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")

    def inside(m: dict[str, Any]) -> bool:
        t = float(m["ts"])
        return oldest <= t <= latest if inclusive else oldest < t < latest

    kept = [m for m in msgs if inside(m)]
    limit = int(params.get("limit") or 100)
    return kept[:limit], len(kept) > limit


def _reaction_key(params: dict[str, Any]) -> tuple[str, str]:
    return (str(params.get("channel", "")), str(params.get("timestamp", "")))


METHODS: dict[str, Handler] = {
    "chat.postMessage": Workspace.chat_post_message,
    "chat.update": Workspace.chat_update,
    "chat.delete": Workspace.chat_delete,
    "chat.postEphemeral": Workspace.chat_post_ephemeral,
    "chat.getPermalink": Workspace.chat_get_permalink,
    "conversations.info": Workspace.conversations_info,
    "conversations.join": Workspace.conversations_join,
    "conversations.history": Workspace.conversations_history,
    "conversations.replies": Workspace.conversations_replies,
    "conversations.members": Workspace.conversations_members,
    "users.info": Workspace.users_info,
    "views.publish": Workspace.views_publish,
    "reactions.add": Workspace.reactions_add,
    "reactions.remove": Workspace.reactions_remove,
    "bots.info": Workspace.bots_info,
    "team.info": Workspace.team_info,
}
