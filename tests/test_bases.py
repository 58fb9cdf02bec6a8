"""The yearly base declaration's rules (bot/domain/bases.py), with worked examples. The
base year 2026 runs from 2026-07 (Shanghai); its bounds are the 2026-07 period's:
floor 7,546, ceiling 37,731 (60 % and 300 % of 12,577; policy/default.toml, DOMAIN.md §2)."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.bases import BaseRule, Employment, Held, back_pay_months, compute_base, months_for
from bot.domain.months import YearMonth, month_range
from bot.domain.policy import load_policy

M = YearMonth
D = Decimal
START = M(2026, 7)
FIGURES = load_policy().period_for(START)


def wages(first: YearMonth, amounts: list[str]) -> dict[YearMonth, Decimal]:
    return {first.plus(i): D(a) for i, a in enumerate(amounts)}


def test_the_2026_bounds_are_the_2026_periods():
    assert (FIGURES.floor, FIGURES.ceiling) == (D(7546), D(37731))


def test_someone_enrolled_before_2025_is_declared_on_2025s_average():
    # 6 months at 10,000 and 6 at 13,000: (60,000 + 78,000) / 12 = 11,500.
    person = Employment(M(2019, 3), None)
    paid = wages(M(2025, 1), ["10000"] * 6 + ["13000"] * 6)
    result = compute_base(person, paid, START, FIGURES)
    assert result.rule is BaseRule.PREVIOUS_YEAR
    assert result.months == tuple(month_range(M(2025, 1), M(2025, 12)))
    assert (result.average, result.base, result.held, result.missing) == (D(11500), D(11500), Held.NO, ())


def test_someone_hired_in_2025_is_declared_on_the_months_they_worked():
    # Enrolled 2025-09 (a part month): October to December count. (9,000 + 9,500 + 10,300) / 3
    # = 28,800 / 3 = 9,600.
    person = Employment(M(2025, 9), None)
    paid = wages(M(2025, 9), ["4200", "9000", "9500", "10300"])
    result = compute_base(person, paid, START, FIGURES)
    assert result.rule is BaseRule.MONTHS_WORKED
    assert result.averaged == (M(2025, 10), M(2025, 11), M(2025, 12))
    assert (result.average, result.base) == (D(9600), D(9600))


def test_someone_hired_after_2025_is_declared_on_their_first_full_month():
    # Enrolled 2026-03: April's 8,800.
    person = Employment(M(2026, 3), None)
    result = compute_base(person, wages(M(2026, 3), ["3000", "8800", "9100"]), START, FIGURES)
    assert (result.rule, result.months, result.base) == (BaseRule.FIRST_FULL_MONTH, (M(2026, 4),), D(8800))
    # Enrolled in December 2025: no full month in 2025, so January 2026.
    december = Employment(M(2025, 12), None)
    assert months_for(december, START) == (BaseRule.FIRST_FULL_MONTH, (M(2026, 1),))


def test_a_base_is_held_to_the_new_periods_floor_and_ceiling_and_rounded_to_the_yuan():
    low = compute_base(Employment(M(2020, 1), None), wages(M(2025, 1), ["5000"] * 12), START, FIGURES)
    assert (low.average, low.base, low.held) == (D(5000), D(7546), Held.FLOOR)
    high = compute_base(Employment(M(2020, 1), None), wages(M(2025, 1), ["60000"] * 12), START, FIGURES)
    assert (high.base, high.held) == (D(37731), Held.CEILING)
    # 10,000.50 × 6 + 10,000 × 6 = 120,003; / 12 = 10,000.25 → 10,000 (to the yuan, half up).
    odd = wages(M(2025, 1), ["10000.50"] * 6 + ["10000"] * 6)
    assert compute_base(Employment(M(2020, 1), None), odd, START, FIGURES).base == D(10000)


def test_missing_wage_months_are_listed_and_the_average_is_of_those_recorded():
    # March and April 2025 missing: the other ten months average 12,000; the result is
    # not complete until the administrator resolves the two months.
    paid = {m: D(12000) for m in month_range(M(2025, 1), M(2025, 12)) if m not in (M(2025, 3), M(2025, 4))}
    result = compute_base(Employment(M(2018, 1), None), paid, START, FIGURES)
    assert result.missing == (M(2025, 3), M(2025, 4)) and len(result.averaged) == 10
    assert result.base == D(12000) and not result.complete
    nothing = compute_base(Employment(M(2026, 5), None), {}, START, FIGURES)
    assert (nothing.base, nothing.missing, nothing.complete) == (None, (M(2026, 6),), False)


def test_the_months_already_paid_on_the_old_base_are_paid_back_or_refunded():
    assert back_pay_months(START, M(2026, 9)) == (M(2026, 7), M(2026, 8), M(2026, 9))
    assert back_pay_months(START, M(2026, 6)) == () and back_pay_months(START, None) == ()


def test_back_pay_is_months_times_the_difference_times_each_rate():
    # July to October 2026 paid on 9,000; the new base is 12,000. Each month: employer
    # 16 % + 9 % + 0.5 % + 0.16 % of 3,000 = 480 + 270 + 15 + 4.80 = 769.80, employee 8 % +
    # 2 % + 0.5 % = 240 + 60 + 15 = 315. Four months: 3,079.20 and 1,260.00.
    from bot.domain.bases import back_pay

    paid = [(FIGURES, FIGURES.contributions(D(9000)))] * 4
    owed = back_pay(D(12000), paid)
    assert (owed.employer, owed.employee) == (D("3079.20"), D("1260.00"))
    assert owed.by_scheme["pension"] == (D("1920.00"), D("960.00"))
    # A lower base is refunded: the figure is negative.
    assert back_pay(D(7546), paid[:1]).employee == D("792.33") - D("945.00")


def test_outliers_move_further_than_the_policys_percent():
    from bot.domain.bases import Movement, is_outlier, movement

    assert is_outlier(D(9000), D(12000), D(30)) and not is_outlier(D(9000), D(11700), D(30))
    assert is_outlier(D(10000), D(6999), D(30)) and not is_outlier(None, D(12000), D(30))
    assert [movement(D(1), D(2)), movement(D(2), D(1)), movement(D(1), D(1)), movement(None, D(1))] == [
        Movement.RAISED,
        Movement.LOWERED,
        Movement.SAME,
        Movement.NEW,
    ]
