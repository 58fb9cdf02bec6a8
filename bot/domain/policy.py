"""The local policy: rates, contribution base limits, deadlines and calendar settings.

Parsed from the TOML file named by ``SI_POLICY_FILE`` (``policy/default.toml`` ships with
the repo). Figures are kept as ``Decimal`` so that money arithmetic is exact.

The figures have a timeline: dated base periods (``[[base_periods]]``: start and end month,
floor, ceiling, local average wage, source) and rates with the month they take effect
(``[[rates.pension]]`` with ``from``). Every computation asks :meth:`Policy.period_for` for
the figures of the month it is about; a month no period covers gets the nearest known
period's figures, marked ``assumed`` so that whoever shows them says so.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.domain.errors import Problem
from bot.domain.months import YearMonth
from bot.resources import resource_dir

DEFAULT_POLICY_FILE = resource_dir("policy") / "default.toml"
# The shipped extra-holidays file (see bot/domain/calendar.py), used when a policy names none.
DEFAULT_HOLIDAYS_FILE = DEFAULT_POLICY_FILE.with_name("holidays.toml")
HOLIDAY_SHIFTS = ("next_working_day", "previous_working_day", "keep")
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_UP, "down": ROUND_DOWN}
HUNDRED = Decimal(100)
# Problem codes of the timeline (words: messages/<lang>/texts.toml, ``policy.*``).
PERIOD_MISSING = "policy_period_missing"


REMINDER_TARGETS = ("channel", "dm")


class PolicyError(ValueError):
    """The policy file is missing a value or holds one that makes no sense."""


@dataclass(frozen=True)
class Rate:
    """One insurance's contribution rate, in percent of the base, from month ``start`` on
    (``None``: as far back as anyone asks) until the scheme's next entry."""

    name: str
    employer: Decimal
    employee: Decimal
    source: str
    start: YearMonth | None = None


@dataclass(frozen=True)
class BasePeriod:
    """One base year of the local notice: the floor and ceiling of the monthly contribution
    base (60 % and 300 % of ``average_wage``) for the months ``start`` to ``end``."""

    start: YearMonth
    end: YearMonth
    floor: Decimal
    ceiling: Decimal
    average_wage: Decimal | None
    source: str
    # False: nobody here read the notice itself (the figures come from secondary sources),
    # so every place that quotes them says they are to be checked.
    verified: bool = True

    def covers(self, month: YearMonth) -> bool:
        return self.start <= month <= self.end


@dataclass(frozen=True)
class Contribution:
    """One scheme's contribution for one month, each side rounded as the policy says."""

    scheme: str
    employer: Decimal
    employee: Decimal


@dataclass(frozen=True)
class MonthFigures:
    """The figures that apply to one month: its base period, the rates in force, and
    whether they are an assumption (no period covers the month: the nearest known period's
    figures are used, and whoever shows them must say so)."""

    month: YearMonth
    period: BasePeriod
    rates: tuple[Rate, ...]
    assumed: bool
    rounding_unit: Decimal = Decimal("0.01")
    rounding_mode: str = "half_up"

    @property
    def floor(self) -> Decimal:
        return self.period.floor

    @property
    def ceiling(self) -> Decimal:
        return self.period.ceiling

    @property
    def employer_rate(self) -> Decimal:
        return sum((r.employer for r in self.rates), Decimal(0))

    @property
    def employee_rate(self) -> Decimal:
        return sum((r.employee for r in self.rates), Decimal(0))

    def rate(self, name: str) -> Rate:
        for rate in self.rates:
            if rate.name == name:
                return rate
        raise KeyError(name)

    def within(self, amount: Decimal) -> bool:
        return self.floor <= amount <= self.ceiling

    def clamp(self, amount: Decimal) -> Decimal:
        """``amount`` held to the period's floor and ceiling (SIL: 60 %-300 %)."""
        return min(max(amount, self.floor), self.ceiling)

    def round(self, amount: Decimal) -> Decimal:
        return amount.quantize(self.rounding_unit, ROUNDING_MODES[self.rounding_mode])

    def contributions(self, base: Decimal) -> tuple[Contribution, ...]:
        """Each scheme's employer and employee share of ``base`` for this month, rounded
        per side and scheme as the policy's ``[contribution_rounding]`` says. ``base`` is
        taken as given: clamp it first when it comes from a wage."""
        return tuple(
            Contribution(
                rate.name,
                self.round(base * rate.employer / HUNDRED),
                self.round(base * rate.employee / HUNDRED),
            )
            for rate in self.rates
        )


@dataclass(frozen=True)
class TimelineProblem:
    """A hole or an overlap in the base periods: ``kind`` is ``gap`` or ``overlap``, the
    months ``start`` to ``end`` (both included) are where."""

    kind: str
    start: YearMonth
    end: YearMonth


@dataclass(frozen=True)
class Policy:
    region: str
    region_zh: str
    summary: str
    summary_zh: str
    rate_schedule: tuple[Rate, ...]  # every dated entry, by scheme then start
    base_periods: tuple[BasePeriod, ...]  # by start; never overlapping
    late_fee_daily_percent: Decimal
    late_fee_source: str
    change_cutoff_day: int
    payment_day: int
    holiday_shift: str
    warn_working_days: int
    deadlines_source: str
    base_declaration_window_start: str  # "MM-DD"
    base_declaration_window_end: str
    base_declaration_source: str
    certificate_exam_month: int
    # The certificate's yearly examination was abolished for companies (DOMAIN.md §16):
    # its reminder is opt-in, for the bodies that still hold a certificate.
    certificate_exam_reminders: bool
    payback_max_months_back: int
    change_max_months_back: int
    change_max_months_ahead: int
    stale_after_working_days: int
    contact: dict[str, str]
    path: str
    # Absolute path of the extra-holidays file ("" for none): `[calendar] holidays_file`.
    holidays_file: str = str(DEFAULT_HOLIDAYS_FILE)
    # Local time ("HH:MM") from which a working day's reminders go out: `[reminders] send_at`.
    reminder_send_at: str = "09:00"
    # Where reminders go: "channel" (SI_ADMIN_CHANNEL, or each administrator by DM when there
    # is none) or "dm" (each administrator by DM) — one or the other, never both, so nobody
    # reads the same reminder twice: `[reminders] to`.
    reminder_to: str = "channel"
    # How each side of each scheme's monthly contribution is rounded: `[contribution_rounding]`.
    rounding_unit: Decimal = Decimal("0.01")
    rounding_mode: str = "half_up"
    rounding_source: str = ""
    # What a flexible worker joining on their own pays, in percent of the base they choose
    # (`[flexible_rates]`; None where the policy file has no official figure).
    flexible_pension_percent: Decimal | None = None
    flexible_medical_percent: Decimal | None = None
    flexible_rates_source: str = ""
    # Why deadlines move as they do (税收征收管理法实施细则 Art. 109 for next_working_day).
    holiday_shift_source: str = ""
    # The administrators' monthly report on the first working day: `[report] monthly`.
    monthly_report: bool = True
    # The yearly declaration's review: a new base further than this from the previous one
    # (in percent, either way) is listed as an outlier: `[base_declaration] outlier_percent`.
    base_outlier_percent: Decimal = Decimal(30)
    # Working days after the publicity DM before one reminder to whoever has not answered:
    # `[base_declaration] publicity_reminder_working_days`.
    base_publicity_reminder_working_days: int = 3
    # The months the forms offer (`[requests]`): how far back a complaint or a record
    # correction may point, how far back a transfer's period may start, how far ahead a
    # wanted retirement month may be.
    record_months_back: int = 36
    transfer_months_back: int = 240
    retirement_months_ahead: int = 84
    # The outbox (`[outbox]`): a message Slack keeps refusing is retried at most this far
    # apart, forever; past the alert limit the administrators are told and /healthz says so.
    outbox_retry_cap_minutes: int = 15
    outbox_alert_minutes: int = 60

    # -- the timeline ---------------------------------------------------------------------

    def period_for(self, month: YearMonth) -> MonthFigures:
        """The figures of ``month``: the base period that covers it and the rates in force.
        A month no period covers gets the nearest known period (the last one before it, or
        the first one when it is earlier than every period) with ``assumed`` set."""
        covering = next((p for p in self.base_periods if p.covers(month)), None)
        assumed = covering is None
        if covering is None:
            before = [p for p in self.base_periods if p.end < month]
            covering = before[-1] if before else self.base_periods[0]
        rates, rates_assumed = self._rates_for(month)
        return MonthFigures(
            month, covering, rates, assumed or rates_assumed, self.rounding_unit, self.rounding_mode
        )

    def period_on(self, day: date) -> MonthFigures:
        """The figures of the month ``day`` is in (a local date, in SI_TIMEZONE)."""
        return self.period_for(YearMonth.of(day))

    def _rates_for(self, month: YearMonth) -> tuple[tuple[Rate, ...], bool]:
        found: list[Rate] = []
        assumed = False
        for name in dict.fromkeys(r.name for r in self.rate_schedule):
            entries = [r for r in self.rate_schedule if r.name == name]
            in_force = [r for r in entries if r.start is None or r.start <= month]
            if in_force:
                found.append(in_force[-1])
            else:  # earlier than the scheme's first known rate
                found.append(entries[0])
                assumed = True
        return tuple(found), assumed

    def timeline_problems(self, until: YearMonth) -> list[TimelineProblem]:
        """Holes between the base periods, and the months after the last one up to
        ``until`` (the current month) that no period covers. (Overlaps are refused when the
        file is read.)"""
        problems = []
        for earlier, later in pairwise(self.base_periods):
            if later.start > earlier.end.plus(1):
                problems.append(TimelineProblem("gap", earlier.end.plus(1), later.start.plus(-1)))
        last = self.base_periods[-1]
        if until > last.end:
            problems.append(TimelineProblem("gap", last.end.plus(1), until))
        return problems

    @property
    def latest(self) -> MonthFigures:
        """The figures of the last month of the last known period: what a month after every
        period falls back on."""
        return self.period_for(self.base_periods[-1].end)

    # The latest figures, for the places that quote "the" figures without a month.
    @property
    def rates(self) -> tuple[Rate, ...]:
        return self.latest.rates

    @property
    def employer_rate(self) -> Decimal:
        return self.latest.employer_rate

    @property
    def employee_rate(self) -> Decimal:
        return self.latest.employee_rate

    def rate(self, name: str) -> Rate:
        return self.latest.rate(name)

    @property
    def base_floor(self) -> Decimal:
        return self.base_periods[-1].floor

    @property
    def base_ceiling(self) -> Decimal:
        return self.base_periods[-1].ceiling

    @property
    def base_source(self) -> str:
        return self.base_periods[-1].source


def policy_note(policy: Policy, month: YearMonth) -> Problem | None:
    """What App Home and the like say about the policy in ``month``: a
    ``policy_period_missing`` Problem when no base period covers it (the last known
    figures are used meanwhile), else ``None``."""
    figures = policy.period_for(month)
    if not figures.assumed:
        return None
    return Problem(
        PERIOD_MISSING,
        {"month": str(month), "start": str(figures.period.start), "end": str(figures.period.end)},
    )


def _dec(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PolicyError(f"{where}: expected a number, got {value!r}")
    try:
        return Decimal(str(value))
    except ArithmeticError as exc:
        raise PolicyError(f"{where}: expected a number, got {value!r}") from exc


def _get(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise PolicyError(f"{where}: missing '{key}'")
    return table[key]


def _day(value: Any, where: str) -> int:
    if not isinstance(value, int) or not 1 <= value <= 28:
        # Days above 28 would not exist in February; the holiday shift handles the rest.
        raise PolicyError(f"{where}: expected a day of the month from 1 to 28, got {value!r}")
    return value


def _holidays_file(calendar: dict[str, Any], path: str) -> str:
    """Where the extra-holidays file is: `[calendar] holidays_file`, relative to the policy
    file's folder. Not set: ``holidays.toml`` beside the policy file if there is one, else
    the shipped file. An empty string means no file (the chinese_calendar package only)."""
    name = calendar.get("holidays_file")
    folder = DEFAULT_POLICY_FILE.parent if path.startswith("<") else Path(path).resolve().parent
    if name is None:
        beside = folder / DEFAULT_HOLIDAYS_FILE.name
        return str(beside if beside.is_file() else DEFAULT_HOLIDAYS_FILE)
    if not isinstance(name, str):
        raise PolicyError(f"calendar.holidays_file: expected a file name, got {name!r}")
    return str(folder / name) if name else ""


def parse_policy(data: dict[str, Any], path: str = "<memory>") -> Policy:
    """Build a Policy from the parsed TOML tables, refusing anything incomplete."""
    meta = data.get("meta", {})
    late = _get(data, "late_fee", path)
    deadlines = _get(data, "deadlines", path)
    decl = _get(data, "base_declaration", path)
    cert = data.get("registration_certificate", {})
    req = data.get("requests", {})
    rounding = data.get("contribution_rounding", {})
    shift = deadlines.get("holiday_shift", "next_working_day")
    if shift not in HOLIDAY_SHIFTS:
        raise PolicyError(f"deadlines.holiday_shift: expected one of {HOLIDAY_SHIFTS}, got {shift!r}")
    exam_month = cert.get("annual_exam_month", 6)
    if not isinstance(exam_month, int) or not 1 <= exam_month <= 12:
        raise PolicyError(f"registration_certificate.annual_exam_month: bad month {exam_month!r}")
    exam_reminders = cert.get("reminders", False)
    if not isinstance(exam_reminders, bool):
        raise PolicyError(
            f"registration_certificate.reminders: expected true or false, got {exam_reminders!r}"
        )
    mode = rounding.get("mode", "half_up")
    if mode not in ROUNDING_MODES:
        raise PolicyError(
            f"contribution_rounding.mode: expected one of {tuple(ROUNDING_MODES)}, got {mode!r}"
        )
    unit = _dec(rounding.get("unit", "0.01"), "contribution_rounding.unit")
    monthly_report = data.get("report", {}).get("monthly", True)
    if not isinstance(monthly_report, bool):
        raise PolicyError(f"report.monthly: expected true or false, got {monthly_report!r}")
    if unit <= 0:
        raise PolicyError(f"contribution_rounding.unit: expected a positive amount like 0.01, got {unit}")
    flexible = data.get("flexible_rates")
    if flexible is not None:
        flexible_pension = _dec(_get(flexible, "pension", "flexible_rates"), "flexible_rates.pension")
        flexible_medical = _dec(_get(flexible, "medical", "flexible_rates"), "flexible_rates.medical")
    else:
        flexible_pension = flexible_medical = None
    outbox = data.get("outbox", {})
    retry_cap = _minutes(outbox.get("retry_cap_minutes", 15), "outbox.retry_cap_minutes")
    alert_after = _minutes(
        outbox.get("undeliverable_alert_minutes", 60), "outbox.undeliverable_alert_minutes"
    )
    return Policy(
        region=str(meta.get("region", "")),
        region_zh=str(meta.get("region_zh", meta.get("region", ""))),
        summary=str(meta.get("summary", "")),
        summary_zh=str(meta.get("summary_zh", meta.get("summary", ""))),
        rate_schedule=_rates(_get(data, "rates", path)),
        base_periods=_base_periods(data, path),
        late_fee_daily_percent=_dec(_get(late, "daily_percent", "late_fee"), "late_fee.daily_percent"),
        late_fee_source=str(late.get("source", "")),
        change_cutoff_day=_day(
            _get(deadlines, "change_cutoff_day", "deadlines"), "deadlines.change_cutoff_day"
        ),
        payment_day=_day(_get(deadlines, "payment_day", "deadlines"), "deadlines.payment_day"),
        holiday_shift=shift,
        warn_working_days=int(deadlines.get("warn_working_days", 3)),
        deadlines_source=str(deadlines.get("source", "")),
        base_declaration_window_start=str(_get(decl, "window_start", "base_declaration")),
        base_declaration_window_end=str(_get(decl, "window_end", "base_declaration")),
        base_declaration_source=str(decl.get("source", "")),
        certificate_exam_month=exam_month,
        certificate_exam_reminders=exam_reminders,
        payback_max_months_back=int(req.get("payback_max_months_back", 36)),
        change_max_months_back=int(req.get("change_max_months_back", 3)),
        change_max_months_ahead=int(req.get("change_max_months_ahead", 3)),
        stale_after_working_days=int(req.get("stale_after_working_days", 3)),
        record_months_back=int(req.get("record_months_back", 36)),
        transfer_months_back=int(req.get("transfer_months_back", 240)),
        retirement_months_ahead=int(req.get("retirement_months_ahead", 84)),
        contact={k: str(v) for k, v in data.get("contact", {}).items()},
        path=path,
        holidays_file=_holidays_file(data.get("calendar", {}), path),
        reminder_send_at=_clock_time(data.get("reminders", {}).get("send_at", "09:00"), "reminders.send_at"),
        reminder_to=_one_of(data.get("reminders", {}).get("to", "channel"), REMINDER_TARGETS, "reminders.to"),
        rounding_unit=unit,
        rounding_mode=mode,
        rounding_source=str(rounding.get("source", "")),
        holiday_shift_source=str(deadlines.get("holiday_shift_source", "")),
        flexible_pension_percent=flexible_pension,
        flexible_medical_percent=flexible_medical,
        flexible_rates_source=str((flexible or {}).get("source", "")),
        monthly_report=monthly_report,
        base_outlier_percent=_dec(decl.get("outlier_percent", 30), "base_declaration.outlier_percent"),
        base_publicity_reminder_working_days=int(decl.get("publicity_reminder_working_days", 3)),
        outbox_retry_cap_minutes=retry_cap,
        outbox_alert_minutes=alert_after,
    )


def _minutes(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PolicyError(f"{where}: expected a whole number of minutes, 1 or more, got {value!r}")
    return value


def _month(value: Any, where: str) -> YearMonth:
    try:
        return YearMonth.parse(str(value))
    except ValueError as exc:
        raise PolicyError(f"{where}: expected a month like 2025-07, got {value!r}") from exc


def _rates(table: Any) -> tuple[Rate, ...]:
    """``[rates.X]`` (one rate, in force for every month) or ``[[rates.X]]`` (dated entries,
    each with ``from = "YYYY-MM"``; the first may leave it out)."""
    if not isinstance(table, dict) or not table:
        raise PolicyError("rates: expected a table per insurance, e.g. [rates.pension]")
    found: list[Rate] = []
    for name, entries in table.items():
        where = f"rates.{name}"
        entries = [entries] if isinstance(entries, dict) else entries
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries) or not entries:
            raise PolicyError(f"{where}: expected [{where}] or [[{where}]] tables")
        dated: list[Rate] = []
        for i, entry in enumerate(entries):
            here = f"{where}[{i}]" if len(entries) > 1 else where
            start = _month(entry["from"], f"{here}.from") if "from" in entry else None
            if start is None and i > 0:
                raise PolicyError(f"{here}: 'from' is required on every entry but the first")
            dated.append(
                Rate(
                    name=name,
                    employer=_dec(_get(entry, "employer", here), f"{here}.employer"),
                    employee=_dec(_get(entry, "employee", here), f"{here}.employee"),
                    source=str(entry.get("source", "")),
                    start=start,
                )
            )
        starts = [r.start for r in dated if r.start is not None]
        if len(set(starts)) != len(starts):
            raise PolicyError(f"{where}: two entries take effect in the same month")
        found.extend(sorted(dated, key=lambda r: (r.start is not None, r.start or YearMonth(1, 1))))
    return tuple(found)


LEGACY_BASE_HINT = (
    "write it as [[base_periods]] with start, end, floor, ceiling, average_wage and source "
    "(see policy/default.toml)"
)


def _base_periods(data: dict[str, Any], path: str) -> tuple[BasePeriod, ...]:
    """``[[base_periods]]``, or the older single ``[base]`` table read as one period (its
    ``period_start`` and ``period_end`` are then required)."""
    if "base" in data and "base_periods" in data:
        raise PolicyError(f"{path}: both [base] and [[base_periods]]: keep only [[base_periods]]")
    if "base" in data:
        base = data["base"]
        if not isinstance(base, dict) or "period_start" not in base or "period_end" not in base:
            raise PolicyError(f"base: the months it covers are missing; {LEGACY_BASE_HINT}")
        tables = [
            {
                "start": base["period_start"],
                "end": base["period_end"],
                "floor": _get(base, "floor", "base"),
                "ceiling": _get(base, "ceiling", "base"),
                "average_wage": base.get("average_wage"),
                "source": base.get("source", ""),
            }
        ]
        names = ["base"]
    else:
        tables = _get(data, "base_periods", path)
        if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
            raise PolicyError(f"{path}: expected one or more [[base_periods]] tables")
        names = [f"base_periods[{i}]" for i in range(len(tables))]
    periods = []
    for where, table in zip(names, tables, strict=True):
        start = _month(_get(table, "start", where), f"{where}.start")
        end = _month(_get(table, "end", where), f"{where}.end")
        if end < start:
            raise PolicyError(f"{where}: end {end} is before start {start}")
        floor = _dec(_get(table, "floor", where), f"{where}.floor")
        ceiling = _dec(_get(table, "ceiling", where), f"{where}.ceiling")
        if not 0 < floor < ceiling:
            raise PolicyError(f"{where}: floor {floor} must be positive and below ceiling {ceiling}")
        average = table.get("average_wage")
        verified = table.get("verified", True)
        if not isinstance(verified, bool):
            raise PolicyError(f"{where}.verified: expected true or false, got {verified!r}")
        periods.append(
            BasePeriod(
                start=start,
                end=end,
                floor=floor,
                ceiling=ceiling,
                average_wage=None if average is None else _dec(average, f"{where}.average_wage"),
                source=str(table.get("source", "")),
                verified=verified,
            )
        )
    periods.sort(key=lambda p: p.start)
    for earlier, later in pairwise(periods):
        if later.start <= earlier.end:
            raise PolicyError(
                f"base periods overlap from {later.start} to {min(earlier.end, later.end)}: "
                f"{earlier.start}..{earlier.end} and {later.start}..{later.end}; "
                "each month must belong to one period"
            )
    return tuple(periods)


def _clock_time(value: Any, where: str) -> str:
    """``"HH:MM"`` (24-hour; a TOML time like 09:00:00 too), normalised to two digits each."""
    if isinstance(value, time):
        value = value.strftime("%H:%M")
    hour, _, minute = str(value).strip().partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60 and len(minute) == 2):
        raise PolicyError(f"{where}: expected a time of day like 09:00, got {value!r}")
    return f"{int(hour):02d}:{minute}"


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise PolicyError(f"{where}: expected one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and parse a policy file (the shipped default when no path is given)."""
    file = Path(path) if path else DEFAULT_POLICY_FILE
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file not found: {file}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {file} is not valid TOML: {exc}") from exc
    return parse_policy(data, str(file))
