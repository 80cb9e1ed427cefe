"""Cache identity: one key per (source, engine, model, prompt version): what made the data."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

#: Query parameters that track the click, not the content (compared lowercased).
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "igshid", "spm"})
TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Bump when the key recipe itself changes, so old keys stop matching (2: no template).
KEY_VERSION = 2


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """One spelling per article URL: the identity of a link, for jobs and the cache alike.

    courlan (trafilatura's own URL library) normalizes scheme, host, port and path; the
    query is ours: tracking parameters (TRACKING_PARAMS) go, the rest are sorted, blank
    values kept (courlan's own tracker list also drops ``cid``, ``uid`` or ``session``,
    which some sites use to name the article). No fragment; no trailing slash but "/".
    """
    from courlan import normalize_url as courlan_normalize  # imported when first needed

    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    query_string = parts.query
    try:
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        parts = urlsplit(courlan_normalize(bare, strict=False, trailing_slash=False))
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    if parts.username is not None:
        netloc = f"{parts.netloc.rpartition('@')[0]}@{netloc}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = sorted(
        (name, value)
        for name, value in parse_qsl(query_string, keep_blank_values=True)
        if not _is_tracking(name)
    )
    return urlunsplit((scheme, netloc, path, urlencode(query, quote_via=quote), ""))


def cache_key(
    *,
    url: str | None,
    content_hash: str,
    engine: str,
    model: str | None,
    prompt_version: str,
) -> str:
    """The brief cache key: sha256 over the source identity and everything that shapes it.

    The source is the normalized URL when there is one, else the content hash of the text.
    """
    source = f"url:{normalize_url(url)}" if url else f"sha256:{content_hash}"
    recipe = {
        "v": KEY_VERSION,
        "source": source,
        "engine": engine,
        "model": model,
        "prompt": prompt_version,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode("utf-8")).hexdigest()
