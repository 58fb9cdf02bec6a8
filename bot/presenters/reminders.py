"""What a reminder's template shows: plain, JSON-safe values (dates, counts, request ids,
policy figures), stored with the reminder so that Done and Snooze can redraw it. Never a
name, an ID number or a wage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.domain.audience import Audience
from bot.domain.deadlines import DeadlineKind, deadlines_for_year, late_fee_from
from bot.domain.ledger import late_fee_per_day
from bot.domain.months import YearMonth
from bot.domain.requests import RequestKind
from bot.domain.workplace import Workplace
from bot.storage.models import ReminderOccurrence, UnitDocument

if TYPE_CHECKING:
    from bot.services.reminders import DueReminder

DIGEST = "stale_digest"
MAX_IDS = 30  # request ids listed in one reminder; the rest are counted


@dataclass(frozen=True)
class ReminderData:
    """What the database says that a reminder shows (bot.services.reminders.reminder_data)."""

    approved: int = 0  # a cut-off: changes on the month's form
    waiting: int = 0  # a cut-off: changes still waiting for approval
    waiting_ids: list[str] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)  # the digest's requests
    document: UnitDocument | None = None  # a registry document's reminder
    total: Decimal | None = None  # a payment: the month's total on the ledger
    people: int = 0  # a payment: the people insured in the month
    assumed: bool = False  # a payment: computed on the nearest known figures


def reminder_params(reminder: DueReminder, workplace: Workplace, now: datetime, data: ReminderData) -> dict:
    """The values a reminder's template shows, as of ``now``."""
    today = workplace.today(now)
    policy, calendar = workplace.policy, workplace.calendar
    years = {reminder.scheduled_on.year, reminder.due.year}  # the dates this reminder shows
    if reminder.deadline is not None:
        years.add(reminder.deadline.nominal.year)
    params: dict[str, Any] = {
        "occurrence": reminder.occurrence,
        "kind": reminder.kind,
        "period": reminder.period,
        "stage": reminder.stage,
        "scheduled_on": reminder.scheduled_on.isoformat(),
        "today": today.isoformat(),
        "due": reminder.due.isoformat(),
        "late": reminder.late,
        "send_at": policy.reminder_send_at,
        "uncovered_years": sorted(y for y in years if not calendar.covered(y)),
        "holidays_file": calendar.label,
    }
    if reminder.kind == DIGEST:
        rows = data.stale
        params.update(rows=rows[:MAX_IDS], total=len(rows), stale_after=policy.stale_after_working_days)
        return params
    deadline = reminder.deadline
    assert deadline is not None
    params.update(
        nominal=deadline.nominal.isoformat(),
        due_weekday=deadline.due.weekday(),
        nominal_weekday=deadline.nominal.weekday(),
        moved=deadline.moved,
        working_days_left=max(0, calendar.working_days_between(today, deadline.due)),
    )
    if deadline.kind is DeadlineKind.CHANGE_CUTOFF:
        params.update(
            approved=data.approved,
            waiting=data.waiting,
            waiting_ids=data.waiting_ids[:MAX_IDS],
            next_month=str(YearMonth.parse(deadline.period).plus(1)),
        )
    elif deadline.kind is DeadlineKind.PAYMENT:
        percent = policy.late_fee_daily_percent
        params.update(
            late_fee_percent=str(percent),
            late_fee_per_10000=str((Decimal(10000) * percent / 100).quantize(Decimal("0.01"))),
            late_fee_source=policy.late_fee_source,
            # The day after the deadline as moved off a holiday: never a day still on time.
            late_from=late_fee_from(YearMonth.parse(deadline.period), policy, calendar).isoformat(),
        )
        if data.total is not None:
            params.update(
                total=str(data.total),
                per_day=str(late_fee_per_day(data.total, policy)),
                people=data.people,
                assumed=data.assumed,
            )
    elif deadline.kind in (DeadlineKind.BASE_DECLARATION_OPEN, DeadlineKind.BASE_DECLARATION_CLOSE):
        window = {d.kind: d.due for d in deadlines_for_year(policy, calendar, int(deadline.period))}
        params.update(
            window_start=window[DeadlineKind.BASE_DECLARATION_OPEN].isoformat(),
            window_end=window[DeadlineKind.BASE_DECLARATION_CLOSE].isoformat(),
        )
    elif deadline.kind is DeadlineKind.CERTIFICATE_EXAM:
        params.update(exam_month=str(YearMonth(int(deadline.period), policy.certificate_exam_month)))
    elif deadline.kind is DeadlineKind.DOCUMENT and data.document is not None:
        params.update(
            name=data.document.name,
            location=data.document.location,
            holder=data.document.holder_id,
            due_kind=data.document.due_kind or "exam",
        )
    return params


def for_audience(params: dict[str, Any], audience: Audience) -> dict[str, Any] | None:
    """A reminder as this audience may see it: complaints are confidential, so a channel's
    digest counts them without their ids."""
    if audience is Audience.PRIVATE or params["kind"] != DIGEST:
        return params
    rows = [row for row in params["rows"] if row["kind"] != RequestKind.COMPLAINT]
    confidential = len(params["rows"]) - len(rows)
    return {**params, "rows": rows[:MAX_IDS], "total": len(rows), "confidential": confidential}


def live_params(params: dict[str, Any], occurrence: ReminderOccurrence | None, tz: tzinfo) -> dict[str, Any]:
    """A reminder's values with its occurrence's state now (handled, snoozed)."""
    if occurrence is None:
        return params
    handled_at = occurrence.handled_at.astimezone(tz) if occurrence.handled_at else None
    return {
        **params,
        "handled_by": occurrence.handled_by,
        "handled_at": handled_at.strftime("%Y-%m-%d %H:%M") if handled_at else None,
        "snoozed_until": occurrence.snoozed_until.isoformat() if occurrence.snoozed_until else None,
        "snoozed_by": occurrence.snoozed_by,
    }
