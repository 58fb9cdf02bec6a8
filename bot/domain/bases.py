"""The yearly contribution-base declaration (缴费基数申报): each person's base for a base
year, worked out from their wages, and why. Pure rules; the database is the service's.

For the base year that starts in ``year`` (the base period the policy says starts that
year: Shanghai's runs from July), a person's base is:

- ``previous_year``: enrolled before the previous calendar year began — the average monthly
  gross wage of the twelve months of that year;
- ``months_worked``: enrolled during the previous calendar year — the average of the months
  they worked in it, from the first *full* month (the month after the enrolment month: a
  hire month is rarely whole) to December or their leaving month;
- ``first_full_month``: enrolled later (or in December, with no full month before January) —
  the wage of their first full month.

The result is held to the new period's floor and ceiling (社会保险法 / 国办发〔2019〕13号:
60 % and 300 % of the local average wage) and rounded as the policy says. Every result
says which months were averaged, which had no wage recorded (the administrator resolves
those before declaring), and whether it was held to the floor or the ceiling. Sources:
DOMAIN.md §2 (the base and its bounds); the "first full month" and "months worked" rules
are the common local practice for new hires (check the local notice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.domain.errors import Refused
from bot.domain.months import YearMonth, month_range
from bot.domain.policy import HUNDRED, Contribution, MonthFigures, Policy


class BaseRule(StrEnum):
    PREVIOUS_YEAR = "previous_year"
    MONTHS_WORKED = "months_worked"
    FIRST_FULL_MONTH = "first_full_month"


class Held(StrEnum):
    NO = ""
    FLOOR = "floor"
    CEILING = "ceiling"


@dataclass(frozen=True)
class Employment:
    """What the roster says of one person, for their base."""

    enrolled_from: YearMonth
    leaving_month: YearMonth | None  # the last month insured, or None while enrolled


@dataclass(frozen=True)
class ComputedBase:
    rule: BaseRule
    months: tuple[YearMonth, ...]  # the months the rule takes
    averaged: tuple[YearMonth, ...]  # those with a wage recorded
    missing: tuple[YearMonth, ...]  # those without: to resolve before declaring
    average: Decimal | None  # of the averaged months; None when none was recorded
    base: Decimal | None  # held to the bounds and rounded; None when nothing to compute from
    held: Held
    figures: MonthFigures  # the new period's (``assumed``: not published yet)

    @property
    def complete(self) -> bool:
        return not self.missing and self.base is not None


def months_for(person: Employment, start: YearMonth) -> tuple[BaseRule, tuple[YearMonth, ...]]:
    """The rule that applies to ``person`` for the base year starting at ``start``, and the
    months of wages it takes."""
    previous = start.year - 1
    january, december = YearMonth(previous, 1), YearMonth(previous, 12)
    last = min(december, person.leaving_month) if person.leaving_month else december
    if person.enrolled_from < january:
        return BaseRule.PREVIOUS_YEAR, tuple(m for m in month_range(january, last) if m <= last)
    first_full = person.enrolled_from.plus(1)
    if person.enrolled_from <= december and first_full <= last:
        return BaseRule.MONTHS_WORKED, tuple(month_range(first_full, last))
    return BaseRule.FIRST_FULL_MONTH, (first_full,)


def compute_base(
    person: Employment,
    wages: Mapping[YearMonth, Decimal],
    start: YearMonth,
    figures: MonthFigures,
    rounding: Decimal = Decimal(1),
) -> ComputedBase:
    """The base of ``person`` for the base year starting at ``start``, from their monthly
    gross ``wages``, held to ``figures`` (the new period's) and rounded to ``rounding``."""
    rule, months = months_for(person, start)
    averaged = tuple(m for m in months if m in wages)
    missing = tuple(m for m in months if m not in wages)
    if not averaged:
        return ComputedBase(rule, months, (), missing, None, None, Held.NO, figures)
    average = sum((wages[m] for m in averaged), Decimal(0)) / len(averaged)
    held_to = figures.clamp(average)
    held = Held.NO if held_to == average else (Held.FLOOR if held_to > average else Held.CEILING)
    base = held_to.quantize(rounding, ROUND_HALF_UP)
    return ComputedBase(rule, months, averaged, missing, average, base, held, figures)


def back_pay_months(start: YearMonth, paid_through: YearMonth | None) -> tuple[YearMonth, ...]:
    """The months of the new base year already paid on the old base (the new figures came
    out after the year began): the difference is paid back or refunded for them (多退少补)."""
    if paid_through is None or paid_through < start:
        return ()
    return tuple(month_range(start, paid_through))


def base_year_start(policy: Policy, year: int) -> YearMonth:
    """The first month of the base year that starts in ``year``: the start of the policy's
    base period that begins that year. Refused ``bases_no_period`` when the policy file has
    none (the local notice is not out, or not entered yet: its floor and ceiling decide the
    bases, so nothing is computed on a guess)."""
    for period in policy.base_periods:
        if period.start.year == year:
            return period.start
    raise Refused("bases_no_period", year=year)


class Movement(StrEnum):
    RAISED = "raised"
    LOWERED = "lowered"
    SAME = "same"
    NEW = "new"  # no previous base on record


def movement(previous: Decimal | None, new: Decimal) -> Movement:
    if previous is None:
        return Movement.NEW
    if new > previous:
        return Movement.RAISED
    return Movement.LOWERED if new < previous else Movement.SAME


def is_outlier(previous: Decimal | None, new: Decimal, percent: Decimal) -> bool:
    """Whether ``new`` moved from ``previous`` by more than ``percent`` either way (a
    person with no previous base is not an outlier: there is nothing to compare)."""
    if not previous:
        return False
    return abs(new - previous) * HUNDRED > previous * percent


def monthly_cost(figures: MonthFigures, base: Decimal | None) -> tuple[Decimal, Decimal]:
    """The employer's and the employee's monthly contributions on ``base`` (0 for none)."""
    if base is None:
        return Decimal("0.00"), Decimal("0.00")
    shares = figures.contributions(base)
    return (
        sum((s.employer for s in shares), Decimal("0.00")),
        sum((s.employee for s in shares), Decimal("0.00")),
    )


@dataclass(frozen=True)
class BackPay:
    """The difference owed (positive) or refunded (negative) for the months of the base
    year already paid on the old base, per scheme: ``{scheme: (employer, employee)}``."""

    months: tuple[YearMonth, ...]
    by_scheme: dict[str, tuple[Decimal, Decimal]]

    @property
    def employer(self) -> Decimal:
        return sum((er for er, _ in self.by_scheme.values()), Decimal("0.00"))

    @property
    def employee(self) -> Decimal:
        return sum((ee for _, ee in self.by_scheme.values()), Decimal("0.00"))


def back_pay(new_base: Decimal, paid: Sequence[tuple[MonthFigures, Sequence[Contribution]]]) -> BackPay:
    """多退少补: for each month paid on the old base (its figures and the shares paid),
    each scheme's share on ``new_base`` less what was paid — months × (new − old) × rate,
    rounded per month and side as each month's contributions are."""
    by_scheme: dict[str, tuple[Decimal, Decimal]] = {}
    for figures, was in paid:
        old = {c.scheme: c for c in was}
        for share in figures.contributions(new_base):
            before = old.get(share.scheme, Contribution(share.scheme, Decimal(0), Decimal(0)))
            er, ee = by_scheme.get(share.scheme, (Decimal("0.00"), Decimal("0.00")))
            by_scheme[share.scheme] = (
                er + share.employer - before.employer,
                ee + share.employee - before.employee,
            )
    return BackPay(tuple(f.month for f, _ in paid), by_scheme)
