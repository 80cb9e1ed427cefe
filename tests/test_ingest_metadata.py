"""Metadata a page claims for itself, tidied: bylines, site names, titles."""

from __future__ import annotations

import time

import pytest

from bot.ingest.extract import extract_html
from bot.ingest.metadata import clean_author, clean_site

BODY = "".join(
    f"<p>{p}</p>"
    for p in (
        "The minister Jane Smith said on Monday that the government would review the tariff "
        "plan with the trade union leaders before the vote next month.",
        "Critics in parliament said the plan was rushed and that small firms had not been "
        "consulted about the new import duties at all.",
        "Opposition leader Tom Brown called for a full inquiry into the costs, which he said "
        "could reach two billion pounds over five years.",
    )
)
KOREAN = "".join(
    f"<p>{p}</p>"
    for p in (
        "정부, 관세 계획 재검토 착수",
        "장관은 월요일 정부가 다음 달 투표 전에 노동조합 지도자들과 함께 관세 계획을 "
        "검토할 것이라고 말했다.",
        "의회의 비판자들은 그 계획이 서둘러 진행되었고 중소기업들이 새로운 수입 관세에 대해 협의를 "
        "받지 못했다고 말했다.",
    )
)


def _page(head: str, body: str = BODY) -> str:
    return f"<html><head>{head}</head><body><article>{body}</article></body></html>"


@pytest.mark.parametrize(
    ("byline", "author"),
    [
        ("Phil Helsel is a reporter for NBC News.", "Phil Helsel"),
        ("JERUSALEM POST STAFF NOVEMBER", "Jerusalem Post Staff"),
        ("By Jane Doe May 5, 2024", "Jane Doe"),
        ("Theresa May", "Theresa May"),
    ],
)
def test_a_byline_keeps_the_name_only(byline: str, author: str) -> None:
    page = _page(f'<title>Tariff plan</title><meta name="author" content="{byline}">')
    assert extract_html(page, "https://news.example/a").author == author


def test_a_server_address_is_not_a_site_name() -> None:
    extracted = extract_html(_page("<title>Tariff plan</title>"), "http://127.0.0.1:8123/a")
    assert extracted.site is None
    assert clean_site("news.example:8080") is None
    assert clean_site("The Daily") == "The Daily"


def test_a_title_that_is_the_site_name_gives_way_to_the_headline() -> None:
    head = '<title>연합뉴스</title><meta property="og:site_name" content="연합뉴스">'
    extracted = extract_html(_page(head, KOREAN), "https://news.example/k")
    assert extracted.site == "연합뉴스"
    assert extracted.title == "정부, 관세 계획 재검토 착수"


def test_the_byline_and_site_patterns_stay_fast_on_adversarial_input() -> None:
    nasty = ["a " * 50_000 + "is", " is" * 50_000, "x" * 100_000 + ":", "by " * 50_000]
    started = time.process_time()
    for text in nasty:
        clean_author(text)
        clean_site(text)
    assert time.process_time() - started < 1.0  # linear patterns: milliseconds
