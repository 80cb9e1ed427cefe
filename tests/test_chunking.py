"""Chunking: exact token budgets, natural boundaries, verbatim spans, bounded overlap."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from bot.chunking import MIN_BUDGET, Chunk, chunk_text, split_sentences
from bot.tokens import count_tokens, get_encoding, token_spans

_VOCABULARY = (
    "minister officials tariff framework agreement defence trade talks signed decade "
    "delegation ministry said would could partnership security energy supply chains "
    "critical technology meeting dialogue review commitment bilateral summit"
)
_WORDS = _VOCABULARY.split()
_TRICKY = [
    "Mr. Rao met Dr. Lee in the U.S. Senate at 3 p.m. on Jan. 5.",
    "The economy grew 3.5 percent, said J. D. Vance.",
    "Is the deal done?",
    "“We are close,” she said.",
    "Talks resume… Officials declined to comment!",
]


def make_text(seed: int, paragraphs: int) -> str:
    """Deterministic article-like prose: paragraphs of sentences, with tricky ones mixed in."""
    rng = random.Random(seed)
    paras = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(1, 6)):
            if rng.random() < 0.2:
                sentences.append(rng.choice(_TRICKY))
                continue
            words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 30))]
            sentences.append(" ".join(words).capitalize() + rng.choice(".?!"))
        paras.append(" ".join(sentences))
    return "\n\n".join(paras)


def check_invariants(text: str, chunks: list[Chunk], *, budget: int, overlap: int) -> None:
    """Everything a caller relies on, for any text, budget and overlap."""
    assert chunks, "non-empty text gives at least one chunk"
    stripped = text.strip()
    assert chunks[0].start == len(text) - len(text.lstrip())
    assert chunks[-1].end == len(stripped) + chunks[0].start
    for n, chunk in enumerate(chunks):
        assert chunk.index == n
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.tokens == count_tokens(chunk.text) <= budget
        # Never mid-word: each boundary is the text's edge or whitespace.
        assert chunk.start == 0 or text[chunk.start - 1].isspace()
        assert chunk.end == len(text) or text[chunk.end].isspace()
        assert chunk.text == chunk.text.strip()
    for prev, cur in pairwise(chunks):
        assert cur.end > prev.end, "every chunk adds new text"
        if cur.start < prev.end:  # overlap: a whole-unit tail of the previous chunk
            assert overlap > 0
            assert count_tokens(text[cur.start : prev.end]) <= overlap
            assert cur.start >= prev.start
        else:  # nothing but whitespace is skipped between chunks
            assert text[prev.end : cur.start].strip() == ""


def new_parts(text: str, chunks: list[Chunk]) -> list[str]:
    """Each chunk's text minus the overlap it repeats from the previous chunk."""
    parts, covered = [], chunks[0].start
    for chunk in chunks:
        parts.append(text[max(chunk.start, covered) : chunk.end])
        covered = chunk.end
    return parts


def test_text_that_fits_is_one_chunk_equal_to_it() -> None:
    text = "  A short note.\n\nTwo paragraphs, both tiny.  \n"
    [chunk] = chunk_text(text, budget=100)
    assert chunk == Chunk(text=text, tokens=count_tokens(text), index=0, start=0, end=len(text))


def test_splits_at_paragraphs_when_a_paragraph_fits_the_budget() -> None:
    paras = [
        "Officials met in New Delhi on Tuesday. They discussed trade and defence.",
        "The tariff dispute remains open. Both sides said talks would continue.",
        "A ten-year framework is still to be signed. No date was set.",
    ]
    text = "\n\n".join(paras)
    budget = max(count_tokens(p) for p in paras) + 2
    chunks = chunk_text(text, budget=budget)
    assert [c.text for c in chunks] == paras


def test_packs_paragraphs_together_when_they_fit() -> None:
    paras = ["Alpha beta gamma delta.", "Epsilon zeta eta theta.", "Iota kappa lambda mu."]
    text = "\n\n".join(paras)
    budget = count_tokens("\n\n".join(paras[:2])) + 1
    chunks = chunk_text(text, budget=budget)
    assert [c.text for c in chunks] == ["\n\n".join(paras[:2]), paras[2]]


def test_splits_a_long_paragraph_at_sentences() -> None:
    sentences = [
        "Mr. Rao met Dr. Lee in the U.S. Senate at 3 p.m. on Monday.",
        "They discussed a 3.5 percent tariff on steel.",
        "Ms. Singh, a J.D. from Yale, led the legal review.",
        "Nobody signed anything.",
        "A second round is due in March.",
        "Both sides called the talks useful.",
    ]
    text = " ".join(sentences)
    chunks = chunk_text(text, budget=30)
    assert len(chunks) > 1
    for chunk in chunks:
        # Each chunk is a run of whole sentences.
        assert any(chunk.text.startswith(s) for s in sentences)
        assert any(chunk.text.endswith(s) for s in sentences)
    assert " ".join(c.text for c in chunks) == text


def test_word_splits_only_a_sentence_longer_than_the_budget() -> None:
    long_sentence = " ".join(f"clause{n} of the agreement" for n in range(80)) + "."
    text = f"Short opening sentence. {long_sentence} Short closing sentence."
    chunks = chunk_text(text, budget=40)
    check_invariants(text, chunks, budget=40, overlap=0)
    assert chunks[0].text.startswith("Short opening sentence.")
    assert chunks[-1].text.endswith("Short closing sentence.")
    assert " ".join(c.text for c in chunks).split() == text.split()


def test_a_giant_word_is_the_only_thing_ever_cut_mid_word() -> None:
    blob = "x7Qz" * 300  # e.g. a base64 blob pasted into an article
    text = f"Before the blob. {blob} After the blob."
    blob_start = text.index(blob)
    chunks = chunk_text(text, budget=50)
    assert len(chunks) > 3
    assert all(c.tokens == count_tokens(c.text) <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")
    for edge in {edge for c in chunks for edge in (c.start, c.end)}:
        on_space = edge in (0, len(text)) or " " in text[edge - 1 : edge + 1]
        assert on_space or blob_start < edge < blob_start + len(blob)


@pytest.mark.parametrize("budget", [MIN_BUDGET, 13, 21, 40, 77, 150, 400, 1000])
def test_no_chunk_over_budget_and_full_ordered_coverage(budget: int) -> None:
    text = make_text(seed=budget, paragraphs=60)
    for overlap in sorted({0, 1, 5, budget // 4, budget // 2, budget - 1}):
        chunks = chunk_text(text, budget=budget, overlap=overlap)
        check_invariants(text, chunks, budget=budget, overlap=overlap)
        # The chunks minus their overlaps rebuild the text, in order.
        assert " ".join(new_parts(text, chunks)).split() == text.split()


def test_overlap_repeats_whole_sentences_of_the_previous_chunk() -> None:
    text = make_text(seed=11, paragraphs=40)
    chunks = chunk_text(text, budget=120, overlap=40)
    check_invariants(text, chunks, budget=120, overlap=40)
    sentence_starts, pos = set(), 0
    for sentence in split_sentences(text):
        pos = text.index(sentence, pos)
        sentence_starts.add(pos)
    overlapping = [c for p, c in pairwise(chunks) if c.start < p.end]
    assert len(overlapping) >= len(chunks) // 2, "most chunks carry some overlap"
    for chunk in overlapping:
        assert chunk.start in sentence_starts


def test_no_overlap_means_disjoint_chunks() -> None:
    text = make_text(seed=3, paragraphs=30)
    chunks = chunk_text(text, budget=100)
    assert all(c.start > p.end for p, c in pairwise(chunks))


def test_chunking_is_deterministic() -> None:
    text = make_text(seed=5, paragraphs=50)
    assert chunk_text(text, budget=64, overlap=16) == chunk_text(text, budget=64, overlap=16)


def test_long_document_packs_into_few_full_chunks() -> None:
    text = make_text(seed=42, paragraphs=1000)
    total = count_tokens(text)
    assert 55_000 < total < 70_000
    chunks = chunk_text(text, budget=8000)
    check_invariants(text, chunks, budget=8000, overlap=0)
    assert len(chunks) <= -(-total // 8000) + 1
    assert all(c.tokens > 7000 for c in chunks[:-1])


def test_counts_in_the_models_encoding() -> None:
    text = make_text(seed=8, paragraphs=20)
    chunks = chunk_text(text, budget=200, model="gpt-4")
    assert all(c.tokens == count_tokens(c.text, "gpt-4") <= 200 for c in chunks)


@pytest.mark.parametrize(("budget", "overlap"), [(MIN_BUDGET - 1, 0), (100, 100), (100, -1)])
def test_rejects_unusable_budgets(budget: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="budget"):
        chunk_text("Some text.", budget=budget, overlap=overlap)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Jones. They talked.",
            ["Mr. Smith met Dr. Jones.", "They talked."],
        ),
        (
            "She moved to the U.S. in 2010. The U.S. Senate agreed.",
            ["She moved to the U.S. in 2010.", "The U.S. Senate agreed."],
        ),
        ("He has a J.D. from Yale. It helped.", ["He has a J.D. from Yale.", "It helped."]),
        ("He lives in the U.S. The move was hard.", ["He lives in the U.S.", "The move was hard."]),
        (
            "Growth was 3.5 percent. Prices rose 2.1%.",
            ["Growth was 3.5 percent.", "Prices rose 2.1%."],
        ),
        (
            "John F. Kennedy spoke. J. R. R. Tolkien wrote.",
            ["John F. Kennedy spoke.", "J. R. R. Tolkien wrote."],
        ),
        ("Is it done? Yes! Fine.", ["Is it done?", "Yes!", "Fine."]),
        ("“Go,” she said. “Now.” He left.", ["“Go,” she said.", "“Now.”", "He left."]),
        ("It starts at 9 a.m. sharp. Be early.", ["It starts at 9 a.m. sharp.", "Be early."]),
        (
            "Apples, pears, etc. are fruit. Eat them.",
            ["Apples, pears, etc. are fruit.", "Eat them."],
        ),
        ("Due on Jan. 5 at noon. Be there.", ["Due on Jan. 5 at noon.", "Be there."]),
        ("Acme Inc. The firm grew.", ["Acme Inc.", "The firm grew."]),
        ("Headline Here\nBody starts here. More.", ["Headline Here", "Body starts here.", "More."]),
        ("A line that wraps\ninto the next line.", ["A line that wraps\ninto the next line."]),
        ("One.\n\n  Two.  ", ["One.", "Two."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_returns_stripped_substrings_in_order() -> None:
    text = make_text(seed=9, paragraphs=30)
    pos = 0
    for sentence in split_sentences(text):
        assert sentence == sentence.strip() and sentence
        found = text.index(sentence, pos)
        assert text[pos:found].strip() == ""
        pos = found + len(sentence)
    assert text[pos:].strip() == ""


def test_messy_unicode_never_breaks_the_budget_or_the_text() -> None:
    rng = random.Random(1234)
    pieces = [
        *_WORDS,
        "U.S.",
        "3.5%",
        "🙂🙂",
        "👩‍👩‍👧",
        "naïve",
        "日本語の文章です。",
        "今天天气很好。",
        "x" * 120,
        "https://example.com/" + "a" * 60,
        "—",
        "…",
        "\n",
        "\n\n",
        "\t",
        "\u00a0",
        ".",
        "?",
    ]
    text = " ".join(rng.choice(pieces) for _ in range(3000))
    for budget, overlap in [(MIN_BUDGET, 3), (17, 0), (64, 20), (333, 100)]:
        chunks = chunk_text(text, budget=budget, overlap=overlap)
        assert all(c.tokens == count_tokens(c.text) <= budget for c in chunks)
        assert all(c.text == text[c.start : c.end] for c in chunks)
        rebuilt = "".join(new_parts(text, chunks))
        assert "".join(rebuilt.split()) == "".join(text.split())


_NASTY = {
    "cjk": "日本語の文章です。今天天气很好。한국어 문장입니다。" * 300,
    "cjk_no_enders": "東京都の会議で新しい予算案が議論された" * 200,
    "emoji": "👩‍👩‍👧🙂🇺🇳 family 🙂. " * 400,
    "spaces": "Start. " + " " * 20_000 + "End of the run. " + "x " * 500,
    "dots": "Wait" + "." * 20_000 + " Then more text follows here. " * 50,
    "newlines": "Line one.\r\nLine two.\rLine three.\n\n\r\n \n\tPara two." * 300,
    "mixed": ("Mr. Rao said “yes.”\u00a0\u2028Next…\u200b 3.5% 日本。\n" * 400),
    "surrogates": "Lone \ud800 surrogate here. Pair \ud83d\ude00 split. " * 300,
}


@pytest.mark.parametrize("name", sorted(_NASTY))
@pytest.mark.parametrize(
    ("budget", "overlap"), [(MIN_BUDGET, 0), (MIN_BUDGET, 3), (37, 9), (500, 100)]
)
def test_nasty_text_never_breaks_a_budget(name: str, budget: int, overlap: int) -> None:
    text = _NASTY[name]
    chunks = chunk_text(text, budget=budget, overlap=overlap)
    assert chunks
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.tokens == count_tokens(chunk.text) <= budget
    rebuilt = "".join(new_parts(text, chunks))
    assert "".join(rebuilt.split()) == "".join(text.split())


def test_the_callers_encoding_is_used_only_if_it_is_this_texts() -> None:
    text = make_text(seed=21, paragraphs=80)
    mine = get_encoding().encode(text, disallowed_special=())
    assert chunk_text(text, budget=150, tokens=mine) == chunk_text(text, budget=150)
    # Another text's tokens don't add up to this text's bytes: the text is encoded again.
    other = get_encoding().encode(make_text(seed=22, paragraphs=3), disallowed_special=())
    chunks = chunk_text(text, budget=150, tokens=other)
    assert chunks == chunk_text(text, budget=150)
    assert len(chunks) > 1


def test_token_spans_add_up_to_the_whole_and_match_slices_away_from_edges() -> None:
    text = "Naïve café — 日本語。 " * 50 + "🙂 done."
    spans = token_spans(text)
    assert spans.total == count_tokens(text)
    cuts = sorted({0, len(text), *range(0, len(text), 37)})
    assert sum(spans.between(a, b) for a, b in pairwise(cuts)) == spans.total
    whole = spans.between(0, len(text))
    assert whole == count_tokens(text)
