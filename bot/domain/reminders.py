"""When the administrators are reminded of a deadline: pure rules on top of
:mod:`bot.domain.deadlines`, no database, no Slack (claiming and sending is
``bot.services.reminders``).

- A working day's reminders go out from the policy's ``[reminders] send_at`` (local time).
- Before a deadline: the schedule's warnings and the due day. After the last advance
  warning (for the certificate exam: the first working day of its month) the reminder
  repeats each working day until the deadline, as long as it is not marked Done.
- After a deadline that is not marked Done: one ``missed`` alert on the next working day.
- Snooze until tomorrow: nothing more of that occurrence before the next working day, and
  one reminder on it (the stage that day calls for) even if the schedule has none.
- Downtime: of the reminders that fell due while nothing ran, only the latest of an
  occurrence is sent, late, while it still matters (the deadline, or for the base
  declaration's opening the window's end, not yet passed); after its deadline it becomes
  the missed alert instead. Nothing before ``since`` is sent late or reported missed.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from bot.domain.calendar import WorkingCalendar
from bot.domain.deadlines import Deadline, DeadlineKind, Stage, reminder_schedule
from bot.domain.policy import Policy

Plan = list[tuple[date, Stage]]


def plan(deadline: Deadline, policy: Policy, calendar: WorkingCalendar) -> Plan:
    """Every reminder day of one occurrence if nobody presses Done or Snooze: the
    schedule, plus a repeat each working day between the last advance warning and the due
    day (for the certificate exam: through its month)."""
    schedule = reminder_schedule(deadline, policy, calendar)
    warnings = [day for day, stage in schedule if stage is Stage.WARNING]
    if not deadline.can_be_missed or not warnings:
        return schedule
    due_day = next(day for day, stage in schedule if stage is Stage.DUE_DAY)
    repeats = []
    day = calendar.add_working_days(max(warnings), 1)
    while day < due_day:
        repeats.append((day, Stage.WARNING))
        day = calendar.add_working_days(day, 1)
    return sorted(schedule + repeats, key=lambda entry: entry[0])


def moment(day: date, policy: Policy, tz: tzinfo) -> datetime:
    """When ``day``'s reminders go out: the policy's send time, in SI_TIMEZONE."""
    hour, minute = (int(part) for part in policy.reminder_send_at.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def matters_until(deadline: Deadline, window_ends: dict[str, date]) -> date:
    """The last day a reminder of ``deadline`` is worth sending late (missed alerts aside):
    for the base declaration's opening, the window's end."""
    if deadline.kind is DeadlineKind.BASE_DECLARATION_OPEN:
        return window_ends.get(deadline.period, deadline.due)
    return deadline.due


def pick(
    deadline: Deadline,
    days: Plan,
    *,
    snoozed_until: date | None,
    since: date,
    now: datetime,
    policy: Policy,
    tz: tzinfo,
    window_ends: dict[str, date],
) -> tuple[date, Stage] | None:
    """The one reminder of an occurrence to send at ``now``, if any: the latest that has
    come (see the module's rules)."""
    today = now.astimezone(tz).date()
    schedule = dict(days)
    if snoozed_until is not None and snoozed_until not in schedule:
        schedule[snoozed_until] = stage_on(snoozed_until, deadline, days)
    come = [
        (day, stage)
        for day, stage in schedule.items()
        if since <= day <= today
        and moment(day, policy, tz) <= now
        and (snoozed_until is None or day >= snoozed_until)
    ]
    if deadline.can_be_missed:
        if today > deadline.due:
            # After the deadline only the missed alert matters, and only for a deadline
            # that passed while reminders were running.
            come = [(d, s) for d, s in come if s is Stage.MISSED and deadline.due >= since]
        else:
            come = [(d, s) for d, s in come if s is not Stage.MISSED]
    elif today > matters_until(deadline, window_ends):
        return None
    return max(come, key=lambda entry: entry[0]) if come else None


def stage_on(day: date, deadline: Deadline, days: Plan) -> Stage:
    """The stage a reminder on ``day`` (a snoozed one) is at."""
    due_day = next(d for d, stage in days if stage is Stage.DUE_DAY)
    if deadline.can_be_missed and day > deadline.due:
        return Stage.MISSED
    return Stage.DUE_DAY if day >= due_day else Stage.WARNING
