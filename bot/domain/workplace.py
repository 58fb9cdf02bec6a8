"""What every service needs besides a session: the policy, the working calendar, the
time zone and where the administrators' channel is. A plain value, built once per
runtime; who the administrators are is asked of the database in the caller's session
(``bot.services.roles``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.calendar import WorkingCalendar
from bot.domain.policy import Policy


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Workplace:
    policy: Policy
    tz: ZoneInfo
    calendar: WorkingCalendar
    admin_channel: str = ""

    @classmethod
    def of(cls, policy: Policy, tz: ZoneInfo, admin_channel: str = "") -> Workplace:
        """A workplace with the working calendar of ``policy``'s holidays file."""
        return cls(policy, tz, WorkingCalendar.from_policy(policy), admin_channel)

    def today(self, now: datetime) -> date:
        """The local date in SI_TIMEZONE at ``now``."""
        return now.astimezone(self.tz).date()
