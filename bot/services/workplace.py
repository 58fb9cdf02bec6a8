"""What every service needs besides a session: the policy, the time zone, who administers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.policy import Policy


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Workplace:
    policy: Policy
    tz: ZoneInfo
    # The filed administrators: a live AdminRoster (bot/services/filing.py) in the app, any
    # sequence of user ids elsewhere (tests, tools).
    admins: Sequence[str]
    admin_channel: str = ""

    def today(self, now: datetime) -> date:
        """The local date in SI_TIMEZONE at ``now``."""
        return now.astimezone(self.tz).date()

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins

    def admin_targets(self, *, confidential: bool) -> list[tuple[str, str]]:
        """Where the administrators are told: the admin channel, or each one privately when
        there is none or the matter is confidential (complaints)."""
        if self.admin_channel and not confidential:
            return [("channel", self.admin_channel)]
        return [("user", admin) for admin in self.admins]
