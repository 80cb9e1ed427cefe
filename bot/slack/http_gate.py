"""The door of http mode: refuse unsigned or malformed requests before Bolt sees them.

Bolt's own verifier calls ``int()`` on the timestamp header and its body parser
``json.loads`` on whatever arrives, so a stranger's junk became HTTP 500 and an ERROR
traceback. Here each request is checked first (signature, then body shape) and a bad
one gets 401 or 400 with one INFO line. Pure: headers and bytes in, a verdict out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

#: Slack's replay window for signed requests.
MAX_AGE_SECONDS = 5 * 60
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the HTTP status and a short reason for the log."""

    status: int
    reason: str


def _timestamp(value: str | None) -> int | None:
    # Digits only, and few of them: "1e999", "-9999..." and "soon" are not timestamps.
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    return int(value)


def check_signature(
    headers: Mapping[str, str], body: bytes, *, secret: str,
    now: Callable[[], float] = time.time,
) -> Refusal | None:  # fmt: skip
    """401 unless the request carries Slack's valid, fresh v0 signature."""
    stamp = _timestamp(headers.get("X-Slack-Request-Timestamp"))
    signature = headers.get("X-Slack-Signature") or ""
    if stamp is None or not signature:
        return Refusal(401, "missing or malformed signature headers")
    if abs(now() - stamp) > MAX_AGE_SECONDS:
        return Refusal(401, "signature timestamp outside the 5-minute window")
    # Over the raw bytes: slack_sdk's verifier decodes the body as UTF-8 first and raises.
    base = b"v0:" + str(stamp).encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return Refusal(401, "bad signature")
    return None


def check_body(content_type: str, body: bytes) -> Refusal | None:
    """400 unless the body is what Slack sends: a JSON object, or a form (payload= an object)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == _JSON:
        return None if _is_json_object(text) else Refusal(400, "body is not a JSON object")
    if kind == _FORM:
        try:
            form = parse_qs(text, strict_parsing=False, errors="strict")
        except (ValueError, UnicodeDecodeError):
            return Refusal(400, "form body does not parse")
        payload = form.get("payload")
        if payload is not None and not (len(payload) == 1 and _is_json_object(payload[0])):
            return Refusal(400, "payload= is not one JSON object")
        return None
    return Refusal(400, f"unexpected content type {kind[:40]!r}")


def check_request(
    headers: Mapping[str, str], body: bytes, *, secret: str,
    now: Callable[[], float] = time.time,
) -> Refusal | None:  # fmt: skip
    """The signature first (so strangers learn nothing about parsing), then the body."""
    return check_signature(headers, body, secret=secret, now=now) or check_body(
        headers.get("Content-Type", ""), body
    )


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):  # bad JSON, or nesting deep enough to blow the stack
        return False
