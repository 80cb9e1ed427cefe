"""The rows ``briefbot doctor`` prints, and the small helpers every group of checks shares.

Kept apart from the checks themselves so that each group (settings, Slack, the model,
a self-hosted model server, local resources) imports these one way and none another.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any, Literal
from urllib.parse import urlsplit

Status = Literal["ok", "warn", "fail", "skip"]
Mode = Literal["socket", "http"]
#: Seconds per network check: a doctor answers quickly rather than retrying for minutes.
TIMEOUT = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str) -> Check:
    return Check(name, "warn", detail)


def fail(name: str, detail: str) -> Check:
    return Check(name, "fail", detail)


def skip(name: str, detail: str) -> Check:
    return Check(name, "skip", detail)


def url_check(name: str, url: str) -> Check:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return fail(name, f"{name} is not an http(s) URL; use e.g. https://host/path/.")
    if parts.scheme == "http" and not _is_local(parts.hostname):
        return warn(name, f"{safe_url(url)} is plain http: tokens would cross the network.")
    return ok(name, safe_url(url))


def safe_url(url: str) -> str:
    """The URL without any user:password@ part, query or fragment (Azure puts keys there)."""
    parts = urlsplit(url)
    query = "?[redacted]" if parts.query else ""
    bare = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1], query="", fragment="")
    return bare.geturl() + query


def _is_local(host: str) -> bool:
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def secret_text(value: Any) -> str:
    """A SecretStr setting's text, or "" when unset."""
    return value.get_secret_value() if value is not None else ""
