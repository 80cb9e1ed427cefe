"""Turn a next step's "when" ("by March 15", "next Tuesday", "by the end of January") into a date.

Pure and deliberately modest: it understands the forms news articles use and returns None
for anything else, so undated steps sort last instead of being misdated.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

MONTHS = {
    name.lower(): i
    for i in range(1, 13)
    for name in (calendar.month_name[i], calendar.month_abbr[i])
}
MONTHS["sept"] = 9
# Full names only: "sat", "sun" and "wed" are words too.
WEEKDAYS = {calendar.day_name[i].lower(): i for i in range(7)} | {"tues": 1, "thurs": 3}
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
}  # fmt: skip

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?P<year>\d{4})-(?P<m>\d{2})-(?P<day>\d{2})\b",
        rf"\b{_MONTH}\s+{_DAY}\b(?:,?\s+{_YEAR})?",
        rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?",
    )
)
_PART_OF_MONTH = re.compile(
    rf"\b(?P<part>end|close|middle|mid|start|beginning|early|late)\b(?:\s+of)?(?:\s+the)?[\s-]*"
    rf"{_MONTH}(?:\s+{_YEAR})?",
    re.IGNORECASE,
)
_BARE_MONTH = re.compile(rf"\b(?:by|in|during|from|until|before)\s+{_MONTH}(?:\s+{_YEAR})?\b", re.I)
_WEEKDAY = re.compile(
    r"\b(?P<next>next\s+|this\s+|coming\s+)?(?P<wd>"
    + "|".join(sorted(WEEKDAYS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_WITHIN = re.compile(
    r"\b(?:in|within|over)\s+(?:the\s+next\s+)?(?P<n>\d+|[a-z]+)\s+(?P<unit>day|week|month)s?\b",
    re.IGNORECASE,
)
_YEAR_ONLY = re.compile(rf"\b(?:(?P<end>end|close)\s+of\s+|by\s+|in\s+){_YEAR}\b", re.IGNORECASE)
_QUARTER = re.compile(r"\bQ(?P<q>[1-4])\s+(?P<year>(?:19|20)\d{2})\b", re.IGNORECASE)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year_for(month: int, day: int, today: date) -> int:
    """A month and day without a year: this year, unless that is long past (then next year)."""
    try:
        candidate = date(today.year, month, day)
    except ValueError:
        return today.year
    return today.year + 1 if (today - candidate).days > 90 else today.year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _explicit(text: str, today: date) -> date | None:
    for pattern in _PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        groups = m.groupdict()
        month = int(groups["m"]) if groups.get("m") else MONTHS[groups["month"].lower()]
        day = int(groups["day"])
        year = int(groups["year"]) if groups.get("year") else _year_for(month, day, today)
        return _safe_date(year, month, day)
    return None


def _part_of_month(text: str, today: date) -> date | None:
    m = _PART_OF_MONTH.search(text) or _BARE_MONTH.search(text)
    if not m:
        return None
    month = MONTHS[m.group("month").lower()]
    part = (m.groupdict().get("part") or "end").lower()
    day = {"start": 1, "beginning": 1, "early": 5, "mid": 15, "middle": 15, "late": 25}.get(part)
    year = int(m.group("year")) if m.group("year") else _year_for(month, day or 28, today)
    # "by March" and "end of March" both mean the month's last day.
    return date(year, month, day) if day else _month_end(year, month)


def _relative(text: str, today: date) -> date | None:
    lowered = text.lower()
    if re.search(r"\btoday\b|\btonight\b", lowered):
        return today
    if re.search(r"\btomorrow\b", lowered):
        return today + timedelta(days=1)
    if m := _WEEKDAY.search(text):
        target = WEEKDAYS[m.group("wd").lower()]
        ahead = (target - today.weekday()) % 7
        if m.group("next") and m.group("next").lower().startswith("next"):
            ahead = ahead or 7
        return today + timedelta(days=ahead)
    if m := _WITHIN.search(text):
        raw = m.group("n").lower()
        n = int(raw) if raw.isdigit() else NUMBERS.get(raw)
        if n is not None:
            unit = m.group("unit").lower()
            days = n * {"day": 1, "week": 7, "month": 30}[unit]
            return today + timedelta(days=days)
    if re.search(r"\b(?:end of|by the end of)\s+(?:this|the)\s+week\b|\bthis week\b", lowered):
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if re.search(r"\bnext week\b", lowered):
        return today + timedelta(days=7 - today.weekday())
    if re.search(r"\b(?:end of|by the end of)\s+(?:this|the)\s+month\b|\bthis month\b", lowered):
        return _month_end(today.year, today.month)
    if re.search(r"\bnext month\b", lowered):
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return date(year, month, 1)
    if re.search(r"\b(?:end of|by the end of)\s+(?:this|the)\s+year\b|\bthis year\b", lowered):
        return date(today.year, 12, 31)
    if re.search(r"\bnext year\b", lowered):
        return date(today.year + 1, 1, 1)
    return None


def _year_or_quarter(text: str) -> date | None:
    if m := _QUARTER.search(text):
        year, quarter = int(m.group("year")), int(m.group("q"))
        return _month_end(year, quarter * 3)
    if m := _YEAR_ONLY.search(text):
        year = int(m.group("year"))
        return date(year, 12, 31) if m.group("end") else date(year, 1, 1)
    return None


def parse_when(when: str | None, today: date) -> date | None:
    """The date a "when" string points at, relative to ``today``; None if it doesn't say."""
    if not when or not when.strip():
        return None
    text = " ".join(when.split())
    for parse in (_explicit, _part_of_month, _relative):
        found = parse(text, today)
        if found is not None:
            return found
    return _year_or_quarter(text)
