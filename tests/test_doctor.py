"""`briefbot doctor` against the loopback fakes of Slack and OpenAI.

The main scenarios run the real `python -m bot doctor` as a subprocess (started together,
since each pays the CLI's import time); finer cases call ``bot.doctor.main`` in-process,
which is the same code minus argument parsing.
"""

from __future__ import annotations

import io
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import doctor
from bot.slack.scopes import REQUIRED_SCOPES
from bot.store import MIGRATIONS
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack

ROOT = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-doctor-0123456789-secretpart"
OPENAI_KEY = "sk-doctor-secret-key-0123456789"
_ROW = re.compile(r"^(\S.*?)\s{2,}(ok|warn|fail|skip)\s{2,}(.*)$")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def rows(self) -> dict[str, tuple[str, str]]:
        """check name -> (status, detail), parsed from the printed table."""
        found = {}
        for line in self.out.splitlines():
            match = _ROW.match(line)
            if match:
                found[match.group(1)] = (match.group(2), match.group(3))
        return found

    def status(self, name: str) -> str:
        return self.rows[name][0]

    def detail(self, name: str) -> str:
        return self.rows[name][1]


def _env(tmp: Path, tiktoken_cache: Path, **values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BRIEFBOT_", "SLACK_", "OPENAI_")) and k not in ("PORT",)
    }
    env.update(
        BRIEFBOT_DATA_DIR=str(tmp / "data"),
        TIKTOKEN_CACHE_DIR=str(tiktoken_cache),
        PYTHONPATH=str(ROOT),
        **values,
    )
    return env


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeSlack, FakeSlack, FakeOpenAI]]:
    with (
        FakeSlack() as good,
        FakeSlack() as refusing,
        FakeOpenAI() as llm,
    ):
        yield good, refusing, llm


@pytest.fixture(scope="module")
def runs(
    fakes: tuple[FakeSlack, FakeSlack, FakeOpenAI],
    tmp_path_factory: pytest.TempPathFactory,
    tiktoken_cache: Path,
) -> dict[str, Result]:
    """Each scenario's `python -m bot doctor` run, all started at once."""
    good, refusing, llm = fakes
    refusing.fail_next("auth.test", error="invalid_auth")
    keyed = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-doctor-token",
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": llm.base_url,
    }
    scenarios = {
        "all_ok": {**keyed, "SLACK_API_URL": good.api_url},
        "bad_token": {**keyed, "SLACK_API_URL": refusing.api_url},
        "no_tokens": {},
    }
    procs = {}
    for name, values in scenarios.items():
        tmp = tmp_path_factory.mktemp(name)
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "bot", "doctor"],
            env=_env(tmp, tiktoken_cache, **values),
            cwd=tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        results[name] = Result(proc.returncode, out, err)
    return results


@pytest.mark.slow
@pytest.mark.subprocess
def test_all_ok_exits_zero_and_prints_no_secrets(runs: dict[str, Result]) -> None:
    result = runs["all_ok"]
    assert result.code == 0, result.out + result.err
    for name in ("settings", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "Slack auth.test",
                 "Slack scopes", "Slack socket mode", "model endpoint", "tiktoken",
                 "data dir", "database"):  # fmt: skip
        assert result.status(name) == "ok", (name, result.out)
    assert result.status("SLACK_SIGNING_SECRET") == "skip"  # socket mode
    assert f"schema version {len(MIGRATIONS)} (latest)" in result.detail("database")
    assert "gpt-4o-mini available" in result.detail("model endpoint")
    for secret in (BOT_TOKEN, OPENAI_KEY, "secretpart", "secret-key"):
        assert secret not in result.out + result.err
    assert "Traceback" not in result.err


@pytest.mark.slow
@pytest.mark.subprocess
def test_rejected_bot_token_fails_its_row(runs: dict[str, Result]) -> None:
    result = runs["bad_token"]
    assert result.code == 1
    assert result.status("Slack auth.test") == "fail"
    assert "invalid_auth" in result.detail("Slack auth.test")
    assert "Reinstall the app" in result.detail("Slack auth.test")
    assert result.status("Slack scopes") == "skip"
    assert BOT_TOKEN not in result.out + result.err


@pytest.mark.slow
@pytest.mark.subprocess
def test_no_slack_tokens_skips_slack_with_a_hint(runs: dict[str, Result]) -> None:
    result = runs["no_tokens"]
    assert result.code == 0, result.out
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "Slack auth.test", "Slack scopes"):
        assert result.status(name) == "skip", (name, result.out)
    assert "xoxb-" in result.detail("SLACK_BOT_TOKEN")
    assert "OAuth & Permissions" in result.detail("SLACK_BOT_TOKEN")
    assert result.detail("model endpoint").startswith("offline engine: no key set")
    assert result.status("database") == "ok"


# --- in-process: the same checks, one fault at a time ------------------------------------


def _doctor(monkeypatch: pytest.MonkeyPatch, **env: str) -> Result:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    code = doctor.main(out=out)
    return Result(code, out.getvalue(), "")


def _keyed(slack: FakeSlack, llm_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-doctor-token",
        "SLACK_API_URL": slack.api_url,
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": llm_url,
    }


def test_missing_scope_fails_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    scopes = [s for s in REQUIRED_SCOPES if s != "commands"]
    with FakeSlack(scopes=scopes) as slack, FakeOpenAI() as llm:
        result = _doctor(monkeypatch, **_keyed(slack, llm.base_url))
    assert result.code == 1
    assert result.status("Slack scopes") == "fail"
    assert "missing commands" in result.detail("Slack scopes")
    assert "reinstall" in result.detail("Slack scopes")
    assert result.status("Slack auth.test") == "ok"


def test_unreachable_model_fails_its_row(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSlack() as slack:
        url = f"http://127.0.0.1:{_closed_port()}/v1"
        result = _doctor(monkeypatch, **_keyed(slack, url))
    assert result.code == 1
    assert result.status("model endpoint") == "fail"
    assert "can't reach" in result.detail("model endpoint")
    assert "OPENAI_BASE_URL" in result.detail("model endpoint")
    assert result.status("Slack auth.test") == "ok"


def test_wrong_model_key_and_unknown_model(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSlack() as slack, FakeOpenAI(api_key="sk-the-right-one") as llm:
        result = _doctor(monkeypatch, **_keyed(slack, llm.base_url))
        assert result.status("model endpoint") == "fail"
        assert "rejected OPENAI_API_KEY (401)" in result.detail("model endpoint")
        assert OPENAI_KEY not in result.out

        keyed = {**_keyed(slack, llm.base_url), "OPENAI_API_KEY": "sk-the-right-one"}
        result = _doctor(monkeypatch, **keyed, BRIEFBOT_MODEL="gpt-9-imaginary")
    assert result.code == 0  # a warning, not a failure: compatible servers name models freely
    assert result.status("model endpoint") == "warn"
    assert "gpt-9-imaginary is not in its model list" in result.detail("model endpoint")
    assert result.status("model price") == "warn"


def test_bad_settings_each_get_a_row_and_the_rest_still_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()  # the data dir's .env: where settings files are read from
    (tmp_path / "data" / ".env").write_text("BRIEFBOT_MAX_JOBS=9999\n")
    result = _doctor(
        monkeypatch,
        BRIEFBOT_LLM_TIMEOUT="-1",
        BRIEFBOT_PRICES="{not json",
        SLACK_BOT_TOKEN="xoxp-a-user-token",
        SLACK_API_URL="ftp://slack.example",
    )
    assert result.code == 1
    assert "greater than 0" in result.detail("BRIEFBOT_LLM_TIMEOUT")
    assert "not valid JSON" in result.detail("BRIEFBOT_PRICES")
    assert "less than or equal to 256" in result.detail("BRIEFBOT_MAX_JOBS")  # from .env
    assert "user token" in result.detail("SLACK_BOT_TOKEN")
    assert result.status("SLACK_API_URL") == "fail"
    assert result.status("database") == "ok"  # later checks ran on the defaults
    assert "xoxp-a-user-token" not in result.out
    assert os.environ["BRIEFBOT_LLM_TIMEOUT"] == "-1"  # masking bad values was temporary


def test_http_mode_needs_a_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    out = io.StringIO()
    code = doctor.main(mode="http", out=out)
    result = Result(code, out.getvalue(), "")
    assert code == 1
    assert result.status("SLACK_SIGNING_SECRET") == "fail"
    assert result.status("SLACK_APP_TOKEN") == "skip"
    assert "PORT 3000" in result.detail("ports")


def test_database_from_a_newer_briefbot_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "newer.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    result = _doctor(monkeypatch, DATABASE_URL=f"sqlite:///{db}")
    assert result.code == 1
    assert result.status("database") == "fail"
    assert "newer than this Briefbot" in result.detail("database")


def test_unwritable_data_dir_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = _doctor(monkeypatch, BRIEFBOT_DATA_DIR=str(blocker / "data"))
    assert result.code == 1
    assert result.status("data dir") == "fail"
    assert "BRIEFBOT_DATA_DIR" in result.detail("data dir")


# --- the bot can't start: doctor must fail, not pass -------------------------------------


@pytest.mark.parametrize(
    ("mode", "missing"),
    [("socket", ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")),
     ("http", ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"))],
)  # fmt: skip
def test_an_explicit_mode_requires_its_tokens(mode: str, missing: tuple[str, ...]) -> None:
    out = io.StringIO()
    code = doctor.main(mode=mode, out=out)  # type: ignore[arg-type]
    result = Result(code, out.getvalue(), "")
    assert code == 1, result.out
    for name in missing:
        assert result.status(name) == "fail", (name, result.out)
    assert result.detail("mode") == f"{mode} (--mode)"


def test_any_slack_setting_requires_the_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _doctor(monkeypatch, SLACK_APP_TOKEN="xapp-doctor-token")
    assert result.code == 1, result.out
    assert result.status("SLACK_BOT_TOKEN") == "fail"
    assert "can't start" in result.detail("SLACK_BOT_TOKEN")
    assert "guessed from the Slack settings set" in result.detail("mode")


def test_no_slack_settings_passes_for_cli_use_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _doctor(monkeypatch)
    assert result.code == 0, result.out
    assert result.status("mode") == "skip"
    assert "command-line use only" in result.detail("mode")
    assert "guessed" not in result.out
