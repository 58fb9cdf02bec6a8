"""Reading a filled-in form: one :class:`FormReader` per submission turns the raw text of
each field into a typed value, and collects every problem at once (``FieldErrors``), so
that the person sees everything to fix in one go.

Every request kind, the document registry and the imports read their fields here: one
spelling of "a month", "an amount", "a resident ID number".
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from bot.domain import resident_id
from bot.domain.errors import Collector
from bot.domain.months import YearMonth
from bot.domain.policy import MonthFigures

MAX_NAME = 100
MAX_NOTES = 2000
# No wage, base or amount on any form comes near this; more is a typo (or 1e308).
MAX_AMOUNT = Decimal("100000000")
MAX_YEARS = Decimal(60)  # contribution years: more is a typo
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and newlines are text
_AMOUNT_NOISE = str.maketrans({",": None, "，": None, "¥": None, "￥": None, " ": None})

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class MonthWindow:
    """The months a form's month field offers (a select of them), both ends included. The
    parser holds the kind's own rules (past months only…); this is what is offered."""

    earliest: YearMonth
    latest: YearMonth
    soonest_first: bool = False  # months to come (a retirement): this month first

    def __contains__(self, month: YearMonth) -> bool:
        return self.earliest <= month <= self.latest

    def months(self) -> list[YearMonth]:
        """Newest first: the months people pick most are the recent ones; months to come
        in the order they come."""
        newest_first = [self.latest.plus(-i) for i in range(self.latest.months_since(self.earliest) + 1)]
        return newest_first[::-1] if self.soonest_first else newest_first

    def ordered(self, months: set[YearMonth]) -> list[YearMonth]:
        """``months`` in the window's order."""
        return sorted(months, reverse=not self.soonest_first)

    @classmethod
    def back(cls, current: YearMonth, months_back: int, months_ahead: int = 0) -> MonthWindow:
        return cls(current.plus(-months_back), current.plus(months_ahead))

    @classmethod
    def ahead(cls, current: YearMonth, months_ahead: int) -> MonthWindow:
        return cls(current, current.plus(months_ahead), soonest_first=True)


class FormReader:
    """The raw values of one form (``{field: text}``) and the problems found so far."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.errors = Collector()

    # -- problems ---------------------------------------------------------------------------

    def problem(self, key: str, code: str, **params: Any) -> None:
        """Report a problem with ``key`` (the first one per field is kept)."""
        self.errors.add(key, code, **params)

    def has_problem(self, key: str) -> bool:
        return key in self.errors.problems

    def done(self) -> None:
        """Raise ``FieldErrors`` naming every field to fix, if any."""
        self.errors.raise_if_any()

    # -- values -----------------------------------------------------------------------------

    def text(self, key: str, *, required: bool = False, limit: int = MAX_NOTES) -> str:
        """The field's text, stripped. Control characters (a NUL byte…) are refused: they
        are never typed on purpose, and some databases can't store them in JSON."""
        value = self.raw.get(key)
        value = value.strip() if isinstance(value, str) else ""
        if required and not value:
            self.problem(key, "required")
        elif _CONTROL.search(value):
            self.problem(key, "control_characters")
            return ""
        elif len(value) > limit:
            self.problem(key, "too_long", limit=limit)
        return value

    def name(self, key: str, limit: int = MAX_NAME) -> str:
        """A required one-line text: a name, a city, a hospital."""
        return self.text(key, required=True, limit=limit)

    def notes(self, key: str, *, required: bool = False) -> str:
        return self.text(key, required=required, limit=MAX_NOTES)

    def choice(self, key: str, enum: type[E]) -> E | None:
        value = self.text(key)
        try:
            return enum(value)
        except ValueError:
            self.problem(key, "choose_one")
            return None

    def month(self, key: str, *, required: bool = True) -> YearMonth | None:
        """A month, as the form's select of months sends it (``2026-12``)."""
        value = self.text(key)
        if not value:
            if required:
                self.problem(key, "required")
            return None
        try:
            return YearMonth.parse(value)
        except ValueError:
            self.problem(key, "month_format", value=value)
            return None

    def past_months(
        self, first_key: str, last_key: str, today: date, *, first_required: bool
    ) -> tuple[YearMonth | None, YearMonth | None]:
        """A from-to pair of months, neither after this month (``month_not_past``), in
        order; the last is optional."""
        first = self.month(first_key, required=first_required)
        last = self.month(last_key, required=False)
        current = YearMonth.of(today)
        for key, month in ((first_key, first), (last_key, last)):
            if month and month > current:
                self.problem(key, "month_not_past", current=str(current))
        self.in_order(first, last, last_key)
        return first, last

    def in_order(self, first: YearMonth | None, last: YearMonth | None, last_key: str) -> None:
        """A from-to pair of months: the last may not come before the first."""
        if first and last and last < first:
            self.problem(last_key, "month_order", first=str(first), last=str(last))

    def amount(self, key: str, *, code: str = "amount_format", required: bool) -> Decimal | None:
        """An amount in yuan with at most two decimals (``8,500``, ``¥8500.50``)."""
        value = self.text(key).translate(_AMOUNT_NOISE)
        if not value:
            if required:
                self.problem(key, "required")
            return None
        number = _decimal(value)
        if number is None or not Decimal(0) <= number <= MAX_AMOUNT or number != number.quantize(CENT):
            self.problem(key, code, value=value)
            return None
        return number

    def base(self, key: str, months: list[MonthFigures], *, required: bool) -> Decimal | None:
        """A monthly contribution base for ``months`` (the figures of the months the form is
        about): within the floor and ceiling of at least one of them. (A payback over
        several base years holds the base to each month's bounds in its estimate.)"""
        amount = self.amount(key, required=required)
        if amount is not None and not any(f.within(amount) for f in months):
            periods = list(dict.fromkeys(f.period for f in months))
            self.problem(
                key,
                "base_out_of_range",
                floor=min(f.floor for f in months),
                ceiling=max(f.ceiling for f in months),
                start=str(periods[0].start),
                end=str(periods[-1].end),
                assumed=any(f.assumed for f in months),
                month=str(months[-1].month),
                verified=all(p.verified for p in periods),
            )
            return None
        return amount

    def years(self, key: str) -> Decimal | None:
        """Contribution years: ``15``, ``15.5``, ``15年``."""
        value = self.text(key).replace("，", ".").removesuffix("年").strip()
        if not value:
            self.problem(key, "required")
            return None
        years = _decimal(value)
        if years is None or not 0 <= years <= MAX_YEARS or years != years.quantize(CENT):
            self.problem(key, "years_format", value=value)
            return None
        return years

    def count(self, key: str, *, limit: int) -> int:
        """A whole number from 0 to ``limit``; empty is 0."""
        value = self.text(key)
        if not value:
            return 0
        if not value.isdigit() or int(value) > limit:
            self.problem(key, "count_format", value=value, limit=limit)
            return 0
        return int(value)

    def day(
        self,
        key: str,
        *,
        required: bool = True,
        earliest: date | None = None,
        latest: date | None = None,
    ) -> date | None:
        """A date (``2026-12-01``, ``2026/12/01``) within ``earliest`` and ``latest``."""
        value = self.text(key)
        if not value:
            if required:
                self.problem(key, "required")
            return None
        try:
            day = date.fromisoformat(value.replace("/", "-"))
        except ValueError:
            self.problem(key, "date_format", value=value)
            return None
        if earliest and day < earliest:
            self.problem(key, "date_too_early", earliest=earliest.isoformat())
            return None
        if latest and day > latest:
            self.problem(key, "date_too_late", latest=latest.isoformat())
            return None
        return day

    def resident_id(self, key: str, today: date) -> str:
        """A resident ID number with a valid birth date and check digit ("" if not)."""
        number = resident_id.normalise(self.text(key))
        if not number:
            self.problem(key, "required")
        elif code := resident_id.problem(number, today):
            self.problem(key, code)
            return ""
        return number

    def person(self, key: str, *, actor: str, may_file_for_others: bool) -> str:
        """The Slack user a request is about: employees may only choose themselves. Their
        form has no picker (it is always them): no choice is the filer."""
        person = self.text(key) or actor
        if person and person != actor and not may_file_for_others:
            self.problem(key, "only_for_yourself")
        return person


CENT = Decimal("0.01")


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# -- stored forms --------------------------------------------------------------------------


def to_payload(form: Any) -> dict[str, str | None]:
    """A form dataclass as JSON-safe strings, for storage."""
    values = {f.name: getattr(form, f.name) for f in dataclass_fields(form)}
    return {k: (None if v is None else str(v)) for k, v in values.items()}


def from_payload(form_type: type, payload: Mapping[str, Any]) -> Any:
    """The inverse of :func:`to_payload`, for a payload that was valid when stored: each
    field is read back by the type it is declared with."""
    hints = _type_hints(form_type)
    return form_type(
        **{f.name: _read(hints[f.name], payload.get(f.name)) for f in dataclass_fields(form_type)}
    )


@functools.cache
def _type_hints(form_type: type) -> dict[str, Any]:
    """A form's field types (resolving them compiles each annotation: once a form)."""
    return typing.get_type_hints(form_type)


def _read(hint: Any, value: Any) -> Any:
    options = [t for t in typing.get_args(hint) if t is not type(None)]
    if options and type(None) in typing.get_args(hint):  # ``X | None``
        return None if value in (None, "") else _read(options[0], value)
    if hint is str:
        return value or ""
    if hint is int:
        return int(value or 0)
    if hint is Decimal:
        return Decimal(value)
    if hint is date:
        return date.fromisoformat(value)
    if hint is YearMonth:
        return YearMonth.parse(value)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return hint(value)
    raise TypeError(f"no reader for {hint!r}")
