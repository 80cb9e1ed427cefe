"""Hostile documents from the issue-15 red-team review, built in memory (no files, no network).

Shared by the hardening tests, the fuzz tests and ``bench/robustness.py``: each is small on
the wire and used to stall or crash a parser before the fixes.
"""

from __future__ import annotations

import functools
import re
import zlib
from typing import Any

from tests.fakes.web import pdf_file

#: The pieces that made parsers slow or crash, plus ordinary text around them (the fuzz
#: tests' alphabet and the bench's fuzz corpus).
PIECES = [
    "<!--", "-->", "<!---->", "<html>", "<p>", "</p>", "<link ", "<link rel=canonical href=",
    '"', "'", ">", "<", " ", "  ", "\n", "\n\n", "\t", ".", "...", "…", "!", "?", "。",
    "http://", "https://", "www.", "example.com", "a.b.", "-", "@", "@channel", "<!here>",
    "<@U123>", "<http://a.example/x|label>", "\u202e", "\u200b", "\x00", "\ufeff", "%PDF-",
    "charset=", "<meta charset=", "xn--", "[", "]", "(", ")", "The ", "Minister ", "said ",
    "will ", "strike\n", "and ", ", ", "; ",
]  # fmt: skip


def _flate_stream(data: bytes) -> bytes:
    packed = zlib.compress(data, 9)
    return (
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + (b"\nendstream")
    )


@functools.cache
def shared_stream_pdf(pages: int = 300, operators: int = 200_000) -> bytes:
    """``pages`` pages that all draw one content stream of ``operators`` text operators."""
    ops = b"BT /F1 11 Tf 50 800 Td " + b"(a) Tj " * operators + b"ET"
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _flate_stream(ops),
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    )
    objects += [page] * pages
    return pdf_file(objects)


@functools.cache
def flate_bomb_pdf(decoded_size: int = 200_000_000) -> bytes:
    """One page whose content stream inflates to ``decoded_size`` bytes of spaces.

    Built without compressing it all (0.46 s of CPU per bomb): after a full flush the
    compressor's output for each further 1 MB block is the same bytes, so one is repeated,
    then comes an empty final block and the checksum of the whole.
    """
    block = b" " * 1_000_000
    blocks = max(1, decoded_size // len(block))
    compressor = zlib.compressobj(9)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(blocks):
        checksum = zlib.adler32(block, checksum)
    packed = first + repeat * (blocks - 1) + b"\x03\x00" + checksum.to_bytes(4, "big")
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_file(objects)


#: (name, bytes, content type) of every hostile input the red team found, up to ~200 KB.
def corpus() -> list[tuple[str, bytes, str]]:
    return [
        ("sniff: 31 empty comments", b"<!---->" * 31 + b"x", "text/plain"),
        ("sniff: 290 empty comments", b"<!---->" * 290 + b"x" * 40, "application/octet-stream"),
        ("canonical: 198 KB of '<link '", b"<link " * 33_000, "text/html"),
        ("canonical: 72 KB of '<link '", b"<html><body>" + b"<link " * 12_000, "text/html"),
        ("canonical: open quotes", b'<link rel="' * 18_000, "text/html"),
        ("html: 200 KB unclosed tags", b"<div>" * 40_000, "text/html"),
        ("html: 200 KB nested tables", b"<table><tr><td>" * 13_000, "text/html"),
        ("html: 199 KB one word", b"<p>" + b"a" * 199_000, "text/html"),
        ("pdf: 300 pages x 200k operators", shared_stream_pdf(), "application/pdf"),
        ("pdf: flate bomb", flate_bomb_pdf(), "application/pdf"),
        ("pdf: truncated", shared_stream_pdf(3, 10)[:400], "application/pdf"),
    ]


# --- Functions the parser-pool tests run in a worker (module-level, so they pickle) -------


def nap(seconds: float) -> str:
    """Sleep, then answer: a parser that overruns any shorter budget."""
    import time

    time.sleep(seconds)
    return "woke"


def crash() -> None:
    """Die the way a segfaulting C parser does: no exception, no answer."""
    import os

    os._exit(139)


def whoami() -> tuple[int, bool]:
    """This worker's pid, and whether it had imported ``preload_marker`` before this call."""
    import os
    import sys

    return os.getpid(), "tests.fakes.preload_marker" in sys.modules


def refuse_feed() -> None:
    """A user-safe error with an extra field, which must survive the trip back."""
    from bot.digest.feeds import FeedError

    raise FeedError("not a feed", hint="follow the feed", alternates=["https://a.example/rss"])


def search_all(pattern: re.Pattern[Any], texts: list[str]) -> tuple[float, str]:
    """Search (and iterate) each text; the slowest CPU time and the start of its text (CPU
    time of this process: another process's load doesn't count)."""
    import time

    worst = (0.0, "")
    for text in texts:
        subject: str | bytes = text
        if isinstance(pattern.pattern, bytes):
            subject = text.encode("latin-1", "replace")
        started = time.process_time()
        pattern.search(subject)
        for n, _ in enumerate(pattern.finditer(subject)):
            if n > 1000:
                break
        took = time.process_time() - started
        if took > worst[0]:
            worst = (took, text[:60])
    return worst
