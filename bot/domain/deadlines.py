"""The administrator's dated duties, worked out from the policy and the working calendar.

Every occurrence is a :class:`Deadline` with a stable key, ``kind:period`` (``payment:2026-12``,
``certificate_exam:2026``). Dates are local dates: the caller turns its ``SI_TIMEZONE``
clock into a date first.

The kinds, for period P:

- ``change_cutoff`` (monthly, P = ``YYYY-MM``): last day the month's insured changes are
  accepted, day ``change_cutoff_day``, moved off non-working days by ``holiday_shift``.
- ``payment`` (monthly): declaration and payment, day ``payment_day``, moved likewise.
- ``base_declaration_open`` (yearly, P = ``YYYY``): the base-declaration window opens on
  ``window_start``. An opening always moves *forward* to the first working day it is
  open, whatever ``holiday_shift`` says: moving it earlier would announce a window that
  has not opened yet.
- ``base_declaration_close`` (yearly): the window's last day, ``window_end``, moved by
  ``holiday_shift``. A window whose end (MM-DD) is before its start ends the next year.
- ``certificate_exam`` (yearly): the registration certificate's annual examination must
  be done within ``annual_exam_month``; due on the month's last day, moved by
  ``holiday_shift``.

Reminder stages (:func:`reminder_schedule`), always on working days:

- ``warning``: each of the ``warn_working_days`` working days before the due day (for the
  certificate exam instead: the first working day of the month before the exam month and
  the first working day of the exam month);
- ``due_day``: the due date (when ``holiday_shift = "keep"`` leaves it on a non-working
  day: the last working day before it);
- ``missed``: the first working day after the due date, for the engine to send only when
  the occurrence is still unhandled. An opening cannot be missed and has no such stage.
"""

from __future__ import annotations

import calendar as _gregorian
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from bot.domain.calendar import WorkingCalendar
from bot.domain.months import YearMonth
from bot.domain.policy import Policy, PolicyError

_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class DeadlineKind(StrEnum):
    CHANGE_CUTOFF = "change_cutoff"
    PAYMENT = "payment"
    BASE_DECLARATION_OPEN = "base_declaration_open"
    BASE_DECLARATION_CLOSE = "base_declaration_close"
    CERTIFICATE_EXAM = "certificate_exam"
    # A certificate or material of the unit's registry (its examination or expiry date).
    DOCUMENT = "document"


class Stage(StrEnum):
    WARNING = "warning"
    DUE_DAY = "due_day"
    MISSED = "missed"


_KIND_ORDER = {kind: i for i, kind in enumerate(DeadlineKind)}


@dataclass(frozen=True)
class Deadline:
    kind: DeadlineKind
    period: str  # "2026-12" for a monthly kind, "2026" for a yearly one
    due: date  # after moving off a non-working day
    nominal: date  # as the policy states it
    moved: bool
    calendar_covered: bool  # False: computed without the year's public holidays

    @property
    def key(self) -> str:
        """The occurrence's stable key, ``kind:period``."""
        return f"{self.kind}:{self.period}"

    @property
    def can_be_missed(self) -> bool:
        return self.kind is not DeadlineKind.BASE_DECLARATION_OPEN

    def _sort_key(self) -> tuple[date, int, str]:
        return (self.due, _KIND_ORDER[self.kind], self.period)


def reminder_key(deadline: Deadline, stage: Stage, day: date) -> str:
    """A stable key for one reminder, to claim it once (``payment:2026-02:warning:2026-02-20``)."""
    return f"{deadline.key}:{stage}:{day.isoformat()}"


# -- occurrences ----------------------------------------------------------------------------


def deadlines_for_year(policy: Policy, calendar: WorkingCalendar, year: int) -> list[Deadline]:
    """Every occurrence whose *period* is in ``year`` (12 + 12 monthly, 3 yearly), by due
    date. A due date may fall outside the year (a December deadline moved forward, a
    declaration window that ends in January)."""
    return list(_year_deadlines(_Rules.of(policy), calendar, year))


def next_deadlines(policy: Policy, calendar: WorkingCalendar, today: date, n: int) -> list[Deadline]:
    """The ``n`` occurrences due soonest from ``today`` on (``today`` included)."""
    rules = _Rules.of(policy)
    found: list[Deadline] = []
    year = today.year - 1  # earlier periods are all due before today
    while n > 0:
        found.extend(d for d in _year_deadlines(rules, calendar, year) if d.due >= today)
        found.sort(key=Deadline._sort_key)
        year += 1
        # Nothing of a later period is due before December of the year before it.
        if len(found) >= n and found[n - 1].due < date(year - 1, 12, 1):
            break
    return found[:n]


# -- reminders ------------------------------------------------------------------------------


def reminder_schedule(
    deadline: Deadline, policy: Policy, calendar: WorkingCalendar
) -> list[tuple[date, Stage]]:
    """Every reminder of one occurrence, by day: warnings, the due day, then ``missed``."""
    return list(_schedule(_Rules.of(policy), calendar, deadline))


def is_stale(last_activity: date, today: date, policy: Policy, calendar: WorkingCalendar) -> bool:
    """Whether a request untouched since ``last_activity`` has waited the policy's
    ``stale_after_working_days`` working days (counted after that day, up to ``today``)."""
    return calendar.working_days_between(last_activity, today) >= policy.stale_after_working_days


# -- the rules, cached per (rules, calendar, year) ---------------------------------------------


@dataclass(frozen=True)
class _Rules:
    """The policy fields the deadlines depend on: hashable, so results can be cached."""

    change_cutoff_day: int
    payment_day: int
    holiday_shift: str
    warn_working_days: int
    window_start: str
    window_end: str
    exam_month: int

    @classmethod
    def of(cls, policy: Policy) -> _Rules:
        return cls(
            policy.change_cutoff_day,
            policy.payment_day,
            policy.holiday_shift,
            max(0, policy.warn_working_days),
            policy.base_declaration_window_start,
            policy.base_declaration_window_end,
            policy.certificate_exam_month,
        )


@lru_cache(maxsize=64)
def _year_deadlines(rules: _Rules, calendar: WorkingCalendar, year: int) -> tuple[Deadline, ...]:
    def make(kind: DeadlineKind, period: str, nominal: date, rule: str) -> Deadline:
        due = calendar.shift(nominal, rule)
        covered = calendar.covered(nominal.year) and calendar.covered(due.year)
        return Deadline(kind, period, due, nominal, due != nominal, covered)

    found = []
    for month in range(1, 13):
        period = str(YearMonth(year, month))
        found.append(
            make(
                DeadlineKind.CHANGE_CUTOFF,
                period,
                date(year, month, rules.change_cutoff_day),
                rules.holiday_shift,
            )
        )
        found.append(
            make(DeadlineKind.PAYMENT, period, date(year, month, rules.payment_day), rules.holiday_shift)
        )
    start = _month_day(rules.window_start, year, "base_declaration.window_start")
    end = _month_day(rules.window_end, year, "base_declaration.window_end")
    if end < start:
        end = _month_day(rules.window_end, year + 1, "base_declaration.window_end")
    found.append(make(DeadlineKind.BASE_DECLARATION_OPEN, str(year), start, "next_working_day"))
    found.append(make(DeadlineKind.BASE_DECLARATION_CLOSE, str(year), end, rules.holiday_shift))
    exam_end = date(year, rules.exam_month, _gregorian.monthrange(year, rules.exam_month)[1])
    found.append(make(DeadlineKind.CERTIFICATE_EXAM, str(year), exam_end, rules.holiday_shift))
    return tuple(sorted(found, key=Deadline._sort_key))


def document_deadline(document_id: int, due_on: date, policy: Policy, calendar: WorkingCalendar) -> Deadline:
    """The occurrence of one registry document's examination or expiry date, moved off a
    non-working day as the policy says; its period names the document and the date."""
    due = calendar.shift(due_on, policy.holiday_shift)
    covered = calendar.covered(due_on.year) and calendar.covered(due.year)
    return Deadline(
        DeadlineKind.DOCUMENT, f"{document_id}@{due_on.isoformat()}", due, due_on, due != due_on, covered
    )


def document_id(deadline: Deadline) -> int:
    return int(deadline.period.partition("@")[0])


def _schedule(rules: _Rules, calendar: WorkingCalendar, deadline: Deadline) -> list[tuple[date, Stage]]:
    due_day = calendar.previous_working_day(deadline.due)
    if deadline.kind is DeadlineKind.DOCUMENT:
        # A month ahead (time to gather what the center asks for), then the usual warnings.
        month_ahead = calendar.next_working_day(deadline.due - timedelta(days=30))
        warnings = [month_ahead] + [
            calendar.add_working_days(due_day, -k) for k in range(rules.warn_working_days, 0, -1)
        ]
    elif deadline.kind is DeadlineKind.CERTIFICATE_EXAM:
        exam = YearMonth(int(deadline.period), rules.exam_month)
        before = exam.plus(-1)
        warnings = [
            calendar.first_working_day(before.year, before.month),
            calendar.first_working_day(exam.year, exam.month),
        ]
    else:
        warnings = [calendar.add_working_days(due_day, -k) for k in range(rules.warn_working_days, 0, -1)]
    schedule = [(day, Stage.WARNING) for day in sorted(set(warnings)) if day < due_day]
    schedule.append((due_day, Stage.DUE_DAY))
    if deadline.can_be_missed:
        schedule.append((calendar.add_working_days(deadline.due, 1), Stage.MISSED))
    return schedule


def _month_day(text: str, year: int, where: str) -> date:
    """``"MM-DD"`` in ``year``; 29 February becomes the 28th in a common year."""
    m = _MONTH_DAY.match(text.strip())
    if not m:
        raise PolicyError(f"{where}: expected month-day like 07-01, got {text!r}")
    month, day = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= _gregorian.monthrange(2000, month)[1]:
        raise PolicyError(f"{where}: not a day of the year: {text!r}")
    return date(year, month, min(day, _gregorian.monthrange(year, month)[1]))
