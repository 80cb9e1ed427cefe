"""Shared harness for the Slack bot tests: settings, an in-process bot, a bot subprocess.

No tests live here; test modules import these helpers.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.slack.serve import Bot, Mode, running
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack, event_callback, message_event

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "test-signing-secret"


def bot_settings(
    make_settings: Callable[..., Settings],
    fake: FakeSlack,
    llm: FakeOpenAI,
    **overrides: Any,
) -> Settings:
    """Settings for a bot that talks to the fakes only."""
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test",
        "slack_app_token": fake.app_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "openai_api_key": "sk-test",
        "openai_base_url": llm.base_url,
        "engine": "openai",
        "llm_max_attempts": 1,
        "allow_private_networks": True,  # the article server is on loopback
        "channel_post_interval": 0.0,
        "host": "127.0.0.1",
    }
    values.update(overrides)
    return make_settings(**values)


@contextlib.asynccontextmanager
async def bot_running(
    settings: Settings, fake: FakeSlack, *, mode: Mode = "socket"
) -> AsyncIterator[Bot]:
    """The bot on the test's event loop; in socket mode, connected before the body runs."""
    async with running(settings, mode=mode, port=0) as bot:
        if mode == "socket":
            await fake.await_for(lambda f: f.socket_clients() >= 1)
        yield bot


def paste(
    fake: FakeSlack, text: str, *, channel: str = "C1", user: str = "U1", **event: Any
) -> tuple[str, dict[str, Any]]:
    """A user's message stored in the fake, and the Events API envelope announcing it."""
    ts = fake.add_message(channel, text=text, user=user)
    inner = message_event(text, channel=channel, user=user, ts=ts)
    inner.update(event)
    return ts, event_callback(inner)


def is_brief(message: dict[str, Any]) -> bool:
    """A posted message that holds a brief (a header block), not a placeholder or an error."""
    return any(b.get("type") == "header" for b in message.get("blocks") or [])


def briefs_in(fake: FakeSlack, channel: str, thread_ts: str) -> list[dict[str, Any]]:
    return [m for m in fake.thread(channel, thread_ts) if is_brief(m)]


def bot_posts(fake: FakeSlack) -> list[Any]:
    return fake.calls_to("chat.postMessage")


# --- a real `briefbot serve` process -------------------------------------------------------


def bot_env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment a `briefbot serve` subprocess reads its settings from."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "SLACK_", "OPENAI_"))
    }
    secret = settings.slack_signing_secret
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-test",
            "SLACK_SIGNING_SECRET": secret.get_secret_value() if secret else "",
            "SLACK_API_URL": settings.slack_api_url,
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": settings.openai_base_url or "",
            "BRIEFBOT_ENGINE": settings.engine,
            "BRIEFBOT_LLM_MAX_ATTEMPTS": str(settings.llm_max_attempts),
            "BRIEFBOT_DATA_DIR": str(settings.data_dir),
            "BRIEFBOT_ALLOW_PRIVATE_NETWORKS": "1",
            "BRIEFBOT_CHANNEL_POST_INTERVAL": str(settings.channel_post_interval),
            "BRIEFBOT_HOST": "127.0.0.1",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


class BotProcess:
    """`python -m bot serve ...` (or ``command``) as a child process; stderr read by line."""

    def __init__(
        self, args: list[str], env: dict[str, str], cwd: Path, *, command: list[str] | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            [*(command or [sys.executable, "-m", "bot", "serve"]), *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._url: str | None = None
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            self._queue.put(line)

    def wait_line(self, marker: str, *, timeout: float = 20.0) -> str:
        """The first (new) stderr line containing ``marker``; fails with the log on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.proc.poll() is not None and self._queue.empty()):
                raise AssertionError(f"no {marker!r} from the bot; its stderr:\n{self.log}")
            try:
                line = self._queue.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if marker in line:
                return line

    def url(self, *, timeout: float = 20.0) -> str:
        """Where the http-mode bot listens (from its announcement line)."""
        if self._url is None:
            line = self.wait_line("listening on", timeout=timeout)
            self._url = line.rsplit(" ", 1)[-1].strip()
        return self._url

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self, *, timeout: float = 20.0) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@contextlib.contextmanager
def bot_process(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[BotProcess]:
    proc = BotProcess(args, env, cwd)
    try:
        yield proc
    finally:
        if proc.proc.poll() is None:
            proc.kill()
