"""``briefbot digest preview|run-due`` through the parser hook the CLI wires in."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.digest.digest_cli import add_digest_parser, run_digest_cli
from bot.digest.schedule import Subscription
from bot.digest.store import DigestStore
from bot.errors import ConfigError
from bot.models import Brief, BriefMeta, Participant
from bot.store import Store
from tests.fakes.slack import FakeSlack


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="briefbot")
    add_digest_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["digest", *argv])


def seed(settings: Settings, *, subscribe_at: datetime) -> None:
    """A channel with a schedule due a minute before ``subscribe_at`` + 1 day, and one brief."""
    with Store.open(settings.database_url) as store:
        slot = (
            (subscribe_at + timedelta(days=1) - timedelta(minutes=1))
            .time()
            .replace(second=0, microsecond=0)
        )
        DigestStore.for_store(store).set_subscription(
            Subscription("T1", "C1", "daily", slot, "UTC"), by="U1", now=subscribe_at
        )
        brief = Brief(
            title="Harbour deal",
            url="https://news.example/deal",
            summary="A deal was agreed.",
            participants=[Participant(name="Tomas Berg", evidence="x")],
            meta=BriefMeta(engine="offline"),
        )
        store.put_brief("k1", brief, url=brief.url, title=brief.title, team="T1", channel="C1")


@pytest.mark.parametrize("fmt", ["markdown", "json", "slack"])
def test_preview_prints_without_posting(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    settings = make_settings()
    seed(settings, subscribe_at=datetime.now(UTC) - timedelta(hours=1))
    assert run_digest_cli(parse("preview", "--channel", "C1", "--format", fmt), settings) == 0
    out = capsys.readouterr().out
    if fmt == "markdown":
        assert (
            out.startswith("# Digest for ") and "[Harbour deal](https://news.example/deal)" in out
        )
    elif fmt == "json":
        assert json.loads(out)["themes"][0]["items"][0]["title"] == "Harbour deal"
    else:
        [message] = json.loads(out)
        assert message["blocks"][0]["type"] == "header"
    with Store.open(settings.database_url) as store:  # nothing claimed or recorded
        assert DigestStore.for_store(store).runs("T1", "C1") == []


def test_run_due_needs_a_bot_token(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        run_digest_cli(parse("run-due"), make_settings())


def test_run_due_posts_once(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeSlack() as slack:
        settings = make_settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
        seed(settings, subscribe_at=datetime.now(UTC) - timedelta(days=1))
        assert run_digest_cli(parse("run-due"), settings) == 0
        assert "C1\tposted" in capsys.readouterr().out
        assert run_digest_cli(parse("run-due"), settings) == 0  # cron runs again: nothing new
        assert len(slack.calls_to("chat.postMessage")) == 1
        assert "Harbour deal" in json.dumps(slack.messages_in("C1")[0]["blocks"])


def test_digest_needs_an_action() -> None:
    with pytest.raises(SystemExit):
        parse()
