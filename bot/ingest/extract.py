"""Article text and metadata from HTML (trafilatura), PDF (pypdf) and plain text.

Everything here is synchronous and CPU-bound: callers run it in a worker thread. Nothing
here touches the network; trafilatura only ever gets an HTML string.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from bot.errors import TooLargeError, UnsupportedContentError
from bot.ingest.clean import clean_pasted_text
from bot.ingest.decode import Kind, classify, decode_text, looks_binary, undecodable
from bot.ingest.metadata import better_title, clean_author, clean_site

if TYPE_CHECKING:  # imported where used: the bot process itself never parses HTML or PDF
    import pypdf
    import trafilatura

log = logging.getLogger(__name__)

#: Pages read from a PDF; the rest would blow the model's budget anyway.
MAX_PDF_PAGES = 300
# pypdf parses text operators at about 3.5 us a byte, and pages may share one content
# stream: 300 pages of one 200k-operator stream took 23 minutes. A page drawing more than
# PDF_PAGE_BYTES is skipped (no page of prose is that big); reading stops after
# PDF_TOTAL_BYTES of content or PDF_SECONDS, keeping the pages read so far.
PDF_PAGE_BYTES = 1_000_000
PDF_TOTAL_BYTES = 3_000_000
PDF_SECONDS = 4.0
_MIN_RECALL_WORDS = 40
# One attribute of a tag: the value part is optional, so a match never fails after a long
# scan and finditer stays linear (a lookahead over [^>]* per "<link" was quadratic).
_ATTR = re.compile(r"""([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_CANONICAL_SCAN = 200_000
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
    import trafilatura  # a slow import, needed only in parser processes

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
        found = canonical_link(html[:_CANONICAL_SCAN])
        canonical = _http_url(found, url) if found else canonical
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


def canonical_link(html: str) -> str | None:
    """The href of the first ``<link rel="canonical">``, by a linear scan of the tags."""
    lowered = html.lower()
    at = 0
    while (start := lowered.find("<link", at)) >= 0:
        end = lowered.find(">", start)
        if end < 0:
            return None  # no tag closes after this point
        at = end + 1
        if start + 5 < end and not lowered[start + 5].isspace():
            continue  # <linkfoo>, not <link ...>
        attrs: dict[str, str] = {}
        for m in _ATTR.finditer(html, start + 5, end):
            attrs.setdefault(m.group(1).lower(), m.group(2) or m.group(3) or m.group(4) or "")
        if "canonical" in attrs.get("rel", "").lower().split() and attrs.get("href", "").strip():
            return attrs["href"].strip()
    return None


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


def _pdf_pages(reader: pypdf.PdfReader, name: str, clock: Callable[[], float]) -> list[str]:
    """Reflowed text of the pages, within the page, content-byte and time budgets."""
    pages: list[str] = []
    total = 0
    deadline = clock() + PDF_SECONDS
    for number, page in enumerate(reader.pages[:MAX_PDF_PAGES], start=1):
        contents = page.get_contents()
        size = len(contents.get_data()) if contents is not None else 0
        total += size
        if total > PDF_TOTAL_BYTES or clock() > deadline:
            log.info("pdf %s: stopped before page %d (budget)", name, number)
            break
        if size > PDF_PAGE_BYTES:
            log.info("pdf %s: skipped page %d (%d bytes of drawing)", name, number, size)
            continue
        pages.append(_reflow(page.extract_text() or ""))
    return pages


def extract_pdf(
    body: bytes, *, name: str = "That PDF", clock: Callable[[], float] = time.monotonic
) -> Extracted:
    """Text of each page (within budgets) and the document info of a PDF."""
    import pypdf  # a slow import, needed only in parser processes
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(body))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("password required")
        pages = _pdf_pages(reader, name, clock)
        info = reader.metadata
    except LimitReachedError:
        raise TooLargeError(
            f"{name} expands to more than Briefbot will read (a compressed part is huge).",
            hint="Open it yourself and paste the text.",
        ) from None
    except RecursionError:
        raise UnsupportedContentError(
            f"{name} is nested too deeply for Briefbot to read.",
            hint="Open it yourself and paste the text.",
        ) from None
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
