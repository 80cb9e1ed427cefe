"""Source -> Article: fetch or read, extract, clean, and refuse when there's no text."""

from __future__ import annotations

import asyncio
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot import metrics
from bot.config import Settings
from bot.errors import InputError, NoTextError, TooLargeError
from bot.ingest.decode import classify, sniff
from bot.ingest.extract import Extracted, extract_document, extract_plain
from bot.ingest.metadata import site_from_host
from bot.ingest.sandbox import parser_pool
from bot.models import Article, Source

if TYPE_CHECKING:
    from bot.ingest.ssrf import Network

#: Fewer words than this is not an article we can brief.
MIN_WORDS = 40
#: Plain text up to this size is cleaned in a thread (linear scans, charset detection of at
#: most 200 KB); anything bigger, and all HTML and PDF, is parsed in a worker process.
IN_PROCESS_TEXT_BYTES = 2_000_000
# Chinese, Japanese and Korean (Hanzi/Kanji, kana, Hangul) put no spaces between words,
# so split() sees a whole paragraph as one word; count each such character as a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def word_count(text: str) -> int:
    """Words in ``text``, each CJK character counted as one (those scripts use no spaces)."""
    return len(_UNSPACED.sub(" ", text).split()) + len(_UNSPACED.findall(text))


_CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".pdf": "application/pdf",
}
_MEDIA_TYPES = {"html": "text/html", "pdf": "application/pdf", "text": "text/plain",
                "markdown": "text/markdown"}  # fmt: skip


def _site_from(url: str | None) -> str | None:
    return site_from_host(urlsplit(url).hostname if url else None)


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress is not None:
        progress(message)


async def _from_url(
    source: Source,
    settings: Settings,
    progress: Callable[[str], None] | None,
    network: Network | None,
) -> Article:
    host = urlsplit(source.value).hostname or source.value
    _say(progress, f"Fetching {host.removeprefix('www.')}…")
    from bot.ingest.fetch import fetch  # httpx and the guard: only links need them

    with metrics.timed("fetch"):
        fetched = await fetch(source.value, settings, network=network)
    _say(progress, "Reading the article…")
    with metrics.timed("extract"):
        doc = await read_document(
            fetched.body,
            settings,
            what=f"the page at {fetched.final_url}",
            content_type=fetched.content_type,
            charset=fetched.charset,
            url=fetched.final_url,
        )
    if word_count(doc.text) < MIN_WORDS:
        raise NoTextError(
            f"No readable article text at {fetched.final_url} "
            "(it may be paywalled, built by scripts, or image-only).",
            hint="Paste the article text instead.",
        )
    return _article(doc, source, url=source.value, final_url=fetched.final_url)


async def read_document(
    body: bytes, settings: Settings, *, what: str, content_type: str | None,
    charset: str | None = None, url: str | None = None, name: str = "",
) -> Extracted:  # fmt: skip
    """Extract a fetched or read document within its time budget.

    Plain text and Markdown (linear scans only) are read in a thread; HTML and PDF go to a
    parser process that is killed when it overruns ``settings.parse_timeout``.
    """
    kind = classify(content_type, body, name=name or (urlsplit(url).path if url else ""))
    if kind in ("text", "markdown") and len(body) <= IN_PROCESS_TEXT_BYTES:
        return await asyncio.to_thread(
            extract_document, body, content_type=content_type, charset=charset, url=url, name=name
        )
    return await parser_pool().run(
        extract_document, body, budget=settings.parse_timeout, what=what,
        content_type=content_type, charset=charset, url=url, name=name,
    )  # fmt: skip


def _read_file(path: Path, cap: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > cap:
            raise TooLargeError(
                f"{path.name} is larger than Briefbot's {cap / 1_000_000:g} MB limit.",
                hint="Paste the part you want briefed instead.",
            )
        return path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"Couldn't read {path}: {exc.strerror or exc}.",
            hint="Check the path and its permissions.",
        ) from None


async def _from_file(
    source: Source, settings: Settings, progress: Callable[[str], None] | None
) -> Article:
    path = Path(source.value)
    _say(progress, f"Reading {path.name}…")
    with metrics.timed("extract"):  # a local read is no fetch: all of it is extract
        body = await asyncio.to_thread(_read_file, path, settings.fetch_max_bytes)
        kind = _CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        doc = await read_document(body, settings, what=path.name, content_type=kind, name=path.name)
    words = word_count(doc.text)
    if words < MIN_WORDS:
        if words and doc.kind in ("text", "markdown"):
            # A short note is no scan: say what is wrong with it.
            raise NoTextError(
                f"{path.name} is too short to brief ({words} words; "
                f"Briefbot needs at least {MIN_WORDS}).",
                hint="Add the whole article to the file, or send its link.",
            )
        raise NoTextError(
            f"No readable text in {path.name} (it may be empty, image-only or scanned).",
            hint="Paste the article text instead.",
        )
    return _article(doc, source, url=None, final_url=None)


async def _from_text(source: Source, settings: Settings) -> Article:
    # Piped or pasted HTML is a page, as it would be from a file: read it as one (in the
    # parser process, like any HTML), or its markup becomes the title and its JSON-LD
    # types become "participants".
    if sniff(source.value[:4096].encode("utf-8", "replace")) == "html":
        body = source.value.encode("utf-8", "replace")
        doc = await read_document(body, settings, what="that page", content_type="text/html")
    else:
        doc = extract_plain(source.value)
    words = word_count(doc.text)
    if words == 0:
        raise InputError("There's no text to brief.", hint="Paste the article text or a link.")
    if words < MIN_WORDS:
        raise NoTextError(
            f"That text is too short to brief ({words} words; "
            f"Briefbot needs at least {MIN_WORDS}).",
            hint="Paste the whole article, or send its link.",
        )
    return _article(doc, source, url=None, final_url=None)


def _article(doc: Extracted, source: Source, *, url: str | None, final_url: str | None) -> Article:
    return Article(
        url=url,
        final_url=final_url,
        canonical_url=doc.canonical_url or final_url,
        title=doc.title,
        author=doc.author,
        date=doc.date,
        site=doc.site or _site_from(doc.canonical_url or final_url),
        text=doc.text,
        source_kind=source.kind,
        content_type=_MEDIA_TYPES[doc.kind],
    )


async def load_article(
    source: Source,
    settings: Settings,
    *,
    progress: Callable[[str], None] | None = None,
    network: Network | None = None,
) -> Article:
    """Fetch or read a Source and return its clean Article; raise a user-safe error if not."""
    if source.kind == "url":
        return await _from_url(source, settings, progress, network)
    if source.kind == "file":
        return await _from_file(source, settings, progress)
    with metrics.timed("extract"):
        return await _from_text(source, settings)
