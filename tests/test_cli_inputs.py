"""What a user pipes or points `briefbot` at: charsets, HTML on stdin, binary, messages, help.

In-process (``cli.main``), with stdin replaced by real bytes, so each case costs
milliseconds rather than an interpreter start (whose time on a busy machine swung these
tests' times by 3x between runs). tests/test_cli.py runs the real process.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.ingest.decode import decode_text

SPANISH = (
    "El gobierno admitió el engaño ante el congreso. "
    * 3
    + "La ministra dijo que la reforma seguirá adelante pese a las protestas de los "
    "sindicatos y de la oposición, que piden más diálogo antes de la votación del próximo "
    "mes en la cámara baja del país. "
) * 3
PARAGRAPHS = [
    "The minister Jane Smith said on Monday that the government would review the tariff "
    "plan with the trade union leaders before the vote next month.",
    "Critics in parliament said the plan was rushed and that small firms had not been "
    "consulted about the new import duties.",
    "Opposition leader Tom Brown called for a full inquiry into the costs, which he said "
    "could reach two billion pounds over five years.",
    "The trade body said its members would meet the ministry on Friday to discuss the "
    "timetable and the exemptions for farmers.",
]
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    "<title>Tariff plan faces review - The Daily</title>"
    '<script type="application/ld+json">{"@context":"https://schema.org","@type":'
    '"NewsArticle","headline":"Tariff plan faces review","image":{"@type":"ImageObject"}}'
    "</script><style>/*<![CDATA[*/ body{} /*]]>*/</style></head><body><article>"
    "<h1>Tariff plan faces review</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    + "</article></body></html>"
)  # fmt: skip


def _pipe(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """stdin as a shell pipe gives it: bytes under a text wrapper, not a terminal."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8",
                                                       errors="surrogateescape"))  # fmt: skip


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # a source that doesn't parse ends the run, as in a shell
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_latin1_on_stdin_is_briefed_not_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _pipe(monkeypatch, SPANISH.encode("latin-1"))
    code, out, err = _run(capsys, "-q", "brief", "--engine", "offline", "-")
    assert code == 0, err
    assert "engaño" in out


def test_a_latin1_file_keeps_its_letters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nota.txt"
    path.write_bytes(SPANISH.encode("latin-1"))
    code, out, err = _run(capsys, "-q", "brief", "--engine", "offline", str(path))
    assert code == 0, err
    assert "engaño" in out and "engańo" not in out


def test_utf8_cut_inside_its_last_character_stays_utf8() -> None:
    body = "We’d like to say that the committee’s report was on time. " * 3 + "the end’"
    decoded = decode_text(body.encode("utf-8")[:-1])
    assert decoded.startswith("We’d like") and "‚Äô" not in decoded
    assert decoded.endswith("the end\ufffd")  # only the broken bytes are replaced


def test_latin1_is_not_taken_for_utf8() -> None:
    assert decode_text("café engaño".encode("latin-1")) == "café engaño"


def test_html_on_stdin_is_read_as_a_page(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _pipe(monkeypatch, PAGE.encode("utf-8"))
    code, out, err = _run(capsys, "-q", "brief", "--engine", "offline", "--format", "json", "-")
    assert code == 0, err
    brief = json.loads(out)["briefs"][0]
    assert brief["title"] == "Tariff plan faces review"
    names = {p["name"] for p in brief["participants"]}
    assert "Jane Smith" in names
    assert not names & {"CDATA", "ImageObject"}
    assert "<html" not in out


@pytest.mark.parametrize("where", ["file", "stdin"])
def test_random_bytes_are_refused_with_one_clear_line(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    noise = random.Random(14).randbytes(6000)
    if where == "file":
        (tmp_path / "notes.txt").write_bytes(noise)
        arg = str(tmp_path / "notes.txt")
    else:
        _pipe(monkeypatch, noise)
        arg = "-"
    code, out, err = _run(capsys, "-q", "brief", "--engine", "offline", arg)
    assert code == cli.EXIT_ERROR
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and "binary data, not text" in lines[0], err


def test_a_file_without_an_extension_is_named_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "python3").write_text("some words " * 50)
    code, _, err = _run(capsys, "-q", "brief", str(tmp_path / "python3"))
    assert code == cli.EXIT_ERROR
    assert "can't read files without an extension (python3)." in err
    assert "(no extension)" not in err


def test_a_missing_file_message_ends_its_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "-q", "brief", "./no-such-article.txt")
    assert code == cli.EXIT_ERROR
    assert "No such file: ./no-such-article.txt. Check the path" in err


def test_quiet_silences_the_private_networks_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFBOT_ALLOW_PRIVATE_NETWORKS", "true")
    path = tmp_path / "story.txt"
    path.write_text("\n\n".join(PARAGRAPHS * 2), encoding="utf-8")
    code, out, err = _run(capsys, "-q", "brief", "--engine", "offline", str(path))
    assert code == 0
    assert out and err == ""
    code, _, err = _run(capsys, "brief", "--engine", "offline", str(path))
    assert "BRIEFBOT_ALLOW_PRIVATE_NETWORKS" in err  # without -q the warning stays
    assert os.environ["BRIEFBOT_ALLOW_PRIVATE_NETWORKS"] == "true"


def test_help_is_useful(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # as wide as help piped from a process is
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    for word in ("extract", "brief", "serve", ".env"):
        assert word in out
    code, out, _ = _run(capsys, "extract", "--help")
    assert code == 0
    assert "--format" in out and "stdin" in out
    code, out, _ = _run(capsys, "brief", "--help")
    assert code == 0
    for word in ("--engine", "--model", "--no-cache", "markdown", "json"):
        assert word in out


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("ftp://example.com/file.txt", ["http"]),
        ("file:///etc/passwd", ["http"]),
        ("http://169.254.169.254/latest/meta-data/", ["private"]),
        ("missing-file.pdf", ["missing-file.pdf"]),
    ],
)
def test_bad_sources_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], source: str, words: list[str]
) -> None:
    code, _, err = _run(capsys, "extract", source)
    assert code == cli.EXIT_ERROR
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("briefbot: error:")]
    assert len(errors) == 1, err
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]
