"""Answers as Slack messages, Markdown and JSON. Pure functions.

Everything from the article or the model goes through ``sanitize_slack`` (no pings, no
Slack syntax); links are only the article's own URL, built with ``link``.
"""

from __future__ import annotations

import json

from bot.ask.models import Answer
from bot.render import SlackMessage
from bot.render.block_kit import truncate
from bot.sanitize import link, sanitize_slack

SECTION_LIMIT = 2900
HINT = (
    "I answer questions in the thread of one of my briefs: paste a link (or `/brief <link>`), "
    "then ask in the brief's thread."
)
OFFLINE_LABEL = "Answered offline: the article's best-matching sentences, quoted (no model)."


def _q(text: str, limit: int = 150) -> str:
    return truncate(" ".join(sanitize_slack(text).split()), limit)


def not_answered_text(question: str) -> str:
    return (
        f"The article doesn't say. Nothing in it answers “{_q(question)}”, "
        "and I answer only from the article."
    )


def _lead(answer: Answer) -> str:
    """The answer's text; when it is just the first quote (offline), a lead-in instead."""
    text = answer.answer.strip()
    if answer.quotes and text == answer.quotes[0].strip():
        return "Here is what the article says:"
    return text


def _source_line(answer: Answer) -> str:
    where = link(answer.url, answer.title) if answer.url else sanitize_slack(answer.title or "")
    parts = [f"From {where}" if where else "From the article"]
    if answer.fallback_reason:
        parts.append(f"Written offline because {sanitize_slack(answer.fallback_reason)}.")
    elif answer.engine == "offline":
        parts.append(OFFLINE_LABEL)
    return " · ".join(parts)


def answer_message(answer: Answer) -> SlackMessage:
    """The answer for the thread: a short answer, up to 3 checked quotes, where it came from."""
    if not answer.answered:
        text = not_answered_text(answer.question)
        return SlackMessage(text=text, blocks=[_section(text), _context(_source_line(answer))])
    body = truncate(sanitize_slack(_lead(answer)), SECTION_LIMIT)
    quotes = [f"> “{truncate(' '.join(sanitize_slack(q).split()), 900)}”" for q in answer.quotes]
    blocks = [_section(body)]
    if quotes:
        blocks.append(_section("\n".join(quotes)))
    blocks.append(_context(_source_line(answer)))
    text = truncate("\n".join([body, *quotes]), 3500)
    return SlackMessage(text=text, blocks=blocks)


def placeholder_message(question: str) -> SlackMessage:
    text = f"Looking in the article for “{_q(question, 80)}”…"
    return SlackMessage(text=text, blocks=[_context(f":mag: {text}")])


def hint_message() -> SlackMessage:
    return SlackMessage(text=HINT, blocks=[_context(HINT)])


def render_markdown(answer: Answer) -> str:
    """The answer for a terminal: plain Markdown (no Slack escaping)."""
    if not answer.answered:
        lines = [
            f"The article doesn't say. Nothing in it answers “{answer.question}”, "
            "and Briefbot answers only from the article."
        ]
    else:
        lines = [_lead(answer), ""] + [f"> {q}" for q in answer.quotes]
    source = answer.url or answer.title
    footer = f"_From {source}_" if source else "_From the article_"
    if answer.fallback_reason:
        footer += f" _(written offline because {answer.fallback_reason})_"
    elif answer.engine == "offline":
        footer += " _(offline engine: the article's own sentences)_"
    return "\n".join([*lines, "", footer]) + "\n"


def render_json(answer: Answer) -> str:
    return json.dumps(answer.model_dump(), indent=2, ensure_ascii=False)


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict[str, object]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}
