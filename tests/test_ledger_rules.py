"""The monthly ledger's rules (bot/domain/ledger.py): who is in a month, the base used, each
scheme's shares, the totals, what changed since the month before. Every figure below is
worked out by hand in the comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import partial

import pytest

from bot.domain.ledger import (
    BaseNote,
    Insured,
    MonthState,
    PaymentTiming,
    changes_between,
    compute_month,
    last_insured_month,
    late_fee_per_day,
    month_state,
    payment_timing,
)
from bot.domain.months import YearMonth
from bot.domain.policy import parse_policy

# Two schemes, so that every share below can be checked on paper: pension 16 % / 8 %,
# medical 9.5 % / 2 %; the 2026 base year's floor 7,546 and ceiling 37,731; to the cent.
TWO_SCHEMES = """
[rates.pension]
employer = 16.0
employee = 8.0
[rates.medical]
employer = 9.5
employee = 2.0
[contribution_rounding]
unit = "0.01"
mode = "{mode}"
[[base_periods]]
start = "2026-07"
end = "2027-06"
floor = 7546
ceiling = 37731
[late_fee]
daily_percent = 0.05
[deadlines]
change_cutoff_day = 20
payment_day = 25
[base_declaration]
window_start = "07-01"
window_end = "07-31"
"""
NOVEMBER = YearMonth(2026, 11)


def policy(mode: str = "half_up"):
    import tomllib

    return parse_policy(tomllib.loads(TWO_SCHEMES.format(mode=mode)))


def person(pid: int, name: str, base: str | None, **kw) -> Insured:
    values = dict(
        employee_id=pid,
        full_name=name,
        resident_id=f"{pid:018d}",
        slack_user=None,
        enrolled_from=YearMonth(2020, 1),
        last_month=None,
        base_on_record=None if base is None else Decimal(base),
    )
    values.update(kw)
    return Insured(**values)


PEOPLE = [
    person(1, "A", "10000.00"),
    person(2, "B", "8765.43"),
    person(3, "C", "8000.25"),
    person(4, "D", "5000.00"),  # below the floor
    person(5, "E", "50000.00"),  # above the ceiling
    person(6, "F", "9000.00", last_month=YearMonth(2026, 10)),  # left in October
    person(7, "G", "9000.00", enrolled_from=YearMonth(2026, 12)),  # joins in December
]


def test_a_month_computed_by_hand_two_schemes_and_a_rounding_case():
    ledger = compute_month(policy().period_for(NOVEMBER), PEOPLE)
    # F left in October and G joins in December: five people are insured in November.
    assert [line.full_name for line in ledger.lines] == ["A", "B", "C", "D", "E"]
    shares = {
        line.full_name: [(s.scheme, s.employer, s.employee) for s in line.shares] for line in ledger.lines
    }
    d = Decimal
    # A, 10,000.00: 16 % = 1,600.00, 8 % = 800.00; 9.5 % = 950.00, 2 % = 200.00.
    assert shares["A"] == [("pension", d("1600.00"), d("800.00")), ("medical", d("950.00"), d("200.00"))]
    # B, 8,765.43: 16 % = 1,402.4688 -> 1,402.47; 8 % = 701.2344 -> 701.23;
    # 9.5 % = 832.71585 -> 832.72; 2 % = 175.3086 -> 175.31.
    assert shares["B"] == [("pension", d("1402.47"), d("701.23")), ("medical", d("832.72"), d("175.31"))]
    # C, 8,000.25 (the rounding case): 16 % = 1,280.04; 8 % = 640.02; 9.5 % = 760.02375
    # -> 760.02; 2 % = 160.005, exactly half a cent -> 160.01 rounded half up.
    assert shares["C"] == [("pension", d("1280.04"), d("640.02")), ("medical", d("760.02"), d("160.01"))]
    # D, 5,000.00 is below the floor: computed on 7,546.00. 16 % = 1,207.36; 8 % = 603.68;
    # 9.5 % = 716.87; 2 % = 150.92.
    line_d = ledger.lines[3]
    assert (line_d.base, line_d.note) == (d("7546"), BaseNote.RAISED)
    assert shares["D"] == [("pension", d("1207.36"), d("603.68")), ("medical", d("716.87"), d("150.92"))]
    # E, 50,000.00 is above the ceiling: computed on 37,731.00. 16 % = 6,036.96;
    # 8 % = 3,018.48; 9.5 % = 3,584.445 -> 3,584.45; 2 % = 754.62.
    line_e = ledger.lines[4]
    assert (line_e.base, line_e.note) == (d("37731"), BaseNote.LOWERED)
    assert shares["E"] == [("pension", d("6036.96"), d("3018.48")), ("medical", d("3584.45"), d("754.62"))]
    # Pension, employer: 1,600.00 + 1,402.47 + 1,280.04 + 1,207.36 + 6,036.96 = 11,526.83
    #          employee:   800.00 +   701.23 +   640.02 +   603.68 + 3,018.48 =  5,763.41
    # Medical, employer:   950.00 +   832.72 +   760.02 +   716.87 + 3,584.45 =  6,844.06
    #          employee:   200.00 +   175.31 +   160.01 +   150.92 +   754.62 =  1,440.86
    totals = [(t.scheme, t.employer, t.employee) for t in ledger.totals]
    assert totals == [("pension", d("11526.83"), d("5763.41")), ("medical", d("6844.06"), d("1440.86"))]
    # Employer 11,526.83 + 6,844.06 = 18,370.89; employee 5,763.41 + 1,440.86 = 7,204.27;
    # the month 18,370.89 + 7,204.27 = 25,575.16.
    assert (ledger.employer_total, ledger.employee_total, ledger.total) == (
        d("18370.89"),
        d("7204.27"),
        d("25575.16"),
    )
    assert not ledger.assumed


def test_the_rounding_rule_comes_from_the_policy():
    ledger = compute_month(policy("down").period_for(NOVEMBER), PEOPLE[2:3])
    # C's 2 % of 8,000.25 = 160.005 is 160.00 rounded down; 760.02375 -> 760.02 either way.
    assert [(s.employer, s.employee) for s in ledger.lines[0].shares] == [
        (Decimal("1280.04"), Decimal("640.02")),
        (Decimal("760.02"), Decimal("160.00")),
    ]


def test_a_month_no_period_covers_is_computed_on_the_nearest_and_says_so():
    ledger = compute_month(policy().period_for(YearMonth(2027, 8)), PEOPLE[:1])
    assert ledger.assumed and ledger.total == Decimal("3550.00")


def test_someone_without_a_base_is_listed_and_counted_not_guessed():
    ledger = compute_month(policy().period_for(NOVEMBER), [person(9, "Z", None)])
    (line,) = ledger.lines
    assert line.note is BaseNote.MISSING and line.shares == () and ledger.total == 0
    assert ledger.missing_bases == 1


@pytest.mark.parametrize(
    ("leaving", "retired_on", "last"),
    [
        (None, None, None),
        (YearMonth(2026, 10), None, YearMonth(2026, 10)),
        # Retired from the 1st of November: October was the last month worked.
        (None, date(2026, 11, 1), YearMonth(2026, 10)),
        # Reached the statutory age on 15 November: November was worked in part.
        (None, date(2026, 11, 15), YearMonth(2026, 11)),
        (YearMonth(2026, 9), date(2026, 11, 15), YearMonth(2026, 9)),
    ],
)
def test_the_last_insured_month(leaving, retired_on, last):
    assert last_insured_month(leaving, retired_on) == last


def test_what_changed_since_the_month_before():
    figures = policy().period_for
    october = compute_month(figures(YearMonth(2026, 10)), PEOPLE)
    rebased = [replace(p, base_on_record=Decimal("12000.00")) if p.full_name == "A" else p for p in PEOPLE]
    november = compute_month(figures(NOVEMBER), rebased)
    changes = changes_between(october, november)
    assert [line.full_name for line in changes.leavers] == ["F"]
    assert changes.joiners == ()
    assert [(c.before.base, c.after.base) for c in changes.new_bases] == [
        (Decimal("10000.00"), Decimal("12000.00"))
    ]
    assert changes.of(1) == "new_base" and changes.of(2) == ""
    december = compute_month(figures(YearMonth(2026, 12)), rebased)
    assert [line.full_name for line in changes_between(november, december).joiners] == ["G"]


def test_a_late_day_costs_the_policy_s_daily_fee_on_the_month_s_total():
    # 25,575.16 × 0.05 % = 12.78758 -> 12.79 yuan a day.
    assert late_fee_per_day(Decimal("25575.16"), policy()) == Decimal("12.79")


def test_a_month_s_payment_state():
    due, since = date(2026, 11, 25), date(2026, 3, 1)
    state = partial(month_state, NOVEMBER, due=due, since=since)
    assert state(paid=True, today=date(2026, 12, 1)) is MonthState.PAID
    assert state(paid=False, today=date(2026, 11, 25)) is MonthState.DUE
    assert state(paid=False, today=date(2026, 11, 26)) is MonthState.LATE
    december = month_state(YearMonth(2026, 12), paid=False, today=date(2026, 11, 26), due=due, since=since)
    assert december is MonthState.UPCOMING
    # si-bot started keeping track after the deadline: not known to be late.
    assert state(paid=False, today=date(2026, 12, 1), since=date(2026, 11, 30)) is MonthState.UNRECORDED


def test_whether_a_month_was_paid_on_time():
    due, since = date(2026, 11, 25), date(2026, 3, 1)
    timing = partial(payment_timing, due=due, since=since, today=date(2026, 11, 30))
    assert timing(paid_on=date(2026, 11, 25)) == (PaymentTiming.ON_TIME, 0)  # the deadline itself
    assert timing(paid_on=date(2026, 11, 3)) == (PaymentTiming.ON_TIME, 0)
    assert timing(paid_on=date(2026, 11, 27)) == (PaymentTiming.PAID_LATE, 2)
    assert timing(paid_on=None) == (PaymentTiming.LATE, 5)  # the 26th to the 30th
    assert timing(paid_on=None, today=date(2026, 11, 25)) == (PaymentTiming.NOT_YET_DUE, 0)
    # si-bot started keeping track after the deadline: not known to be late.
    assert timing(paid_on=None, since=date(2026, 11, 26)) == (PaymentTiming.UNRECORDED, 0)
