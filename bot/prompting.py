"""Prompt templates: Jinja2 files shipped as package data (``bot.prompts``).

Each template opens with a version comment, ``{# version: 3 #}``. :func:`prompt_version`
combines them, so a cached brief is invalidated when any prompt changes. Templates use
``StrictUndefined``: a missing variable fails loudly instead of rendering as "".

Article text is untrusted. The ``data`` filter neutralises our fence tags inside it, so a
page can't close ``<article>`` early and speak as the prompt.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2

#: Templates the engines render; each must declare a version.
TEMPLATES = ("system.j2", "brief.j2", "map.j2", "reduce.j2", "repair.j2")

#: Tags we fence untrusted data with; the same tags inside the data are neutralised.
FENCE_TAGS = ("article", "partial_briefs", "earlier_questions")

_VERSION = re.compile(r"\A\{#\s*version:\s*([\w.-]+)\s*#\}[ \t]*\n?")
# One \s* on each side of the optional "/": two around it split a run of spaces every way.
_FENCE = re.compile(r"<(\s*(?:/\s*)?(?:" + "|".join(FENCE_TAGS) + r")\b)", re.IGNORECASE)


def templates_root() -> Traversable:
    """Where the templates live: the ``bot.prompts`` package."""
    try:
        return resources.files("bot.prompts")
    except ModuleNotFoundError:
        # A source checkout: setuptools maps prompts/ to bot.prompts only when it builds,
        # so the top-level prompts/ beside bot/ stands in.
        checkout = Path(__file__).resolve().parent.parent / "prompts"
        if (checkout / "__init__.py").is_file():
            return checkout
        raise


def fence_data(text: object) -> str:
    """Neutralise fence tags (``<article>``, ``</article>``...) inside untrusted text."""
    return _FENCE.sub(r"&lt;\1", str(text))


def _source(name: str) -> str:
    entry = templates_root().joinpath(name)
    if not entry.is_file():
        raise jinja2.TemplateNotFound(name)
    return entry.read_text(encoding="utf-8")


def _load(name: str) -> tuple[str, str, Any]:
    # The version comment is metadata, not prompt text: strip it with its newline.
    return _VERSION.sub("", _source(name), count=1), name, lambda: True


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - plain-text prompts, not HTML
        keep_trailing_newline=True,
    )
    env.filters["data"] = fence_data
    return env


def render_prompt(name: str, **variables: Any) -> str:
    """Render a prompt template; a missing variable raises ``jinja2.UndefinedError``."""
    return _environment().get_template(name).render(**variables)


def template_version(name: str) -> str:
    """The version a template declares in its first line."""
    match = _VERSION.match(_source(name))
    if match is None:
        raise ValueError(f"prompt template {name} has no '{{# version: N #}}' first line")
    return match.group(1)


@lru_cache(maxsize=1)
def prompt_version() -> str:
    """All templates' versions in one string, e.g. ``brief:1,map:1,...``: the cache identity."""
    return ",".join(
        f"{name.removesuffix('.j2')}:{template_version(name)}" for name in sorted(TEMPLATES)
    )
