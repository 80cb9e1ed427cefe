"""Who may use the bot: an optional allow-list of channels and users, and a daily budget.

Pure rules over settings and the store's usage log, so the Slack listeners and the
brief service only ask a question and show the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from bot.config import Settings
from bot.errors import QuotaError
from bot.store import Store

CHANNEL_REFUSED = (
    "Briefbot isn't enabled in this channel; ask an admin to add it to BRIEFBOT_ALLOWED_CHANNELS."
)
USER_REFUSED = (
    "Briefbot isn't enabled for you; ask an admin to add your Slack user ID "
    "to BRIEFBOT_ALLOWED_USERS."
)
#: How an offline brief written because of the budget is labelled ("Written offline because ...").
BUDGET_FALLBACK_REASON = "the daily token budget is reached"

_SEPARATORS = re.compile(r"[\s,;]+")


@lru_cache(maxsize=16)
def _ids(value: str) -> frozenset[str]:
    # Slack IDs are upper case; a pasted list may hold spaces or lower case.
    return frozenset(part.upper() for part in _SEPARATORS.split(value or "") if part)


@dataclass(frozen=True)
class AccessList:
    """The allow-lists; an empty list lets everyone in."""

    channels: frozenset[str]
    users: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessList:
        return cls(_ids(settings.allowed_channels), _ids(settings.allowed_users))

    def channel_allowed(self, channel: str | None) -> bool:
        return not self.channels or (channel or "").upper() in self.channels

    def user_allowed(self, user: str | None) -> bool:
        return not self.users or (user or "").upper() in self.users

    def refusal(self, *, user: str | None, channel: str | None) -> str | None:
        """Why this user may not ask here (a message to show them), or None if they may.

        ``channel=None`` checks the user only (e.g. ``/brief forget`` works in any channel).
        """
        if channel is not None and not self.channel_allowed(channel):
            return CHANNEL_REFUSED
        if not self.user_allowed(user):
            return USER_REFUSED
        return None


class BudgetExceeded(QuotaError):
    """The workspace's daily token budget is spent; the offline engine may still answer."""

    code = "budget"
    fallback_reason = BUDGET_FALLBACK_REASON

    def __init__(self, budget: int) -> None:
        super().__init__(
            f"This workspace has used its daily token budget ({budget:,} tokens); "
            "briefs resume at 00:00 UTC, or ask an admin to raise BRIEFBOT_DAILY_TOKEN_BUDGET."
        )
        self.budget = budget


def start_of_utc_day(now: datetime | None = None) -> datetime:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def tokens_used_today(store: Store, team: str, *, now: datetime | None = None) -> int:
    """Model tokens (in + out) the team's briefs and questions used since 00:00 UTC."""
    since = start_of_utc_day(now)
    usage = store.usage_summary(team=team, since=since)
    questions = store.question_tokens(team=team, since=since)
    return int(usage["tokens_in"]) + int(usage["tokens_out"]) + questions


def check_budget(
    settings: Settings, store: Store | None, team: str | None, *, now: datetime | None = None
) -> None:
    """Raise :class:`BudgetExceeded` when the team has spent its daily token budget.

    Checked before each model brief: briefs already running may take a team slightly
    past it, never further than the briefs in flight.
    """
    budget = settings.daily_token_budget
    if budget <= 0 or store is None or not team:
        return
    if tokens_used_today(store, team, now=now) >= budget:
        raise BudgetExceeded(budget)
