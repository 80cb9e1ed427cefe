"""Structured logs: JSON when stderr is not a terminal, with a job id carried through.

The job id lives in a contextvar, so fetch, model and Slack calls made while working on
a job are tagged with it without passing it around. Known secrets are redacted from
every record as a last line of defence; code should never log them in the first place.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)

# Attributes every LogRecord has; anything else was passed with extra= and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# Secrets that are not one of our four known settings: token-shaped values (a Slack or
# OpenAI token pasted into another setting), credentials in a URL's userinfo, and key-like
# query parameters (Azure's ?api-key=). Each pattern is a literal prefix and one class.
_TOKEN_SHAPED = re.compile(r"\b(?:xox[a-z]|xapp|sk)-[\w-]{4,}")
_URL_USERINFO = re.compile(r"(?<=//)[^/\s@:'\"]+:[^/\s@'\"]+@")
_SECRET_QUERY = re.compile(
    r"(?i)(?<=[?&])(api[-_]?key|key|token|access_token|secret|password|sig|signature|code)"
    r"=[^&#\s'\"]+"
)
#: Loggers of the HTTP stacks under openai and slack_sdk. They may log full request URLs
#: (with a key in the query) at INFO and headers at DEBUG. Current openai releases use
#: httpx2/httpcore2; older ones httpx/httpcore.
TRANSPORT_LOGGERS = ("httpx", "httpcore", "httpx2", "httpcore2")


def redact_text(text: str) -> str:
    """``text`` with token-shaped values, URL userinfo and key-like query values hidden."""
    text = _TOKEN_SHAPED.sub("[redacted]", text)
    text = _URL_USERINFO.sub("[redacted]@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=[redacted]", text)


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Tag every log line inside the block with ``job_id``."""
    token = job_id_var.set(job_id)
    try:
        yield
    finally:
        job_id_var.reset(token)


class _Redactor(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = job_id_var.get()
        # Every record, not only when secrets are known: unknown ones (a key in a URL, a
        # token pasted into the wrong setting) are found by shape.
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self._redact(value))
        return True

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return redact_text(text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, job_id, and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        job_id = getattr(record, "job_id", None)
        if job_id:
            data["job_id"] = job_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "job_id" and not key.startswith("_"):
                data[key] = (
                    value if isinstance(value, (int, float, bool, type(None))) else str(value)
                )
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = f"{record.levelname.lower()} {record.name}: {record.getMessage()}"
        job = getattr(record, "job_id", None)
        if job:
            base = f"[{job}] {base}"
        if record.exc_info:
            base += "\n" + self.formatException(record.exc_info)
        return base


def setup_logging(
    level: int | str,
    *,
    secrets: Iterable[str] = (),
    json_format: bool | None = None,
    stream: Any = None,
) -> None:
    """Configure the root logger once, at the entry point."""
    stream = stream or sys.stderr
    if json_format is None:
        json_format = not getattr(stream, "isatty", lambda: False)()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_format else TextFormatter())
    handler.addFilter(_Redactor(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that log request URLs or headers at INFO stay at WARNING.
    for noisy in (*TRANSPORT_LOGGERS, "openai", "slack_sdk", "slack_bolt", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
