"""Source -> Article end to end: loopback pages, files and pasted text."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest

from bot.config import Settings
from bot.errors import InputError, NoTextError, TooLargeError, UnsupportedContentError
from bot.ingest import load_article
from bot.models import Source
from tests.fakes.web import (
    ARTICLE_AUTHOR,
    ARTICLE_CANONICAL,
    ARTICLE_DATE,
    ARTICLE_HTML,
    ARTICLE_JUNK,
    ARTICLE_PARAGRAPHS,
    ARTICLE_SITE,
    ARTICLE_TEXT,
    ARTICLE_TITLE,
    CHARSET_SENTENCE,
    FakeWeb,
    article_pdf,
    make_pdf,
)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(allow_private_networks=True, fetch_timeout=2.0, fetch_max_bytes=1_000_000)


def url(web: FakeWeb, path: str) -> Source:
    return Source(kind="url", value=web.url(path))


def encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(article_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_news_article_page(web: FakeWeb, settings: Settings) -> None:
    steps: list[str] = []
    article = await load_article(url(web, "/article"), settings, progress=steps.append)
    assert article.title == ARTICLE_TITLE
    assert article.author == ARTICLE_AUTHOR
    assert article.date == ARTICLE_DATE
    assert article.site == ARTICLE_SITE
    assert article.canonical_url == ARTICLE_CANONICAL
    assert article.url == article.final_url == web.url("/article")
    assert article.source_kind == "url"
    assert article.content_type == "text/html"
    for paragraph in ARTICLE_PARAGRAPHS:
        assert paragraph in article.text
    for junk in ARTICLE_JUNK:
        assert junk not in article.text
    assert "Advertisement" not in article.text
    assert steps == ["Fetching 127.0.0.1…", "Reading the article…"]


async def test_redirected_article_keeps_both_urls(web: FakeWeb, settings: Settings) -> None:
    article = await load_article(url(web, "/redirect/chain"), settings)
    assert article.url == web.url("/redirect/chain")
    assert article.final_url == web.url("/article")
    assert article.title == ARTICLE_TITLE


@pytest.mark.parametrize("path", ["/latin1-header", "/meta-cp1252"])
async def test_wrong_or_legacy_charsets_decode_correctly(
    web: FakeWeb, settings: Settings, path: str
) -> None:
    article = await load_article(url(web, path), settings)
    assert CHARSET_SENTENCE in article.text
    assert ARTICLE_PARAGRAPHS[2] in article.text  # curly quotes intact


@pytest.mark.parametrize("path", ["/article.pdf", "/download"])
async def test_pdf_by_type_or_by_sniffing(web: FakeWeb, settings: Settings, path: str) -> None:
    article = await load_article(url(web, path), settings)
    assert article.content_type == "application/pdf"
    assert article.title == ARTICLE_TITLE
    assert "said Tomas Berg, who leads the Halden branch" in article.text
    assert "scheduled for May 21." in article.text


@pytest.mark.parametrize(
    ("path", "content_type"), [("/untyped", "text/html"), ("/article.txt", "text/plain")]
)
async def test_untyped_html_and_plain_text(
    web: FakeWeb, settings: Settings, path: str, content_type: str
) -> None:
    article = await load_article(url(web, path), settings)
    assert article.content_type == content_type
    assert article.title == ARTICLE_TITLE
    assert ARTICLE_PARAGRAPHS[-1] in article.text


@pytest.mark.parametrize(
    ("path", "kind"), [("/image.png", "an image"), ("/data.json", "JSON data")]
)
async def test_non_articles_are_named(
    web: FakeWeb, settings: Settings, path: str, kind: str
) -> None:
    with pytest.raises(UnsupportedContentError) as err:
        await load_article(url(web, path), settings)
    assert str(err.value).startswith(f"That link is {kind}, not an article.")


async def test_script_only_page_has_no_text(web: FakeWeb, settings: Settings) -> None:
    with pytest.raises(NoTextError) as err:
        await load_article(url(web, "/script-only"), settings)
    assert err.value.message == (
        f"No readable article text at {web.url('/script-only')} "
        "(it may be paywalled, built by scripts, or image-only)."
    )
    assert err.value.hint == "Paste the article text instead."


async def test_image_only_pdf_has_no_text(web: FakeWeb, settings: Settings) -> None:
    link = web.add("/scan.pdf", make_pdf([]), headers={"Content-Type": "application/pdf"})
    with pytest.raises(NoTextError, match="image-only"):
        await load_article(Source(kind="url", value=link), settings)


async def test_encrypted_pdf(web: FakeWeb, settings: Settings) -> None:
    link = web.add("/locked.pdf", encrypted_pdf(), headers={"Content-Type": "application/pdf"})
    with pytest.raises(UnsupportedContentError, match="password-protected"):
        await load_article(Source(kind="url", value=link), settings)


async def test_damaged_pdf(web: FakeWeb, settings: Settings) -> None:
    link = web.add(
        "/broken.pdf", b"%PDF-1.7\nnot really", headers={"Content-Type": "application/pdf"}
    )
    with pytest.raises(UnsupportedContentError, match="damaged"):
        await load_article(Source(kind="url", value=link), settings)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("story.html", ARTICLE_HTML.encode(), "text/html"),
        ("story.txt", ARTICLE_TEXT.encode(), "text/plain"),
        ("story.md", f"# {ARTICLE_TITLE}\n\n" + "\n\n".join(ARTICLE_PARAGRAPHS), "text/markdown"),
        ("story.pdf", article_pdf(), "application/pdf"),
    ],
)
async def test_local_files(
    tmp_path: Path, settings: Settings, name: str, content: bytes | str, content_type: str
) -> None:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    article = await load_article(Source(kind="file", value=str(path)), settings)
    assert article.source_kind == "file"
    assert article.content_type == content_type
    assert article.title == ARTICLE_TITLE
    assert "Ingrid Solberg" in article.text
    assert article.url is None


async def test_file_over_the_cap(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 2000)
    with pytest.raises(TooLargeError, match=r"big\.txt is larger than"):
        await load_article(
            Source(kind="file", value=str(path)), make_settings(fetch_max_bytes=1024)
        )


async def test_pasted_text(settings: Settings) -> None:
    pasted = f"{ARTICLE_TEXT}\n\nRelated Stories\nNo stories found.\nResponsive Banner"
    article = await load_article(Source(kind="text", value=pasted), settings)
    assert article.title == ARTICLE_TITLE
    assert article.text == ARTICLE_TEXT
    assert article.source_kind == "text"


async def test_pasted_text_without_a_headline_has_no_title(settings: Settings) -> None:
    text = " ".join(ARTICLE_PARAGRAPHS)
    article = await load_article(Source(kind="text", value=text), settings)
    assert article.title is None


async def test_short_or_empty_text(settings: Settings) -> None:
    with pytest.raises(NoTextError, match=r"too short to brief \(5 words"):
        await load_article(Source(kind="text", value="Port strike ends, deal agreed."), settings)
    with pytest.raises(InputError, match="no text to brief"):
        await load_article(Source(kind="text", value="\u200b \n Advertisement"), settings)
