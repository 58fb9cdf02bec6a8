"""The policy's timeline: dated base periods and rates, the figures of each month, and
what happens to a month no period covers. Figures: policy/default.toml (Shanghai), whose
sources DOMAIN.md §2 lists."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date
from decimal import Decimal

import pytest

from bot.domain.calendar import WorkingCalendar
from bot.domain.errors import FieldErrors
from bot.domain.kinds import FormContext, parse_form
from bot.domain.months import YearMonth
from bot.domain.payback import estimate_payback
from bot.domain.policy import (
    PERIOD_MISSING,
    BasePeriod,
    PolicyError,
    TimelineProblem,
    load_policy,
    parse_policy,
    policy_note,
)
from bot.domain.requests import RequestKind
from tests.test_domain import CHANGE as DOMAIN_CHANGE

POLICY = load_policy()
CALENDAR = WorkingCalendar.from_policy(POLICY)
M = YearMonth


def raw_policy() -> dict:
    with open(POLICY.path, "rb") as fh:
        return tomllib.load(fh)


# --- which period covers a month ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "floor", "ceiling", "average"),
    [
        # 60 % and 300 % of the previous year's average wage, rounded to the yuan:
        # 12,307 x 0.6 = 7,384.2; x 3 = 36,921 (2024 base year).
        (M(2024, 7), 7384, 36921, 12307),
        (M(2025, 6), 7384, 36921, 12307),
        # 12,434 x 0.6 = 7,460.4; x 3 = 37,302 (2025 notice, rsj.sh.gov.cn 2025-09-18).
        (M(2025, 7), 7460, 37302, 12434),
        (M(2026, 6), 7460, 37302, 12434),
        # 12,577 x 0.6 = 7,546.2; x 3 = 37,731 (2026 notice, rsj.sh.gov.cn 2026-08-18).
        (M(2026, 7), 7546, 37731, 12577),
        (M(2026, 11), 7546, 37731, 12577),
    ],
)
def test_each_month_takes_its_own_base_period(month, floor, ceiling, average):
    figures = POLICY.period_for(month)
    assert (figures.floor, figures.ceiling, figures.period.average_wage) == (floor, ceiling, average)
    assert not figures.assumed
    assert figures.period.covers(month)


def test_no_period_is_missing_today():
    # Today is 2026-11-30: the 2026 notice (from 2026-07) is in the shipped file.
    assert POLICY.timeline_problems(M(2026, 11)) == []
    assert policy_note(POLICY, M(2026, 11)) is None


def test_a_month_after_every_period_uses_the_last_known_figures_and_says_so():
    figures = POLICY.period_for(M(2027, 7))
    assert figures.assumed
    assert (figures.floor, figures.ceiling) == (Decimal(7546), Decimal(37731))
    assert POLICY.timeline_problems(M(2027, 9)) == [TimelineProblem("gap", M(2027, 7), M(2027, 9))]
    note = policy_note(POLICY, M(2027, 7))
    assert note is not None and note.code == PERIOD_MISSING
    assert note.params == {"month": "2027-07", "start": "2026-07", "end": "2027-06"}


def test_a_month_before_every_period_uses_the_first_one_and_says_so():
    figures = POLICY.period_for(M(2024, 6))
    assert figures.assumed and figures.floor == 7384


def test_a_hole_between_periods_uses_the_period_before_it():
    data = raw_policy()
    del data["base_periods"][1]  # 2025-07..2026-06 missing
    policy = parse_policy(data)
    figures = policy.period_for(M(2025, 12))
    assert figures.assumed and figures.floor == 7384
    assert policy.timeline_problems(M(2026, 11)) == [TimelineProblem("gap", M(2025, 7), M(2026, 6))]


def test_overlapping_periods_are_refused_saying_where():
    data = raw_policy()
    data["base_periods"][1]["start"] = "2025-05"
    with pytest.raises(PolicyError, match=r"overlap from 2025-05 to 2025-06"):
        parse_policy(data)


def test_a_period_ending_before_it_starts_is_refused():
    data = raw_policy()
    data["base_periods"][0]["end"] = "2024-01"
    with pytest.raises(PolicyError, match=r"base_periods\[0\]: end 2024-01 is before start 2024-07"):
        parse_policy(data)


def test_the_old_single_base_table_is_still_read_as_one_period():
    data = raw_policy()
    del data["base_periods"]
    data["base"] = {
        "floor": 7460,
        "ceiling": 37302,
        "period_start": "2025-07",
        "period_end": "2026-06",
        "source": "old layout",
    }
    policy = parse_policy(data)
    assert policy.base_periods == (
        BasePeriod(M(2025, 7), M(2026, 6), Decimal(7460), Decimal(37302), None, "old layout"),
    )
    assert policy.period_for(M(2026, 11)).assumed


def test_an_old_base_table_without_its_months_is_refused_with_how_to_rewrite_it():
    data = raw_policy()
    del data["base_periods"]
    data["base"] = {"floor": 7460, "ceiling": 37302}
    with pytest.raises(PolicyError, match=r"write it as \[\[base_periods\]\] with start, end"):
        parse_policy(data)


# --- rates with their effective dates -----------------------------------------------------------


def test_a_rate_change_takes_effect_in_its_month():
    data = raw_policy()
    data["rates"]["unemployment"] = [
        {"employer": 0.5, "employee": 0.5, "source": "before"},
        {"from": "2026-01", "employer": 0.3, "employee": 0.2, "source": "after"},
    ]
    policy = parse_policy(data)
    assert policy.period_for(M(2025, 12)).rate("unemployment").employer == Decimal("0.5")
    assert policy.period_for(M(2026, 1)).rate("unemployment").employee == Decimal("0.2")
    # 16 + 9 + 0.3 + 0.16 = 25.46 % employer, 8 + 2 + 0.2 = 10.2 % employee from 2026-01.
    assert policy.period_for(M(2026, 1)).employer_rate == Decimal("25.46")
    assert policy.period_for(M(2026, 1)).employee_rate == Decimal("10.2")


def test_the_shipped_medical_rate_is_dated_by_its_notices():
    assert POLICY.period_for(M(2025, 2)).rate("medical").start is None
    assert POLICY.period_for(M(2025, 3)).rate("medical").start == M(2025, 3)
    assert "沪医保规〔2026〕2号" in POLICY.period_for(M(2026, 3)).rate("medical").source


def test_two_rate_entries_in_one_month_are_refused():
    data = raw_policy()
    data["rates"]["medical"][2]["from"] = "2025-03"
    with pytest.raises(PolicyError, match=r"rates\.medical: two entries take effect in the same month"):
        parse_policy(data)


# --- the contribution of one month, per scheme ------------------------------------------------------


def test_contributions_per_scheme_are_rounded_to_the_cent():
    # On the 2026 floor, 7,546: pension 16 % 1,207.36 / 8 % 603.68; medical 9 % 679.14 /
    # 2 % 150.92; unemployment 0.5 % 37.73 / 37.73; work injury 0.16 % 12.0736 -> 12.07.
    shares = {
        c.scheme: (c.employer, c.employee)
        for c in POLICY.period_for(M(2026, 11)).contributions(Decimal(7546))
    }
    assert shares == {
        "pension": (Decimal("1207.36"), Decimal("603.68")),
        "medical": (Decimal("679.14"), Decimal("150.92")),
        "unemployment": (Decimal("37.73"), Decimal("37.73")),
        "work_injury": (Decimal("12.07"), Decimal("0.00")),
    }


def test_the_rounding_comes_from_the_policy():
    # "见分进角": up to the jiao. Work injury 12.0736 -> 12.1; pension 1,207.36 -> 1,207.4.
    jiao = dataclasses.replace(POLICY, rounding_unit=Decimal("0.1"), rounding_mode="up")
    shares = {c.scheme: c for c in jiao.period_for(M(2026, 11)).contributions(Decimal(7546))}
    assert shares["work_injury"].employer == Decimal("12.1")
    assert shares["pension"].employer == Decimal("1207.4")


def test_a_bad_rounding_mode_is_refused():
    data = raw_policy()
    data["contribution_rounding"]["mode"] = "banker"
    with pytest.raises(PolicyError, match=r"contribution_rounding\.mode"):
        parse_policy(data)


# --- the forms check the base against the month they are about -------------------------------------

TODAY = date(2026, 11, 30)
CHANGE = {**DOMAIN_CHANGE, "contribution_base": "7500"}


def parse(kind: RequestKind, raw: dict):
    """A filled-in form of ``kind``, checked as the service does on TODAY."""
    return parse_form(kind, raw, FormContext("U1", False, TODAY, POLICY)).form


def test_a_change_is_checked_against_its_effective_months_period():
    # 7,500 is inside 2025's bounds (7,460) but below 2026's floor (7,546).
    with pytest.raises(FieldErrors) as errors:
        parse(RequestKind.CHANGE, CHANGE)
    problem = errors.value.problems["contribution_base"]
    assert problem.code == "base_out_of_range"
    assert (problem.params["floor"], problem.params["start"], problem.params["end"]) == (
        7546,
        "2026-07",
        "2027-06",
    )
    ok = parse(RequestKind.CHANGE, {**CHANGE, "contribution_base": "7546"})
    assert ok.contribution_base == Decimal(7546)


def test_a_payback_base_must_fit_at_least_one_of_its_months_periods():
    raw = {"month_from": "2026-05", "month_to": "2026-08", "reason": "late_enrolment"}
    # 7,000 is below both the 2025 floor (7,460) and the 2026 floor (7,546): refused, naming
    # the widest bounds of the months asked for.
    with pytest.raises(FieldErrors) as errors:
        parse(RequestKind.PAYBACK, {**raw, "monthly_base": "7000"})
    params = errors.value.problems["monthly_base"].params
    assert (params["floor"], params["ceiling"], params["start"], params["end"]) == (
        7460,
        37731,
        "2025-07",
        "2027-06",
    )
    # 7,500 fits 2026-05..06; 2026-07..08 hold it to their floor (the estimate says so).
    assert parse(RequestKind.PAYBACK, {**raw, "monthly_base": "7500"}).monthly_base == 7500


# --- the payback estimate, month by month -----------------------------------------------------------


def test_a_payback_across_two_base_periods():
    # 2026-05..2026-08 on 7,500, estimated on 2026-11-30.
    # May, June (2025 period, floor 7,460): base 7,500; employer 25.66 % = 1,924.50,
    #   employee 10.5 % = 787.50; total 2,712.00 a month.
    # July, August (2026 period, floor 7,546): 7,500 is held to the floor 7,546; per scheme
    #   employer 1,207.36 + 679.14 + 37.73 + 12.07 = 1,936.30, employee 603.68 + 150.92 +
    #   37.73 = 792.33; total 2,728.63 a month.
    # Contributions: employer 2 x 1,924.50 + 2 x 1,936.30 = 7,721.60; employee 2 x 787.50 +
    #   2 x 792.33 = 3,159.66.
    # Deadlines (2026 calendar): Mon 05-25, Thu 06-25, Sat 07-25 -> Mon 07-27, Tue 08-25.
    #   Days late on 11-30: 189, 158, 126, 97.
    # Late fee 0.05 % a day: 0.0005 x (2,712.00 x 347 + 2,728.63 x 223)
    #   = 0.0005 x (941,064 + 608,484.49) = 774.774245 -> 774.77 (社会保险法 Art. 86).
    estimate = estimate_payback(M(2026, 5), M(2026, 8), Decimal(7500), POLICY, TODAY, CALENDAR)
    assert [m.late_days for m in estimate.detail] == [189, 158, 126, 97]
    assert [m.due for m in estimate.detail][2] == date(2026, 7, 27)
    assert estimate.employer_contributions == Decimal("7721.60")
    assert estimate.employee_contributions == Decimal("3159.66")
    assert estimate.late_fee == Decimal("774.77")
    assert estimate.total == Decimal("11656.03")
    first, second = estimate.segments
    assert (first.first, first.last, first.base, first.held) == (M(2026, 5), M(2026, 6), 7500, "")
    assert (second.first, second.last, second.base, second.held) == (M(2026, 7), M(2026, 8), 7546, "floor")
    assert second.period.start == M(2026, 7) and not estimate.assumed


def test_the_late_fee_starts_after_the_moved_deadline_not_the_25th():
    # September 2026: the 25th is in the Mid-Autumn holiday (09-25..09-27), so the deadline
    # is Mon 09-28 (税收征收管理法实施细则 Art. 109). On 09-28 nothing is late; on 09-29 one
    # day: 8,000 x 36.16 % = 2,892.80 x 0.0005 = 1.4464 -> 1.45.
    on_time = estimate_payback(M(2026, 9), M(2026, 9), Decimal(8000), POLICY, date(2026, 9, 28), CALENDAR)
    assert on_time.late_fee == 0 and on_time.late_days == 0
    one_day = estimate_payback(M(2026, 9), M(2026, 9), Decimal(8000), POLICY, date(2026, 9, 29), CALENDAR)
    assert one_day.late_days == 1 and one_day.late_fee == Decimal("1.45")


def test_a_month_with_no_period_is_estimated_on_the_last_figures_and_marked():
    # 2027-07 is after the last period (2026-07..2027-06): its figures are an assumption.
    estimate = estimate_payback(M(2027, 7), M(2027, 7), Decimal(8000), POLICY, date(2027, 8, 2), CALENDAR)
    assert estimate.assumed
    assert estimate.detail[0].period.start == M(2026, 7)
    assert estimate.segments[0].assumed
