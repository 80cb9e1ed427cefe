"""Web API request handling for FakeSlack: parse like Slack, authenticate, dispatch."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from tests.fakes.slack_faults import Answer, FaultPlan
from tests.fakes.slack_oauth import FakeOAuth
from tests.fakes.slack_state import Workspace

DEFAULT_SCOPES = (
    "app_mentions:read", "channels:history", "channels:read", "chat:write", "commands",
    "groups:history", "groups:read", "im:history", "links:read", "reactions:write", "users:read",
)  # fmt: skip
# Sent as JSON strings by form-encoded callers; recorded decoded so tests compare structures.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


class WebApi:
    """Authenticates a call, applies scripted faults, then answers from the workspace."""

    def __init__(
        self,
        workspace: Workspace,
        faults: FaultPlan,
        *,
        scopes: Sequence[str],
        socket_url: Callable[[], str],
    ) -> None:
        self.workspace, self.faults, self.scopes = workspace, faults, tuple(scopes)
        self.socket_url = socket_url
        self.oauth = FakeOAuth(scopes=self.scopes)

    def answer(
        self, method: str, params: dict[str, Any], token: str, now: float, authorization: str = ""
    ) -> Answer:
        """Status, JSON body and extra headers for one call, as Slack would answer it."""
        if method == "oauth.v2.access":  # client credentials, no token
            return 200, self.oauth.access(params, authorization), {}
        if (
            token
            and self.oauth.tokens
            and token.startswith("xoxb-")
            and (self.oauth.team_of(token) is None and token != "xoxb-test")
        ):
            # Once the fake has issued tokens, an unknown (revoked, rotated) one is refused.
            return 200, {"ok": False, "error": "token_revoked"}, {}
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        elif not token.startswith("xoxb-"):
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        injected = self.faults.check(method, params, now)
        if injected is not None:
            return injected
        if method == "apps.connections.open":
            url = f"{self.socket_url()}?ticket={uuid.uuid4().hex}&app_id=A1"
            return 200, {"ok": True, "url": url}, {}
        ws = self.workspace
        if method == "auth.test":
            return 200, {
                "ok": True, "url": "https://fake.slack.com/", "team": "Fake Team",
                "user": "briefbot", "team_id": self.oauth.team_of(token) or ws.team_id,
                "user_id": ws.bot_user_id,
                "bot_id": ws.bot_id, "is_enterprise_install": False,
            }, {"x-oauth-scopes": ",".join(self.scopes)}  # fmt: skip
        return 200, ws.handle(method, params), {}


async def read_params(request: web.Request) -> tuple[dict[str, Any], bool]:
    """Query string plus JSON, urlencoded or multipart body, as Slack accepts them all."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                return params, True
            if not isinstance(body, dict):
                return params, True
            params.update(body)
        else:  # slack_sdk's sync client sends data= as multipart, params= as urlencoded
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params, False


def bearer(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
