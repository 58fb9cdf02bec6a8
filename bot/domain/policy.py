"""The local policy: rates, contribution base limits, deadlines and calendar settings.

Parsed from the TOML file named by ``SI_POLICY_FILE`` (``policy/default.toml`` ships with
the repo). Figures are kept as ``Decimal`` so that money arithmetic is exact.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.resources import resource_dir

DEFAULT_POLICY_FILE = resource_dir("policy") / "default.toml"
# The shipped extra-holidays file (see bot/domain/calendar.py), used when a policy names none.
DEFAULT_HOLIDAYS_FILE = DEFAULT_POLICY_FILE.with_name("holidays.toml")
HOLIDAY_SHIFTS = ("next_working_day", "previous_working_day", "keep")


class PolicyError(ValueError):
    """The policy file is missing a value or holds one that makes no sense."""


@dataclass(frozen=True)
class Rate:
    """One insurance's contribution rate, in percent of the base."""

    name: str
    employer: Decimal
    employee: Decimal
    source: str


@dataclass(frozen=True)
class Policy:
    region: str
    region_zh: str
    summary: str
    summary_zh: str
    rates: tuple[Rate, ...]
    base_floor: Decimal
    base_ceiling: Decimal
    base_period_start: str
    base_period_end: str
    base_source: str
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
    rates_table = _get(data, "rates", path)
    rates = tuple(
        Rate(
            name=name,
            employer=_dec(_get(t, "employer", f"rates.{name}"), f"rates.{name}.employer"),
            employee=_dec(_get(t, "employee", f"rates.{name}"), f"rates.{name}.employee"),
            source=str(t.get("source", "")),
        )
        for name, t in rates_table.items()
    )
    base = _get(data, "base", path)
    late = _get(data, "late_fee", path)
    deadlines = _get(data, "deadlines", path)
    decl = _get(data, "base_declaration", path)
    cert = data.get("registration_certificate", {})
    req = data.get("requests", {})
    shift = deadlines.get("holiday_shift", "next_working_day")
    if shift not in HOLIDAY_SHIFTS:
        raise PolicyError(f"deadlines.holiday_shift: expected one of {HOLIDAY_SHIFTS}, got {shift!r}")
    floor = _dec(_get(base, "floor", "base"), "base.floor")
    ceiling = _dec(_get(base, "ceiling", "base"), "base.ceiling")
    if not 0 < floor < ceiling:
        raise PolicyError(f"base: floor {floor} must be positive and below ceiling {ceiling}")
    exam_month = cert.get("annual_exam_month", 6)
    if not isinstance(exam_month, int) or not 1 <= exam_month <= 12:
        raise PolicyError(f"registration_certificate.annual_exam_month: bad month {exam_month!r}")
    return Policy(
        region=str(meta.get("region", "")),
        region_zh=str(meta.get("region_zh", meta.get("region", ""))),
        summary=str(meta.get("summary", "")),
        summary_zh=str(meta.get("summary_zh", meta.get("summary", ""))),
        rates=rates,
        base_floor=floor,
        base_ceiling=ceiling,
        base_period_start=str(base.get("period_start", "")),
        base_period_end=str(base.get("period_end", "")),
        base_source=str(base.get("source", "")),
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
        payback_max_months_back=int(req.get("payback_max_months_back", 36)),
        change_max_months_back=int(req.get("change_max_months_back", 3)),
        change_max_months_ahead=int(req.get("change_max_months_ahead", 3)),
        stale_after_working_days=int(req.get("stale_after_working_days", 3)),
        contact={k: str(v) for k, v in data.get("contact", {}).items()},
        path=path,
        holidays_file=_holidays_file(data.get("calendar", {}), path),
        reminder_send_at=_clock_time(data.get("reminders", {}).get("send_at", "09:00"), "reminders.send_at"),
    )


def _clock_time(value: Any, where: str) -> str:
    """``"HH:MM"`` (24-hour; a TOML time like 09:00:00 too), normalised to two digits each."""
    if isinstance(value, time):
        value = value.strftime("%H:%M")
    hour, _, minute = str(value).strip().partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60 and len(minute) == 2):
        raise PolicyError(f"{where}: expected a time of day like 09:00, got {value!r}")
    return f"{int(hour):02d}:{minute}"


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
