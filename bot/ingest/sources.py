"""Turn what the user typed (links, file paths, '-', or pasted text) into Sources."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import InputError, UnsupportedContentError
from bot.ingest.decode import decode_text, looks_binary, sniff, undecodable
from bot.ingest.links import slack_links
from bot.models import Source

#: Local file types we can read, by extension.
FILE_TYPES = frozenset({".html", ".htm", ".xhtml", ".txt", ".text", ".md", ".markdown", ".pdf"})

_HINT = "Give a link (https://...), a file path, or paste the article text (use - to read stdin)."
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(//)?")
# Schemes people paste that we refuse by name even without '//' (data:, javascript:, ...).
_NAMED_SCHEMES = frozenset(
    {"file", "ftp", "ftps", "sftp", "gopher", "data", "javascript", "vbscript", "mailto", "tel",
     "ssh", "smb", "ldap", "dict", "jar", "blob", "chrome", "about", "ws", "wss", "slack"}
)  # fmt: skip
_ONE_SLACK_LINK = re.compile(r"^<([^<>|\s]+)(?:\|[^<>]*)?>$")
_DOMAIN_PATH = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,63}(:\d{1,5})?/\S*$", re.IGNORECASE)
_FILE_SUFFIX = re.compile(
    r"\.(html?|xhtml|txt|text|md|markdown|pdf|docx?|odt|rtf|epub|csv|json|xml|pptx?|xlsx?)$",
    re.IGNORECASE,
)
_SLACK_MARKUP = re.compile(r"<[^<>|\s]+(?:\|[^<>]*)?>")
_BARE_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)
# Longer args are pasted text, not paths: skip the filesystem probe.
_MAX_PATH_CHARS = 1024


def _refuse_scheme(scheme: str) -> InputError:
    return InputError(
        f"Briefbot only reads http(s) links, not {scheme.lower()}: links.",
        hint="Send a web link (https://...), a file path, or paste the article text.",
    )


def _url_source(url: str, label: str | None = None) -> Source:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not host:
        raise InputError(f"That link has no host name: {url}", hint="Check the link for typos.")
    if label and label.strip() in (url, url.split("://", 1)[-1]):
        label = None
    return Source(kind="url", value=url, label=label)


def _existing_file(arg: str) -> Path | None:
    if len(arg) > _MAX_PATH_CHARS or "\n" in arg:
        return None
    try:
        path = Path(arg).expanduser()
        return path.resolve() if path.is_file() else None
    except (OSError, ValueError):
        return None


def _looks_like_path(token: str) -> bool:
    if token.startswith(("/", "./", "../", "~", ".\\", "..\\")) or _FILE_SUFFIX.search(token):
        return True
    head = re.split(r"[/\\]", token, maxsplit=1)[0]
    return ("/" in token or "\\" in token) and "." not in head


def _file_source(path: Path) -> Source:
    if path.suffix.lower() not in FILE_TYPES:
        what = f"{path.suffix} files" if path.suffix else "files without an extension"
        raise UnsupportedContentError(
            f"Briefbot can't read {what} ({path.name}).",
            hint="Use an .html, .txt, .md or .pdf file, or paste the text.",
        )
    return Source(kind="file", value=str(path))


def _single_token(token: str) -> Source | None:
    """A link or a path in one token, or None when the token is just a word of text."""
    label = None
    slack = _ONE_SLACK_LINK.match(token)
    if slack:
        found = slack_links(token)
        if found:
            token, label = found[0]
        else:
            token = slack.group(1)
    scheme = _SCHEME.match(token)
    if scheme:
        name = scheme.group(1).lower()
        if name in ("http", "https"):
            return _url_source(token, label)
        if scheme.group(2) or name in _NAMED_SCHEMES:
            raise _refuse_scheme(name)
    if token.lower().startswith("www.") or _DOMAIN_PATH.match(token):
        return _url_source("https://" + token, label)
    if _looks_like_path(token):
        raise InputError(
            f"No such file: {token}.",
            hint="Check the path, or give a link or the article text instead.",
        )
    return None


def _only_links(text: str) -> list[Source] | None:
    """One Source per link when the text holds nothing but links; otherwise None."""
    rest = _BARE_URL.sub(" ", _SLACK_MARKUP.sub(" ", text))
    if rest.strip(" \t\n,;|-•"):
        return None
    found = slack_links(text)
    return [_url_source(url, label) for url, label in found] or None


def _parse_one(arg: str, stdin_text: str | None) -> list[Source]:
    text = arg.strip()
    if not text:
        return []
    if text == "-":
        if stdin_text is None or not stdin_text.strip():
            raise InputError(
                "Nothing came in on stdin.",
                hint="Pipe the article text or a link in, e.g. `pbpaste | briefbot brief -`.",
            )
        return _parse_one(stdin_text, None) if stdin_text.strip() != "-" else []
    path = _existing_file(text)
    if path is not None:
        return [_file_source(path)]
    if not any(ch.isspace() for ch in text):
        single = _single_token(text)
        if single is not None:
            return [single]
    links = _only_links(text)
    if links:
        return links
    return [Source(kind="text", value=text)]


def decode_stdin(data: bytes) -> str:
    """Piped bytes to text, charset-detected like a file; binary input is refused.

    Reading stdin as bytes (not ``sys.stdin``'s locale decoding) keeps a Latin-1 file from
    turning into surrogates that crash hashing later.
    """
    kind = sniff(data)
    if kind == "pdf":
        raise UnsupportedContentError(
            "Briefbot reads PDFs from a file, not from stdin.",
            hint="Give the PDF's path instead of -.",
        )
    if kind != "html" and looks_binary(data):
        raise UnsupportedContentError(
            "stdin holds binary data, not text Briefbot can read.",
            hint="Pipe in the article's text or HTML, or give a file path or link.",
        )
    text = decode_text(data, markup=kind == "html")
    if undecodable(text):
        raise UnsupportedContentError(
            "stdin holds binary data, not text Briefbot can read.",
            hint="Pipe in the article's text or HTML, or give a file path or link.",
        )
    return text


def parse_sources(args: Sequence[str], *, stdin_text: str | None = None) -> list[Source]:
    """Read each arg as a URL, an existing file, '-' (stdin) or raw text; refuse bad input."""
    if isinstance(args, str):  # a lone string would be read one character at a time
        args = [args]
    sources: list[Source] = []
    seen: set[tuple[str, str]] = set()
    for arg in args:
        for source in _parse_one(arg, stdin_text):
            if (source.kind, source.value) not in seen:
                seen.add((source.kind, source.value))
                sources.append(source)
    if not sources:
        raise InputError("Nothing to brief: the input is empty.", hint=_HINT)
    return sources
