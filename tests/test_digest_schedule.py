"""Digest schedules: local times across DST, half-hour zones, weekdays, and the command grammar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digest.schedule import (
    Subscription,
    due_slots,
    next_slot,
    parse_schedule_command,
    parse_time,
    parse_zone,
    slot_fate,
    slot_on,
    slots_between,
)
from bot.errors import InputError


def sub(tz: str, at: str = "08:00", cadence: str = "daily") -> Subscription:
    hour, minute = map(int, at.split(":"))
    return Subscription(team="T1", channel="C1", cadence=cadence, at=time(hour, minute), tz=tz)  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local_times(s: Subscription, start: datetime, days: int) -> list[str]:
    """Each slot in the range, shown as local wall time with its UTC offset."""
    slots = slots_between(s, start, start + timedelta(days=days))
    return [slot.at.astimezone(ZoneInfo(s.tz)).isoformat() for slot in slots]


# --- 08:00 stays 08:00 local across DST ------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # Europe/London springs forward on Sunday 29 March 2026 (GMT -> BST).
        (
            "Europe/London",
            utc(2026, 3, 27),
            [
                "2026-03-27T08:00:00+00:00",
                "2026-03-28T08:00:00+00:00",
                "2026-03-29T08:00:00+01:00",
                "2026-03-30T08:00:00+01:00",
            ],
        ),
        # ...and falls back on Sunday 25 October 2026.
        (
            "Europe/London",
            utc(2026, 10, 23),
            [
                "2026-10-23T08:00:00+01:00",
                "2026-10-24T08:00:00+01:00",
                "2026-10-25T08:00:00+00:00",
                "2026-10-26T08:00:00+00:00",
            ],
        ),
        # America/New_York: 8 March 2026 (EST -> EDT) and 1 November 2026 (EDT -> EST).
        (
            "America/New_York",
            utc(2026, 3, 6, 14),
            [
                "2026-03-07T08:00:00-05:00",
                "2026-03-08T08:00:00-04:00",
                "2026-03-09T08:00:00-04:00",
                "2026-03-10T08:00:00-04:00",
            ],
        ),
        (
            "America/New_York",
            utc(2026, 10, 30, 14),
            [
                "2026-10-31T08:00:00-04:00",
                "2026-11-01T08:00:00-05:00",
                "2026-11-02T08:00:00-05:00",
                "2026-11-03T08:00:00-05:00",
            ],
        ),
    ],
)
def test_local_time_is_kept_across_dst_changes(
    tz: str, start: datetime, expected: list[str]
) -> None:
    assert local_times(sub(tz), start, 4) == expected


def test_utc_instant_moves_by_the_offset_change() -> None:
    london = sub("Europe/London")
    assert next_slot(london, utc(2026, 3, 28, 9)) == utc(2026, 3, 29, 7)  # 08:00 BST
    assert next_slot(london, utc(2026, 10, 24, 9)) == utc(2026, 10, 25, 8)  # 08:00 GMT
    ny = sub("America/New_York")
    assert next_slot(ny, utc(2026, 3, 7, 14)) == utc(2026, 3, 8, 12)  # 08:00 EDT
    assert next_slot(ny, utc(2026, 10, 31, 13)) == utc(2026, 11, 1, 13)  # 08:00 EST


@pytest.mark.parametrize(
    ("tz", "at", "day", "expected_utc", "expected_local"),
    [
        # London 01:30 does not exist on 29 March 2026: clocks jump 01:00 GMT -> 02:00 BST.
        ("Europe/London", "01:30", date(2026, 3, 29), utc(2026, 3, 29, 1), "02:00"),
        # New York 02:30 does not exist on 8 March 2026: 02:00 EST -> 03:00 EDT.
        ("America/New_York", "02:30", date(2026, 3, 8), utc(2026, 3, 8, 7), "03:00"),
    ],
)
def test_a_time_in_the_spring_gap_runs_at_the_first_valid_instant_after(
    tz: str, at: str, day: date, expected_utc: datetime, expected_local: str
) -> None:
    slot = slot_on(sub(tz, at), day)
    assert slot.at == expected_utc
    assert f"{slot.at.astimezone(ZoneInfo(tz)):%H:%M}" == expected_local
    assert slot.key == f"T1:C1:{day.isoformat()}:{at}"  # identity keeps the asked-for time


@pytest.mark.parametrize(
    ("tz", "at", "day", "first_occurrence"),
    [
        # London 01:30 happens twice on 25 October 2026 (BST, then GMT): run once, at the first.
        ("Europe/London", "01:30", date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),
        # New York 01:30 happens twice on 1 November 2026 (EDT, then EST).
        ("America/New_York", "01:30", date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),
    ],
)
def test_an_ambiguous_autumn_time_runs_once_at_its_first_occurrence(
    tz: str, at: str, day: date, first_occurrence: datetime
) -> None:
    s = sub(tz, at)
    around = slots_between(
        s, first_occurrence - timedelta(hours=12), first_occurrence + timedelta(hours=12)
    )
    assert [slot.at for slot in around] == [first_occurrence]
    # Neither the second 01:30 nor anything else that night is a slot.
    second = first_occurrence + timedelta(hours=1)
    assert due_slots(s, now=second, last_run=first_occurrence, catch_up=timedelta(hours=2)) == []


def test_kolkata_half_hour_offset_and_no_dst() -> None:
    s = sub("Asia/Kolkata", "07:30")
    seen = [next_slot(s, utc(2026, 1, 1))]
    while (following := next_slot(s, seen[-1])) < utc(2027, 1, 1):
        seen.append(following)
    # 07:30 IST is 02:00 UTC every day of the year, DST dates elsewhere included.
    assert {(at.hour, at.minute) for at in seen} == {(2, 0)}
    assert len(seen) == 365
    assert next_slot(s, utc(2026, 3, 29, 2, 0)) == utc(2026, 3, 30, 2, 0)


def test_weekdays_skip_the_weekend() -> None:
    s = sub("Europe/London", "07:30", "weekdays")
    # Friday 6 March 2026 after the slot -> Monday 9 March.
    assert next_slot(s, utc(2026, 3, 6, 8)) == utc(2026, 3, 9, 7, 30)
    week = slots_between(s, utc(2026, 3, 6), utc(2026, 3, 13))
    assert [slot.local_date.strftime("%a") for slot in week] == ["Fri", "Mon", "Tue", "Wed", "Thu"]


def test_weekdays_in_a_zone_ahead_of_utc_use_the_local_day() -> None:
    # 07:30 Monday in Tokyo is 22:30 Sunday UTC: it is a weekday slot.
    s = Subscription(team="T1", channel="C1", cadence="weekdays", at=time(7, 30), tz="Asia/Tokyo")
    assert next_slot(s, utc(2026, 3, 7, 12)) == utc(2026, 3, 8, 22, 30)


def test_due_slots_and_fates() -> None:
    s = sub("Europe/London")
    catch = timedelta(minutes=120)
    slot_at = utc(2026, 3, 2, 8)
    # Due exactly at the slot, nothing before it.
    assert (
        due_slots(
            s, now=slot_at - timedelta(seconds=1), last_run=utc(2026, 3, 1, 9), catch_up=catch
        )
        == []
    )
    [slot] = due_slots(s, now=slot_at, last_run=utc(2026, 3, 1, 9), catch_up=catch)
    assert slot_fate(slot, now=slot_at, catch_up=catch) == "on_time"
    assert slot_fate(slot, now=slot_at + timedelta(minutes=90), catch_up=catch) == "late"
    assert slot_fate(slot, now=slot_at + timedelta(minutes=121), catch_up=catch) == "skip"
    # Already run: not due again.
    assert due_slots(s, now=slot_at + timedelta(hours=3), last_run=slot_at, catch_up=catch) == []


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_slot(sub("UTC"), datetime(2026, 3, 1, 8))


# --- the command grammar ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action", "cadence", "at", "tz"),
    [
        ("digest daily 08:00 Europe/London", "schedule", "daily", time(8), "Europe/London"),
        ("daily 8:00", "schedule", "daily", time(8), None),
        ("digest weekdays 07:30", "schedule", "weekdays", time(7, 30), None),
        (
            "digest weekdays 7:30am america/new_york",
            "schedule",
            "weekdays",
            time(7, 30),
            "America/New_York",
        ),
        ("digest daily 6 pm", "schedule", "daily", time(18), None),
        ("digest daily 12am UTC", "schedule", "daily", time(0), "UTC"),
        ("digest off", "off", None, None, None),
        ("digest now", "now", None, None, None),
        ("digest show", "show", None, None, None),
        ("digest", "show", None, None, None),
    ],
)
def test_parse_commands(
    text: str, action: str, cadence: str | None, at: time | None, tz: str | None
) -> None:
    cmd = parse_schedule_command(text)
    assert (cmd.action, cmd.cadence, cmd.at, cmd.tz) == (action, cadence, at, tz)


@pytest.mark.parametrize(
    "bad", ["25:00", "08:60", "8", "eight", "13pm", "0am", "08:00:00", "-1:00"]
)
def test_bad_times_say_how_to_write_one(bad: str) -> None:
    with pytest.raises(InputError) as err:
        parse_time(bad)
    assert "isn't a time of day" in str(err.value)
    assert "HH:MM" in str(err.value) and "digest daily 08:00" in str(err.value)


def test_unknown_zone_names_the_format_and_an_example() -> None:
    with pytest.raises(InputError) as err:
        parse_schedule_command("digest daily 08:00 Mars/Olympus")
    message = str(err.value)
    assert "Mars/Olympus" in message and "Europe/London" in message
    with pytest.raises(InputError):
        parse_zone("../../etc/passwd")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("digest daily", "what time"),
        ("digest hourly 08:00", "didn't understand"),
        ("digest daily 08:00 Europe/London extra", "didn't understand"),
        ("digest off now", "didn't understand"),
    ],
)
def test_other_mistakes_get_actionable_messages(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as err:
        parse_schedule_command(text)
    assert fragment in str(err.value)
    assert "/brief digest" in str(err.value)
