"""Settings: one object from the environment and .env, with one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings, env_name, load_settings
from bot.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_env_example_documents_every_setting() -> None:
    example = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    expected = {env_name(field) for field in Settings.model_fields}
    assert expected <= documented, f"missing from .env.example: {sorted(expected - documented)}"
    assert documented <= expected, f"unknown in .env.example: {sorted(documented - expected)}"
    # Every variable has a comment line right above it.
    lines = example.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]+=", line):
            assert lines[i - 1].startswith("#"), f"{line.split('=')[0]} has no comment"


def test_copied_env_example_loads_as_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((REPO / ".env.example").read_text())
    settings = load_settings(tmp_path / ".env")
    assert settings.engine_name() == "offline"
    assert settings.openai_base_url is None
    assert settings.template_dir is None
    assert settings.prices["gpt-4o-mini"].input > 0
    assert settings.slack_api_url == "https://slack.com/api/"


def test_dotenv_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_MODEL=gpt-4.1-mini\nOPENAI_API_KEY=sk-from-dotenv\n")
    monkeypatch.setenv("BRIEFBOT_FETCH_TIMEOUT", "7.5")
    settings = load_settings(tmp_path / ".env")
    assert settings.model == "gpt-4.1-mini"
    assert settings.fetch_timeout == 7.5
    assert settings.engine_name() == "openai"
    assert "sk-from-dotenv" not in repr(settings)


def test_environment_beats_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_MODEL=from-file\n")
    monkeypatch.setenv("BRIEFBOT_MODEL", "from-env")
    assert load_settings(tmp_path / ".env").model == "from-env"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("BRIEFBOT_FETCH_TIMEOUT", "soon", "number"),
        ("BRIEFBOT_ENGINE", "gpt", "'auto', 'openai' or 'offline'"),
        ("BRIEFBOT_PRICES", "{not json", "JSON"),
        ("PORT", "99999", "65535"),
        ("BRIEFBOT_ALLOW_PRIVATE_NETWORKS", "perhaps", "boolean"),
    ],
)
def test_invalid_setting_is_one_actionable_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    message = str(err.value)
    assert "\n" not in message
    assert name in message and words in message
    assert ".env" in message


def test_secret_values_never_echoed_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-value")
    monkeypatch.setenv("BRIEFBOT_MAX_JOBS", "0")
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    assert "xoxb-secret-value" not in str(err.value)


def test_database_url_defaults_to_data_dir(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("briefbot.db")
    assert make_settings(database_url_setting="sqlite:///x.db").database_url == "sqlite:///x.db"
