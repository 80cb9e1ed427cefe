"""Bytes to text and content-type routing, trusting the body over wrong headers."""

from __future__ import annotations

import codecs
import re
from typing import Literal

import charset_normalizer

from bot.errors import UnsupportedContentError

Kind = Literal["html", "pdf", "text", "markdown"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">.
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*(?:["']\s*)?([a-z0-9_.:-]{1,40})""", re.I
)
# Browsers read these labels as windows-1252 (WHATWG Encoding), and so do real pages.
_AS_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "ascii", "us-ascii"})
# The first tag, once leading whitespace and comments are skipped by a plain scan (a regex
# with a lazy ``.*?`` inside a repeated group backtracked exponentially on "<!---->"*31).
_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title|article|div|p|h1)\b", re.I)
_SNIFF_BYTES = 2048

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/vnd.wap.xhtml+xml"})
_PDF_TYPES = frozenset({"application/pdf", "application/x-pdf", "application/acrobat"})
_TEXT_TYPES = frozenset({"text/plain"})
_MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})
_GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/unknown",
     "application/download", "application/force-download", "application/x-download"}
)  # fmt: skip
_MAGIC = (
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
    (b"GIF8", "an image"),
    (b"PK\x03\x04", "an archive or office file"),
    (b"\x1f\x8b", "a compressed archive"),
    (b"ID3", "an audio file"),
    (b"OggS", "an audio or video file"),
)
_KIND_BY_PREFIX = (
    ("image/", "an image"),
    ("video/", "a video"),
    ("audio/", "an audio file"),
    ("font/", "a font"),
)
_KIND_BY_TYPE = {
    "application/json": "JSON data",
    "application/ld+json": "JSON data",
    "application/javascript": "a script",
    "text/javascript": "a script",
    "text/css": "a style sheet",
    "application/zip": "an archive",
    "application/gzip": "an archive",
    "application/x-tar": "an archive",
    "application/x-7z-compressed": "an archive",
    "application/vnd.rar": "an archive",
    "application/x-rar-compressed": "an archive",
    "application/rss+xml": "a news feed",
    "application/atom+xml": "a news feed",
    "application/msword": "a Word document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "a Word document",
    "text/csv": "a spreadsheet (CSV)",
    "application/vnd.ms-excel": "a spreadsheet",
}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A declared UTF-16/32 without a BOM is a mistake (WHATWG): the bytes aren't that.
    return None if name.startswith(("utf-16", "utf-32")) else name


def meta_charset(body: bytes) -> str | None:
    """The charset a page declares in its first few KB of markup, if any."""
    match = _META_CHARSET.search(body[:16384])
    return match.group(1).decode("ascii", "replace") if match else None


def decode_text(body: bytes, header_charset: str | None = None, *, markup: bool = False) -> str:
    """Decode: BOM, strict UTF-8, declared charset, mostly-valid UTF-8, then detection.

    Valid UTF-8 wins over a declaration because pages often declare Latin-1 and send UTF-8,
    and Latin-1 text is almost never valid UTF-8 by accident. A declared charset comes next.
    Text that is UTF-8 apart from a few broken bytes (a file cut inside its last character)
    stays UTF-8 with only those bytes replaced: one bad byte must not hand it to a detector
    that reads it as Mac Roman.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for label in (meta_charset(body) if markup else None, header_charset):
        codec = _codec(label)
        if codec and codec != "utf-8":
            return body.decode(codec, errors="replace")
    if mostly_utf8(body):
        return body.decode("utf-8", errors="replace")
    codec = _detect(body[:200_000])
    if codec is None:
        # No BOM, not UTF-8, no declaration: the web's default (and Latin-1's superset).
        return body.decode("cp1252", errors="replace")
    return body.decode(codec, errors="replace")


def _detect(body: bytes) -> str | None:
    """The detector's charset; on a tie, windows-1252 (the web's default, a Latin-1 superset).

    Short Western text scores the same in several single-byte charsets, and the detector's
    first pick (often windows-1250) turns Spanish "engaño" into "engańo".
    """
    matches = charset_normalizer.from_bytes(body)
    best = matches.best()
    if best is None:
        return None
    tied = [m.encoding for m in matches if m.chaos <= best.chaos and m.coherence >= best.coherence]
    return "cp1252" if "cp1252" in tied else _codec(best.encoding)


def mostly_utf8(body: bytes) -> bool:
    """True when the only broken UTF-8 is a cut last character or a rare stray byte.

    Needs real multi-byte characters as evidence: Latin-1 text has none (each accented
    letter is one invalid byte), so it never passes for UTF-8 here.
    """
    try:
        codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
        cut_only = True  # valid but for an unfinished sequence at the very end
    except UnicodeDecodeError:
        cut_only = False
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad  # C speed on 10 MB
    return good >= 1 if cut_only else good >= 20 * bad


#: Control characters that never appear in text (tab, newlines and form feed do).
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def looks_binary(body: bytes) -> bool:
    """Bytes that are not text in any charset: NULs or many control characters.

    UTF-16/32 with a BOM hold NULs legitimately and are decoded by ``decode_text``.
    """
    if body.startswith(tuple(bom for bom, _ in _BOMS[1:])):
        return False
    head = body[:8192]
    if not head:
        return False
    if b"\0" in head:
        return True
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    return controls > max(2, len(head) // 100)


def undecodable(text: str) -> bool:
    """Decoded text that is mostly replacement characters: not text Briefbot can read."""
    sample = text[:20_000]
    return bool(sample) and sample.count("\ufffd") > max(8, len(sample) // 50)


def sniff(body: bytes) -> Kind | None:
    """Recognise PDFs and HTML by their first bytes, whatever the headers say."""
    head = body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf\r\n\t ")
    if head.startswith(b"%PDF-"):
        return "pdf"
    if _HTML_TAG.match(_skip_comments(head)):
        return "html"
    return None


def _skip_comments(head: bytes) -> bytes:
    """``head`` after its leading whitespace and ``<!-- ... -->`` comments (linear scan)."""
    at = 0
    while True:
        while at < len(head) and head[at] in b" \t\r\n\f\v":
            at += 1
        if not head.startswith(b"<!--", at):
            return head[at:]
        end = head.find(b"-->", at + 4)
        if end < 0:
            return b""  # an unclosed comment: no tag follows it
        at = end + 3


def _not_an_article(kind: str) -> UnsupportedContentError:
    return UnsupportedContentError(
        f"That link is {kind}, not an article.",
        hint="Send a link to a web page or PDF, or paste the article text.",
    )


def _looks_textual(body: bytes) -> bool:
    head = body[:_SNIFF_BYTES]
    return bool(head) and b"\0" not in head


def classify(content_type: str | None, body: bytes, *, name: str = "") -> Kind:
    """Route a body to an extractor by type, sniffing when the type is missing or generic."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    sniffed = sniff(body)
    if sniffed == "pdf":
        return "pdf"  # a PDF mislabelled as HTML is still a PDF
    if media in _HTML_TYPES or media in _PDF_TYPES:
        return "html" if media in _HTML_TYPES else "pdf"
    if media in _TEXT_TYPES or media in _MARKDOWN_TYPES:
        if sniffed == "html":  # servers often label HTML as text/plain
            return "html"
        return "markdown" if media in _MARKDOWN_TYPES else "text"
    if media in _GENERIC_TYPES or media == "text/xml" or media == "application/xml":
        if sniffed:
            return sniffed
        if media in ("text/xml", "application/xml"):
            raise _not_an_article("an XML document (perhaps a feed)")
        for magic, kind in _MAGIC:
            if body.startswith(magic):
                raise _not_an_article(kind)
        suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
        if suffix in ("txt", "text", "md", "markdown") and _looks_textual(body):
            return "markdown" if suffix in ("md", "markdown") else "text"
        raise _not_an_article("a file of unknown type")
    for prefix, kind in _KIND_BY_PREFIX:
        if media.startswith(prefix):
            raise _not_an_article(kind)
    raise _not_an_article(_KIND_BY_TYPE.get(media, f"a {media} file"))
