"""The real `briefbot` entry point, run as a user runs it: a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "sample-article.txt"

# Each test starts briefbot (or Python) as a process: CI's own step, `-m subprocess`.
pytestmark = pytest.mark.subprocess


def briefbot(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("briefbot: error:")]
    assert len(errors) == 1, proc.stderr
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]


def test_installed_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("briefbot")
    assert script.exists(), "the briefbot console script is not installed in this environment"
    proc = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("briefbot ")


def test_no_command_prints_usage(tmp_path: Path) -> None:
    proc = briefbot(cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr


def test_extract_file_as_text_and_json(tmp_path: Path) -> None:
    proc = briefbot("extract", str(SAMPLE), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Delgado" in proc.stdout
    assert "Related Stories" not in proc.stdout
    proc = briefbot("-q", "extract", str(SAMPLE), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == ["articles"] and len(data["articles"]) == 1  # one documented shape
    article = data["articles"][0]
    for key in ("url", "final_url", "title", "author", "date", "site", "text"):
        assert key in article
    assert article["title"].startswith("Port talks resume")
    assert proc.stderr == ""


def test_extract_json_keeps_its_shape_for_several_sources(tmp_path: Path) -> None:
    other = tmp_path / "note.txt"
    other.write_text(
        "The harbour board met on Monday to weigh the dredging plan for the east quay.\n\n"
        "After two hours it voted five to two to delay the plan until the spring survey.\n\n"
        "The fishing co-operative, which had asked for the delay, said its members would "
        "meet the board again in March to agree the survey's terms.\n"
    )
    proc = briefbot("-q", "extract", str(SAMPLE), str(other), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    articles = json.loads(proc.stdout)["articles"]
    assert len(articles) == 2
    assert "Delgado" in articles[0]["text"] and "dredging" in articles[1]["text"]

    short = tmp_path / "short.txt"
    short.write_text("Too short to read.\n")
    proc = briefbot("-q", "extract", str(short), "--format", "json", cwd=tmp_path)
    assert proc.returncode != 0 and "too short" in proc.stderr
    assert json.loads(proc.stdout) == {"articles": []}  # every source failed: still the shape


def test_extract_from_stdin(tmp_path: Path) -> None:
    proc = briefbot("-q", "extract", "-", stdin=SAMPLE.read_text(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Halvorsen" in proc.stdout


def test_invalid_setting_is_one_line(tmp_path: Path) -> None:
    proc = briefbot("extract", str(SAMPLE), env={"BRIEFBOT_FETCH_TIMEOUT": "soon"}, cwd=tmp_path)
    assert_one_line_error(proc, "BRIEFBOT_FETCH_TIMEOUT")


def test_one_bad_source_does_not_lose_the_others(tmp_path: Path) -> None:
    proc = briefbot("-q", "extract", "gopher://x.example/", str(SAMPLE), cwd=tmp_path)
    assert proc.returncode == 1
    assert "Delgado" in proc.stdout
    assert_one_line_error(proc, "gopher")


def test_brief_offline_markdown_then_cached_json(tmp_path: Path) -> None:
    proc = briefbot("brief", str(SAMPLE), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for heading in ("Participants", "Topics", "Tensions", "Next steps"):
        assert heading in out
    assert "Delgado" in out and "offline" in out.lower()
    assert "Related Stories" not in out and "Harbour Daily" not in out
    # Progress goes to stderr, never stdout.
    assert "Briefing" in proc.stderr

    proc = briefbot("-q", "brief", str(SAMPLE), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == ["briefs"] and len(data["briefs"]) == 1  # one documented shape
    brief = data["briefs"][0]
    assert brief["meta"]["engine"] == "offline"
    assert brief["meta"]["cached"] is True
    for key in ("title", "url", "summary", "participants", "topics", "tensions", "next_steps"):
        assert key in brief

    proc = briefbot("-q", "brief", str(SAMPLE), "--format", "json", "--no-cache", cwd=tmp_path)
    assert json.loads(proc.stdout)["briefs"][0]["meta"]["cached"] is False


def test_brief_slack_format_is_block_kit(tmp_path: Path) -> None:
    proc = briefbot("-q", "brief", str(SAMPLE), "--format", "slack", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == ["briefs"] and len(data["briefs"]) == 1  # the same shape as json
    messages = data["briefs"][0]["messages"]
    assert messages and all("blocks" in m and "text" in m for m in messages)
    assert all(len(m["blocks"]) <= 50 for m in messages)


def test_a_short_text_file_is_called_short_not_scanned(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("The harbour board voted to delay the dredging plan.\n")
    proc = briefbot("brief", str(note), cwd=tmp_path)
    assert proc.returncode != 0
    assert "note.txt is too short to brief (9 words; Briefbot needs at least 40)" in proc.stderr
    assert "scanned" not in proc.stderr and "Traceback" not in proc.stderr
