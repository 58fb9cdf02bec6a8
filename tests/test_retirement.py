"""Statutory retirement under the 2024 reform: every row of DOMAIN §6's worked table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest

from bot.domain.months import YearMonth
from bot.domain.retirement import (
    Category,
    assess_flexible,
    flexible_bounds,
    minimum_contribution_years,
    statutory_retirement,
)

# born, category, delay months, statutory age (years, months), retires in — DOMAIN §6
TABLE = [
    ("1964-12", "male", 0, (60, 0), "2024-12"),
    ("1965-01", "male", 1, (60, 1), "2025-02"),
    ("1965-04", "male", 1, (60, 1), "2025-05"),
    ("1965-05", "male", 2, (60, 2), "2025-07"),
    ("1970-06", "male", 17, (61, 5), "2031-11"),
    ("1976-12", "male", 36, (63, 0), "2039-12"),
    ("1977-01", "male", 36, (63, 0), "2040-01"),
    ("1970-01", "female_55", 1, (55, 1), "2025-02"),
    ("1975-08", "female_55", 17, (56, 5), "2032-01"),
    ("1981-12", "female_55", 36, (58, 0), "2039-12"),
    ("1975-01", "female_50", 1, (50, 1), "2025-02"),
    ("1975-03", "female_50", 2, (50, 2), "2025-05"),
    ("1980-01", "female_50", 31, (52, 7), "2032-08"),
    ("1984-12", "female_50", 60, (55, 0), "2039-12"),
]


@pytest.mark.parametrize(("born", "category", "delay", "age", "retires"), TABLE)
def test_worked_table(born, category, delay, age, retires):
    birth = YearMonth.parse(born).day(15)
    result = statutory_retirement(birth, category)
    assert result.delay_months == delay
    assert (result.age_years, result.age_months) == age
    assert str(result.retirement_month) == retires
    assert result.original_age == {"male": 60, "female_55": 55, "female_50": 50}[category]
    assert result.reached_on == result.retirement_month.day(15)


def test_the_day_of_birth_does_not_change_the_month():
    first = statutory_retirement(date(1965, 1, 1), Category.MALE)
    last = statutory_retirement(date(1965, 1, 31), Category.MALE)
    assert first.retirement_month == last.retirement_month == YearMonth(2025, 2)
    assert last.reached_on == date(2025, 2, 28)  # no 31 February


def test_the_delay_grows_one_month_per_step_and_stops_at_the_cap():
    delays = [
        statutory_retirement(YearMonth(1965, 1).plus(i).day(1), "male").delay_months for i in range(160)
    ]
    assert delays[:9] == [1, 1, 1, 1, 2, 2, 2, 2, 3]
    assert max(delays) == 36 and delays[-1] == 36
    assert all(b - a in (0, 1) for a, b in pairwise(delays))
    workers = [
        statutory_retirement(YearMonth(1975, 1).plus(i).day(1), "female_50").delay_months for i in range(130)
    ]
    assert workers[:5] == [1, 1, 2, 2, 3] and max(workers) == 60


def test_born_before_the_reform_keeps_the_original_age():
    assert statutory_retirement(date(1960, 3, 3), "male").retirement_month == YearMonth(2020, 3)
    assert statutory_retirement(date(1969, 12, 31), "female_55").delay_months == 0
    assert statutory_retirement(date(1974, 12, 31), "female_50").delay_months == 0


def test_an_unknown_category_is_refused():
    with pytest.raises(ValueError):
        statutory_retirement(date(1970, 1, 1), "female")


@pytest.mark.parametrize(
    ("month", "years"),
    [
        (YearMonth(2025, 6), "15"),
        (YearMonth(2029, 12), "15"),
        (YearMonth(2030, 1), "15.5"),
        (YearMonth(2031, 7), "16"),
        (YearMonth(2038, 12), "19.5"),
        (YearMonth(2039, 1), "20"),
        (YearMonth(2050, 1), "20"),
        (date(2030, 5, 1), "15.5"),
    ],
)
def test_minimum_contribution_years(month, years):
    assert minimum_contribution_years(month) == Decimal(years)


def test_flexible_bounds_never_go_below_the_original_age():
    bounds = flexible_bounds(date(1970, 6, 10), "male")  # statutory 61y5m -> 2031-11
    assert bounds.statutory == YearMonth(2031, 11)
    assert bounds.earliest == YearMonth(2030, 6)  # 60, not 58y5m
    assert bounds.latest == YearMonth(2034, 11)
    # a woman worker with a 60-month delay may go at most 3 years early: 52, above 50
    worker = flexible_bounds(date(1984, 12, 1), "female_50")
    assert (worker.earliest, worker.statutory, worker.latest) == (
        YearMonth(2036, 12),
        YearMonth(2039, 12),
        YearMonth(2042, 12),
    )
    old_rules = flexible_bounds(date(1964, 12, 1), "male")
    assert old_rules.earliest == old_rules.statutory == YearMonth(2024, 12)


def test_early_retirement_needs_the_minimum_years():
    birth = date(1970, 6, 10)
    ok = assess_flexible(birth, "male", YearMonth(2030, 6), contribution_months=186)  # 15.5 years
    assert ok.allowed and ok.timing == "early" and ok.minimum_years == Decimal("15.5") and ok.reasons == ()
    short = assess_flexible(birth, "male", YearMonth(2030, 6), contribution_months=185)
    assert not short.allowed and short.reasons == ("minimum_years_not_met",)
    too_soon = assess_flexible(birth, "male", YearMonth(2030, 5), contribution_months=400)
    assert too_soon.reasons == ("before_original_age",)
    worker = assess_flexible(date(1984, 12, 1), "female_50", YearMonth(2036, 11), contribution_months=400)
    assert worker.reasons == ("more_than_3_years_early",)


def test_late_retirement_needs_the_employer_and_at_most_3_years():
    birth = date(1970, 6, 10)
    asked = assess_flexible(birth, "male", YearMonth(2033, 1), contribution_months=100)
    assert asked.timing == "late" and asked.reasons == ("employer_agreement_needed",)
    agreed = assess_flexible(
        birth, "male", YearMonth(2034, 11), contribution_months=100, employer_agrees=True
    )
    assert agreed.allowed and not agreed.minimum_met
    too_late = assess_flexible(
        birth, "male", YearMonth(2034, 12), contribution_months=100, employer_agrees=True
    )
    assert too_late.reasons == ("more_than_3_years_late",)


def test_statutory_retirement_is_always_allowed_but_may_lack_the_pension_years():
    result = assess_flexible(date(1970, 6, 10), "male", YearMonth(2031, 11), contribution_months=120)
    assert result.allowed and result.timing == "statutory"
    assert result.minimum_years == Decimal(16) and not result.minimum_met


def test_flexible_retirement_needs_three_months_notice():
    birth = date(1970, 6, 10)
    late = assess_flexible(birth, "male", YearMonth(2030, 6), 400, applied_on=date(2030, 4, 1))
    assert late.reasons == ("notice_too_short",)
    early = assess_flexible(birth, "male", YearMonth(2030, 6), 400, applied_on=date(2030, 3, 31))
    assert early.allowed


# 《实施弹性退休制度暂行办法》 (in force 2025-01-01; DOMAIN.md §16): an early retirement is
# asked for in writing at least 3 months ahead; a deferral is agreed in writing by employer
# and worker at least 1 month before the statutory date and cannot be extended afterwards.
# A man born 1966-03-15: 14 months after January 1965 -> 14 // 4 + 1 = 4 months' delay ->
# 60 years 4 months -> reached on 2026-07-15; a deferral must be agreed by 2026-06-15.
BORN_1966 = date(1966, 3, 15)


def test_a_deferral_is_agreed_at_least_one_month_before_the_statutory_date():
    from bot.domain.retirement import deferral_agreed_by

    statutory = statutory_retirement(BORN_1966, "male")
    assert statutory.reached_on == date(2026, 7, 15)
    assert deferral_agreed_by(statutory) == date(2026, 6, 15)
    on_time = assess_flexible(BORN_1966, "male", YearMonth(2027, 1), 400, applied_on=date(2026, 6, 15))
    assert on_time.reasons == ("employer_agreement_needed",)
    short = assess_flexible(BORN_1966, "male", YearMonth(2027, 1), 400, applied_on=date(2026, 6, 16))
    assert short.reasons == ("employer_agreement_needed", "deferral_notice_too_short")
    # Not the 3-month rule of an early retirement: 2 months ahead of the statutory date is fine.
    two_months = assess_flexible(BORN_1966, "male", YearMonth(2027, 1), 400, applied_on=date(2026, 5, 15))
    assert "notice_too_short" not in two_months.reasons


def test_a_deferral_after_the_statutory_date_is_too_late():
    late = assess_flexible(BORN_1966, "male", YearMonth(2027, 1), 400, applied_on=date(2026, 7, 16))
    assert "statutory_date_passed" in late.reasons and not late.allowed


def test_an_early_retirement_is_asked_for_three_months_ahead():
    # Earliest: 4 months before 2026-07, not below 60 -> 2026-03. Asked in 2025-12 for
    # 2026-03 (3 months): fine; asked in 2026-01 (2 months): too short.
    ok = assess_flexible(BORN_1966, "male", YearMonth(2026, 3), 200, applied_on=date(2025, 12, 1))
    assert ok.allowed and ok.timing == "early"
    short = assess_flexible(BORN_1966, "male", YearMonth(2026, 3), 200, applied_on=date(2026, 1, 1))
    assert short.reasons == ("notice_too_short",)
