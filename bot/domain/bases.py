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

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.domain.months import YearMonth, month_range
from bot.domain.policy import MonthFigures


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
