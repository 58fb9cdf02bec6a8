"""The administrator's deadlines and the reminders due on each day."""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from datetime import date, timedelta

import pytest

from bot.domain.calendar import WorkingCalendar
from bot.domain.deadlines import (
    Deadline,
    DeadlineKind,
    Stage,
    deadlines_for_year,
    is_stale,
    next_deadlines,
    reminder_key,
    reminder_schedule,
)
from bot.domain.policy import PolicyError, load_policy

D = date


@pytest.fixture
def policy():
    # Shanghai default: cut-off 20th, payment 25th, previous working day, 3 days' warning,
    # base declaration 07-01..07-31, certificate exam in June.
    return load_policy()


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def by_key(deadlines: list[Deadline]) -> dict[str, Deadline]:
    return {d.key: d for d in deadlines}


# Worked out by hand from the 2026 State Council notice (DOMAIN §15).
DUE_2026 = {
    "change_cutoff:2026-01": D(2026, 1, 20),
    "payment:2026-01": D(2026, 1, 23),  # Sun 25 -> Fri 23
    "change_cutoff:2026-02": D(2026, 2, 14),  # Fri 20 in the Spring Festival -> Sat 14, a make-up day
    "payment:2026-02": D(2026, 2, 25),
    "change_cutoff:2026-03": D(2026, 3, 20),
    "payment:2026-03": D(2026, 3, 25),
    "change_cutoff:2026-04": D(2026, 4, 20),
    "payment:2026-04": D(2026, 4, 24),  # Sat 25 -> Fri 24
    "change_cutoff:2026-05": D(2026, 5, 20),
    "payment:2026-05": D(2026, 5, 25),
    "change_cutoff:2026-06": D(2026, 6, 18),  # Sat 20 in the Dragon Boat Festival -> Thu 18
    "payment:2026-06": D(2026, 6, 25),
    "change_cutoff:2026-07": D(2026, 7, 20),
    "payment:2026-07": D(2026, 7, 24),
    "change_cutoff:2026-08": D(2026, 8, 20),
    "payment:2026-08": D(2026, 8, 25),
    "change_cutoff:2026-09": D(2026, 9, 20),  # a Sunday, but a make-up working day: stays
    "payment:2026-09": D(2026, 9, 24),  # Fri 25 in the Mid-Autumn Festival -> Thu 24
    "change_cutoff:2026-10": D(2026, 10, 20),
    "payment:2026-10": D(2026, 10, 23),
    "change_cutoff:2026-11": D(2026, 11, 20),
    "payment:2026-11": D(2026, 11, 25),
    "change_cutoff:2026-12": D(2026, 12, 18),
    "payment:2026-12": D(2026, 12, 25),
    "certificate_exam:2026": D(2026, 6, 30),
    "base_declaration_open:2026": D(2026, 7, 1),
    "base_declaration_close:2026": D(2026, 7, 31),
}


def test_the_2026_deadlines(policy, cal):
    deadlines = deadlines_for_year(policy, cal, 2026)
    assert {d.key: d.due for d in deadlines} == DUE_2026
    assert len(deadlines) == 27
    assert [d.due for d in deadlines] == sorted(d.due for d in deadlines)
    assert all(d.calendar_covered for d in deadlines)
    for d in deadlines:
        assert d.moved == (d.due != d.nominal)
        assert cal.is_working_day(d.due)
    feb = by_key(deadlines)
    assert feb["change_cutoff:2026-02"].nominal == D(2026, 2, 20) and feb["change_cutoff:2026-02"].moved
    assert not feb["change_cutoff:2026-09"].moved
    assert feb["certificate_exam:2026"].nominal == D(2026, 6, 30)


def test_with_next_working_day_deadlines_move_forward(policy, cal):
    later = dataclasses.replace(policy, holiday_shift="next_working_day")
    due = {d.key: d.due for d in deadlines_for_year(later, cal, 2026)}
    assert due["change_cutoff:2026-02"] == D(2026, 2, 24)  # after the Spring Festival
    assert due["payment:2026-09"] == D(2026, 9, 28)  # after the Mid-Autumn Festival
    assert due["payment:2026-10"] == D(2026, 10, 26)
    assert due["change_cutoff:2026-09"] == D(2026, 9, 20)


def test_keep_leaves_the_date_and_reminds_on_the_last_working_day_before(policy, cal):
    keep = dataclasses.replace(policy, holiday_shift="keep")
    cutoff = by_key(deadlines_for_year(keep, cal, 2026))["change_cutoff:2026-02"]
    assert cutoff.due == cutoff.nominal == D(2026, 2, 20) and not cutoff.moved
    assert reminder_schedule(cutoff, keep, cal) == [
        (D(2026, 2, 11), Stage.WARNING),
        (D(2026, 2, 12), Stage.WARNING),
        (D(2026, 2, 13), Stage.WARNING),
        (D(2026, 2, 14), Stage.DUE_DAY),
        (D(2026, 2, 24), Stage.MISSED),
    ]


def test_the_base_declaration_window_opens_on_its_first_working_day(policy, cal):
    national_day = dataclasses.replace(
        policy, base_declaration_window_start="10-01", base_declaration_window_end="10-31"
    )
    opening = by_key(deadlines_for_year(national_day, cal, 2026))["base_declaration_open:2026"]
    # forward, although the policy moves deadlines back
    assert opening.nominal == D(2026, 10, 1) and opening.due == D(2026, 10, 8)
    stages = [stage for _, stage in reminder_schedule(opening, national_day, cal)]
    assert stages == [Stage.WARNING] * 3 + [Stage.DUE_DAY]  # an opening cannot be missed
    closing = by_key(deadlines_for_year(national_day, cal, 2026))["base_declaration_close:2026"]
    assert closing.due == D(2026, 10, 30)  # Sat 31 -> Fri 30


def test_a_window_ending_before_it_starts_ends_the_next_year(policy, cal):
    winter = dataclasses.replace(
        policy, base_declaration_window_start="12-15", base_declaration_window_end="01-15"
    )
    closing = by_key(deadlines_for_year(winter, cal, 2025))["base_declaration_close:2025"]
    assert closing.nominal == D(2026, 1, 15)


@pytest.mark.parametrize("bad", ["7-1-1", "July", "13-01", "02-30"])
def test_a_bad_declaration_window_is_refused(policy, cal, bad):
    with pytest.raises(PolicyError, match="window_start"):
        deadlines_for_year(dataclasses.replace(policy, base_declaration_window_start=bad), cal, 2026)


def test_29_february_becomes_the_28th_in_a_common_year(policy, cal):
    leap = dataclasses.replace(
        policy, base_declaration_window_start="02-29", base_declaration_window_end="03-31"
    )
    assert by_key(deadlines_for_year(leap, cal, 2026))["base_declaration_open:2026"].nominal == D(2026, 2, 28)
    assert by_key(deadlines_for_year(leap, cal, 2028))["base_declaration_open:2028"].nominal == D(2028, 2, 29)


def warning_days(deadline: Deadline, policy, cal) -> list[date]:
    """The days reminded before and on the due day."""
    return [day for day, stage in reminder_schedule(deadline, policy, cal) if stage is not Stage.MISSED]


def reminders_on(policy, cal, day: date) -> list[tuple[Deadline, Stage]]:
    """Every reminder scheduled on ``day``, of the periods of the year before to the year after."""
    found = [
        (deadline, stage)
        for year in range(day.year - 1, day.year + 2)
        for deadline in deadlines_for_year(policy, cal, year)
        for when, stage in reminder_schedule(deadline, policy, cal)
        if when == day
    ]
    return sorted(found, key=lambda r: (r[0].due, list(DeadlineKind).index(r[0].kind), r[0].period))


def test_warning_days(policy, cal):
    deadlines = by_key(deadlines_for_year(policy, cal, 2026))
    # the three working days before the due day, then the due day itself
    assert warning_days(deadlines["change_cutoff:2026-02"], policy, cal) == [
        D(2026, 2, 11),
        D(2026, 2, 12),
        D(2026, 2, 13),
        D(2026, 2, 14),
    ]
    # across the Spring Festival, counting the make-up Saturday
    assert warning_days(deadlines["payment:2026-02"], policy, cal) == [
        D(2026, 2, 13),
        D(2026, 2, 14),
        D(2026, 2, 24),
        D(2026, 2, 25),
    ]
    # the certificate: first working day of May (after Labour Day) and of June, then June's end
    assert warning_days(deadlines["certificate_exam:2026"], policy, cal) == [
        D(2026, 5, 6),
        D(2026, 6, 1),
        D(2026, 6, 30),
    ]
    assert warning_days(
        deadlines["payment:2026-01"], dataclasses.replace(policy, warn_working_days=0), cal
    ) == [D(2026, 1, 23)]


def test_a_january_exam_warns_in_the_december_before(policy, cal):
    january = dataclasses.replace(policy, certificate_exam_month=1)
    found = reminders_on(january, cal, D(2025, 12, 1))
    assert [(deadline.key, stage) for deadline, stage in found] == [("certificate_exam:2026", Stage.WARNING)]


def expected_schedule(deadline: Deadline, cal: WorkingCalendar) -> list[tuple[date, Stage]]:
    """The rules written out plainly, for the simulated year to be checked against."""
    if deadline.kind is DeadlineKind.CERTIFICATE_EXAM:
        warnings = [cal.first_working_day(2026, 5), cal.first_working_day(2026, 6)]
    else:
        warnings, day = [], deadline.due
        while len(warnings) < 3:
            day -= timedelta(days=1)
            if cal.is_working_day(day):
                warnings.insert(0, day)
    schedule = [(d, Stage.WARNING) for d in warnings] + [(deadline.due, Stage.DUE_DAY)]
    if deadline.kind is not DeadlineKind.BASE_DECLARATION_OPEN:
        after = deadline.due + timedelta(days=1)
        while not cal.is_working_day(after):
            after += timedelta(days=1)
        schedule.append((after, Stage.MISSED))
    return schedule


def test_a_simulated_year_of_reminders(policy, cal):
    seen: dict[str, list[tuple[date, Stage]]] = defaultdict(list)
    day = D(2025, 11, 1)
    while day <= D(2027, 1, 31):
        for deadline, stage in reminders_on(policy, cal, day):
            assert cal.is_working_day(day), day
            seen[deadline.key].append((day, stage))
        day += timedelta(days=1)
    deadlines_2026 = deadlines_for_year(policy, cal, 2026)
    for deadline in deadlines_2026:
        assert seen[deadline.key] == expected_schedule(deadline, cal), deadline.key
        assert seen[deadline.key] == reminder_schedule(deadline, policy, cal)
    # spot checks, by hand
    assert seen["change_cutoff:2026-02"][-2:] == [
        (D(2026, 2, 14), Stage.DUE_DAY),
        (D(2026, 2, 24), Stage.MISSED),
    ]
    assert seen["change_cutoff:2026-09"][:3] == [
        (D(2026, 9, 16), Stage.WARNING),
        (D(2026, 9, 17), Stage.WARNING),
        (D(2026, 9, 18), Stage.WARNING),
    ]
    assert seen["payment:2026-09"][-1] == (D(2026, 9, 28), Stage.MISSED)
    assert seen["payment:2026-10"][0] == (D(2026, 10, 20), Stage.WARNING)
    total = sum(len(seen[d.key]) for d in deadlines_2026)
    assert total == 24 * 5 + (3 + 1) + (3 + 1 + 1) + (2 + 1 + 1)  # monthly, open, close, exam


def test_reminders_on_a_busy_day_and_on_a_holiday(policy, cal):
    found = reminders_on(policy, cal, D(2026, 2, 14))  # the make-up Saturday
    assert [(deadline.key, stage) for deadline, stage in found] == [
        ("change_cutoff:2026-02", Stage.DUE_DAY),
        ("payment:2026-02", Stage.WARNING),
    ]
    assert reminders_on(policy, cal, D(2026, 2, 18)) == []
    assert reminders_on(policy, cal, D(2026, 10, 3)) == []


def test_2027_deadlines_fall_back_to_weekends_and_warn(policy, cal, caplog):
    caplog.set_level(logging.WARNING, logger="bot.domain.calendar")
    deadlines = deadlines_for_year(policy, cal, 2027)
    assert len(deadlines) == 27
    assert not any(d.calendar_covered for d in deadlines)
    due = {d.key: d.due for d in deadlines}
    assert due["change_cutoff:2027-02"] == D(2027, 2, 19)  # Sat 20 -> Fri 19, weekends only
    assert due["payment:2027-09"] == D(2027, 9, 24)  # Sat 25 -> Fri 24
    assert cal.coverage_note(2027) is not None
    assert sum("2027" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING) == 1
    assert reminders_on(policy, cal, D(2027, 2, 19))[0][0].calendar_covered is False


def test_a_holidays_file_for_2027_moves_its_deadlines(policy, tmp_path):
    (tmp_path / "holidays.toml").write_text(
        '[years.2027]\nsource = "test notice"\nholidays = ["2027-02-06..2027-02-19"]\n', encoding="utf-8"
    )
    cal = WorkingCalendar.from_file(tmp_path / "holidays.toml")
    cutoff = by_key(deadlines_for_year(policy, cal, 2027))["change_cutoff:2027-02"]
    assert cutoff.due == D(2027, 2, 5) and cutoff.calendar_covered


def test_a_deadline_moved_forward_falls_in_the_next_month(policy, cal):
    late = dataclasses.replace(policy, payment_day=28, holiday_shift="next_working_day")
    # Sun 28 February 2027 -> Mon 1 March
    assert by_key(deadlines_for_year(late, cal, 2027))["payment:2027-02"].due == D(2027, 3, 1)


def test_next_deadlines(policy, cal):
    assert [d.key for d in next_deadlines(policy, cal, D(2026, 2, 15), 2)] == [
        "payment:2026-02",
        "change_cutoff:2026-03",
    ]
    assert next_deadlines(policy, cal, D(2026, 2, 14), 1)[0].key == "change_cutoff:2026-02"  # due today
    assert [d.key for d in next_deadlines(policy, cal, D(2026, 12, 28), 2)] == [
        "change_cutoff:2027-01",
        "payment:2027-01",
    ]
    many = next_deadlines(policy, cal, D(2026, 6, 26), 60)
    assert len(many) == 60 and [d.due for d in many] == sorted(d.due for d in many)
    assert many[0].key == "certificate_exam:2026" and min(d.due for d in many) >= D(2026, 6, 26)
    assert next_deadlines(policy, cal, D(2026, 6, 26), 0) == []


def test_reminder_keys_are_stable(policy, cal):
    deadline = by_key(deadlines_for_year(policy, cal, 2026))["payment:2026-02"]
    assert deadline.key == "payment:2026-02"
    assert reminder_key(deadline, Stage.WARNING, D(2026, 2, 24)) == "payment:2026-02:warning:2026-02-24"


def test_stale_counts_working_days_after_the_last_activity(policy, cal):
    assert policy.stale_after_working_days == 3
    friday = D(2026, 2, 13)
    assert not is_stale(friday, D(2026, 2, 24), policy, cal)  # Sat 14 (make-up), Tue 24: two
    assert is_stale(friday, D(2026, 2, 25), policy, cal)
