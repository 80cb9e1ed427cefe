"""deploy/slack-manifest.yml asks for exactly what the code listens to and calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.app import LISTENER_AREAS
from bot.slack.scopes import (
    API_METHOD_SCOPES,
    COMMAND,
    DELIVERY_SCOPES,
    EVENT_SUBSCRIPTIONS,
    REQUIRED_SCOPES,
    SHORTCUT_CALLBACK_ID,
)

MANIFEST = Path(__file__).resolve().parent.parent / "deploy" / "slack-manifest.yml"


class ListenerRecorder:
    """Stands in for AsyncApp during register(): records what each listener is for."""

    def __init__(self) -> None:
        self.events: set[str] = set()
        self.commands: set[str] = set()
        self.shortcuts: set[str] = set()

    def _keep(self, kind: set[str], key: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        assert isinstance(key, str), f"listeners must match a fixed name, got {key!r}"
        kind.add(key)
        return lambda fn: fn

    def event(self, event: Any, **_: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._keep(self.events, event)

    def command(self, command: Any, **_: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._keep(self.commands, command)

    def shortcut(self, cid: Any, **_: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._keep(self.shortcuts, cid)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"register() used app.{name}: teach the manifest test about it")


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


@pytest.fixture(scope="module")
def listeners() -> ListenerRecorder:
    recorder = ListenerRecorder()
    for area in LISTENER_AREAS:
        area.register(recorder, deps=None)  # type: ignore[arg-type]
    return recorder


def test_every_event_listened_to_is_subscribed_and_nothing_else(
    manifest: dict[str, Any], listeners: ListenerRecorder
) -> None:
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert listeners.events <= set(EVENT_SUBSCRIPTIONS), "add new events to EVENT_SUBSCRIPTIONS"
    needed = {sub for event in listeners.events for sub in EVENT_SUBSCRIPTIONS[event]}
    assert subscribed == needed


def test_the_slash_command_and_shortcut_match(
    manifest: dict[str, Any], listeners: ListenerRecorder
) -> None:
    features = manifest["features"]
    assert {c["command"] for c in features["slash_commands"]} == listeners.commands == {COMMAND}
    message_shortcuts = {s["callback_id"] for s in features["shortcuts"] if s["type"] == "message"}
    assert message_shortcuts == listeners.shortcuts == {SHORTCUT_CALLBACK_ID}
    assert all(c.get("usage_hint") for c in features["slash_commands"])


def test_scopes_are_exactly_the_ones_the_code_needs(manifest: dict[str, Any]) -> None:
    granted = manifest["oauth_config"]["scopes"]["bot"]
    assert sorted(granted) == list(REQUIRED_SCOPES)
    assert "user" not in manifest["oauth_config"]["scopes"]
    for subscription in manifest["settings"]["event_subscriptions"]["bot_events"]:
        if subscription in DELIVERY_SCOPES:
            assert DELIVERY_SCOPES[subscription] in granted


def test_every_web_api_method_the_code_names_has_its_scope_declared() -> None:
    needed = {scope for scope in API_METHOD_SCOPES.values() if scope}
    assert needed <= set(REQUIRED_SCOPES)


def test_socket_mode_interactivity_and_the_home_tab_are_on(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"]
