"""The one place that reads the environment.

The entry point calls :func:`load_settings` once and passes the frozen object down;
nothing else reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import enum
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from bot.logs import redact_text


class ModelPrice(BaseModel):
    """US dollars per million tokens."""

    input: float
    output: float


# Published list prices (USD per 1M tokens). Override with BRIEFBOT_PRICES.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60),
    "gpt-4o": ModelPrice(input=2.50, output=10.00),
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60),
    "gpt-4.1": ModelPrice(input=2.00, output=8.00),
    "gpt-4.1-nano": ModelPrice(input=0.10, output=0.40),
}


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("briefbot", appauthor=False))


def _env(name: str, default: Any = None, **kw: Any) -> Any:
    if "default_factory" in kw:
        return Field(validation_alias=name, **kw)
    return Field(default, validation_alias=name, **kw)


class Settings(BaseSettings):
    """Every setting Briefbot has. Each one is documented in .env.example."""

    model_config = SettingsConfigDict(
        # Never the working directory's .env: see find_env_file() for where it is read.
        env_file=None,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        case_sensitive=False,
        # A copied .env.example has empty values: they mean "use the default".
        env_ignore_empty=True,
    )

    # --- Model -----------------------------------------------------------------
    openai_api_key: SecretStr | None = _env("OPENAI_API_KEY")
    openai_base_url: str | None = _env("OPENAI_BASE_URL")
    model: str = _env("BRIEFBOT_MODEL", "gpt-4o-mini")
    engine: Literal["auto", "openai", "offline"] = _env("BRIEFBOT_ENGINE", "auto")
    llm_timeout: float = _env("BRIEFBOT_LLM_TIMEOUT", 60.0, gt=0)
    llm_max_attempts: int = _env("BRIEFBOT_LLM_MAX_ATTEMPTS", 5, ge=1, le=20)
    llm_max_wait: float = _env("BRIEFBOT_LLM_MAX_WAIT", 120.0, gt=0)
    # 16: every map call of a 60k-token document in one wave (4 took three rounds); OpenAI's
    # rate limits allow it, and a local server's own slot count caps it further.
    llm_concurrency: int = _env("BRIEFBOT_LLM_CONCURRENCY", 16, ge=1, le=64)
    chunk_tokens: int = _env("BRIEFBOT_CHUNK_TOKENS", 8000, ge=200)
    chunk_overlap_tokens: int = _env("BRIEFBOT_CHUNK_OVERLAP", 200, ge=0)
    keep_unverified: bool = _env("BRIEFBOT_KEEP_UNVERIFIED", False)
    offline_fallback: bool = _env("BRIEFBOT_OFFLINE_FALLBACK", True)
    # Cap on each model answer, so a small local model can't ramble to the end of its context.
    llm_max_output_tokens: int = _env("BRIEFBOT_LLM_MAX_OUTPUT_TOKENS", 2000, ge=0)
    # Requests the model server serves at once; 0 asks it (llama.cpp's /props) where it can.
    llm_server_slots: int = _env("BRIEFBOT_LLM_SERVER_SLOTS", 0, ge=0, le=64)
    # NoDecode: the JSON is parsed by the validator below, so a bad value is a validation
    # error that names its setting (pydantic's errors()), not a source error to pick apart.
    prices: Annotated[dict[str, ModelPrice], NoDecode] = _env(
        "BRIEFBOT_PRICES", default_factory=lambda: dict(DEFAULT_PRICES)
    )
    template_dir: Path | None = _env("BRIEFBOT_TEMPLATE_DIR")
    language: str = _env("BRIEFBOT_LANGUAGE", "en")
    # The offline engine reads at most this many characters of an article (cost is linear).
    offline_max_chars: int = _env("BRIEFBOT_OFFLINE_MAX_CHARS", 400_000, ge=1000)

    # --- Slack -----------------------------------------------------------------
    slack_bot_token: SecretStr | None = _env("SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = _env("SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = _env("SLACK_SIGNING_SECRET")
    slack_api_url: str = _env("SLACK_API_URL", "https://slack.com/api/")
    port: int = _env("PORT", 3000, ge=0, le=65535)
    # http mode listens on every interface by default (behind a load balancer or proxy).
    host: str = _env("BRIEFBOT_HOST", "0.0.0.0")  # noqa: S104
    # Socket mode's side port for /healthz, /readyz and /metrics (http mode serves them on PORT).
    metrics_port: int = _env("BRIEFBOT_METRICS_PORT", 0, ge=0, le=65535)
    max_jobs_in_flight: int = _env("BRIEFBOT_MAX_JOBS", 8, ge=1, le=256)
    channel_post_interval: float = _env("BRIEFBOT_CHANNEL_POST_INTERVAL", 1.0, ge=0)
    auto_brief_default: bool = _env("BRIEFBOT_AUTO_BRIEF", True)
    # Questions in a brief's thread: tokens of article passages, and of earlier Q&A, per call.
    ask_context_tokens: int = _env("BRIEFBOT_ASK_CONTEXT_TOKENS", 3000, ge=200)
    ask_history_tokens: int = _env("BRIEFBOT_ASK_HISTORY_TOKENS", 800, ge=0)

    # --- Access and privacy ----------------------------------------------------
    # Comma-separated Slack IDs; empty means everyone (bot/access.py parses them).
    allowed_channels: str = _env("BRIEFBOT_ALLOWED_CHANNELS", "")
    allowed_users: str = _env("BRIEFBOT_ALLOWED_USERS", "")
    daily_token_budget: int = _env("BRIEFBOT_DAILY_TOKEN_BUDGET", 0, ge=0)
    retention_days: int = _env("BRIEFBOT_RETENTION_DAYS", 30, ge=0)

    # --- Storage ---------------------------------------------------------------
    data_dir: Path = _env("BRIEFBOT_DATA_DIR", default_factory=_default_data_dir)
    database_url_setting: str | None = _env("DATABASE_URL")

    # --- Fetching --------------------------------------------------------------
    allow_private_networks: bool = _env("BRIEFBOT_ALLOW_PRIVATE_NETWORKS", False)
    fetch_connect_timeout: float = _env("BRIEFBOT_FETCH_CONNECT_TIMEOUT", 5.0, gt=0)
    fetch_timeout: float = _env("BRIEFBOT_FETCH_TIMEOUT", 20.0, gt=0)
    fetch_max_bytes: int = _env("BRIEFBOT_FETCH_MAX_BYTES", 10_000_000, ge=1024)
    fetch_max_redirects: int = _env("BRIEFBOT_FETCH_MAX_REDIRECTS", 5, ge=0, le=20)
    # Seconds one page, PDF or feed may take to parse (in a worker process) before it's given up.
    parse_timeout: float = _env("BRIEFBOT_PARSE_TIMEOUT", 15.0, gt=0, le=600)
    user_agent: str = _env(
        "BRIEFBOT_USER_AGENT",
        "Mozilla/5.0 (compatible; Briefbot/0.1; +https://github.com/briefbot/briefbot)",
    )

    # --- Digests ---------------------------------------------------------------
    digest_feed_cap: int = _env("BRIEFBOT_DIGEST_FEED_CAP", 10, ge=1, le=100)
    digest_catchup_minutes: int = _env("BRIEFBOT_DIGEST_CATCHUP_MINUTES", 120, ge=0, le=7 * 24 * 60)
    digest_empty: Literal["line", "skip"] = _env("BRIEFBOT_DIGEST_EMPTY", "line")

    # --- Logging ---------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _env("BRIEFBOT_LOG_LEVEL", "INFO")

    # --- Where settings come from (read from the environment only; see find_env_file) ---
    env_file: Path | None = _env("BRIEFBOT_ENV_FILE")

    # --- Issue 15: operations endpoints and intake limits ------------------------------
    # Interface of the ops port (BRIEFBOT_METRICS_PORT): /readyz and /metrics stay private.
    metrics_host: str = _env("BRIEFBOT_METRICS_HOST", "127.0.0.1")
    # Links briefed from one message; the rest are skipped with a note in the thread.
    max_links_per_message: int = _env("BRIEFBOT_MAX_LINKS_PER_MESSAGE", 5, ge=1, le=50)
    # Briefs one user, and one channel, may ask for per rolling hour (bot/slack/limits.py).
    user_briefs_per_hour: int = _env("BRIEFBOT_USER_BRIEFS_PER_HOUR", 120, ge=1)
    channel_briefs_per_hour: int = _env("BRIEFBOT_CHANNEL_BRIEFS_PER_HOUR", 240, ge=1)

    # --- Fleet mode (PostgreSQL, workers, OAuth) -------------------------------
    worker_heartbeat: float = _env("BRIEFBOT_WORKER_HEARTBEAT", 10.0, gt=0)
    worker_stalled_after: float = _env("BRIEFBOT_WORKER_STALLED_AFTER", 30.0, gt=0)
    # Bolt's own names, so Bolt's OAuth docs apply as written.
    slack_client_id: str | None = _env("SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = _env("SLACK_CLIENT_SECRET")
    slack_scopes: str = _env("SLACK_SCOPES", "")
    slack_redirect_uri: str | None = _env("SLACK_REDIRECT_URI")

    @property
    def is_fleet(self) -> bool:
        """PostgreSQL storage: jobs go to procrastinate and run on ``briefbot worker``."""
        return self.database_url.strip().startswith(
            ("postgresql://", "postgres://", "postgresql+psycopg://")
        )

    @property
    def oauth_enabled(self) -> bool:
        """Multi-workspace install: on when a client id and secret are set (as in Bolt)."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def database_url(self) -> str:
        """DATABASE_URL if set, else SQLite in the data dir."""
        if self.database_url_setting:
            return self.database_url_setting
        return f"sqlite:///{self.data_dir / 'briefbot.db'}"

    @property
    def has_openai_key(self) -> bool:
        return bool(self.openai_api_key and self.openai_api_key.get_secret_value().strip())

    @field_validator("prices", mode="before")
    @classmethod
    def _prices_from_json(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg} at character {exc.pos})") from None

    def engine_name(self) -> Literal["openai", "offline"]:
        """The engine to use: 'auto' means OpenAI when a key is set, offline otherwise."""
        if self.engine == "auto":
            return "openai" if self.has_openai_key else "offline"
        return self.engine


def env_name(field: str) -> str:
    """The environment variable behind a settings field."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    return alias if isinstance(alias, str) else field.upper()


class EnvFileLookup(enum.Enum):
    FIND = "find"


#: ``load_settings(env_file=FIND_ENV_FILE)``: the documented .env (see :func:`find_env_file`).
FIND_ENV_FILE = EnvFileLookup.FIND
ENV_FILE_VAR = "BRIEFBOT_ENV_FILE"


def find_env_file(explicit: str | Path | None = None) -> Path | None:
    """The .env file to read: ``--env-file``, else BRIEFBOT_ENV_FILE, else ``<data dir>/.env``.

    Never the working directory's: running briefbot inside a folder someone else wrote
    must not let its .env redirect the API key or turn off the SSRF guard. A file named
    explicitly must exist; the data dir's is optional.
    """
    named = explicit or os.environ.get(ENV_FILE_VAR) or None
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            how = "--env-file" if explicit else ENV_FILE_VAR
            raise ConfigError(
                f"{how} names {path}, which is not a file.",
                hint=f"Point {how} at your settings file, or drop it to use <data dir>/.env.",
            )
        return path
    data_dir = os.environ.get("BRIEFBOT_DATA_DIR") or None
    candidate = (Path(data_dir).expanduser() if data_dir else _default_data_dir()) / ".env"
    return candidate if candidate.is_file() else None


def load_settings(
    env_file: str | Path | EnvFileLookup | None = FIND_ENV_FILE, **overrides: Any
) -> Settings:
    """Build the settings from the environment and a .env file; ConfigError on bad values.

    ``env_file``: a path, None for the environment alone, or (default) :func:`find_env_file`.
    """
    if isinstance(env_file, EnvFileLookup):
        env_file = find_env_file()
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"][0] if first["loc"] else "?"
        name = loc if isinstance(loc, str) and loc.isupper() else env_name(str(loc))
        got = first.get("input")
        shown = "" if name in _SECRET_VARS or isinstance(got, dict) else f" (got {got!r})"
        # A token pasted into the wrong setting must not be echoed back (redact_text).
        raise ConfigError(
            redact_text(
                f"Setting {name} is invalid: {first['msg'].removeprefix('Value error, ')}{shown}."
            ),
            hint=f"Fix {name} in your environment or .env; .env.example documents it.",
        ) from None


_SECRET_VARS = {
    "OPENAI_API_KEY",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_SECRET",
    "DATABASE_URL",
}
