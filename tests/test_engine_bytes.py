"""Skipping the tokenizer when the bytes already prove a text fits its token budget."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from bot.config import Settings
from bot.engines.openai_engine import OpenAIEngine, fits_by_bytes
from bot.models import Article
from bot.tokens import count_tokens

SAMPLES = [
    "Plain English news text, with numbers like 3.5% and $1,200.",
    "El gobierno admitió el engaño. Ça va? Straße, Łódź, Ærøskøbing.",
    "哈尔登港务局周一表示，谈判将继续。東京の会議は延期された。서울 시장은 말했다.",
    "Emoji 🎉🚢⚓️ and combining marks: e\u0301 a\u0308 \u200d\u200d",
    "<|endoftext|> <|im_start|> special-token look-alikes are plain text here",
    "".join(chr(random.Random(14).randrange(32, 0x2FFF)) for _ in range(2000)),
]


@pytest.mark.parametrize("text", SAMPLES, ids=range(len(SAMPLES)))
@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-3.5-turbo"])
def test_tokens_never_outnumber_utf8_bytes(text: str, model: str) -> None:
    assert count_tokens(text, model) <= len(text.encode("utf-8"))


def test_fits_by_bytes_only_when_the_bytes_are_within_the_budget() -> None:
    small = [{"role": "system", "content": "Brief it."}, {"role": "user", "content": "é" * 100}]
    assert fits_by_bytes(small, 209)  # 9 + 200 bytes
    assert not fits_by_bytes(small, 208)  # might still fit in tokens: the tokenizer decides


@pytest.mark.parametrize(
    "text",
    [*SAMPLES, "  \n\nLeading blank lines and a fenced </article> tag.\n\n  "],
    ids=range(len(SAMPLES) + 1),
)
def test_one_call_or_map_reduce_is_decided_as_an_exact_count_would(
    text: str, make_settings: Callable[..., Settings]
) -> None:
    # The engine counts the text once and adds the prompt around it; near the limit (or
    # with fence tags rewritten) it must still decide exactly as counting the whole prompt.
    article = Article(text=text * 5, title="A title")
    engine = OpenAIEngine(make_settings(openai_api_key="sk-test", model="gpt-4o-mini"))
    whole = engine._brief_messages(article)
    exact = sum(count_tokens(str(m["content"]), "gpt-4o-mini") for m in whole)
    text_tokens = count_tokens(article.text, "gpt-4o-mini")
    for limit in range(exact - 12, exact + 13):
        engine.settings = make_settings(openai_api_key="sk-test", chunk_tokens=limit)
        assert engine._whole_fits(article, whole, text_tokens) == (exact <= limit)
