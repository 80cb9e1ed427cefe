"""Tidy the metadata a page claims for itself: bylines, site names, titles.

Pages fill these fields carelessly: a byline holds the author's bio or the date, the
site name is the server's address, the title is the site's name. Pure string functions.
"""

from __future__ import annotations

import re
from ipaddress import ip_address

_MONTHS = frozenset({
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
    "OCTOBER", "NOVEMBER", "DECEMBER", "JAN", "FEB", "MAR", "APR", "JUN", "JUL", "AUG", "SEP",
    "SEPT", "OCT", "NOV", "DEC",
})  # fmt: skip
# Where a byline turns into a bio: "Phil Helsel is a reporter for NBC News".
_BIO = re.compile(r"\s(?:is|was)\s(?:a|an|the)\s|\s(?:covers|writes|reports)\s", re.I)
_BY = re.compile(r"^(?:written\s)?by\s", re.I)
# host:port, as a server's address stands in for a missing site name.
_HOST_PORT = re.compile(r"^[\w.-]{1,253}:\d{1,5}$")


def clean_author(author: str | None) -> str | None:
    """The name in a byline, without a bio sentence, a trailing date or shouting."""
    if not author:
        return None
    text = _BY.sub("", " ".join(author.split()))
    bio = _BIO.search(text)
    if bio and bio.start() > 0:
        text = text[: bio.start()]
    words = text.split()
    # A trailing date goes; a month name alone only in a shouted byline ("Theresa May" stays).
    dated = text.isupper()
    while words:
        last = words[-1].strip(".,")
        if last.isdigit():
            dated = True
        elif not (dated and last.upper() in _MONTHS):
            break
        words.pop()
    text = " ".join(words).strip(" ,;|-·")
    if text.isupper():
        text = text.title()  # "JERUSALEM POST STAFF" reads as a name in title case
    return text or None


def _is_ip(host: str) -> bool:
    try:
        ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def clean_site(site: str | None) -> str | None:
    """A site's name, or None when what's there is only an address (``127.0.0.1:8080``)."""
    if not site:
        return None
    site = site.strip()
    if _HOST_PORT.match(site) or _is_ip(site):
        return None
    return site or None


def site_from_host(host: str | None) -> str | None:
    """A site name from a link's host: ``www.`` dropped; nothing for bare IP addresses."""
    if not host or _is_ip(host):
        return None
    return host.removeprefix("www.")


def better_title(title: str | None, site: str | None, first_line: str | None) -> str | None:
    """The text's headline when the page's title is only its site's name."""
    if title and site and first_line and title.casefold() == site.casefold():
        return first_line
    return title
