"""How much one message, one user and one channel may ask for.

One message with 300 links made 300 jobs, 300 fetches and 300 placeholders. Two limits
now stand between intake and the queue, and neither drops anything silently:

- a per-message cap (BRIEFBOT_MAX_LINKS_PER_MESSAGE): the first N links are briefed and
  a note in the thread says how many were skipped;
- a rate per user and per channel (BRIEFBOT_USER_BRIEFS_PER_HOUR,
  BRIEFBOT_CHANNEL_BRIEFS_PER_HOUR), counted from the jobs table itself, so it holds
  across restarts; whoever asked is told privately what was not briefed and why.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.config import Settings
from bot.slack.jobs import NewJob, briefs_asked, known_ids

WINDOW_SECONDS = 3600.0
#: Job kinds that each stand for one brief; a /brief command stands for its sources.
_ONE_BRIEF_KINDS = ("brief", "thread")


def cap_text(total: int, cap: int) -> str:
    """The thread note when a message holds more links than the per-message cap."""
    skipped = total - cap
    return (
        f"This message has {total} links: I'm briefing the first {cap} and skipped the other "
        f"{skipped} (at most {cap} links per message, BRIEFBOT_MAX_LINKS_PER_MESSAGE). "
        "Post the others in a new message, a few at a time."
    )


def rate_text(*, skipped: int, limit: int, who: str) -> str:
    """The private note when a user or channel reached its hourly rate."""
    scope = "USER" if who == "you" else "CHANNEL"
    setting = f"BRIEFBOT_{scope}_BRIEFS_PER_HOUR"
    subject = "You have" if who == "you" else "This channel has"
    links = "link was" if skipped == 1 else "links were"
    return (
        f"{subject} reached the limit of {limit} briefs per hour ({setting}), so {skipped} "
        f"{links} not briefed. Try again later, or ask an admin to raise {setting}."
    )


def weight(job: NewJob) -> int:
    """How many briefs a job stands for (a notice stands for none)."""
    if job.kind in _ONE_BRIEF_KINDS:
        return 1
    if job.kind == "command":
        return len(job.payload.get("sources") or [])
    return 0


@dataclass(frozen=True)
class Admission:
    """What to enqueue, and what to tell whoever asked about what was not."""

    jobs: list[NewJob]
    refused: int = 0  # briefs refused by the hourly rate
    note: str | None = None  # the private message about them


class JobRate:
    """Briefs asked for per user and per channel in the last hour, from the jobs table."""

    def __init__(
        self, conn: sqlite3.Connection, *, per_user: int, per_channel: int,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.conn, self.per_user, self.per_channel, self.clock = (
            conn, per_user, per_channel, clock,
        )  # fmt: skip

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection, settings: Settings) -> JobRate:
        return cls(
            conn,
            per_user=settings.user_briefs_per_hour,
            per_channel=settings.channel_briefs_per_hour,
        )

    def _used(self, field_name: str, value: str, team: str) -> int:
        since = self.clock() - WINDOW_SECONDS
        return briefs_asked(self.conn, field=field_name, value=value, team=team, since=since)

    def _known(self, jobs: Sequence[NewJob]) -> set[str]:
        return known_ids(self.conn, [j.id for j in jobs])

    def admit(
        self, jobs: Sequence[NewJob], *, team: str, user: str | None, channel: str
    ) -> Admission:
        """Keep the jobs that fit the user's and the channel's hourly rate, oldest first.

        Jobs already stored (Slack retrying an event) pass untouched: they cost nothing
        new, and refusing them would send a false "not briefed" note.
        """
        known = self._known(jobs)
        room_user = self.per_user - self._used("user", user, team) if user else None
        room_channel = self.per_channel - self._used("channel", channel, team)
        kept: list[NewJob] = []
        refused, who, limit = 0, "this channel", self.per_channel
        for job in jobs:
            cost = 0 if job.id in known else weight(job)
            room = room_channel if room_user is None else min(room_user, room_channel)
            if cost > room:
                if room_user is not None and room_user <= room_channel:
                    who, limit = "you", self.per_user
                refused += cost - max(room, 0)
                if job.kind != "command" or room <= 0:
                    continue
                # A /brief with more sources than room: brief the first ones.
                sources = job.payload["sources"][:room]
                job, cost = replace(job, payload={**job.payload, "sources": sources}), room
            kept.append(job)
            room_channel -= cost
            if room_user is not None:
                room_user -= cost
        if refused and not any(weight(j) for j in kept):
            kept = [j for j in kept if j.id in known]  # no "skipped links" note for nothing
        note = rate_text(skipped=refused, limit=limit, who=who) if refused else None
        return Admission(jobs=kept, refused=refused, note=note)
