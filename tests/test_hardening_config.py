"""Issue 15, findings 7 and 10: where settings come from, sandboxed templates, hidden secrets.

A folder someone else wrote must not configure Briefbot through its ``.env``; a user
template must not run code; and secrets outside the four known tokens (a key in
OPENAI_BASE_URL, a token pasted into the wrong setting) must not reach output or logs.
"""

from __future__ import annotations

import io
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from bot import doctor
from bot.config import find_env_file, load_settings
from bot.errors import ConfigError
from bot.logs import TRANSPORT_LOGGERS, setup_logging
from bot.models import Brief, BriefMeta
from bot.render import render_markdown, render_mrkdwn
from tests.fakes.openai_server import FakeOpenAI

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "sample-article.txt"
HOSTILE_ENV = (
    "OPENAI_BASE_URL=http://attacker.invalid/v1\n"
    "BRIEFBOT_ALLOW_PRIVATE_NETWORKS=1\n"
    "BRIEFBOT_ENGINE=not-an-engine\n"
)
QUERY_SECRET = "QueryKey0123456789abcdef"
USERINFO_SECRET = "Passw0rd-in-url-77"


def _brief() -> Brief:
    return Brief(title="T", summary="S", meta=BriefMeta(engine="offline"))


# --- finding 7: .env only from a documented place ------------------------------------------


def test_the_working_directorys_dotenv_is_not_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(HOSTILE_ENV)  # tmp_path is the working directory
    settings = load_settings()
    assert settings.openai_base_url is None
    assert settings.allow_private_networks is False
    assert settings.engine == "auto"


def test_dotenv_is_read_from_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"  # BRIEFBOT_DATA_DIR, set for every test
    data.mkdir()
    (data / ".env").write_text("BRIEFBOT_MODEL=gpt-4.1-mini\n")
    assert find_env_file() == data / ".env"
    assert load_settings().model == "gpt-4.1-mini"


def test_env_file_variable_and_flag_name_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "conf" / "briefbot.env"
    named.parent.mkdir()
    named.write_text("BRIEFBOT_MODEL=from-named-file\n")
    monkeypatch.setenv("BRIEFBOT_ENV_FILE", str(named))
    assert load_settings().model == "from-named-file"
    assert find_env_file(tmp_path / "conf" / "briefbot.env") == named
    with pytest.raises(ConfigError, match=r"--env-file names .*missing\.env"):
        find_env_file(tmp_path / "missing.env")
    monkeypatch.setenv("BRIEFBOT_ENV_FILE", str(tmp_path / "gone.env"))
    with pytest.raises(ConfigError, match="BRIEFBOT_ENV_FILE names"):
        load_settings()


@pytest.mark.subprocess
def test_cli_ignores_a_hostile_dotenv_and_says_so(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(HOSTILE_ENV)
    env = {k: v for k, v in __import__("os").environ.items()}
    run = [sys.executable, "-m", "bot", "-q", "brief", str(SAMPLE), "--format", "json"]
    proc = subprocess.run(run, capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert '"engine": "offline"' in proc.stdout
    assert "ignoring ./.env" in proc.stderr and "Traceback" not in proc.stderr
    missing = [sys.executable, "-m", "bot", "--env-file", "nope.env", "brief", str(SAMPLE)]
    proc = subprocess.run(missing, capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        line for line in proc.stderr.strip().splitlines() if line.startswith("briefbot: error:")
    ]
    assert "--env-file names nope.env" in proc.stderr


# --- finding 7: user templates run in a sandbox --------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
        "{{ joiner.__init__.__globals__.os.popen('touch PWNED').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ brief.__class__.__init__.__globals__['__builtins__'] }}",
    ],
)
@pytest.mark.parametrize(("name", "render"), [("brief.md.j2", render_markdown),
                                              ("brief.mrkdwn.j2", render_mrkdwn)])  # fmt: skip
def test_a_template_cannot_reach_python_internals(
    tmp_path: Path, expression: str, name: str, render: object
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / name).write_text(f"{{# template-version: 1 #}}\nhi {expression}\n")
    with pytest.raises(ConfigError) as err:
        render(_brief(), template_dir=templates)  # type: ignore[operator]
    assert "sandbox" in str(err.value) and name in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "PWNED").exists()


# --- finding 10: secrets outside the four known tokens -------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_doctor_hides_the_base_urls_query_and_userinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    base = f"http://me:{USERINFO_SECRET}@127.0.0.1:{_closed_port()}/v1?api-key={QUERY_SECRET}"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-doctor-key-0123456789")
    monkeypatch.setenv("OPENAI_BASE_URL", base)
    out = io.StringIO()
    doctor.main(out=out)
    table = out.getvalue()
    assert "OPENAI_BASE_URL" in table and "127.0.0.1" in table
    assert QUERY_SECRET not in table and USERINFO_SECRET not in table


@pytest.mark.parametrize("name", ["PORT", "BRIEFBOT_MAX_JOBS", "BRIEFBOT_LLM_TIMEOUT"])
@pytest.mark.parametrize(
    "pasted", ["xoxb-2814976321-5523198834215-Zq8RkT3v", "sk-proj-Jq3vT9xR2mW7yK5pL8nB4c",
               "xapp-1-A05KQ7R3T9B-552319883"],
)  # fmt: skip
def test_a_token_pasted_into_the_wrong_setting_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch, name: str, pasted: str
) -> None:
    monkeypatch.setenv(name, pasted)
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    assert name in str(err.value) and pasted not in str(err.value)
    out = io.StringIO()
    doctor.main(out=out, env_file=None)
    assert name in out.getvalue() and pasted not in out.getvalue()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    levels = {n: logging.getLogger(n).level for n in (*TRANSPORT_LOGGERS, "openai")}
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_debug_logs_never_show_a_key_in_a_url(llm: FakeOpenAI) -> None:
    """What --debug sets up, then the openai client over its real transport (httpx2 today)."""
    stream = io.StringIO()
    setup_logging(logging.DEBUG, secrets=["sk-known"], json_format=False, stream=stream)
    client = openai.OpenAI(
        api_key="sk-known-key-0000", base_url=f"{llm.base_url}?api-key={QUERY_SECRET}",
        max_retries=0, timeout=10,
    )  # fmt: skip
    with pytest.raises(openai.APIStatusError):
        client.models.list()
    client.close()
    logging.getLogger("bot.test").debug("calling %s", f"{llm.base_url}?api-key={QUERY_SECRET}")
    logged = stream.getvalue()
    assert "calling" in logged, "nothing was logged: the scan would prove nothing"
    assert QUERY_SECRET not in logged


def test_every_transport_logger_openai_uses_is_quieted() -> None:
    """The installed openai's HTTP stack: each of its loggers is in TRANSPORT_LOGGERS."""
    import openai._base_client as base_client

    stacks = {m.split(".")[0] for m in vars(base_client) if m.startswith(("httpx", "httpcore"))}
    stacks |= {
        getattr(v, "__name__", "").split(".")[0]
        for v in vars(base_client).values()
        if getattr(v, "__name__", "").startswith(("httpx", "httpcore"))
    }
    assert stacks, "openai imports no httpx: update this test and TRANSPORT_LOGGERS"
    for stack in stacks:
        assert stack in TRANSPORT_LOGGERS
        assert stack.replace("httpx", "httpcore") in TRANSPORT_LOGGERS
