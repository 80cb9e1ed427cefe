"""Article text and metadata from HTML (trafilatura), PDF (pypdf) and plain text.

Everything here is synchronous and CPU-bound: callers run it in a worker thread. Nothing
here touches the network; trafilatura only ever gets an HTML string.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from bot.errors import UnsupportedContentError
from bot.ingest.clean import clean_pasted_text
from bot.ingest.decode import Kind, classify, decode_text, looks_binary, undecodable
from bot.ingest.metadata import better_title, clean_author, clean_site

if TYPE_CHECKING:
    import trafilatura

# trafilatura (with lxml and justext) and pypdf are imported where they are used: plain
# text, the CLI's commonest input, then starts without paying a quarter second for them.

log = logging.getLogger(__name__)

#: Pages read from a PDF; the rest would blow the model's budget anyway.
MAX_PDF_PAGES = 300
_MIN_RECALL_WORDS = 40
_CANONICAL = re.compile(
    r"""<link\b(?=[^>]*\brel\s*=\s*["']?canonical\b)[^>]*\bhref\s*=\s*["']?([^"'\s>]+)""", re.I
)
_HEADLINE_MAX_WORDS = 20
_SENTENCE_END = '.!?:"”’'
_SHORT_LINE = 0.8
_HEADLINE_MAX_CHARS = 200


@dataclass
class Extracted:
    """Clean text plus whatever metadata the document carried."""

    text: str
    kind: Kind
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site: str | None = None
    canonical_url: str | None = None


def _str(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _http_url(url: str | None, base: str | None) -> str | None:
    """An absolute http(s) URL, or None (a canonical link is page data: never trusted)."""
    if not url:
        return None
    absolute = urljoin(base or "", url.strip())
    try:
        ok = urlsplit(absolute).scheme in ("http", "https") and bool(urlsplit(absolute).hostname)
    except ValueError:
        return None
    return absolute if ok else None


def _bare_extraction(
    html: str, url: str | None, *, recall: bool
) -> trafilatura.settings.Document | None:
    import trafilatura

    result = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        favor_precision=not recall,
        favor_recall=recall,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    return result if isinstance(result, trafilatura.settings.Document) else None


def extract_html(html: str, url: str | None = None) -> Extracted:
    """Main text and metadata of an HTML page."""
    doc = _bare_extraction(html, url, recall=False)
    text = clean_pasted_text(doc.text or "") if doc else ""
    if len(text.split()) < _MIN_RECALL_WORDS:
        # Precision mode drops short pages entirely; recall mode keeps them if it can.
        recalled = _bare_extraction(html, url, recall=True)
        if recalled is not None:
            recalled_text = clean_pasted_text(recalled.text or "")
            if len(recalled_text.split()) > len(text.split()):
                doc, text = recalled, recalled_text
    canonical = None
    if doc is not None:
        canonical = _http_url(_str(doc.url), url)
    if canonical is None or canonical == url:
        match = _CANONICAL.search(html[:200_000])
        canonical = _http_url(match.group(1), url) if match else canonical
    site = clean_site(_str(doc.sitename)) if doc else None
    title = _str(doc.title) if doc else None
    return Extracted(
        text=text,
        kind="html",
        title=better_title(title, site, headline(text)),
        author=clean_author(_str(doc.author)) if doc else None,
        date=_str(doc.date) if doc else None,
        site=site,
        canonical_url=canonical,
    )


def _reflow(page: str) -> str:
    """Join the hard-wrapped lines of a PDF page into paragraphs."""
    page = re.sub(r"(\w)-\n(\w)", r"\1\2", page)  # words hyphenated across lines
    lines = [line.strip() for line in page.split("\n")]
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        # A blank line, or a sentence that stops well short of the margin, ends a paragraph.
        if not line or (line[-1] in _SENTENCE_END and len(line) < _SHORT_LINE * width):
            paragraphs.append([])
    return "\n\n".join(" ".join(p) for p in paragraphs if p)


def extract_pdf(body: bytes, *, name: str = "That PDF") -> Extracted:
    """Text of each page and the document info of a PDF."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(body))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("password required")
        pages = []
        for page in reader.pages[:MAX_PDF_PAGES]:
            pages.append(_reflow(page.extract_text() or ""))
        info = reader.metadata
    except (FileNotDecryptedError, DependencyError):
        raise UnsupportedContentError(
            f"{name} is password-protected or encrypted, so Briefbot can't read it.",
            hint="Open it yourself and paste the text.",
        ) from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("unreadable pdf %s: %r", name, exc)
        raise UnsupportedContentError(
            f"{name} is damaged or not a PDF Briefbot can read.",
            hint="Open it yourself and paste the text.",
        ) from None
    date = None
    try:
        created = info.creation_date if info else None
        date = created.date().isoformat() if created else None
    except (ValueError, TypeError):
        date = None
    return Extracted(
        text=clean_pasted_text("\n\n".join(p for p in pages if p)),
        kind="pdf",
        title=_str(info.title) if info else None,
        author=_str(info.author) if info else None,
        date=date,
    )


def _caseless(ch: str) -> bool:
    """A letter of a script without capitals (Korean, Chinese, Arabic...): any may open a title."""
    return ch.isalpha() and ch.lower() == ch.upper()


def headline(text: str) -> str | None:
    """The first line, when it reads like a headline rather than a sentence of the body."""
    first, _, rest = text.strip().partition("\n")
    first = first.strip().lstrip("#").strip()
    if (
        not first
        or not rest.strip()
        or len(first) > _HEADLINE_MAX_CHARS
        or len(first.split()) > _HEADLINE_MAX_WORDS
        or first[-1] in ".,;:"
        or not (
            first[0].isupper() or first[0].isdigit() or first[0] in "\"“‘'" or _caseless(first[0])
        )
    ):
        return None
    return first


def extract_plain(text: str, *, kind: Kind = "text") -> Extracted:
    """Plain text or Markdown, cleaned; the title is the first line if it is a headline."""
    clean = clean_pasted_text(text)
    return Extracted(text=clean, kind=kind, title=headline(clean))


def _binary(name: str) -> UnsupportedContentError:
    what = name or "That document"
    return UnsupportedContentError(
        f"{what} holds binary data, not text Briefbot can read.",
        hint="Use an .html, .txt, .md or .pdf file, or paste the article text.",
    )


def extract_document(
    body: bytes,
    *,
    content_type: str | None,
    charset: str | None = None,
    url: str | None = None,
    name: str = "",
) -> Extracted:
    """Route a document by type (sniffing when unsure) and extract it."""
    kind = classify(content_type, body, name=name or (urlsplit(url).path if url else ""))
    if kind == "pdf":
        return extract_pdf(body, name=f"The PDF {name}" if name else "That PDF")
    if kind != "html" and looks_binary(body):
        raise _binary(name)
    text = decode_text(body, charset, markup=kind == "html")
    if undecodable(text):
        raise _binary(name)
    if kind == "html":
        return extract_html(text, url)
    return extract_plain(text, kind=kind)
