"""``briefbot ask SOURCE "question"``: the answer a brief's thread would get, on stdout."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.config import Settings
from bot.errors import BriefbotError

EXIT_ERROR = 1


def add_ask_parser(sub: Any) -> None:
    p = sub.add_parser(
        "ask",
        help="answer a question about one source, from its text alone, with quotes",
        description=(
            "Answer QUESTION from SOURCE alone, with up to 3 verbatim quotes checked against "
            "it; says so when the source doesn't answer it. Uses the model when OPENAI_API_KEY "
            "is set, else the offline engine (the source's best-matching sentences)."
        ),
    )
    p.add_argument("source", metavar="SOURCE", help="a URL, a local file, raw text, or -")
    p.add_argument("question", metavar="QUESTION", help="the question, in quotes")
    p.add_argument("--format", choices=["markdown", "json"], default="markdown",
                   help="markdown (default) or json")  # fmt: skip
    p.add_argument("--engine", choices=["openai", "offline"], help="force an engine")


async def run_ask(args: argparse.Namespace, settings: Settings, *, progress: Any) -> int:
    """Load the source once, then answer through the same service the Slack thread uses."""
    from bot.ask.render import render_json, render_markdown
    from bot.ask.service import AskService
    from bot.ingest import load_article
    from bot.ingest.sources import parse_sources
    from bot.store import Store

    question = " ".join(str(args.question).split())
    if not question:
        raise BriefbotError("The question is empty.", hint='Ask something: briefbot ask URL "…?"')
    stdin_text = sys.stdin.read() if args.source == "-" and not sys.stdin.isatty() else None
    [source, *_] = parse_sources([args.source], stdin_text=stdin_text)
    article = await load_article(source, settings, progress=progress)
    with Store.open(settings.database_url) as store:
        service = AskService(settings, store=store, engine_name=args.engine)
        try:
            answer = await service.ask(
                article.text, question, title=article.title,
                url=article.final_url or article.url,
            )  # fmt: skip
        finally:
            await service.aclose()
    if args.format == "json":
        print(render_json(answer))
    else:
        print(render_markdown(answer), end="")
    return 0
