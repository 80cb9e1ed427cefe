"""oauth.v2.access for FakeSlack: codes for installs, per-team bot tokens, token rotation.

A test grants a code for a team (``FakeSlack.oauth.grant``), drives Bolt's install flow
with it, and the bot exchanges it here as Slack would. With rotation on, tokens expire
after ``expires_in`` seconds and ``grant_type=refresh_token`` issues a fresh pair.
Every token the fake issued belongs to one team: auth.test answers with that team.
"""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeOAuth:
    client_id: str = "111.222"
    client_secret: str = "fake-client-secret"
    scopes: tuple[str, ...] = ()
    #: Bot token -> team id, for every token issued (revoked ones are removed).
    tokens: dict[str, str] = field(default_factory=dict)
    _codes: dict[str, tuple[str, bool, int]] = field(default_factory=dict)
    _refresh: dict[str, tuple[str, int]] = field(default_factory=dict)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def grant(self, team_id: str, *, rotating: bool = False, expires_in: int = 43200) -> str:
        """A one-time code that installs the app in ``team_id``."""
        with self._lock:
            code = f"code-{team_id}-{next(self._serial)}"
            self._codes[code] = (team_id, rotating, expires_in)
            return code

    def revoke_team(self, team_id: str) -> None:
        with self._lock:
            for token in [t for t, team in self.tokens.items() if team == team_id]:
                del self.tokens[token]

    def team_of(self, token: str) -> str | None:
        with self._lock:
            return self.tokens.get(token)

    def access(self, params: dict[str, Any], authorization: str) -> dict[str, Any]:
        """The oauth.v2.access answer (client credentials by Basic auth or form fields)."""
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        if authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization.split(" ", 1)[1]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return {"ok": False, "error": "invalid_client_id"}
        with self._lock:
            if params.get("grant_type") == "refresh_token":
                found = self._refresh.pop(str(params.get("refresh_token")), None)
                if found is None:
                    return {"ok": False, "error": "invalid_refresh_token"}
                team_id, expires_in = found
                return self._issue(team_id, rotating=True, expires_in=expires_in, refresh=True)
            grant = self._codes.pop(str(params.get("code")), None)
            if grant is None:
                return {"ok": False, "error": "invalid_code"}
            team_id, rotating, expires_in = grant
            return self._issue(team_id, rotating=rotating, expires_in=expires_in)

    def _issue(
        self, team_id: str, *, rotating: bool, expires_in: int, refresh: bool = False
    ) -> dict[str, Any]:
        n = next(self._serial)
        token = f"xoxb-{team_id}-{n}"
        # A rotated token replaces the team's old one, as Slack's refresh does.
        for old in [t for t, team in self.tokens.items() if team == team_id]:
            del self.tokens[old]
        self.tokens[token] = team_id
        body: dict[str, Any] = {
            "ok": True, "access_token": token, "token_type": "bot",
            "scope": ",".join(self.scopes), "bot_user_id": "UBOT", "app_id": "A1",
            "team": {"id": team_id, "name": f"Team {team_id}"}, "enterprise": None,
            "is_enterprise_install": False, "authed_user": {"id": "U1"},
        }  # fmt: skip
        if rotating:
            refresh_token = f"xoxe-1-{team_id}-{n}"
            self._refresh[refresh_token] = (team_id, expires_in)
            body.update(refresh_token=refresh_token, expires_in=expires_in)
        if refresh:  # a refresh answers without the installer's details
            body.pop("authed_user")
        return body
