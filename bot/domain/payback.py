"""Payback (补缴) estimate, month by month: each month's base × that month's rates, plus
the late fee.

Each month takes the figures of its own base period (``Policy.period_for``): rates and
bounds may differ from one base year to the next. A single entered base that falls outside
one month's bounds is held to them for that month (the center insures on the floor or the
ceiling, whatever the wage), and the estimate says which months were held and why; a base
outside the bounds of every month is refused by the form (``requests.parse_payback``).

The late fee is 0.05 % a day (社会保险法 Art. 86) on each month's total from the day after
that month's *effective* payment deadline — the policy's ``payment_day`` moved off a
weekend or holiday (税收征收管理法实施细则 Art. 109) — to the day of the estimate. It is
the employer's to pay and may not be passed on to the employee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.calendar import WorkingCalendar
from bot.domain.deadlines import payment_due
from bot.domain.months import YearMonth, month_range
from bot.domain.policy import HUNDRED, BasePeriod, Policy

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PaybackMonth:
    """One month of the estimate."""

    month: YearMonth
    period: BasePeriod  # the base period whose figures were used
    assumed: bool  # no period covers the month: the nearest known figures were used
    base: Decimal  # the base used: the entered one, held to the period's bounds
    held: str  # "" when the entered base was used as is, else "floor" or "ceiling"
    employer_rate: Decimal
    employee_rate: Decimal
    employer: Decimal  # the month's contributions, rounded per scheme and side
    employee: Decimal
    due: date  # the effective payment deadline
    late_days: int


@dataclass(frozen=True)
class PaybackSegment:
    """Consecutive months computed the same way (same period, rates and base): what the
    estimate's words list, one line each."""

    first: YearMonth
    last: YearMonth
    period: BasePeriod
    assumed: bool
    base: Decimal
    held: str
    employer_rate: Decimal
    employee_rate: Decimal

    @property
    def months(self) -> int:
        return self.last.months_since(self.first) + 1


@dataclass(frozen=True)
class PaybackEstimate:
    months: int
    employer_contributions: Decimal
    employee_contributions: Decimal
    late_fee: Decimal
    late_days: int  # days late, added up over the months
    detail: tuple[PaybackMonth, ...] = ()

    @property
    def employer_total(self) -> Decimal:
        return self.employer_contributions + self.late_fee

    @property
    def total(self) -> Decimal:
        return self.employer_total + self.employee_contributions

    @property
    def assumed(self) -> bool:
        """Some month had no base period: its figures are the nearest known ones."""
        return any(m.assumed for m in self.detail)

    @property
    def unverified(self) -> tuple[BasePeriod, ...]:
        """The periods used whose figures are marked to be checked against the notice."""
        return tuple(dict.fromkeys(m.period for m in self.detail if not m.period.verified))

    @property
    def segments(self) -> tuple[PaybackSegment, ...]:
        found: list[PaybackSegment] = []
        for m in self.detail:
            last = found[-1] if found else None
            same = last is not None and (
                last.period,
                last.assumed,
                last.base,
                last.held,
                last.employer_rate,
                last.employee_rate,
            ) == (m.period, m.assumed, m.base, m.held, m.employer_rate, m.employee_rate)
            if last is not None and same and last.last.plus(1) == m.month:
                found[-1] = PaybackSegment(
                    last.first, m.month, m.period, m.assumed, m.base, m.held, m.employer_rate, m.employee_rate
                )
            else:
                found.append(
                    PaybackSegment(
                        m.month,
                        m.month,
                        m.period,
                        m.assumed,
                        m.base,
                        m.held,
                        m.employer_rate,
                        m.employee_rate,
                    )
                )
        return tuple(found)


def estimate_payback(
    first: YearMonth,
    last: YearMonth,
    monthly_base: Decimal,
    policy: Policy,
    today: date,
    calendar: WorkingCalendar,
) -> PaybackEstimate:
    """The estimate as of ``today`` for the months ``first`` to ``last`` on ``monthly_base``.
    ``calendar`` moves each month's payment deadline off holidays, as the reminders do."""
    daily = policy.late_fee_daily_percent / HUNDRED
    detail: list[PaybackMonth] = []
    late_fee = Decimal(0)
    for month in month_range(first, last):
        figures = policy.period_for(month)
        base = figures.clamp(monthly_base)
        held = "" if base == monthly_base else ("floor" if base > monthly_base else "ceiling")
        shares = figures.contributions(base)
        employer = sum((c.employer for c in shares), Decimal(0))
        employee = sum((c.employee for c in shares), Decimal(0))
        due = payment_due(month, policy, calendar)
        late_days = max(0, (today - due).days)  # counted from the day after the deadline
        late_fee += (employer + employee) * daily * late_days
        detail.append(
            PaybackMonth(
                month,
                figures.period,
                figures.assumed,
                base,
                held,
                figures.employer_rate,
                figures.employee_rate,
                employer,
                employee,
                due,
                late_days,
            )
        )
    return PaybackEstimate(
        months=len(detail),
        employer_contributions=sum((m.employer for m in detail), Decimal(0)).quantize(CENT, ROUND_HALF_UP),
        employee_contributions=sum((m.employee for m in detail), Decimal(0)).quantize(CENT, ROUND_HALF_UP),
        late_fee=late_fee.quantize(CENT, ROUND_HALF_UP),
        late_days=sum(m.late_days for m in detail),
        detail=tuple(detail),
    )
