"""Statutory retirement age under the gradual reform, and flexible retirement.

全国人大常委会关于实施渐进式延迟法定退休年龄的决定 (adopted 2024-09-13, in force
2025-01-01) and the State Council's 办法 attached to it:

- men, original age 60 → 63; born from January 1965 on, one month later for each 4 months
  of birth, at most 36 months;
- women with original age 55 (cadres, professionals) → 58; from January 1970, 1 per 4, at
  most 36;
- women with original age 50 (workers) → 55; from January 1975, 1 per 2, at most 60.

The statutory age is reached in the month of birth plus that age: born January 1965 →
60 years 1 month → February 2025, as in the official explanation. ``retirement_month`` is
that month (retirement takes effect in it; the pension is paid from the month after
approval, which is the center's business, not ours).

Minimum pension contribution: 15 years for retirements up to 2029, then 6 months more
each year from 2030 until 20 years in 2039.

Flexible retirement (《实施弹性退休制度暂行办法》, in force 2025-01-01): having met the
minimum years, a worker may retire up to 3 years before the statutory age but never before
the original age, asking in writing at least 3 months ahead (:data:`EARLY_NOTICE_MONTHS`);
and, with the employer's agreement, up to 3 years after it: employer and worker agree the
new date in writing at least 1 month before the statutory date
(:data:`DEFERRAL_NOTICE_MONTHS`), and it cannot be agreed or extended once that date has
passed.

Functions return codes, not sentences (see ``bot/domain/errors.py``).
"""

from __future__ import annotations

import calendar as _gregorian
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from bot.domain.months import YearMonth

FLEXIBLE_MAX_MONTHS = 36  # earlier or later than the statutory age
EARLY_NOTICE_MONTHS = 3  # written request ahead of an early retirement
DEFERRAL_NOTICE_MONTHS = 1  # written agreement before the statutory date, for a deferral
REFORM_START = YearMonth(2025, 1)


class Category(StrEnum):
    MALE = "male"
    FEMALE_55 = "female_55"  # women cadres / professionals, original age 55
    FEMALE_50 = "female_50"  # women workers, original age 50


@dataclass(frozen=True)
class _Rule:
    original_age: int
    first_delayed: YearMonth  # first birth month with a delay
    birth_months_per_step: int
    max_delay: int


_RULES = {
    Category.MALE: _Rule(60, YearMonth(1965, 1), 4, 36),
    Category.FEMALE_55: _Rule(55, YearMonth(1970, 1), 4, 36),
    Category.FEMALE_50: _Rule(50, YearMonth(1975, 1), 2, 60),
}


@dataclass(frozen=True)
class Retirement:
    category: Category
    birth: date
    original_age: int  # years
    delay_months: int
    age_years: int  # statutory age = age_years years + age_months months
    age_months: int
    retirement_month: YearMonth  # the month the statutory age is reached
    reached_on: date  # the day it is reached (the birthday's day, or the month's last day)

    @property
    def age_in_months(self) -> int:
        return self.age_years * 12 + self.age_months


@dataclass(frozen=True)
class FlexibleBounds:
    """The months a person may retire in: ``earliest`` and ``latest`` both included."""

    earliest: YearMonth  # never before the original age; == statutory when there is no delay
    statutory: YearMonth
    latest: YearMonth  # only with the employer's agreement


@dataclass(frozen=True)
class FlexibleAssessment:
    allowed: bool
    timing: str  # "early", "statutory" or "late"
    minimum_years: Decimal  # for a retirement in the wanted month
    minimum_met: bool  # False: no monthly pension yet (SIL Art. 16), whatever the timing
    reasons: tuple[str, ...]  # codes of what stands in the way; empty when allowed


def statutory_retirement(birth: date, category: Category | str) -> Retirement:
    """The statutory retirement age and month for someone born on ``birth``."""
    rule = _RULES[Category(category)]
    born = YearMonth.of(birth)
    delay = 0
    if born >= rule.first_delayed:
        steps = born.months_since(rule.first_delayed) // rule.birth_months_per_step + 1
        delay = min(rule.max_delay, steps)
    age = rule.original_age * 12 + delay
    month = born.plus(age)
    return Retirement(
        category=Category(category),
        birth=birth,
        original_age=rule.original_age,
        delay_months=delay,
        age_years=age // 12,
        age_months=age % 12,
        retirement_month=month,
        reached_on=_day_in(month, birth.day),
    )


def minimum_contribution_years(retirement: YearMonth | date) -> Decimal:
    """Minimum pension contribution years for a retirement in that month (or on that day)."""
    year = retirement.year
    return Decimal(15) + Decimal("0.5") * min(10, max(0, year - 2029))


def flexible_bounds(birth: date, category: Category | str) -> FlexibleBounds:
    """The earliest, statutory and latest month of retirement for this person."""
    statutory = statutory_retirement(birth, category)
    born = YearMonth.of(birth)
    early = min(FLEXIBLE_MAX_MONTHS, statutory.delay_months)  # not below the original age
    return FlexibleBounds(
        earliest=statutory.retirement_month.plus(-early),
        statutory=statutory.retirement_month,
        latest=born.plus(statutory.age_in_months + FLEXIBLE_MAX_MONTHS),
    )


def assess_flexible(
    birth: date,
    category: Category | str,
    wanted: YearMonth,
    contribution_months: int,
    *,
    employer_agrees: bool = False,
    applied_on: date | None = None,
) -> FlexibleAssessment:
    """Whether retiring in ``wanted`` is allowed. Reason codes:

    ``before_original_age``, ``more_than_3_years_early``, ``minimum_years_not_met`` (early
    retirement needs the minimum years for the wanted month), ``more_than_3_years_late``,
    ``employer_agreement_needed`` (a late retirement); when ``applied_on`` is given:
    ``notice_too_short`` (an early retirement asked for less than 3 months before
    ``wanted``), ``deferral_notice_too_short`` (a deferral asked for less than 1 month
    before the statutory date) and ``statutory_date_passed`` (a deferral asked for after the
    statutory date: too late, it cannot be agreed or extended any more).
    Retiring at the statutory age is always allowed; ``minimum_met`` tells whether a
    monthly pension follows or the person must keep contributing (or pay a lump sum).
    """
    statutory = statutory_retirement(birth, category)
    bounds = flexible_bounds(birth, category)
    minimum = minimum_contribution_years(wanted)
    minimum_met = Decimal(contribution_months) >= minimum * 12
    reasons: list[str] = []
    if wanted < bounds.statutory:
        timing = "early"
        original = YearMonth.of(birth).plus(statutory.original_age * 12)
        if wanted < original:
            reasons.append("before_original_age")
        elif wanted < bounds.earliest:
            reasons.append("more_than_3_years_early")
        if not minimum_met:
            reasons.append("minimum_years_not_met")
    elif wanted > bounds.statutory:
        timing = "late"
        if wanted > bounds.latest:
            reasons.append("more_than_3_years_late")
        if not employer_agrees:
            reasons.append("employer_agreement_needed")
    else:
        timing = "statutory"
    if applied_on is not None and timing == "early":
        if wanted.months_since(YearMonth.of(applied_on)) < EARLY_NOTICE_MONTHS:
            reasons.append("notice_too_short")
    elif applied_on is not None and timing == "late":
        if applied_on > statutory.reached_on:
            reasons.append("statutory_date_passed")
        elif applied_on > deferral_agreed_by(statutory):
            reasons.append("deferral_notice_too_short")
    return FlexibleAssessment(not reasons, timing, minimum, minimum_met, tuple(reasons))


def deferral_agreed_by(statutory: Retirement) -> date:
    """The last day a deferral can be agreed in writing: 1 month before the statutory date
    (the same day of the month before, or that month's last day)."""
    return _day_in(YearMonth.of(statutory.reached_on).plus(-DEFERRAL_NOTICE_MONTHS), statutory.reached_on.day)


def _day_in(month: YearMonth, day: int) -> date:
    return month.day(min(day, _gregorian.monthrange(month.year, month.month)[1]))
