"""When digests are due: subscriptions, slots and the ``/brief digest`` grammar. Pure.

Every computation happens in the subscriber's time zone (zoneinfo), so an 08:00 digest
stays at 08:00 local across DST changes. A local time that doesn't exist (the spring
gap) runs at the first valid instant after it; an ambiguous one (the autumn repeat)
runs once, at its first occurrence (fold=0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import InputError

Cadence = Literal["daily", "weekdays"]
SlotFate = Literal["on_time", "late", "skip"]

#: A slot run this long after its time is still on time (a cron running run-due every
#: few minutes, a busy event loop); later than this it is posted marked "late".
ON_TIME_GRACE = timedelta(minutes=5)
#: After a long outage, don't walk back through more than this many missed slots.
MAX_MISSED_SLOTS = 31

EXAMPLE = "`/brief digest daily 08:00 Europe/London` or `/brief digest weekdays 07:30`"


@dataclass(frozen=True)
class Subscription:
    """A channel's digest schedule."""

    team: str
    channel: str
    cadence: Cadence
    at: time
    tz: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def describe(self) -> str:
        days = "every day" if self.cadence == "daily" else "on weekdays"
        return f"{days} at {self.at:%H:%M} ({self.tz})"


@dataclass(frozen=True)
class Slot:
    """One scheduled digest: a channel, a local date and a local time."""

    team: str
    channel: str
    local_date: date
    local_time: time
    #: The instant it is due, timezone-aware UTC.
    at: datetime
    #: An on-demand digest ("digest now"): its identity is the moment it was asked for.
    manual: bool = False

    @property
    def key(self) -> str:
        """Stable identity used to claim the slot in storage (never changes with DST)."""
        if self.manual:
            return f"{self.team}:{self.channel}:now:{self.at.astimezone(UTC).isoformat()}"
        return f"{self.team}:{self.channel}:{self.local_date.isoformat()}:{self.local_time:%H:%M}"


def _runs_on(cadence: Cadence, day: date) -> bool:
    return cadence == "daily" or day.weekday() < 5


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("datetimes passed to the scheduler must be timezone-aware")
    return dt.astimezone(UTC)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall time ``day at`` in ``zone`` (gap -> end of gap, repeat -> first)."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0)
    utc0 = first.astimezone(UTC)
    if utc0.astimezone(zone).replace(tzinfo=None) == wall:
        return utc0  # exists (fold=0 is the first of an ambiguous pair)
    # In the gap: fold=0 reads the wall time with the offset before the change, fold=1
    # with the offset after, so the change instant lies between the two. Find it.
    after_offset = wall.replace(tzinfo=zone, fold=1).utcoffset()
    lo, hi = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), utc0
    lo, hi = min(lo, hi), max(lo, hi)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == after_offset:
            hi = mid
        else:
            lo = mid
    # The change happens on a whole second; lo < change <= hi < change + 1s.
    return hi.replace(microsecond=0)


def slot_on(sub: Subscription, day: date) -> Slot:
    """The slot on a local date (whether or not the cadence runs that day)."""
    return Slot(
        team=sub.team,
        channel=sub.channel,
        local_date=day,
        local_time=sub.at,
        at=local_instant(day, sub.at, sub.zone),
    )


def next_slot(sub: Subscription, after: datetime) -> datetime:
    """The first instant strictly after ``after`` at which the subscription is due (UTC)."""
    after = _as_utc(after)
    day = after.astimezone(sub.zone).date() - timedelta(days=1)
    for _ in range(10):  # a weekdays cadence skips at most a weekend
        if _runs_on(sub.cadence, day):
            at = local_instant(day, sub.at, sub.zone)
            if at > after:
                return at
        day += timedelta(days=1)
    raise AssertionError("unreachable: every cadence runs within a week")


def slots_between(sub: Subscription, start: datetime, end: datetime) -> list[Slot]:
    """Slots with ``start < at <= end``, oldest first, at most MAX_MISSED_SLOTS (the newest)."""
    start, end = _as_utc(start), _as_utc(end)
    if end <= start:
        return []
    start = max(start, end - timedelta(days=MAX_MISSED_SLOTS + 3))
    day = start.astimezone(sub.zone).date() - timedelta(days=1)
    last = end.astimezone(sub.zone).date() + timedelta(days=1)
    found: list[Slot] = []
    while day <= last:
        if _runs_on(sub.cadence, day):
            slot = slot_on(sub, day)
            if start < slot.at <= end:
                found.append(slot)
        day += timedelta(days=1)
    return found[-MAX_MISSED_SLOTS:]


def due_slots(
    sub: Subscription, *, now: datetime, last_run: datetime | None, catch_up: timedelta
) -> list[Slot]:
    """Slots due by ``now`` that haven't run: since ``last_run``, else within ``catch_up``.

    ``last_run`` is the later of the last handled slot's time and the subscription's
    creation; the caller decides each slot's fate with :func:`slot_fate`.
    """
    since = last_run if last_run is not None else _as_utc(now) - max(catch_up, ON_TIME_GRACE)
    return slots_between(sub, since, now)


def slot_fate(slot: Slot, *, now: datetime, catch_up: timedelta) -> SlotFate:
    """On time, late (posted but marked late) or skipped (missed beyond the catch-up window)."""
    delay = _as_utc(now) - slot.at
    if delay <= ON_TIME_GRACE:
        return "on_time"
    if delay <= catch_up:
        return "late"
    return "skip"


# --- The "/brief digest ..." grammar ----------------------------------------------------


@dataclass(frozen=True)
class ScheduleCommand:
    action: Literal["schedule", "off", "now", "show"]
    cadence: Cadence | None = None
    at: time | None = None
    tz: str | None = None


_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_AMPM = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?$", re.IGNORECASE)


def parse_time(text: str) -> time:
    """``08:00``, ``7:30``, ``8am``, ``7:30pm`` -> time; InputError otherwise."""
    raw = text.strip()
    if m := _HHMM.match(raw):
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    elif m := _AMPM.match(raw):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if 1 <= hour <= 12 and minute <= 59:
            hour = hour % 12 + (12 if m.group(3).lower() == "p" else 0)
            return time(hour, minute)
    raise InputError(
        f"“{raw}” isn't a time of day.",
        hint=f"Use 24-hour HH:MM (00:00 to 23:59), for example {EXAMPLE}.",
    )


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def parse_zone(text: str) -> str:
    """A canonical IANA zone name (case-insensitive input); InputError if unknown."""
    raw = text.strip()
    name = _zones_by_folded_name().get(raw.casefold(), raw)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"“{raw}” isn't a time zone I know.",
            hint="Use an IANA name such as Europe/London, America/New_York or Asia/Kolkata "
            "(the list: https://en.wikipedia.org/wiki/List_of_tz_database_time_zones).",
        ) from None
    return name


def parse_schedule_command(text: str) -> ScheduleCommand:
    """Parse ``[digest] daily 08:00 [Area/City] | weekdays 07:30 | off | now | show``."""
    words = text.split()
    if words and words[0].lower() == "digest":
        words = words[1:]
    if not words:
        return ScheduleCommand(action="show")
    head = words[0].lower()
    if head in ("off", "now", "show") and len(words) == 1:
        return ScheduleCommand(action=head)  # type: ignore[arg-type]
    if head in ("daily", "weekdays"):
        if len(words) == 1:
            raise InputError(
                f"Say what time the {head} digest should arrive.", hint=f"For example {EXAMPLE}."
            )
        # "8 am" arrives as two words; join them back.
        rest = words[1:]
        if len(rest) >= 2 and rest[1].lower().rstrip(".") in ("am", "pm", "a.m", "p.m"):
            rest = [rest[0] + rest[1], *rest[2:]]
        if len(rest) > 2:
            raise InputError(
                f"I didn't understand “{' '.join(words)}”.",
                hint=f"Give a cadence, a time and optionally a time zone: {EXAMPLE}.",
            )
        at = parse_time(rest[0])
        tz = parse_zone(rest[1]) if len(rest) == 2 else None
        return ScheduleCommand(action="schedule", cadence=head, at=at, tz=tz)  # type: ignore[arg-type]
    raise InputError(
        f"I didn't understand “digest {' '.join(words)}”.",
        hint=f"Try {EXAMPLE}, `/brief digest off`, `/brief digest now` or `/brief digest show`.",
    )
