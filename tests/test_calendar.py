"""The working-day calendar: 2026 holidays and make-up days, the holidays file, 2027."""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import re
import time
import tomllib
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from bot.domain.calendar import NOT_COVERED, PACKAGE_SOURCE, WEEKENDS_ONLY, WorkingCalendar, parse_holidays
from bot.domain.policy import DEFAULT_HOLIDAYS_FILE, DEFAULT_POLICY_FILE, PolicyError, load_policy

D = date


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- 2026, from the package -------------------------------------------------------------------


def test_spring_festival_2026_is_off_and_its_saturdays_are_worked(cal):
    assert not any(cal.is_working_day(d) for d in days(D(2026, 2, 15), D(2026, 2, 23)))
    assert cal.is_working_day(D(2026, 2, 14))  # Saturday, make-up day
    assert cal.is_working_day(D(2026, 2, 28))  # Saturday, make-up day
    assert cal.next_working_day(D(2026, 2, 16)) == D(2026, 2, 24)
    assert cal.previous_working_day(D(2026, 2, 20)) == D(2026, 2, 14)


def test_national_day_2026_is_off_and_its_weekend_days_are_worked(cal):
    assert not any(cal.is_working_day(d) for d in days(D(2026, 10, 1), D(2026, 10, 7)))
    assert cal.is_working_day(D(2026, 9, 20))  # Sunday, make-up day
    assert cal.is_working_day(D(2026, 10, 10))  # Saturday, make-up day
    assert not cal.is_working_day(D(2026, 10, 11))  # an ordinary Sunday
    assert cal.next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)
    assert cal.previous_working_day(D(2026, 10, 7)) == D(2026, 9, 30)
    assert cal.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert cal.add_working_days(D(2026, 10, 8), -1) == D(2026, 9, 30)
    # Thu 8, Fri 9, Sat 10 (make-up), Mon 12
    assert cal.add_working_days(D(2026, 9, 30), 4) == D(2026, 10, 12)


def test_the_other_2026_holidays(cal):
    for first, last in [
        (D(2026, 1, 1), D(2026, 1, 3)),
        (D(2026, 4, 4), D(2026, 4, 6)),
        (D(2026, 5, 1), D(2026, 5, 5)),
        (D(2026, 6, 19), D(2026, 6, 21)),
        (D(2026, 9, 25), D(2026, 9, 27)),
    ]:
        assert not any(cal.is_working_day(d) for d in days(first, last)), first
    for make_up in (D(2026, 1, 4), D(2026, 5, 9)):
        assert cal.is_working_day(make_up)


def test_a_working_day_is_its_own_next_and_previous_working_day(cal):
    assert cal.next_working_day(D(2026, 3, 18)) == D(2026, 3, 18)
    assert cal.previous_working_day(D(2026, 3, 18)) == D(2026, 3, 18)
    assert cal.next_working_day(D(2026, 3, 21)) == D(2026, 3, 23)  # Saturday -> Monday
    assert cal.previous_working_day(D(2026, 3, 22)) == D(2026, 3, 20)


def test_shift_follows_the_policy_rule(cal):
    holiday = D(2026, 10, 4)
    assert cal.shift(holiday, "next_working_day") == D(2026, 10, 8)
    assert cal.shift(holiday, "previous_working_day") == D(2026, 9, 30)
    assert cal.shift(holiday, "keep") == holiday
    assert cal.shift(D(2026, 10, 9), "previous_working_day") == D(2026, 10, 9)
    with pytest.raises(ValueError):
        cal.shift(holiday, "nearest")


def test_add_working_days_counts_neither_the_start_nor_zero(cal):
    assert cal.add_working_days(D(2026, 10, 4), 0) == D(2026, 10, 4)
    assert cal.add_working_days(D(2026, 10, 4), 1) == D(2026, 10, 8)
    assert cal.add_working_days(D(2026, 10, 4), -1) == D(2026, 9, 30)
    assert cal.add_working_days(D(2026, 2, 24), -1) == D(2026, 2, 14)
    assert cal.add_working_days(D(2026, 2, 24), -2) == D(2026, 2, 13)
    # across the year end, both ways (Jan 1 2026 is a holiday)
    assert cal.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert cal.add_working_days(D(2026, 1, 4), -1) == D(2025, 12, 31)
    # The package's own walk, across whole years (it agrees when starting on a working day).
    for n in (-500, -250, 250, 300):
        assert cal.add_working_days(D(2025, 1, 6), n) == chinese_calendar.find_workday(n, D(2025, 1, 6))


def test_working_days_between(cal):
    assert cal.working_days_between(D(2026, 3, 16), D(2026, 3, 17)) == 1  # Mon -> Tue
    assert cal.working_days_between(D(2026, 3, 20), D(2026, 3, 22)) == 0  # Fri -> Sun
    assert cal.working_days_between(D(2026, 3, 17), D(2026, 3, 16)) == -1
    assert cal.working_days_between(D(2026, 9, 30), D(2026, 10, 8)) == 1
    assert cal.working_days_between(D(2026, 5, 5), D(2026, 5, 5)) == 0
    expected = len(chinese_calendar.get_workdays(D(2026, 1, 1), D(2026, 12, 31)))
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == expected


def test_counting_agrees_with_a_day_by_day_walk(cal):
    rng = random.Random(2026)
    start = D(2023, 1, 1)
    for _ in range(300):
        a = start + timedelta(days=rng.randrange(1400))
        b = start + timedelta(days=rng.randrange(1400))
        lo, hi = min(a, b), max(a, b)
        walked = sum(cal.is_working_day(d) for d in days(lo + timedelta(days=1), hi)) if hi > lo else 0
        assert cal.working_days_between(a, b) == (walked if b >= a else -walked)
        if cal.is_working_day(b) and b > a:
            assert cal.add_working_days(a, cal.working_days_between(a, b)) == b
        n = rng.randrange(-40, 41)
        moved = cal.add_working_days(a, n)
        if n:
            assert cal.is_working_day(moved)
            # going back, (moved, a] holds a itself only when a is a working day
            expected = n if n > 0 or cal.is_working_day(a) else n + 1
            assert cal.working_days_between(a, moved) == expected


def test_package_years_match_the_package(cal):
    for d in days(D(2024, 1, 1), D(2026, 12, 31)):
        assert cal.is_working_day(d) == chinese_calendar.is_workday(d), d
    assert cal.covered(2026) and cal.source(2026) == PACKAGE_SOURCE
    assert cal.coverage_note(2026) is None


def test_first_and_last_working_days_of_a_month(cal):
    assert cal.first_working_day(2026, 10) == D(2026, 10, 8)
    assert cal.first_working_day(2026, 5) == D(2026, 5, 6)
    assert cal.last_working_day(2026, 2) == D(2026, 2, 28)  # Saturday, make-up day
    assert cal.last_working_day(2026, 9) == D(2026, 9, 30)


def test_a_year_is_worked_out_fast():
    start = time.perf_counter()
    for _ in range(20):
        cal = WorkingCalendar()
        for d in days(D(2026, 1, 1), D(2026, 12, 31)):
            cal.is_working_day(d)
            cal.add_working_days(d, -3)
            cal.next_working_day(d)
    assert time.perf_counter() - start < 2  # about 0.1 s here; generous for slow machines


# -- 2027: no notice yet ----------------------------------------------------------------------


def test_2027_falls_back_to_weekends_only_and_says_so(cal, caplog):
    caplog.set_level(logging.WARNING, logger="bot.domain.calendar")
    assert not cal.covered(2027)
    assert cal.source(2027) == WEEKENDS_ONLY
    assert cal.is_working_day(D(2027, 1, 1))  # a Friday: New Year unknown
    assert not cal.is_working_day(D(2027, 1, 2))
    assert cal.next_working_day(D(2027, 10, 2)) == D(2027, 10, 4)
    note = cal.coverage_note(2027)
    assert note is not None and note.code == NOT_COVERED and note.params["year"] == 2027
    assert cal.warnings == [note]
    for d in days(D(2027, 1, 1), D(2027, 3, 1)):
        cal.is_working_day(d)
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "2027" in r.getMessage()]
    assert len(warned) == 1


def test_warnings_list_only_uncovered_years_asked_about(cal):
    cal.is_working_day(D(2026, 6, 1))
    assert cal.warnings == []
    cal.is_working_day(D(2028, 6, 1))
    cal.is_working_day(D(2027, 6, 1))
    assert [w.params["year"] for w in cal.warnings] == [2027, 2028]
    assert not cal.covered(2003)  # before the package's first year


def test_holidays_file_adds_2027(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="bot.domain.calendar")
    file = write(
        tmp_path / "holidays.toml",
        """
        [years.2027]
        source = "test notice, 2026-11"
        holidays = ["2027-01-01", "2027-02-06..2027-02-12", 2027-10-01]
        workdays = [2027-02-13, "2027-01-31"]
        """,
    )
    cal = WorkingCalendar.from_file(file)
    assert cal.covered(2027) and cal.coverage_note(2027) is None
    assert cal.source(2027) == "holidays.toml: test notice, 2026-11"
    assert not cal.is_working_day(D(2027, 1, 1))
    assert not any(cal.is_working_day(d) for d in days(D(2027, 2, 6), D(2027, 2, 12)))
    assert cal.is_working_day(D(2027, 2, 13))  # Saturday made a working day
    assert cal.is_working_day(D(2027, 1, 31))  # Sunday made a working day
    assert not cal.is_working_day(D(2027, 10, 1))
    assert cal.is_working_day(D(2027, 10, 4))  # not listed: an ordinary Monday
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_a_year_in_the_file_replaces_the_package(tmp_path):
    file = write(
        tmp_path / "h.toml",
        """
        [years.2026]
        source = "a correction"
        holidays = ["2026-03-02"]
        """,
    )
    cal = WorkingCalendar.from_file(file)
    assert not cal.is_working_day(D(2026, 3, 2))
    assert cal.is_working_day(D(2026, 10, 1))  # the package's holiday no longer applies
    assert cal.source(2026) == "h.toml: a correction"
    assert cal.is_working_day(D(2025, 10, 1)) == chinese_calendar.is_workday(D(2025, 10, 1))


def test_a_notice_may_name_a_day_of_the_year_before(tmp_path):
    file = write(
        tmp_path / "h.toml",
        """
        [years.2027]
        source = "test"
        holidays = ["2026-12-31..2027-01-01"]
        workdays = ["2026-12-27"]
        """,
    )
    cal = WorkingCalendar.from_file(file)
    assert not cal.is_working_day(D(2026, 12, 31))
    assert cal.is_working_day(D(2026, 12, 27))  # a Sunday
    assert cal.covered(2026) and cal.source(2026) == PACKAGE_SOURCE


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[years.2027]\nholidays = ["2027-01-01"]', "source"),
        ('[years.2027]\nsource = "x"\nholidays = ["2027-01-01"]\nworkdays = ["2027-01-01"]', "both"),
        ('[years.2027]\nsource = "x"\nholidays = ["2027-13-01"]', "2027-13-01"),
        ('[years.2027]\nsource = "x"\nholidays = ["1 Jan 2027"]', "1 Jan 2027"),
        ('[years.2027]\nsource = "x"\nholiday = ["2027-01-01"]', "holiday"),
        ('[years.2027]\nsource = "x"\nholidays = ["2027-02-12..2027-02-06"]', "ends before"),
        ('[years.2027]\nsource = "x"\nholidays = ["2029-01-01"]', "next to 2027"),
        ('[years.2027]\nsource = "x"\nholidays = "2027-01-01"', "list"),
        ('[years.27]\nsource = "x"', "four-digit"),
        ('[2027]\nsource = "x"', "[years.YYYY]"),
    ],
)
def test_a_bad_holidays_file_says_what_to_fix(tmp_path, text, complaint):
    file = write(tmp_path / "holidays.toml", text)
    with pytest.raises(PolicyError, match=re.escape(complaint)):
        WorkingCalendar.from_file(file)


def test_not_toml_or_missing_file(tmp_path):
    with pytest.raises(PolicyError, match="not valid TOML"):
        WorkingCalendar.from_file(write(tmp_path / "h.toml", "[years.2027\n"))
    with pytest.raises(PolicyError, match="not found"):
        WorkingCalendar.from_file(tmp_path / "absent.toml")


# -- the shipped file and the policy ----------------------------------------------------------


def test_the_shipped_holidays_file_is_valid():
    with DEFAULT_HOLIDAYS_FILE.open("rb") as fh:
        parse_holidays(tomllib.load(fh), str(DEFAULT_HOLIDAYS_FILE))


def test_the_example_in_the_shipped_file_agrees_with_the_package():
    commented = DEFAULT_HOLIDAYS_FILE.read_text(encoding="utf-8").split("# [years.2026]", 1)[1]
    lines = ["[years.2026]"]
    for line in commented.splitlines()[1:]:
        if not line.startswith("#"):
            break
        lines.append(line[2:])
    (example,) = parse_holidays(tomllib.loads("\n".join(lines)))
    from_example, from_package = WorkingCalendar([example]), WorkingCalendar()
    assert all(
        from_example.is_working_day(d) == from_package.is_working_day(d)
        for d in days(D(2026, 1, 1), D(2026, 12, 31))
    )


def test_the_default_policy_names_the_shipped_holidays_file():
    policy = load_policy()
    assert Path(policy.holidays_file) == DEFAULT_HOLIDAYS_FILE
    assert WorkingCalendar.from_policy(policy) is WorkingCalendar.from_policy(policy)


def policy_copy(folder: Path, calendar_table: str | None) -> Path:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8").split("[calendar]")[0]
    if calendar_table is not None:
        text += "\n[calendar]\n" + calendar_table + "\n"
    return write(folder / "policy.toml", text)


def test_holidays_file_is_found_beside_the_policy_file(tmp_path):
    write(tmp_path / "local-holidays.toml", '[years.2027]\nsource = "x"\nholidays = ["2027-01-04"]')
    policy = load_policy(policy_copy(tmp_path, 'holidays_file = "local-holidays.toml"'))
    assert Path(policy.holidays_file) == (tmp_path / "local-holidays.toml").resolve()
    cal = WorkingCalendar.from_policy(policy)
    assert cal.covered(2027) and not cal.is_working_day(D(2027, 1, 4))


def test_unset_holidays_file_uses_the_one_beside_the_policy_or_the_shipped_one(tmp_path):
    policy = load_policy(policy_copy(tmp_path, None))
    assert Path(policy.holidays_file) == DEFAULT_HOLIDAYS_FILE
    write(tmp_path / "holidays.toml", "[years]\n")
    policy = load_policy(policy_copy(tmp_path, None))
    assert Path(policy.holidays_file) == (tmp_path / "holidays.toml").resolve()


def test_a_named_holidays_file_that_is_missing_stops_the_bot(tmp_path):
    policy = load_policy(policy_copy(tmp_path, 'holidays_file = "nowhere.toml"'))
    with pytest.raises(PolicyError, match=r"nowhere\.toml.*calendar\.holidays_file"):
        WorkingCalendar.from_policy(policy)
    with pytest.raises(PolicyError, match="holidays_file"):
        load_policy(policy_copy(tmp_path, "holidays_file = 3"))


def test_an_empty_holidays_file_name_means_the_package_only(tmp_path):
    policy = load_policy(policy_copy(tmp_path, 'holidays_file = ""'))
    assert policy.holidays_file == ""
    cal = WorkingCalendar.from_policy(policy)
    assert cal.covered(2026) and not cal.covered(2027)


def test_an_edited_holidays_file_is_reread(tmp_path):
    file = write(tmp_path / "holidays.toml", "[years]\n")
    policy = dataclasses.replace(load_policy(), holidays_file=str(file))
    before = WorkingCalendar.from_policy(policy)
    assert not before.covered(2027)
    write(file, '[years.2027]\nsource = "the 2027 notice"\nholidays = ["2027-01-01"]\n')
    os.utime(file, ns=(time.time_ns(), time.time_ns() + 10**9))
    after = WorkingCalendar.from_policy(policy)
    assert after is not before and after.covered(2027)
