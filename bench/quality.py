"""Brief-quality bench: the real pipeline on real pages, scored against hand labels.

Run: ``python bench/quality.py CORPUS_DIR [--split tune|heldout|both] [--engine offline]
[--labels DIR] [--verbose]``. CORPUS_DIR holds ``<id>.html.gz`` pages (the shared
news-pages corpus). The pages are served gunzipped from a small HTTP server on 127.0.0.1 and
each labelled page goes through the same path as ``briefbot brief URL --engine offline
--no-cache`` (``BriefService.brief``: fetch, extract, engine, grounding), in this process.
The ``bot`` package is whichever the running interpreter imports, so
``cd OTHER_WORKTREE && .venv/bin/python /path/to/bench/quality.py CORPUS`` measures the
other worktree's engine with these labels.

Labels: ``bench/quality_labels/<id>.json``, one per page, written from the article text (the
project's own extractor), never from an engine's output. Each has ``id``, ``genre``,
``language``, ``split`` (fixed per id and written in the file: within each genre of a batch
of new labels, pages sorted by sha256 of the id alternate between halves, so both halves
cover every genre; in the third batch of 20 the alternation runs on across genres in
alphabetical order, starting with tune, so the halves stay equal),
``participants[{name, aliases?, role, core?, optional?}]``,
``tensions[{description, parties, keys}]``, ``next_steps[{action, owner, when?, keys}]`` and
``topics``. Non-English pages have empty lists and an ``honest_brief`` note.

How a brief is scored (``bench/quality_scoring.py``; the same rules for engine and baseline):

- **Names** are compared after folding (lowercase, accents, quote marks), dropping a
  possessive and any leading titles ("Gov.", "Sen.", "Dr.", "the"). A brief participant
  matches a labelled one when its name equals the label's name, one of its aliases, or (for
  a person: 2-4 words, none an organisation word) its surname. Matching is one to one: a
  second item for the same participant counts against precision.
- **Participant recall** = labelled participants matched / labelled (English pages), not
  counting those marked ``optional`` (passing mentions: a news agency cited, a player named
  once); **core recall** the same over those marked core; **precision** = brief participants
  that match a labelled one, optional or not / brief participants.
- **Role accuracy**, over matched participants whose label gives a role: the brief's role
  shares at least one content word (not a function word; "president" counts) with it.
- **Tension / next-step recall**: a labelled item counts as found when one brief item's text
  (description or action, parties, owner, when and evidence) holds every one of its ``keys``
  (case- and accent-insensitive substrings; "a|b" means either). **Matched** is the count of
  labelled tensions plus next steps found.
- **Junk share** = junk items / all items (participants, topics, tensions, next steps).
  Junk is found by generic rules, never a list of known bad outputs. Any item: under 3
  characters (unless in capitals: "UK"), or all function words and contractions ("Didn't").
  A name: led by a function word other than "the" ("I'm told"), ending in one ("Carlineo
  never"), or one word the corpus writes lowercase at least as often as capitalised
  mid-sentence (a common noun: "Phase", "Switch"). A topic: led or ended by a function word,
  or one such common word that also appears in 5 % or more of the corpus pages ("Game",
  "Deal"; "impeachment" is a subject, not generic). A tension or next step: one word (an
  action may lean on its date: "Sentencing" + "Feb. 14"), or ending in a function word
  ("Disagree with them"); a tension with no parties; an owner that is only function words
  ("You", "Had"), led by one other than a determiner ("Undoubtedly it"; "His campaign" is
  fine), or one common word ("Layoffs"). A labelled participant is never junk. On a
  non-English page every item is junk: an English-only engine cannot name anything in it.
  The table gives the share over all pages and over English pages alone.
- **Verbatim share** = items whose evidence occurs in the article text after whitespace,
  quote-mark and dash normalization (no ellipsis joins) / items.
- **Honest non-English briefs** = non-English pages whose brief has no participants, topics,
  tensions or next steps, and whose rendered Markdown says "English" or "language" (words
  the page itself does not contain).

The baseline column is ``bench/quality_baseline.py`` (capitalised word runs and keyword
sentences), scored the same way in the same run. ``--verbose`` prints per-page misses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Bind `bot` to the running environment's (maybe another worktree's) before ROOT joins
# sys.path; in a bare checkout ROOT's own bot is found through the line after.
with contextlib.suppress(ImportError):
    import bot  # noqa: F401
if str(ROOT) not in sys.path:  # appended, never inserted, so `bench` resolves but `bot` stays
    sys.path.append(str(ROOT))

from bench import common  # noqa: E402
from bench.quality_baseline import baseline_brief  # noqa: E402
from bench.quality_junk import vocabulary_of  # noqa: E402
from bench.quality_scoring import PageScore, label_problems, score_page, summarise  # noqa: E402

LABELS = Path(__file__).resolve().parent / "quality_labels"
GOALS = {
    "recall": ">= 0.85",
    "precision": ">= 0.80",
    "junk_share": "<= 0.05",
    "step_recall": ">= 0.6",
    "tension_recall": ">= 0.5",
    "verbatim_share": "1.0",
    "honest": "1.0",
    "matched": ">= 2x baseline",
}
FIGURES = (
    ("recall", "participant recall", "share"),
    ("core_recall", "participant recall, core only", "share"),
    ("precision", "participant precision", "share"),
    ("role_accuracy", "role accuracy (matched)", "share"),
    ("tension_recall", "tension recall", "share"),
    ("step_recall", "next-step recall", "share"),
    ("matched", "tensions + next steps matched", "items"),
    ("junk_share", "junk items", "share"),
    ("junk_share_en", "junk items, English pages only", "share"),
    ("verbatim_share", "verbatim quotes", "share"),
    ("honest", "non-English: honest minimal brief", "share"),
)


def load_labels(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


@contextmanager
def serve(corpus: Path) -> Iterator[str]:
    """Serve CORPUS/<id>.html.gz gunzipped at http://127.0.0.1:PORT/<id>."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = corpus / f"{self.path.strip('/')}.html.gz"
            if "/" in self.path.strip("/") or not page.is_file():
                self.send_error(404)
                return
            body = gzip.decompress(page.read_bytes())
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def _run(
    corpus: Path, labels: list[dict[str, Any]], *, pages: list[str], engine: str
) -> tuple[list[PageScore], list[PageScore], list[str]]:
    """Score each labelled page; ``pages`` (the whole corpus) feed the common-word counts."""
    from bot.config import load_settings
    from bot.errors import BriefbotError
    from bot.ingest import load_article
    from bot.models import Source
    from bot.render import render_markdown
    from bot.service import BriefService

    settings = load_settings(None, allow_private_networks=True)
    service = BriefService(settings, store=None, engine_name=engine)  # type: ignore[arg-type]
    texts: dict[str, str] = {}
    failures: list[str] = []
    with serve(corpus) as base:
        # The junk detector's notion of a common word comes from the whole corpus.
        for page in pages:
            try:
                article = await load_article(Source(kind="url", value=f"{base}/{page}"), settings)
            except BriefbotError as exc:
                failures.append(f"{page}: {exc}")
                continue
            texts[page] = article.text
        vocabulary = vocabulary_of(texts.values())
        engine_scores, baseline_scores = [], []
        for label in labels:
            page = label["id"]
            if page not in texts:
                continue
            try:
                result = await service.brief(
                    Source(kind="url", value=f"{base}/{page}"), use_cache=False
                )
            except BriefbotError as exc:
                failures.append(f"{page}: {exc}")
                continue
            failures += label_problems(label, result.article.text)
            brief = result.brief
            rendered = render_markdown(brief, template_dir=settings.template_dir)
            text = result.article.text
            engine_scores.append(
                score_page(
                    brief.model_dump(),
                    label,
                    article_text=text,
                    rendered=rendered,
                    vocabulary=vocabulary,
                )
            )
            baseline_scores.append(
                score_page(
                    baseline_brief(text),
                    label,
                    article_text=text,
                    rendered="",
                    vocabulary=vocabulary,
                )
            )
    return engine_scores, baseline_scores, failures


def _rows(split: str, engine: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, name, unit in FIGURES:
        value = engine[key]
        extra = f" (of {engine['labelled_items']})" if key == "matched" else ""
        if key == "honest":
            extra = f" ({engine['foreign_pages']} pages)"
        rows.append(
            {
                "figure": f"{split}: {name}{extra}",
                "median": value,
                "min": value,
                "max": value,
                "unit": unit,
                "goal": GOALS.get(key, "-"),
                "baseline": baseline[key],
            }
        )
    return rows


def _misses(engine: list[PageScore], labels: dict[str, dict[str, Any]]) -> None:
    for score in engine:
        label = labels[score.page]
        lines = []
        if score.participants.missed:
            lines.append(f"  missed participants: {score.participants.missed}")
        if score.participants.extra:
            lines.append(f"  extra participants: {score.participants.extra}")
        for kind, hits in (("tensions", score.tensions), ("next_steps", score.steps)):
            for hit, want in zip(hits, label.get(kind, []), strict=True):
                if not hit:
                    text = want.get("description") or want.get("action")
                    lines.append(f"  missed {kind}: {text!r} keys={want.get('keys')}")
        lines += [f"  junk {j}" for j in score.junk]
        if score.honest is False:
            lines.append("  not an honest minimal brief (items or no language note)")
        if score.quotes != score.verbatim:
            lines.append(f"  quotes not verbatim: {score.quotes - score.verbatim}")
        if lines:
            print(f"{score.page} [{label['genre']}, {label['split']}]")
            print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="folder of <id>.html.gz pages")
    parser.add_argument("--split", choices=("tune", "heldout", "both"), default="both")
    parser.add_argument("--engine", default="offline", help="engine name (default offline)")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--verbose", action="store_true", help="print per-page misses")
    args = parser.parse_args(argv)
    pages = sorted(p.name.removesuffix(".html.gz") for p in args.corpus.glob("*.html.gz"))
    if not pages:
        parser.error(f"{args.corpus} holds no <id>.html.gz pages")
    labels = load_labels(args.labels)
    halves = ("tune", "heldout") if args.split == "both" else (args.split,)
    chosen = [lab for lab in labels if lab["split"] in halves]
    engine, baseline, failures = asyncio.run(
        _run(args.corpus, chosen, pages=pages, engine=args.engine)
    )
    rows: list[dict[str, Any]] = []
    for half in halves:
        ids = {lab["id"] for lab in chosen if lab["split"] == half}
        rows += _rows(
            half,
            summarise([s for s in engine if s.page in ids]),
            summarise([s for s in baseline if s.page in ids]),
        )
    import bot as measured

    notes = [
        f"engine {args.engine} from {Path(measured.__file__).parent}; labels {args.labels}",
        f"pages scored: {len(engine)} of {len(chosen)} labelled ({', '.join(halves)})",
        *(f"problem: {f}" for f in failures),
    ]
    if args.verbose:
        _misses(engine, {lab["id"]: lab for lab in chosen})
    common.print_rows(rows, notes=notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
