"""Offline tiktoken: the seeded cache is where tiktoken looks and passes its own hash check."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import tiktoken
import tiktoken.load
import tiktoken.registry

from bot import tokens
from bot.tokens import count_tokens, encoding_name_for_model, get_encoding, seed_cache

_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
# The sha256 values tiktoken publishes for its BPE files (tiktoken_ext/openai_public.py).
_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
_REPO = Path(__file__).resolve().parents[1]


def cache_key(name: str) -> str:
    """tiktoken's cache file name: sha1 of the download URL."""
    return hashlib.sha1(_URL.format(name).encode()).hexdigest()  # noqa: S324 - tiktoken's key


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse DNS for anything but loopback (the conftest guard refuses connects); record tries."""
    tried: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("localhost", "127.0.0.1", "::1"):
            tried.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, "test network is loopback-only")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return tried


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty TIKTOKEN_CACHE_DIR, with both our and tiktoken's in-memory caches emptied."""
    directory = tmp_path / "tiktoken"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(directory))
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    get_encoding.cache_clear()
    yield directory
    # Later tests must not hold an encoding whose cache dir is gone.
    get_encoding.cache_clear()


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_counts_offline_from_an_empty_cache(
    fresh_cache: Path, lookups: list[str], name: str
) -> None:
    assert not fresh_cache.exists()
    encoding = get_encoding(name)
    assert encoding.name == name
    assert encoding.decode(encoding.encode("hello world")) == "hello world"
    assert (fresh_cache / cache_key(name)).is_file()
    assert lookups == [], "nothing was downloaded"


def test_seed_is_where_tiktoken_looks_and_passes_its_hash_check(
    fresh_cache: Path, lookups: list[str]
) -> None:
    path = seed_cache("o200k_base")
    assert path == fresh_cache / cache_key("o200k_base")
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == _SHA256["o200k_base"]
    assert tiktoken.load.check_hash(data, _SHA256["o200k_base"])
    # tiktoken's own loader reads it from the cache, verifies it and never downloads.
    assert tiktoken.load.read_file_cached(_URL.format("o200k_base"), _SHA256["o200k_base"]) == data
    ranks = tiktoken.load.load_tiktoken_bpe(_URL.format("o200k_base"), _SHA256["o200k_base"])
    assert len(ranks) > 199_000
    assert lookups == []


def test_a_corrupted_seed_is_rejected_by_tiktoken(fresh_cache: Path, lookups: list[str]) -> None:
    path = seed_cache("o200k_base")
    path.write_bytes(b"not a BPE file\n")
    assert not tiktoken.load.check_hash(path.read_bytes(), _SHA256["o200k_base"])
    # tiktoken throws the bad file away and tries to download; offline that fails loudly.
    with pytest.raises(requests.exceptions.ConnectionError):
        tiktoken.load.read_file_cached(_URL.format("o200k_base"), _SHA256["o200k_base"])
    assert lookups == ["openaipublic.blob.core.windows.net"]
    assert not path.exists()
    # The next seed puts a good copy back.
    assert tiktoken.load.check_hash(seed_cache("o200k_base").read_bytes(), _SHA256["o200k_base"])


def test_seed_refuses_encodings_it_has_no_copy_of(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="p50k_base"):
        seed_cache("p50k_base", tmp_path)


@pytest.mark.parametrize(
    ("text", "model", "ids"),
    [
        ("hello world", None, [24912, 2375]),
        ("hello world", "gpt-4o", [24912, 2375]),
        ("hello world", "gpt-4", [15339, 1917]),
        ("Briefbot turns articles into grounded briefs.", "gpt-4o-mini", None),
    ],
)
def test_known_token_ids(text: str, model: str | None, ids: list[int] | None) -> None:
    encoding = tokens.encoding_for_model(model)
    if ids is not None:
        assert encoding.encode(text) == ids
    assert count_tokens(text, model) == len(encoding.encode(text))


def test_known_counts() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("Briefbot turns articles into grounded briefs.") == 8
    assert count_tokens("Briefbot turns articles into grounded briefs.", "gpt-4") == 9
    # Special-token text is counted as plain text, never refused.
    assert count_tokens("<|endoftext|>") > 1


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("text-davinci-003", "o200k_base"),  # p50k_base has no offline copy
        ("my-local-llama", "o200k_base"),
        ("", "o200k_base"),
        (None, "o200k_base"),
    ],
)
def test_encoding_name_for_model(model: str | None, encoding: str) -> None:
    assert encoding_name_for_model(model) == encoding


_CHILD = textwrap.dedent(
    """
    import json, os, socket, sys

    tried = []
    def refuse(*args, **kwargs):
        tried.append(repr(args[:1]))
        raise OSError("network is off in this test")
    socket.getaddrinfo = refuse
    socket.socket.connect = refuse

    from bot.tokens import count_tokens, cache_dir
    counts = [count_tokens("hello world"), count_tokens("hello world", "gpt-4")]
    print(json.dumps({
        "counts": counts,
        "cache": str(cache_dir()),
        "files": sorted(os.listdir(cache_dir())),
        "env": os.environ.get("TIKTOKEN_CACHE_DIR"),
        "tried": tried,
    }))
    """
)


def run_child(env: dict[str, str]) -> dict[str, Any]:
    """Count tokens in a fresh interpreter with no network; return what it saw."""
    base = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "PYTHONPATH")}
    result = subprocess.run(
        [sys.executable, "-c", _CHILD],
        env={**base, "PYTHONPATH": str(_REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.subprocess
def test_fresh_process_with_an_empty_cache_dir_counts_offline(tmp_path: Path) -> None:
    cache = tmp_path / "empty-cache"
    seen = run_child({"TIKTOKEN_CACHE_DIR": str(cache)})
    assert seen["counts"] == [2, 2]
    assert seen["cache"] == str(cache)
    assert seen["files"] == sorted([cache_key("o200k_base"), cache_key("cl100k_base")])
    assert seen["tried"] == []


@pytest.mark.subprocess
def test_fresh_process_without_cache_setting_uses_our_cache_dir(tmp_path: Path) -> None:
    seen = run_child({"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)})
    expected = tmp_path / "xdg" / "briefbot" / "tiktoken"
    assert seen["counts"] == [2, 2]
    assert seen["cache"] == str(expected)
    assert seen["env"] == str(expected), "tiktoken is pointed at the dir we seeded"
    assert cache_key("o200k_base") in seen["files"]
    assert seen["tried"] == []
