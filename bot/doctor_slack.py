"""``briefbot doctor``'s Slack rows: token shapes, auth.test, scopes and socket mode.

Tokens are described by their prefix only; nothing here prints a secret.
"""

from __future__ import annotations

import urllib.error
from typing import Any

from bot.config import Settings
from bot.doctor_checks import (
    TIMEOUT,
    Check,
    Mode,
    Status,
    fail,
    ok,
    safe_url,
    secret_text,
    skip,
    url_check,
    warn,
)

_REJECTED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
_NET_ERRORS = (urllib.error.URLError, OSError, TimeoutError)
_BOT_HINT = "Copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions."
_APP_HINT = (
    "Create an app-level token with connections:write (Basic Information > App-Level Tokens)."
)


# --- token shapes --------------------------------------------------------------------------


def _bot_token(token: str, *, needed: bool) -> Check:
    name = "SLACK_BOT_TOKEN"
    if not token and needed:
        return fail(name, f"not set, so the Slack bot can't start. {_BOT_HINT}")
    if not token:
        return skip(name, f"not set: the Slack bot can't run (the CLI works without it). "
                    f"{_BOT_HINT}")  # fmt: skip
    if token != token.strip():
        return fail(name, "has spaces or a newline around it; remove them.")
    if token.startswith("xoxp-"):
        return fail(name, f"is a user token (xoxp-), not a bot token. {_BOT_HINT}")
    if not token.startswith("xoxb-"):
        return fail(name, f"doesn't start with xoxb-. {_BOT_HINT}")
    return ok(name, "xoxb-… (a bot token)")


def _app_token(token: str, *, mode: Mode, needed: bool) -> Check:
    name = "SLACK_APP_TOKEN"
    if not token:
        if mode == "socket" and needed:
            return fail(name, f"socket mode needs it. {_APP_HINT} Or use --mode http.")
        return skip(name, "not set" + ("" if mode == "socket" else " (http mode doesn't use it)"))
    if not token.strip().startswith("xapp-"):
        return fail(name, f"doesn't start with xapp-. {_APP_HINT}")
    return ok(name, "xapp-… (an app-level token)")


def _signing_secret(secret: str, *, mode: Mode, needed: bool) -> Check:
    name = "SLACK_SIGNING_SECRET"
    if mode == "socket":
        return skip(name, "socket mode doesn't use it")
    if not secret:
        status: Status = "fail" if needed else "skip"
        return Check(name, status, "http mode needs it to verify requests: copy the Signing "
                     "Secret from Basic Information.")  # fmt: skip
    if len(secret) != 32 or any(c not in "0123456789abcdef" for c in secret):
        return warn(name, "doesn't look like Slack's 32 hex characters; copy the Signing "
                    "Secret (not the Client Secret or a token).")  # fmt: skip
    return ok(name, "set (32 hex characters)")


def slack_wanted(settings: Settings) -> bool:
    """Any Slack credential set means the bot is meant to run, so its mode's tokens count."""
    return any(
        secret_text(value)
        for value in (
            settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret
        )
    )  # fmt: skip


def token_checks(settings: Settings, mode: Mode, *, needed: bool | None = None) -> list[Check]:
    """Token shapes (by prefix only) and, when the bot is to run, what its mode needs."""
    if needed is None:
        needed = slack_wanted(settings)
    return [
        _bot_token(secret_text(settings.slack_bot_token), needed=needed),
        _app_token(secret_text(settings.slack_app_token), mode=mode, needed=needed),
        _signing_secret(secret_text(settings.slack_signing_secret), mode=mode, needed=needed),
        url_check("SLACK_API_URL", settings.slack_api_url),
    ]


# --- the Slack API -------------------------------------------------------------------------


def slack_checks(settings: Settings, mode: Mode) -> list[Check]:
    """auth.test, the granted scopes against the code's, and in socket mode the app token."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    bot = secret_text(settings.slack_bot_token)
    if not bot.startswith("xoxb-"):
        why = "no bot token set" if not bot else "fix SLACK_BOT_TOKEN first"
        return [skip("Slack auth.test", why), skip("Slack scopes", why)]
    base = settings.slack_api_url.rstrip("/") + "/"
    client = WebClient(token=bot, base_url=base, timeout=int(TIMEOUT), retry_handlers=[])
    try:
        resp = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        fix = (
            "Reinstall the app to the workspace and copy its Bot User OAuth Token again."
            if error in _REJECTED
            else "See https://api.slack.com/methods/auth.test#errors."
        )
        return [
            fail("Slack auth.test", f"Slack refused SLACK_BOT_TOKEN ({error}). {fix}"),
            skip("Slack scopes", "needs a working bot token"),
        ]
    except _NET_ERRORS as exc:
        return [
            fail("Slack auth.test", f"can't reach Slack at {safe_url(base)} "
                 f"({getattr(exc, 'reason', exc)}). Check the network, proxy or SLACK_API_URL."),
            skip("Slack scopes", "Slack unreachable"),
        ]  # fmt: skip
    rows = [
        ok("Slack auth.test", f"bot @{resp.get('user')} ({resp.get('user_id')}) in "
           f"{resp.get('team')} ({resp.get('team_id')})"),
        _scopes(resp.headers or {}),
    ]  # fmt: skip
    app = secret_text(settings.slack_app_token).strip()
    if mode == "socket" and app.startswith("xapp-"):
        rows.append(_socket_mode(client, app))
    return rows


def _scopes(headers: dict[str, Any]) -> Check:
    from bot.slack.scopes import REQUIRED_SCOPES

    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if "x-oauth-scopes" not in lowered:
        return warn("Slack scopes", "Slack didn't report the token's scopes; compare OAuth & "
                    "Permissions with deploy/slack-manifest.yml by hand.")  # fmt: skip
    granted = {s.strip() for s in lowered["x-oauth-scopes"].split(",") if s.strip()}
    missing = sorted(set(REQUIRED_SCOPES) - granted)
    if missing:
        return fail("Slack scopes", f"missing {', '.join(missing)}. Add them under OAuth & "
                    "Permissions (deploy/slack-manifest.yml lists them all), then reinstall "
                    "the app to the workspace.")  # fmt: skip
    extra = sorted(granted - set(REQUIRED_SCOPES))
    note = f"; also granted, unused: {', '.join(extra)}" if extra else ""
    return ok("Slack scopes", f"all {len(REQUIRED_SCOPES)} required scopes granted{note}")


def _socket_mode(client: Any, app_token: str) -> Check:
    from slack_sdk.errors import SlackApiError

    name = "Slack socket mode"
    try:
        client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        return fail(name, f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')}). "
                    f"Enable Socket Mode for the app. {_APP_HINT}")  # fmt: skip
    except _NET_ERRORS as exc:
        return fail(name, f"can't reach Slack ({getattr(exc, 'reason', exc)}).")
    return ok(name, "apps.connections.open accepts SLACK_APP_TOKEN")
