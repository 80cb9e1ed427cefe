"""Jinja2 environments for briefs: Markdown and Slack mrkdwn, with user overrides.

Templates are data. The defaults ship in ``bot.render.templates``; a directory named by
BRIEFBOT_TEMPLATE_DIR overrides any of them by file name. Each template declares
``{# template-version: N #}`` so cached briefs are re-rendered when a layout changes.
"""

from __future__ import annotations

import hashlib
import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import jinja2
import jinja2.sandbox
from markupsafe import Markup

from bot.errors import ConfigError
from bot.models import Brief
from bot.sanitize import link, own_links, sanitize_slack

MD_TEMPLATE = "brief.md.j2"
MRKDWN_TEMPLATE = "brief.mrkdwn.j2"
ITEMS_TEMPLATE = "items.mrkdwn.j2"
TEMPLATE_NAMES = (MD_TEMPLATE, MRKDWN_TEMPLATE, ITEMS_TEMPLATE)

_VERSION = re.compile(r"\{#-?\s*template-version:\s*([\w.\-]+)\s*-?#\}")
_HINT = "Fix the template in BRIEFBOT_TEMPLATE_DIR, or remove it to use the built-in one."

_BUILTIN = "<built-in>/"

Flavor = Literal["md", "mrkdwn"]


def _oneline(value: Any) -> str:
    """Collapse all whitespace, so a field can't break a bullet or a quote line."""
    return " ".join(str(value).split())


def _host(url: Any) -> str:
    """The host of a URL without ``www.``, for short link labels."""
    try:
        host = urlsplit(str(url)).hostname or str(url)
    except ValueError:
        return str(url)
    return host.removeprefix("www.")


def _md_link(url: Any, label: Any) -> str:
    """A Markdown link for http(s) URLs; the bare label otherwise."""
    text = _oneline(label).replace("[", "\\[").replace("]", "\\]")
    target = str(url).strip()
    if urlsplit(target).scheme.lower() not in ("http", "https"):
        return text
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        target = target.replace(char, code)
    return f"[{text}]({target})"


def _slack_finalize(value: Any) -> Any:
    """Applied to every ``{{ }}`` output: only our own Markup skips sanitizing."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return sanitize_slack(str(value))


def _slack_filter(value: Any) -> Markup:
    return Markup(sanitize_slack(str(value)))  # noqa: S704 - sanitized and escaped for Slack


def _slack_link(url: Any, label: Any = None) -> Markup:
    return Markup(link(str(url), None if label is None else str(label)))  # noqa: S704


class _DefaultLoader(jinja2.BaseLoader):
    """The templates shipped in ``bot.render.templates`` (works from a wheel or a zip)."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        resource = resources.files("bot.render.templates").joinpath(template)
        if not template.endswith(".j2") or not resource.is_file():
            raise jinja2.TemplateNotFound(template)
        return resource.read_text(encoding="utf-8"), f"{_BUILTIN}{template}", lambda: True


@lru_cache(maxsize=16)
def _environment(flavor: Flavor, template_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(template_dir))
    loaders.append(_DefaultLoader())
    options: dict[str, Any] = {
        "loader": jinja2.ChoiceLoader(loaders),
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        "autoescape": False,
    }
    if flavor == "mrkdwn":
        options["finalize"] = _slack_finalize
    # Sandboxed: BRIEFBOT_TEMPLATE_DIR may hold templates from anywhere, and a plain
    # Environment lets {{ ''.__class__.__mro__ ... }} or cycler.__init__.__globals__ reach
    # os.popen. The sandbox refuses such attribute access with a SecurityError.
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(**options)
    env.filters.update(oneline=_oneline, host=_host, md_link=_md_link)
    if flavor == "mrkdwn":
        env.filters.update(slack=_slack_filter, link=_slack_link)
    return env


def _checked_dir(template_dir: Path | str | None) -> Path | None:
    if template_dir is None:
        return None
    path = Path(template_dir).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(
            f"BRIEFBOT_TEMPLATE_DIR {path} is not a directory.",
            hint="Create it with your *.j2 overrides, or unset BRIEFBOT_TEMPLATE_DIR.",
        )
    return path


def environment(flavor: Flavor, template_dir: Path | str | None = None) -> jinja2.Environment:
    """The Jinja2 environment for one output flavor, user templates first."""
    return _environment(flavor, _checked_dir(template_dir))


def _template_location(exc: BaseException) -> tuple[str | None, int | None]:
    """Where in a template an error happened: (file name, line), innermost frame."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename or exc.name, exc.lineno
    found: tuple[str | None, int | None] = (None, None)
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:  # compiled template code: map the Python line back
            found = (template.filename or template.name, template.get_corresponding_lineno(lineno))
        elif "__jinja_exception__" in frame.f_globals:  # a frame Jinja already rewrote
            found = (frame.f_code.co_filename, lineno)
    return found


@contextmanager
def template_errors(name: str) -> Iterator[None]:
    """Turn any Jinja error inside the block into a ConfigError naming file and line."""
    try:
        yield
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"Template {exc.name} was not found.", hint=_HINT) from None
    except jinja2.sandbox.SecurityError as exc:
        filename, lineno = _template_location(exc)
        where = f"{filename or name}" + (f", line {lineno}" if lineno else "")
        raise ConfigError(
            f"Template {where} was stopped by the sandbox: {exc.message}.",
            hint="Templates may only format the brief; remove that expression. " + _HINT,
        ) from None
    except jinja2.TemplateError as exc:
        filename, lineno = _template_location(exc)
        where = f"{filename or name}" + (f", line {lineno}" if lineno else "")
        hint = _HINT
        if (filename or "").startswith(_BUILTIN):
            # Built-in templates work on their own; a partial override they import does not.
            hint = "A template in BRIEFBOT_TEMPLATE_DIR may lack a macro it needs: " + _HINT
        raise ConfigError(f"Template {where} is broken: {exc.message}.", hint=hint) from None


def render(flavor: Flavor, name: str, template_dir: Path | str | None, **context: Any) -> str:
    """Render one template by name with the given context."""
    env = environment(flavor, template_dir)
    with template_errors(name):
        return env.get_template(name).render(**context)


def render_markdown(brief: Brief, *, template_dir: Path | None = None) -> str:
    """The brief as Markdown."""
    return render("md", MD_TEMPLATE, template_dir, brief=brief, meta=brief.meta)


def render_mrkdwn(brief: Brief, *, template_dir: Path | None = None) -> str:
    """The brief as one Slack mrkdwn text; every string from the brief is sanitized."""
    with own_links([brief.url]):
        return render("mrkdwn", MRKDWN_TEMPLATE, template_dir, brief=brief, meta=brief.meta)


def render_json(brief: Brief) -> str:
    """The brief as indented JSON (the pydantic model's own serialisation)."""
    return brief.model_dump_json(indent=2)


def template_version(template_dir: Path | str | None = None) -> str:
    """An identity of the effective templates, for cache keys.

    Built from each template's declared version; user overrides add a hash of their text
    so editing a custom template invalidates cached renders too.
    """
    directory = _checked_dir(template_dir)
    parts: list[str] = []
    digest = hashlib.sha256()
    for name in TEMPLATE_NAMES:
        override = directory / name if directory is not None else None
        if override is not None and override.is_file():
            source = override.read_text(encoding="utf-8")
            digest.update(name.encode() + b"\0" + source.encode("utf-8") + b"\0")
            overridden = True
        else:
            source = resources.files("bot.render.templates").joinpath(name).read_text("utf-8")
            overridden = False
        match = _VERSION.search(source)
        label = name.split(".")[-2] if name != ITEMS_TEMPLATE else "items"
        parts.append(f"{label}{match.group(1) if match else '0'}{'*' if overridden else ''}")
    version = ".".join(parts)
    if directory is not None and any(p.endswith("*") for p in parts):
        version += "+user." + digest.hexdigest()[:12]
    return version
