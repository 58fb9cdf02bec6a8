"""The monthly ledger (duty 8): what the unit owes for one month, per insured person and
per scheme, the employer's share and the employee's, and the totals. Pure rules: who is
in a month, which base is used, what each share comes to, what changed since the month
before, what a late day costs and how a month's payment stands.

Every figure comes from the month's :class:`~bot.domain.policy.MonthFigures`
(``policy.period_for(month)``): the base is held to that period's floor and ceiling and
each scheme's shares are rounded as ``[contribution_rounding]`` says. When no base period
covers the month the figures are ``assumed`` and whoever shows the ledger says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.domain.fields import FormReader
from bot.domain.months import YearMonth
from bot.domain.policy import HUNDRED, Contribution, MonthFigures, Policy

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class BaseSource(StrEnum):
    """Where a person's base for a month comes from."""

    ROSTER = "roster"  # the current base on the roster (until a declaration records one)
    DECLARED = "declared"  # the base declared for the base year (the yearly declaration)


class BaseNote(StrEnum):
    """What happened to the base on record before it was used."""

    AS_RECORDED = "as_recorded"
    RAISED = "raised_to_floor"  # below the period's floor: the center insures on the floor
    LOWERED = "lowered_to_ceiling"  # above the ceiling: the center insures on the ceiling
    MISSING = "missing"  # no base on record: nothing can be computed for the person


class MonthState(StrEnum):
    """Where a month's payment stands (App Home's year)."""

    PAID = "paid"  # a payment is recorded
    DUE = "due"  # not paid yet, the deadline has not passed
    LATE = "late"  # not paid, the deadline has passed: a late fee counts every day
    UPCOMING = "upcoming"  # a month still to come
    UNRECORDED = "unrecorded"  # due before si-bot kept the payments: not known, not late


@dataclass(frozen=True)
class Insured:
    """A person as the ledger sees them: who, the months the unit insures them (the
    enrolment month to the last insured month, both included) and their base on record."""

    employee_id: int
    full_name: str
    resident_id: str
    slack_user: str | None
    enrolled_from: YearMonth
    last_month: YearMonth | None  # None: insured until further notice
    base_on_record: Decimal | None
    base_source: BaseSource = BaseSource.ROSTER

    def insured_in(self, month: YearMonth) -> bool:
        return self.enrolled_from <= month and (self.last_month is None or month <= self.last_month)


def last_insured_month(leaving_month: YearMonth | None, retired_on: date | None) -> YearMonth | None:
    """The last month the unit insures someone: their leaving month (the month of leaving
    is still the employer's, DOMAIN.md §3); for a retiree without one, the month of the
    day before their retirement day (retired from the 1st of a month: the month before;
    on their birthday mid-month: that month, which they worked in)."""
    candidates = [m for m in (leaving_month,) if m is not None]
    if retired_on is not None:
        candidates.append(YearMonth.of(retired_on - timedelta(days=1)))
    return min(candidates) if candidates else None


@dataclass(frozen=True)
class LedgerLine:
    """One person's contributions for the month: the base used and each scheme's shares."""

    employee_id: int
    full_name: str
    resident_id: str
    slack_user: str | None
    base_on_record: Decimal | None
    base: Decimal  # the base used: the one on record held to the floor and ceiling (0 if none)
    base_source: BaseSource
    note: BaseNote
    shares: tuple[Contribution, ...]

    @property
    def employer(self) -> Decimal:
        return sum((s.employer for s in self.shares), ZERO)

    @property
    def employee(self) -> Decimal:
        return sum((s.employee for s in self.shares), ZERO)

    @property
    def total(self) -> Decimal:
        return self.employer + self.employee

    def share(self, scheme: str) -> Contribution:
        for contribution in self.shares:
            if contribution.scheme == scheme:
                return contribution
        return Contribution(scheme, ZERO, ZERO)


class SchemeTotals:
    """Sums of a month's ``totals`` (one Contribution a scheme), shared by the ledger and
    its summary."""

    totals: tuple[Contribution, ...]

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(t.scheme for t in self.totals)

    @property
    def employer_total(self) -> Decimal:
        return sum((t.employer for t in self.totals), ZERO)

    @property
    def employee_total(self) -> Decimal:
        return sum((t.employee for t in self.totals), ZERO)

    @property
    def total(self) -> Decimal:
        return self.employer_total + self.employee_total


@dataclass(frozen=True)
class MonthLedger(SchemeTotals):
    """A month's ledger: its figures, a line per insured person (by name), the totals.
    ``closed``: the lines are those recorded when the month's payment was recorded,
    not worked out afresh from today's roster."""

    month: YearMonth
    figures: MonthFigures
    lines: tuple[LedgerLine, ...]
    closed: bool = False
    totals: tuple[Contribution, ...] = field(init=False)

    def __post_init__(self) -> None:
        sums = {rate.name: [ZERO, ZERO] for rate in self.figures.rates}
        for line in self.lines:
            for share in line.shares:
                pair = sums.setdefault(share.scheme, [ZERO, ZERO])
                pair[0] += share.employer
                pair[1] += share.employee
        object.__setattr__(self, "totals", tuple(Contribution(s, e, p) for s, (e, p) in sums.items()))

    @property
    def assumed(self) -> bool:
        return self.figures.assumed

    @property
    def missing_bases(self) -> int:
        return sum(1 for line in self.lines if line.note is BaseNote.MISSING)

    def line_of(self, employee_id: int) -> LedgerLine | None:
        return next((line for line in self.lines if line.employee_id == employee_id), None)


@dataclass(frozen=True)
class MonthSummary(SchemeTotals):
    """A month's ledger in figures only (the monthly report's): who is on it (their roster
    ids), each scheme's totals, and whether it is the one recorded when it was paid."""

    month: YearMonth
    people: frozenset[int]
    totals: tuple[Contribution, ...]
    closed: bool
    assumed: bool
    missing_bases: int


def summarise(ledger: MonthLedger) -> MonthSummary:
    return MonthSummary(
        ledger.month,
        frozenset(line.employee_id for line in ledger.lines),
        ledger.totals,
        ledger.closed,
        ledger.assumed,
        ledger.missing_bases,
    )


def base_used(figures: MonthFigures, on_record: Decimal | None) -> tuple[Decimal, BaseNote]:
    """The base a month's contributions are computed on: the one on record held to the
    period's floor and ceiling, and what was done to it."""
    if on_record is None:
        return ZERO, BaseNote.MISSING
    base = figures.clamp(on_record)
    if base > on_record:
        return base, BaseNote.RAISED
    if base < on_record:
        return base, BaseNote.LOWERED
    return base, BaseNote.AS_RECORDED


Known = dict[Decimal, tuple[Contribution, ...]]


def figures_key(figures: MonthFigures) -> tuple:
    """What a month's contributions depend on: months with the same key (those of one base
    period, with the same rates) have the same shares for the same base."""
    return (figures.period, figures.rates, figures.rounding_unit, figures.rounding_mode)


def line_for(figures: MonthFigures, person: Insured, known: Known | None = None) -> LedgerLine:
    """One person's line for the month of ``figures``. ``known``: the shares already
    worked out for these figures, by base (a company's people share bases)."""
    base, note = base_used(figures, person.base_on_record)
    if note is BaseNote.MISSING:
        shares: tuple[Contribution, ...] = ()
    elif known is None:
        shares = figures.contributions(base)
    else:
        shares = known.get(base) or known.setdefault(base, figures.contributions(base))
    return LedgerLine(
        employee_id=person.employee_id,
        full_name=person.full_name,
        resident_id=person.resident_id,
        slack_user=person.slack_user,
        base_on_record=person.base_on_record,
        base=base,
        base_source=person.base_source,
        note=note,
        shares=shares,
    )


def compute_month(figures: MonthFigures, people: Iterable[Insured]) -> MonthLedger:
    """The ledger of ``figures.month`` for everyone insured in it, by name then ID."""
    month = figures.month
    known: Known = {}
    lines = [line_for(figures, p, known) for p in people if p.insured_in(month)]
    lines.sort(key=lambda line: (line.full_name, line.resident_id))
    return MonthLedger(month, figures, tuple(lines))


@dataclass(frozen=True)
class BaseChange:
    before: LedgerLine
    after: LedgerLine


@dataclass(frozen=True)
class Changes:
    """What changed from one month's ledger to the next: who joined, who left, whose base
    used changed (a new base on record, or the same one held to new bounds)."""

    joiners: tuple[LedgerLine, ...]
    leavers: tuple[LedgerLine, ...]
    new_bases: tuple[BaseChange, ...]
    _by_person: dict[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        found = {line.employee_id: "joined" for line in self.joiners}
        found.update({change.after.employee_id: "new_base" for change in self.new_bases})
        object.__setattr__(self, "_by_person", found)

    def of(self, employee_id: int) -> str:
        """``joined``, ``new_base`` or "" for a person of the later month."""
        return self._by_person.get(employee_id, "")


def changes_between(previous: MonthLedger, current: MonthLedger) -> Changes:
    before = {line.employee_id: line for line in previous.lines}
    after = {line.employee_id: line for line in current.lines}
    return Changes(
        joiners=tuple(line for line in current.lines if line.employee_id not in before),
        leavers=tuple(line for line in previous.lines if line.employee_id not in after),
        new_bases=tuple(
            BaseChange(before[line.employee_id], line)
            for line in current.lines
            if line.employee_id in before and before[line.employee_id].base != line.base
        ),
    )


# --- paying the month -------------------------------------------------------------------------


def late_fee_per_day(total: Decimal, policy: Policy) -> Decimal:
    """What each day of delay adds: the month's total × the policy's daily late fee
    (0.05 %, 社会保险法 Art. 86), to the cent."""
    return (total * policy.late_fee_daily_percent / HUNDRED).quantize(CENT, ROUND_HALF_UP)


def month_state(month: YearMonth, *, paid: bool, today: date, due: date, since: date) -> MonthState:
    """A month's payment: recorded, still due, late (its effective deadline ``due`` has
    passed), to come, or — due before ``since``, the day si-bot started keeping track —
    simply not recorded here."""
    if paid:
        return MonthState.PAID
    if month > YearMonth.of(today):
        return MonthState.UPCOMING
    if today <= due:
        return MonthState.DUE
    return MonthState.LATE if due >= since else MonthState.UNRECORDED


class PaymentTiming(StrEnum):
    """Whether a month's contributions were paid on time, as the monthly report says it."""

    ON_TIME = "on_time"  # paid by the effective deadline
    PAID_LATE = "paid_late"  # paid, after the deadline: a late fee counted each day between
    NOT_YET_DUE = "not_yet_due"  # not paid, the deadline has not passed
    LATE = "late"  # not paid, the deadline has passed
    UNRECORDED = "unrecorded"  # not paid here, due before si-bot kept the payments


def payment_timing(*, paid_on: date | None, due: date, today: date, since: date) -> tuple[PaymentTiming, int]:
    """A month's payment against its effective deadline ``due``, as of ``today``: how it
    stands and the calendar days late (the days a late fee counts, 社会保险法 Art. 86: from
    the day after ``due`` to the day paid, or to ``today`` while unpaid). ``paid_on``: the
    day its (last) payment was made, None when none is recorded; ``since``: the day si-bot
    started keeping track (an unpaid month due before it is not known to be late)."""
    if paid_on is not None:
        late = max((paid_on - due).days, 0)
        return (PaymentTiming.PAID_LATE if late else PaymentTiming.ON_TIME), late
    if today <= due:
        return PaymentTiming.NOT_YET_DUE, 0
    if due < since:
        return PaymentTiming.UNRECORDED, 0
    return PaymentTiming.LATE, (today - due).days


def year_months(year: int) -> list[YearMonth]:
    return [YearMonth(year, m) for m in range(1, 13)]


# --- the payment record -------------------------------------------------------------------------

MAX_REFERENCE = 200


@dataclass(frozen=True)
class PaymentForm:
    """What the administrator records of a month's payment."""

    amount: Decimal
    paid_on: date
    reference: str  # the receipt's number or the bank's reference ("" when a file will do)


def parse_payment(form: FormReader, *, month: YearMonth, today: date) -> PaymentForm:
    """A payment of ``month``: an amount in yuan (more than 0), the day it was paid (in
    the month or after it, not after today) and a reference. ``FieldErrors`` names every
    field to fix."""
    amount = form.amount("amount", required=True)
    if amount is not None and amount <= 0:
        form.problem("amount", "amount_not_positive")
    paid_on = form.day("paid_on", earliest=month.day(1), latest=today)
    reference = form.text("reference", limit=MAX_REFERENCE)
    form.done()
    assert amount is not None and paid_on is not None
    return PaymentForm(amount, paid_on, reference)
