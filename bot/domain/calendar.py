"""Working days in mainland China: weekends, public holidays and make-up working days.

A year's arrangement comes from, in this order:

1. the administrator's holidays file (``policy/holidays.toml``, named by the policy's
   ``[calendar] holidays_file``): a year listed there replaces everything else for that year;
2. the ``chinese_calendar`` package, for the years it carries (2004-2026 in 1.11.0);
3. nothing: Monday to Friday are working days. Such a year is *not covered*:
   :meth:`WorkingCalendar.covered` says so, :meth:`WorkingCalendar.coverage_note` and
   :attr:`WorkingCalendar.warnings` give a code for the administrators' screens, and a
   WARNING is logged once per year and calendar.

Each year is worked out once per calendar and kept as a bit per day plus running totals,
so every question below is a lookup or a bisection.
"""

from __future__ import annotations

import calendar as _gregorian
import logging
import re
import threading
import tomllib
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import chinese_calendar

from bot.domain.errors import Problem
from bot.domain.policy import HOLIDAY_SHIFTS, Policy, PolicyError

log = logging.getLogger(__name__)

PACKAGE_SOURCE = f"chinese_calendar {chinese_calendar.__version__}"
WEEKENDS_ONLY = "weekends_only"
# Problem code for a year computed without its holiday arrangement.
NOT_COVERED = "calendar_year_not_covered"

_ONE_DAY = timedelta(days=1)
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class HolidayYear:
    """One ``[years.YYYY]`` table of the holidays file: one State Council notice."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str


@dataclass(frozen=True)
class _Year:
    start: date
    covered: bool
    source: str
    working: bytes  # 1 for a working day, indexed by day of the year - 1
    running: list[int]  # running[i]: working days among the year's first i + 1 days

    @property
    def total(self) -> int:
        return self.running[-1]


class WorkingCalendar:
    """Answers "is this a working day" and counts working days, for any date.

    ``years`` are the holidays file's tables (see :func:`parse_holidays`); ``label`` names
    the file in sources and warnings.
    """

    def __init__(self, years: Iterable[HolidayYear] = (), label: str = "holidays file") -> None:
        self._listed = {y.year: y for y in years}
        self.label = label
        # A notice may name a day of a neighbouring year: each listed date counts on its own
        # date, whichever table it is in.
        self._off: dict[int, set[date]] = {}
        self._on: dict[int, set[date]] = {}
        for listed in self._listed.values():
            for day in listed.holidays:
                self._off.setdefault(day.year, set()).add(day)
            for day in listed.workdays:
                self._on.setdefault(day.year, set()).add(day)
        self._years: dict[int, _Year] = {}
        self._lock = threading.Lock()

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> WorkingCalendar:
        """A calendar with the holidays file at ``path`` (PolicyError when unreadable)."""
        file = Path(path)
        try:
            with file.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise PolicyError(f"holidays file not found: {file}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"holidays file {file} is not valid TOML: {exc}") from exc
        return cls(parse_holidays(data, str(file)), label=file.name)

    @classmethod
    def from_policy(cls, policy: Policy) -> WorkingCalendar:
        """The calendar for ``policy.holidays_file``, shared while the file is unchanged.

        The same instance (and its per-year cache, and its once-per-year warning) is
        returned until the file's size or modification time changes; then it is reread.
        """
        if not policy.holidays_file:
            return _shared("", None)
        file = Path(policy.holidays_file)
        try:
            stat = file.stat()
        except FileNotFoundError as exc:
            raise PolicyError(
                f"holidays file not found: {file} (calendar.holidays_file in {policy.path})"
            ) from exc
        return _shared(str(file), (stat.st_mtime_ns, stat.st_size))

    # -- coverage ---------------------------------------------------------------------------

    def covered(self, year: int) -> bool:
        """Whether ``year``'s holidays are known (from the file or the package)."""
        return self._year(year).covered

    def source(self, year: int) -> str:
        """Where ``year``'s holidays come from: the file's notice, the package, or
        ``"weekends_only"``."""
        return self._year(year).source

    def coverage_note(self, year: int) -> Problem | None:
        """A :class:`Problem` (code ``calendar_year_not_covered``) for a year computed as
        weekends only, ``None`` for a covered year."""
        if self.covered(year):
            return None
        return Problem(NOT_COVERED, {"year": year, "holidays_file": self.label})

    @property
    def warnings(self) -> list[Problem]:
        """One note per uncovered year this calendar has been asked about, by year."""
        return [
            Problem(NOT_COVERED, {"year": y.start.year, "holidays_file": self.label})
            for y in sorted(list(self._years.values()), key=lambda y: y.start)
            if not y.covered
        ]

    # -- days -------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        year = self._year(day.year)
        return bool(year.working[(day - year.start).days])

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it.
        (For the working day strictly after ``day`` use ``add_working_days(day, 1)``.)"""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def previous_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the last working day before it."""
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def shift(self, day: date, rule: str) -> date:
        """Move a deadline off a non-working day as the policy's ``holiday_shift`` says:
        ``next_working_day``, ``previous_working_day`` (a working day stays put) or ``keep``."""
        if rule == "next_working_day":
            return self.next_working_day(day)
        if rule == "previous_working_day":
            return self.previous_working_day(day)
        if rule == "keep":
            return day
        raise ValueError(f"unknown holiday shift {rule!r}; expected one of {HOLIDAY_SHIFTS}")

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (before it when ``n`` is negative);
        ``day`` itself is never counted, and ``n == 0`` returns ``day`` unchanged.

        For a working day ``b`` after ``a``: ``add_working_days(a, working_days_between(a, b)) == b``.
        """
        if n == 0:
            return day
        year = self._year(day.year)
        index = (day - year.start).days
        if n > 0:
            rank = year.running[index] + n  # 1-based rank of the answer in its year
            while rank > year.total:
                rank -= year.total
                year = self._year(year.start.year + 1)
        else:
            rank = year.running[index] - year.working[index] + n + 1
            while rank < 1:
                year = self._year(year.start.year - 1)
                rank += year.total
        return year.start + timedelta(days=bisect_left(year.running, rank))

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days after ``a`` up to and including ``b``: 1 from a Monday to
        the Tuesday, 0 from a Friday to the Sunday. Negative when ``b`` is before ``a``
        (``working_days_between(b, a) == -working_days_between(a, b)``)."""
        if b < a:
            return -self.working_days_between(b, a)
        first, last = self._year(a.year), self._year(b.year)
        whole_years = sum(self._year(y).total for y in range(a.year, b.year))
        return whole_years + last.running[(b - last.start).days] - first.running[(a - first.start).days]

    def first_working_day(self, year: int, month: int) -> date:
        return self.next_working_day(date(year, month, 1))

    def last_working_day(self, year: int, month: int) -> date:
        return self.previous_working_day(date(year, month, _gregorian.monthrange(year, month)[1]))

    # -- the per-year table -----------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            with self._lock:
                cached = self._years.get(year)
                if cached is None:
                    cached = self._years[year] = self._build(year)
        return cached

    def _build(self, year: int) -> _Year:
        start = date(year, 1, 1)
        days = [start + timedelta(days=i) for i in range(366 if _gregorian.isleap(year) else 365)]
        listed = self._listed.get(year)
        if listed is not None:
            covered, source = True, f"{self.label}: {listed.source}"
            working = bytearray(d.weekday() < 5 for d in days)
        elif _package_covers(year):
            covered, source = True, PACKAGE_SOURCE
            working = bytearray(chinese_calendar.is_workday(d) for d in days)
        else:
            covered, source = False, WEEKENDS_ONLY
            working = bytearray(d.weekday() < 5 for d in days)
            log.warning(
                "no public holidays known for %s: counting Monday-Friday as working days; "
                "add the State Council's %s arrangement to %s",
                year,
                year,
                self.label,
            )
        for day in self._off.get(year, ()):
            working[(day - start).days] = 0
        for day in self._on.get(year, ()):
            working[(day - start).days] = 1
        return _Year(start, covered, source, bytes(working), list(accumulate(working)))


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


_SHARED: dict[str, tuple[tuple[int, int] | None, WorkingCalendar]] = {}
_SHARED_LOCK = threading.Lock()


def _shared(path: str, version: tuple[int, int] | None) -> WorkingCalendar:
    with _SHARED_LOCK:
        known = _SHARED.get(path)
        if known is not None and known[0] == version:
            return known[1]
        calendar = WorkingCalendar.from_file(path) if path else WorkingCalendar()
        _SHARED[path] = (version, calendar)
        return calendar


# -- the holidays file ------------------------------------------------------------------------


def parse_holidays(data: dict[str, Any], where: str = "<memory>") -> list[HolidayYear]:
    """Check and read the parsed holidays file; PolicyError says what to fix."""
    unknown = set(data) - {"years"}
    if unknown:
        raise PolicyError(f"{where}: unknown table(s) {sorted(unknown)}; write each year as [years.YYYY]")
    years = data.get("years", {})
    if not isinstance(years, dict):
        raise PolicyError(f"{where}: 'years' must be a table of [years.YYYY] tables")
    result: list[HolidayYear] = []
    seen: dict[date, str] = {}
    for key, table in years.items():
        here = f"{where}: years.{key}"
        if not (key.isdigit() and len(key) == 4):
            raise PolicyError(f"{here}: expected a four-digit year")
        if not isinstance(table, dict):
            raise PolicyError(f"{here}: expected a table with holidays, workdays and source")
        unknown = set(table) - {"holidays", "workdays", "source"}
        if unknown:
            raise PolicyError(
                f"{here}: unknown key(s) {sorted(unknown)}; expected holidays, workdays, source"
            )
        source = table.get("source")
        if not isinstance(source, str) or not source.strip():
            raise PolicyError(f"{here}: 'source' is required: the notice's title, date and address")
        year = int(key)
        listed: dict[str, frozenset[date]] = {}
        for name in ("holidays", "workdays"):
            days = _dates(table.get(name, []), f"{here}.{name}")
            for day in days:
                if abs(day.year - year) > 1:
                    raise PolicyError(f"{here}.{name}: {day} is not in or next to {year}")
                if seen.setdefault(day, name) != name:
                    raise PolicyError(f"{here}: {day} is listed both as a holiday and as a workday")
            listed[name] = days
        result.append(HolidayYear(year, listed["holidays"], listed["workdays"], source.strip()))
    return result


def _dates(values: Any, where: str) -> frozenset[date]:
    if not isinstance(values, list):
        raise PolicyError(f"{where}: expected a list of dates")
    days: set[date] = set()
    for value in values:
        if isinstance(value, date) and not hasattr(value, "hour"):
            days.add(value)
        elif isinstance(value, str):
            first, _, last = value.partition("..")
            start, end = _date(first, where), _date(last or first, where)
            if end < start:
                raise PolicyError(f"{where}: range {value!r} ends before it starts")
            days.update(start + timedelta(days=i) for i in range((end - start).days + 1))
        else:
            raise PolicyError(f"{where}: expected a date like 2027-01-01, got {value!r}")
    return frozenset(days)


def _date(text: str, where: str) -> date:
    text = text.strip()
    try:
        if not _DATE_TEXT.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise PolicyError(f"{where}: expected a date like 2027-01-01, got {text!r}") from exc
