"""The offline engine's limits: bounded cost on hostile text, an input cap, a worker
thread, and an honest brief for languages its rules don't read."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.chunking import split_sentences
from bot.config import load_settings
from bot.engines.offline import OfflineEngine, build_brief
from bot.engines.offline_text import prepare
from bot.models import Article

GERMAN = """Bundestag beschließt neues Krankenhausgesetz

Der Bundestag hat am Donnerstag nach langer Debatte ein neues Gesetz zur Finanzierung
der Krankenhäuser beschlossen. Gesundheitsministerin Anna Weber sagte, die Patienten
würden von kürzeren Wartezeiten profitieren. Die Opposition kritisierte den Entwurf
scharf und kündigte eine Klage vor dem Bundesverfassungsgericht an. Die Länder wollen
im Bundesrat über das Gesetz abstimmen. Nach Angaben des Ministeriums zeigen die Daten
seit Jahren einen Anstieg der Kosten, und die Verbände der Ärzte fordern mehr Personal.
"""

ENGLISH = """Council approves new bus lanes

The city council on Tuesday approved new bus lanes on Harbour Road after a long debate.
Transport Commissioner Maria Lopez said the lanes would cut journey times by a third.
Shop owners on the road criticised the plan and said they would lose parking spaces.
Work is scheduled to begin on 4 March and the council will review the scheme next year.
"""

# Inputs of about 50 KB that took seconds to minutes before (issue 15, finding 3): the
# cost of each was the square of one giant "sentence".
HOSTILE = {
    "strike lines": "strike\n" * 7_000,
    "will repeated": "will " * 10_000,
    "wrapped unpunctuated lines": "the dockworkers went on strike again today\n" * 1_200,
    "one line of conflict words": "the union will strike and avert a dispute over the ban " * 900,
    "dots": "." * 50_000 + "x",
    # The second pass's cues and name rules at once: futures, contractions, name pairs.
    "futures and names": "Home Depot is going to and has got to CEO of Acme Group I’m don’t could "
    * 650,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_is_briefed_within_a_bound(name: str) -> None:
    # A stall test on CPU time, not wall time, so a busy machine can't fail it: several
    # times today's worst (0.6 s, "dots") and far below the 10-90 s the quadratic version
    # took.
    article = Article(text=HOSTILE[name])
    build_brief(Article(text="Warm up the language model once, outside the timing."))
    started = time.process_time()
    brief = build_brief(article)
    assert time.process_time() - started < 4.0
    assert brief.meta.engine == "offline"


def test_input_is_capped_with_a_note() -> None:
    paragraph = "The committee will publish its report on 3 May after hearing evidence. "
    text = "\n\n".join(paragraph.replace("3 May", f"{k} May") for k in range(1, 29)) * 40
    brief = build_brief(Article(text=text), max_chars=5_000)
    assert brief.meta.note and "first" in brief.meta.note and "characters" in brief.meta.note
    head = text[:5_000]
    assert brief.summary.split(". ")[0] in head
    for step in brief.next_steps:
        assert step.evidence in head
    assert build_brief(Article(text=text[:4_000]), max_chars=5_000).meta.note is None


async def test_engine_lets_the_event_loop_run_while_it_works() -> None:
    engine = OfflineEngine(load_settings(env_file=None))
    article = Article(text=ENGLISH * 20)
    task = asyncio.create_task(engine.brief(article))
    turns = 0

    async def probe() -> None:
        nonlocal turns
        while not task.done():
            turns += 1
            await asyncio.sleep(0)

    await asyncio.gather(task, probe())
    # Run on the loop, the brief would finish before the probe's first turn.
    assert turns > 0
    assert task.result().participants


def test_other_language_gets_an_honest_minimal_brief() -> None:
    brief = build_brief(Article(text=GERMAN))
    assert brief.meta.language == "de"
    assert brief.participants == [] and brief.topics == []
    assert brief.tensions == [] and brief.next_steps == []
    assert brief.summary.startswith("Der Bundestag hat am Donnerstag")
    assert brief.meta.note and "German" in brief.meta.note and "English" in brief.meta.note


def test_english_is_read_and_named() -> None:
    brief = build_brief(Article(text=ENGLISH))
    assert brief.meta.language == "en" and brief.meta.note is None
    assert any(p.name == "Maria Lopez" for p in brief.participants)


@pytest.mark.subprocess
def test_cli_says_what_the_offline_engine_cannot_read(tmp_path: Path) -> None:
    source = tmp_path / "artikel.txt"
    source.write_text(GERMAN, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "-q", "brief", str(source), "--engine", "offline"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"BRIEFBOT_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("briefbot: note:")]
    assert len(notes) == 1 and "German" in notes[0] and "English" in notes[0]
    assert "reads only English" in proc.stdout  # the footer says it too
    assert "## Participants" not in proc.stdout


@pytest.mark.parametrize(
    "text",
    [
        "Gov. Eric Holcomb signed the bill. It takes effect in July.",
        "Acme Inc. The firm grew. Sales rose 3.5 percent in the U.S. last year.",
        "He met Dr. Jones on Jan. 5 at noon. They talked.",
    ],
)
def test_chunking_and_the_offline_engine_cut_sentences_alike(text: str) -> None:
    offline = [s.text for s in prepare(text, title="-").sentences]
    assert offline == split_sentences(text)


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """The module-level patterns this engine added over untrusted text."""
    from bot import sentences
    from bot.engines import offline_phrases, offline_steps

    found = [("sentences._LATIN_RUN", sentences._LATIN_RUN)]
    found += [("sentences._OTHER_RUN", sentences._OTHER_RUN)]
    found += [("offline_steps._NEGATED", offline_steps._NEGATED)]
    found += [("offline_steps._ATTRIBUTION", offline_steps._ATTRIBUTION)]
    found += [("offline_phrases.WHEN", offline_phrases.WHEN)]
    found += [(f"step cue {n}", p) for n, (p, _, _) in enumerate(offline_steps._STEP_CUES)]
    return found


# Repeated prefixes and near-misses: long runs that almost match, then fail at the end.
ADVERSARIAL = [
    "." * 60_000 + "x",
    "!?" * 30_000 + "x",
    "…" * 60_000 + "x",
    "。" * 60_000 + "x",
    "never" + " " * 60_000 + "x",
    "n't " * 15_000,
    "is scheduled " * 5_000,
    "faces up " * 7_000,
    "has 3 working " * 4_000,
    "expects " * 7_000 + "x",
    ", the a b c d e f " * 5_000 + "x",
    "takes place 18-" * 5_000,
    "the U.K.’s Dec. " * 5_000,
    "on the end of early " * 4_000,
]


@pytest.mark.parametrize(("name", "pattern"), _patterns())
def test_new_patterns_stay_fast_on_adversarial_text(name: str, pattern: re.Pattern[str]) -> None:
    started = time.process_time()
    for text in ADVERSARIAL:
        for _ in pattern.finditer(text):
            pass
    assert time.process_time() - started < 1.0, name
