"""The ``briefbot`` command line: extract, brief, serve.

Errors are one line on stderr with a non-zero exit code; progress goes to stderr;
only results go to stdout, so output can be piped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import Settings, find_env_file, load_settings
from bot.errors import BriefbotError, InputError

log = logging.getLogger("bot")

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70

SOURCE_HELP = (
    "a URL (http/https, or Slack's <url|label>), a local file (.html .txt .md .pdf), "
    "raw text in quotes, or - to read stdin"
)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot",
        description=(
            "Briefbot turns article links and pasted text into grounded briefs: a gist, "
            "participants, topics, tensions and next steps, each backed by a quote from "
            "the source. Run it from the command line or as a Slack bot."
        ),
        epilog=(
            "examples:\n"
            "  briefbot brief examples/sample-article.txt\n"
            "  briefbot brief https://example.com/news/story --format json\n"
            "  briefbot extract https://example.com/news/story\n"
            "  pbpaste | briefbot brief -\n"
            "  briefbot serve --mode socket\n\n"
            "Settings come from the environment and <data dir>/.env (or --env-file);\n"
            "see .env.example."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"briefbot {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")
    parser.add_argument(
        "--debug", action="store_true", help="verbose logs on stderr (secrets are never logged)"
    )
    parser.add_argument(
        "--env-file",
        metavar="PATH",
        help="read settings from this file (default: $BRIEFBOT_ENV_FILE, else <data dir>/.env; "
        "never ./.env)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "extract",
        help="print the clean article text the bot would read",
        description="Fetch or read each SOURCE and print the clean article text Briefbot reads.",
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text (default) or json with url, final_url, title, author, date, site, text",
    )

    p = sub.add_parser(
        "brief",
        help="write a brief of each source",
        description=(
            "Write a grounded brief of each SOURCE. Uses OpenAI (or any OpenAI-compatible "
            "server) when OPENAI_API_KEY is set, else the offline engine, which needs no key."
        ),
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument(
        "--format",
        choices=["markdown", "slack", "mrkdwn", "json"],
        default="markdown",
        help="markdown (default), slack (Block Kit JSON as posted), mrkdwn, or json",
    )
    p.add_argument(
        "--engine",
        choices=["openai", "offline"],
        help="force an engine (default: openai when a key is set, else offline)",
    )
    p.add_argument("--model", help="model name for the openai engine (BRIEFBOT_MODEL)")
    p.add_argument("--no-cache", action="store_true", help="ignore cached briefs")

    p = sub.add_parser(
        "serve",
        help="run the Slack bot",
        description="Run the Slack bot. See the README for creating the Slack app.",
    )
    p.add_argument(
        "--mode",
        choices=["socket", "http"],
        default="socket",
        help="socket (default; needs SLACK_APP_TOKEN, no public URL) or http (Events API)",
    )
    p.add_argument("--port", type=int, help="http mode port (default: PORT or 3000)")

    from bot.digest.digest_cli import add_digest_parser

    add_digest_parser(sub)

    from bot.fleet.fleet_cli import add_fleet_parsers

    add_fleet_parsers(sub)

    from bot.ask.ask_cli import add_ask_parser

    add_ask_parser(sub)

    p = sub.add_parser(
        "doctor",
        help="check settings, Slack, the model endpoint and storage",
        description=(
            "Check every setting, Slack (auth.test and scopes), the model endpoint, tiktoken, "
            "the data dir and the database; print a table. Exits 1 if any check fails."
        ),
    )
    p.add_argument(
        "--mode",
        choices=["socket", "http"],
        help="the serve mode to check for (default: http when only SLACK_SIGNING_SECRET is "
        "set, else socket)",
    )
    return parser


def _progress(quiet: bool) -> Any:
    if quiet:
        return None

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    return say


def _setup_logging(settings: Settings, *, debug: bool, quiet: bool, command: str) -> None:
    from bot.logs import setup_logging

    level = logging.DEBUG if debug else getattr(logging, settings.log_level)
    if command != "serve" and not debug:
        # One-shot commands print results; their logs stay quiet unless asked for, and
        # -q leaves only errors (warnings such as private networks or a parser's are noise).
        level = max(level, logging.ERROR if quiet else logging.WARNING)
    secrets = [
        s.get_secret_value()
        for s in (
            settings.openai_api_key,
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
            settings.slack_client_secret,
        )
        if s is not None
    ]
    setup_logging(level, secrets=secrets, json_format=None if command == "serve" else False)


def _read_stdin_if_needed(sources: Sequence[str]) -> str | None:
    if "-" not in sources:
        return None
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError("'-' reads the article from stdin, but nothing was piped in.")
    from bot.ingest.sources import decode_stdin

    buffer = getattr(sys.stdin, "buffer", None)
    return decode_stdin(buffer.read()) if buffer is not None else sys.stdin.read()


def _parse_each(args: Sequence[str]) -> tuple[list[Any], int]:
    """Parse each SOURCE on its own, so one bad argument doesn't lose the others."""
    from bot.ingest.sources import parse_sources

    stdin_text = _read_stdin_if_needed(args)
    sources: list[Any] = []
    failures = 0
    for arg in args:
        try:
            sources.extend(parse_sources([arg], stdin_text=stdin_text))
        except BriefbotError as exc:
            failures += 1
            _error(str(exc))
    if failures and not sources:
        raise SystemExit(EXIT_ERROR)
    return sources, failures


async def _extract(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ingest import load_article

    sources, failures = _parse_each(args.sources)
    progress = _progress(args.quiet)
    outputs: list[dict[str, Any]] = []
    for source in sources:
        try:
            article = await load_article(source, settings, progress=progress)
        except BriefbotError as exc:
            failures += 1
            _error(f"{_label(source)}: {exc}")
            continue
        if args.format == "json":
            outputs.append(
                {
                    "url": article.url,
                    "final_url": article.final_url,
                    "canonical_url": article.canonical_url,
                    "title": article.title,
                    "author": article.author,
                    "date": article.date,
                    "site": article.site,
                    "content_type": article.content_type,
                    "text": article.text,
                }
            )
        else:
            _print_article_text(article)
    if args.format == "json":
        # One shape whatever the number of sources, as for `brief --format json`:
        # {"articles": [article, ...]}, empty when every source failed.
        print(json.dumps({"articles": outputs}, indent=2, ensure_ascii=False))
    return EXIT_ERROR if failures else 0


def _print_article_text(article: Any) -> None:
    head = [article.title or "(untitled)"]
    byline = " · ".join(x for x in (article.site, article.author, article.date) if x)
    if byline:
        head.append(byline)
    if article.final_url or article.url:
        head.append(article.final_url or article.url)
    print("\n".join(head), end="\n\n")
    print(article.text, end="\n\n")


async def _brief(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render.templating import render_json, render_markdown, render_mrkdwn
    from bot.service import BriefService
    from bot.store import Store

    sources, failures = _parse_each(args.sources)
    progress = _progress(args.quiet)
    briefs: list[Any] = []  # --format json: each brief; --format slack: {messages} of each
    with Store.open(settings.database_url) as store:
        service = BriefService(settings, store=store, engine_name=args.engine)
        for source in sources:
            try:
                result = await service.brief(source, use_cache=not args.no_cache, progress=progress)
            except BriefbotError as exc:
                failures += 1
                _error(f"{_label(source)}: {exc}")
                continue
            brief = result.brief
            if brief.meta.note:  # what the engine could not read: said even with -q
                print(f"briefbot: note: {brief.meta.note}", file=sys.stderr, flush=True)
            if args.format == "json":
                briefs.append(json.loads(render_json(brief)))
            elif args.format == "slack":
                from bot.render.block_kit import build_messages  # slack_sdk: only for this format

                messages = build_messages(brief, template_dir=settings.template_dir)
                briefs.append(
                    {"messages": [{"text": m.text, "blocks": m.blocks} for m in messages]}
                )
            elif args.format == "mrkdwn":
                print(render_mrkdwn(brief, template_dir=settings.template_dir), end="\n\n")
            else:
                print(render_markdown(brief, template_dir=settings.template_dir), end="\n\n")
    if args.format in ("json", "slack"):
        # One shape whatever the number of sources (a stable interface): {"briefs": [...]},
        # empty when every source failed; with --format slack each entry is {"messages": [...]}.
        print(json.dumps({"briefs": briefs}, indent=2, ensure_ascii=False))
    return EXIT_ERROR if failures else 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.slack.serve import run

    run(settings, mode=args.mode, port=args.port if args.port is not None else settings.port)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from bot.doctor import main as doctor

    return doctor(mode=args.mode, env_file=find_env_file(args.env_file))


def _label(source: Any) -> str:
    from bot.service import describe_source

    return describe_source(source, limit=60)


def _error(message: str) -> None:
    print(f"briefbot: error: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``briefbot`` script; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "doctor":  # it reports bad settings itself, one row each
            return _doctor(args)
        overrides: dict[str, Any] = {}
        if getattr(args, "model", None):
            overrides["model"] = args.model
        env_file = find_env_file(args.env_file)
        settings = load_settings(env_file, **overrides)
        _setup_logging(settings, debug=args.debug, quiet=args.quiet, command=args.command)
        if Path(".env").is_file() and (env_file is None or not env_file.samefile(".env")):
            # A security notice, so -q (which silences the other warnings) keeps it.
            where = env_file or "<data dir>/.env (or --env-file / BRIEFBOT_ENV_FILE)"
            print(
                f"briefbot: warning: ignoring ./.env: settings are read from the environment "
                f"and {where}",
                file=sys.stderr,
                flush=True,
            )
        if settings.allow_private_networks:
            log.warning(
                "BRIEFBOT_ALLOW_PRIVATE_NETWORKS is on: links to private and local "
                "addresses will be fetched. Use this only for intranets and tests."
            )
        if args.command == "extract":
            return asyncio.run(_extract(args, settings))
        if args.command == "brief":
            return asyncio.run(_brief(args, settings))
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "ask":
            from bot.ask.ask_cli import run_ask

            return asyncio.run(run_ask(args, settings, progress=_progress(args.quiet)))
        if args.command == "digest":
            from bot.digest.digest_cli import run_digest_cli

            return run_digest_cli(args, settings)
        if args.command in ("worker", "db"):
            from bot.fleet.fleet_cli import run_fleet_cli

            return run_fleet_cli(args, settings)
    except BriefbotError as exc:
        _error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`briefbot brief ... | head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the last line of defence: one line for the user, details in logs
        log.debug("internal error", exc_info=True)
        _error(
            f"internal error ({type(exc).__name__}). Re-run with --debug for details, "
            "and please report it."
        )
        return EXIT_INTERNAL
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


#: Commands that print a result and end: nothing of theirs is left to run at exit.
_ONE_SHOT = frozenset({"brief", "extract", "ask"})


def run() -> None:
    code = main()
    if _fast_exit_ok(sys.argv[1:]):
        # Tearing down every imported module (openai's types alone are thousands of
        # classes) takes 0.2-0.4 s at interpreter exit. A one-shot command has closed its
        # store and client by now, so flush what it printed and leave at once.
        logging.shutdown()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass
        os._exit(code)
    sys.exit(code)


def _fast_exit_ok(argv: Sequence[str]) -> bool:
    """True for the one-shot commands; the bot and digests exit the ordinary way."""
    command = next((a for a in argv if not a.startswith("-")), None)
    return command in _ONE_SHOT
