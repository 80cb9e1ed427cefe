"""Reading what the user typed as links, files, stdin or pasted text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import InputError, UnsupportedContentError
from bot.ingest.sources import parse_sources
from bot.models import Source

PASTED = (
    "Officials met on Tuesday to discuss the harbour deal. See https://news.example.com/a "
    "for the background; the vote is next week."
)


def test_plain_url() -> None:
    assert parse_sources(["https://news.example.com/a"]) == [
        Source(kind="url", value="https://news.example.com/a")
    ]


def test_slack_link_markup_keeps_a_distinct_label() -> None:
    assert parse_sources(["<https://news.example.com/a|Harbour deal>"]) == [
        Source(kind="url", value="https://news.example.com/a", label="Harbour deal")
    ]
    assert parse_sources(["<https://news.example.com/a>"]) == [
        Source(kind="url", value="https://news.example.com/a")
    ]


def test_an_arg_of_only_links_gives_one_source_per_link() -> None:
    got = parse_sources(
        ["<https://a.example.com/1>  <https://b.example.com/2|two>\nhttps://c.example.com/3"]
    )
    assert [s.value for s in got] == [
        "https://a.example.com/1",
        "https://b.example.com/2",
        "https://c.example.com/3",
    ]


def test_text_with_links_in_it_stays_text() -> None:
    assert parse_sources([PASTED]) == [Source(kind="text", value=PASTED)]


def test_schemeless_www_and_domain_paths_become_https() -> None:
    assert parse_sources(["www.example.com/story"])[0].value == "https://www.example.com/story"
    assert parse_sources(["example.co.uk/news/1"])[0].value == "https://example.co.uk/news/1"


def test_existing_files_by_type(tmp_path: Path) -> None:
    paths = []
    for name in ("a.html", "b.htm", "c.txt", "d.md", "e.pdf"):
        path = tmp_path / name
        path.write_text("x")
        paths.append(path)
    got = parse_sources([str(p) for p in paths])
    assert [(s.kind, s.value) for s in got] == [("file", str(p.resolve())) for p in paths]


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = tmp_path / "slides.pptx"
    path.write_bytes(b"PK")
    with pytest.raises(UnsupportedContentError, match=r"can't read \.pptx files"):
        parse_sources([str(path)])


@pytest.mark.parametrize("arg", ["notes.txt", "./missing/report.pdf", "~/nope.md", "docs/brief"])
def test_missing_files_are_refused(arg: str) -> None:
    with pytest.raises(InputError, match="No such file"):
        parse_sources([arg])


def test_stdin_dash() -> None:
    assert parse_sources(["-"], stdin_text=PASTED) == [Source(kind="text", value=PASTED)]
    assert parse_sources(["-"], stdin_text="https://news.example.com/a\n") == [
        Source(kind="url", value="https://news.example.com/a")
    ]
    with pytest.raises(InputError, match="Nothing came in on stdin"):
        parse_sources(["-"], stdin_text="  \n")


@pytest.mark.parametrize("args", [[], [""], ["   ", "\n\t"]])
def test_empty_input_says_what_to_give(args: list[str]) -> None:
    with pytest.raises(InputError) as err:
        parse_sources(args)
    assert "Nothing to brief" in str(err.value)
    assert "paste the article text" in str(err.value)


@pytest.mark.parametrize(
    "arg",
    [
        "file:///etc/passwd",
        "ftp://files.example.com/a.txt",
        "gopher://example.com/1",
        "data:text/html,<h1>hi</h1>",
        "javascript:alert(1)",
        "<ftp://files.example.com/a.txt>",
    ],
)
def test_non_http_schemes_are_refused(arg: str) -> None:
    with pytest.raises(InputError) as err:
        parse_sources([arg])
    assert "only reads http(s) links" in str(err.value)


def test_duplicate_args_are_read_once() -> None:
    got = parse_sources(["https://a.example.com/1", "<https://a.example.com/1>"])
    assert len(got) == 1


def test_a_word_with_a_colon_is_text_not_a_scheme() -> None:
    assert parse_sources(["Update:"])[0].kind == "text"
