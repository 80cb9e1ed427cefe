"""A repeated link is answered from the cache: no model call and no fetch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.config import Settings
from bot.models import Source
from bot.service import BriefService
from bot.store import Store
from tests.fakes.web import FakeWeb, article_html


def article_text() -> str:
    line = "The council met on day {} and Maria Lopez said the budget holds."
    return " ".join(line.format(i) for i in range(12))


def _pages(web: FakeWeb) -> list[str]:
    return [path for path, _ in web.requests if path.startswith("/story")]


async def test_a_repeated_link_is_not_fetched_again(
    make_settings: Callable[..., Settings], web: FakeWeb
) -> None:
    web.add("/story", article_html(300), headers={"Content-Type": "text/html; charset=utf-8"})
    settings = make_settings(allow_private_networks=True)
    with Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store, engine_name="offline")
        first = await service.brief(Source(kind="url", value=web.url("/story?utm_source=x")))
        assert len(_pages(web)) == 1
        again = await service.brief(Source(kind="url", value=web.url("/story")))
    assert len(_pages(web)) == 1, "a cached repeat must not fetch the page again"
    assert again.brief.meta.cached and not first.brief.meta.cached
    assert again.article.text == first.article.text  # questions in its thread still work
    assert again.cache_key == first.cache_key


async def test_a_page_cannot_claim_another_articles_cache_entry(
    make_settings: Callable[..., Settings], web: FakeWeb
) -> None:
    """The page's own canonical link is page data: it must not pick the cache key."""
    html = {"Content-Type": "text/html; charset=utf-8"}
    real = article_html(300, title="The real story")
    web.add("/real", real, headers=html)
    web.add(
        "/impostor",
        article_html(300, title="An impostor").replace(
            "</head>", f'<link rel="canonical" href="{web.url("/real")}"></head>'
        ),
        headers=html,
    )
    settings = make_settings(allow_private_networks=True)
    with Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store, engine_name="offline")
        await service.brief(Source(kind="url", value=web.url("/impostor")))
        result = await service.brief(Source(kind="url", value=web.url("/real")))
    assert not result.brief.meta.cached
    assert result.brief.title == "The real story"


async def test_editing_a_display_template_keeps_the_cache(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Only brief data is cached: a new display template must not re-bill the model."""
    text = Source(kind="text", value=article_text())
    templates = tmp_path / "templates"
    templates.mkdir()
    plain = make_settings()
    with Store.open(plain.database_url) as store:
        first = await BriefService(plain, store=store, engine_name="offline").brief(text)
    (templates / "brief.md.j2").write_text("{# template-version: 9 #}\nNEW {{ brief.title }}\n")
    edited = make_settings(template_dir=templates)
    with Store.open(edited.database_url) as store:
        again = await BriefService(edited, store=store, engine_name="offline").brief(text)
    assert again.cache_key == first.cache_key
    assert again.brief.meta.cached
