"""What every service needs besides a session: the policy, the time zone, who administers."""

from __future__ import annotations

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
    admins: tuple[str, ...]
    admin_channel: str = ""

    def today(self, now: datetime) -> date:
        """The local date in SI_TIMEZONE at ``now``."""
        return now.astimezone(self.tz).date()

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins
