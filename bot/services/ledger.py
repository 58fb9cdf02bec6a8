"""The monthly ledger: who is insured in a month (the roster), on which base, and what the
unit owes for them. No Slack in here.

Where the ledger lives: a month is worked out on demand from the roster while it is open,
and recorded — a row per person in ``ledger_lines``, its figures and totals in
``ledger_months`` — when its payment is recorded (:func:`close_month`). From then on the
month is what was declared and paid, whatever the roster says later, and reading it is
one indexed query for that month (or for one person), however many years are stored.

The base: :func:`recorded_bases` is the one place that says which base a person has in a
month: the base locked in the yearly declaration for the base year that covers it
(bot/services/bases.py), else their current base on the roster.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.deadlines import payment_due
from bot.domain.ledger import (
    ZERO,
    BaseNote,
    BaseSource,
    Changes,
    Insured,
    Known,
    LedgerLine,
    MonthLedger,
    MonthState,
    MonthSummary,
    changes_between,
    compute_month,
    figures_key,
    last_insured_month,
    line_for,
    month_state,
    summarise,
    year_months,
)
from bot.domain.months import YearMonth
from bot.domain.policy import BasePeriod, Contribution, MonthFigures, Rate
from bot.domain.workplace import Workplace
from bot.services.roles import require_admin
from bot.storage.bulk import insert_rows
from bot.storage.models import (
    BaseDeclaration,
    DeclaredBase,
    Employee,
    LedgerLineRecord,
    LedgerMonth,
    Payment,
    ReminderEngine,
)

# People read, computed and written at a time when a whole year is gone through (the
# statements): memory stays flat however large the company, and each chunk is a short
# transaction of its own.
CHUNK = 500
_ROSTER_COLUMNS = (
    Employee.id,
    Employee.full_name,
    Employee.resident_id,
    Employee.slack_user,
    Employee.enrolled_from,
    Employee.leaving_month,
    Employee.retired_on,
    Employee.contribution_base,
)


@dataclass(frozen=True)
class RecordedBase:
    amount: Decimal | None
    source: BaseSource


def recorded_bases(session: Session, month: YearMonth, people: Sequence[Any]) -> dict[int, RecordedBase]:
    """The base each of ``people`` (roster rows: ``id``, ``contribution_base``) has on
    record for ``month`` — THE base lookup of the ledger, the statements and the bill's
    reconciliation: the base locked in the yearly declaration of the base year that
    covers ``month`` (``BaseSource.DECLARED``), else their current base on the roster."""
    declared = _declared_bases(session, month, [p.id for p in people]) if people else {}
    return {
        p.id: RecordedBase(declared[p.id], BaseSource.DECLARED)
        if p.id in declared
        else RecordedBase(p.contribution_base, BaseSource.ROSTER)
        for p in people
    }


def _declared_bases(session: Session, month: YearMonth, ids: list[int]) -> dict[int, Decimal]:
    """The bases locked for the base year (twelve months from its start) that covers
    ``month``, of the people ``ids`` who have one (bot/services/bases.py declares them)."""
    start = session.scalar(
        select(func.max(BaseDeclaration.start)).where(
            BaseDeclaration.state == "locked", BaseDeclaration.start <= str(month)
        )
    )
    if start is None or YearMonth.parse(start).plus(12) <= month:
        return {}
    found = session.execute(
        select(DeclaredBase.employee_id, DeclaredBase.computed, DeclaredBase.override)
        .join(BaseDeclaration, BaseDeclaration.id == DeclaredBase.declaration_id)
        .where(BaseDeclaration.start == start, DeclaredBase.employee_id.in_(ids))
    )
    bases = {person: computed if override is None else override for person, computed, override in found}
    return {person: base for person, base in bases.items() if base is not None}


def _roster_rows(
    session: Session, first: YearMonth, last: YearMonth, employee_ids: Sequence[int] | None = None
) -> list[Any]:
    """Roster rows of everyone whose enrolment reaches into ``first``..``last`` (a
    retiree's last month is worked out afterwards), by id."""
    query = select(*_ROSTER_COLUMNS).where(
        Employee.enrolled_from <= str(last),
        or_(Employee.leaving_month.is_(None), Employee.leaving_month >= str(first)),
    )
    if employee_ids is not None:
        query = query.where(Employee.id.in_(employee_ids))
    return list(session.execute(query.order_by(Employee.id)))


def _insured(row: Any, base: RecordedBase) -> Insured:
    leaving = YearMonth.parse(row.leaving_month) if row.leaving_month else None
    return Insured(
        employee_id=row.id,
        full_name=row.full_name,
        resident_id=row.resident_id,
        slack_user=row.slack_user,
        enrolled_from=YearMonth.parse(row.enrolled_from),
        last_month=last_insured_month(leaving, row.retired_on),
        base_on_record=base.amount,
        base_source=base.source,
    )


def insured_in(session: Session, month: YearMonth, rows: Sequence[Any] | None = None) -> list[Insured]:
    """Everyone the roster insures in ``month``, with their base on record for it."""
    rows = _roster_rows(session, month, month) if rows is None else rows
    bases = recorded_bases(session, month, rows)
    people = (_insured(row, bases[row.id]) for row in rows)
    return [p for p in people if p.insured_in(month)]


# --- a month's ledger ---------------------------------------------------------------------------


def month_ledger(session: Session, workplace: Workplace, month: YearMonth) -> MonthLedger:
    """``month``'s ledger: as recorded when its payment was recorded, or else worked out
    now from the roster and the month's policy figures."""
    closed = session.get(LedgerMonth, str(month))
    if closed is not None:
        return _stored(session, closed)
    return compute_month(workplace.policy.period_for(month), insured_in(session, month))


def is_closed(session: Session, month: YearMonth) -> bool:
    return session.get(LedgerMonth, str(month)) is not None


def close_month(
    session: Session, workplace: Workplace, *, month: YearMonth, actor: str, now: datetime
) -> MonthLedger:
    """Record ``month``'s ledger as it stands (when its payment is recorded): a row per
    person, the figures and the totals. A month already recorded is left as it was and
    returned as recorded."""
    found = session.get(LedgerMonth, str(month))
    if found is not None:
        return _stored(session, found)
    ledger = month_ledger(session, workplace, month)
    try:
        with session.begin_nested():
            session.add(
                LedgerMonth(
                    month=str(month),
                    closed_at=now,
                    closed_by=actor,
                    people=len(ledger.lines),
                    employer_total=ledger.employer_total,
                    employee_total=ledger.employee_total,
                    figures=_figures_record(ledger.figures),
                )
            )
            session.flush()
    except IntegrityError:  # another payment closed it a moment ago
        return month_ledger(session, workplace, month)
    insert_rows(session, LedgerLineRecord.__table__, [_line_record(month, line) for line in ledger.lines])
    return MonthLedger(month, ledger.figures, ledger.lines, closed=True)


def _line_record(month: YearMonth, line: LedgerLine) -> dict[str, Any]:
    return {
        "month": str(month),
        "employee_id": line.employee_id,
        "full_name": line.full_name,
        "resident_id": line.resident_id,
        "base_on_record": line.base_on_record,
        "base": line.base,
        "base_source": line.base_source.value,
        "note": line.note.value,
        "shares": {s.scheme: [str(s.employer), str(s.employee)] for s in line.shares},
        "employer": line.employer,
        "employee": line.employee,
    }


def _stored(session: Session, closed: LedgerMonth) -> MonthLedger:
    month = YearMonth.parse(closed.month)
    rows = session.execute(
        select(LedgerLineRecord, Employee.slack_user)
        .join(Employee, Employee.id == LedgerLineRecord.employee_id)
        .where(LedgerLineRecord.month == closed.month)
    )
    lines = [_line_from(record, slack_user) for record, slack_user in rows]
    lines.sort(key=lambda line: (line.full_name, line.resident_id))
    return MonthLedger(month, figures_from(month, closed.figures), tuple(lines), closed=True)


def _line_from(record: LedgerLineRecord, slack_user: str | None) -> LedgerLine:
    return LedgerLine(
        employee_id=record.employee_id,
        full_name=record.full_name,
        resident_id=record.resident_id,
        slack_user=slack_user,
        base_on_record=record.base_on_record,
        base=record.base,
        base_source=BaseSource(record.base_source),
        note=BaseNote(record.note),
        shares=tuple(
            Contribution(scheme, Decimal(employer), Decimal(employee))
            for scheme, (employer, employee) in record.shares.items()
        ),
    )


def _figures_record(figures: MonthFigures) -> dict[str, Any]:
    period = figures.period
    return {
        "period": {
            "start": str(period.start),
            "end": str(period.end),
            "floor": str(period.floor),
            "ceiling": str(period.ceiling),
            "average_wage": None if period.average_wage is None else str(period.average_wage),
            "source": period.source,
            "verified": period.verified,
        },
        "rates": [[r.name, str(r.employer), str(r.employee), r.source] for r in figures.rates],
        "assumed": figures.assumed,
        "rounding_unit": str(figures.rounding_unit),
        "rounding_mode": figures.rounding_mode,
    }


def figures_from(month: YearMonth, data: dict[str, Any]) -> MonthFigures:
    """A closed month's figures as recorded with it (``ledger_months.figures``)."""
    p = data["period"]
    period = BasePeriod(
        start=YearMonth.parse(p["start"]),
        end=YearMonth.parse(p["end"]),
        floor=Decimal(p["floor"]),
        ceiling=Decimal(p["ceiling"]),
        average_wage=None if p["average_wage"] is None else Decimal(p["average_wage"]),
        source=p["source"],
        verified=p["verified"],
    )
    rates = tuple(Rate(name, Decimal(er), Decimal(ee), source) for name, er, ee, source in data["rates"])
    return MonthFigures(
        month, period, rates, data["assumed"], Decimal(data["rounding_unit"]), data["rounding_mode"]
    )


def month_summary(session: Session, workplace: Workplace, month: YearMonth) -> MonthSummary:
    """``month``'s ledger in figures only, for the monthly report: as :func:`month_ledger`,
    but a recorded month is summed from its stored shares without building its lines (a
    large company's month is read in a fraction of the time)."""
    closed = session.get(LedgerMonth, str(month))
    if closed is None:
        return summarise(month_ledger(session, workplace, month))
    figures = figures_from(month, closed.figures)
    sums = {rate.name: [ZERO, ZERO] for rate in figures.rates}
    people, missing = set(), 0
    for employee_id, shares, note in session.execute(
        select(LedgerLineRecord.employee_id, LedgerLineRecord.shares, LedgerLineRecord.note).where(
            LedgerLineRecord.month == closed.month
        )
    ):
        people.add(employee_id)
        missing += note == BaseNote.MISSING.value
        for scheme, (employer, employee) in shares.items():
            pair = sums.setdefault(scheme, [ZERO, ZERO])
            pair[0] += Decimal(employer)
            pair[1] += Decimal(employee)
    totals = tuple(Contribution(scheme, e, p) for scheme, (e, p) in sums.items())
    return MonthSummary(month, frozenset(people), totals, True, figures.assumed, missing)


def month_total(session: Session, workplace: Workplace, month: YearMonth) -> MonthLedger | None:
    """``month``'s ledger, or None when the roster insures nobody in it (none imported
    yet): what the payment reminders quote."""
    ledger = month_ledger(session, workplace, month)
    return ledger if ledger.lines else None


# --- the export ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContributionsExport:
    """A month's contributions for the administrators: the ledger, what changed since the
    month before, and the payments recorded for it."""

    ledger: MonthLedger
    previous: MonthLedger
    changes: Changes
    payments: list[Payment]

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))


def export_contributions(
    session: Session, workplace: Workplace, *, month: YearMonth, actor: str
) -> ContributionsExport:
    """``month``'s ledger with its changes since the month before (joiners, leavers, new
    bases) and its payments: for the .xlsx and .csv. Administrators and the command line
    only (Refused ``admins_only``); resident IDs are whole."""
    require_admin(session, actor)
    ledger = month_ledger(session, workplace, month)
    previous = month_ledger(session, workplace, month.plus(-1))
    return ContributionsExport(
        ledger, previous, changes_between(previous, ledger), payments_of(session, month)
    )


def payments_of(session: Session, month: YearMonth) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.month == str(month)).order_by(Payment.id)))


# --- a person's months, and everyone's year --------------------------------------------------------


def person_lines(
    session: Session, workplace: Workplace, *, employee_id: int, months: Sequence[YearMonth]
) -> list[LedgerLine | None]:
    """One person's line in each of ``months`` (None where they were not insured): as
    recorded in closed months, worked out from the roster in the others."""
    lines = next(iter(lines_by_person(session, workplace, months, [employee_id])), (None, {}))[1]
    return [lines.get(month) for month in months]


def insured_ids(session: Session, months: Sequence[YearMonth]) -> list[int]:
    """Everyone whose enrolment reaches into ``months`` (a retiree's may end before), by
    id: what a pass over a whole year goes through, a chunk at a time."""
    return [row.id for row in _roster_rows(session, min(months), max(months))]


def lines_by_person(
    session: Session, workplace: Workplace, months: Sequence[YearMonth], ids: Sequence[int]
) -> Iterable[tuple[Any, dict[YearMonth, LedgerLine]]]:
    """The people ``ids`` (a chunk, e.g. of :func:`insured_ids`) with their line in each of
    ``months`` they were insured in: ``(roster row, {month: line})``, as recorded in closed
    months and worked out from the roster in the others. People insured in none are left
    out."""
    closed = set(
        session.scalars(select(LedgerMonth.month).where(LedgerMonth.month.in_([str(m) for m in months])))
    )
    rows = _roster_rows(session, min(months), max(months), ids) if ids else []
    recorded: dict[int, dict[YearMonth, LedgerLine]] = {row.id: {} for row in rows}
    slack = {row.id: row.slack_user for row in rows}
    if closed and rows:
        for record in session.scalars(
            select(LedgerLineRecord).where(
                LedgerLineRecord.employee_id.in_(list(recorded)), LedgerLineRecord.month.in_(sorted(closed))
            )
        ):
            recorded[record.employee_id][YearMonth.parse(record.month)] = _line_from(
                record, slack[record.employee_id]
            )
    # Each person as the ledger sees them, once per base they have (not once a month), and
    # each base's shares once per set of figures (the months of one base period share them).
    people: dict[tuple[int, RecordedBase], Insured] = {}
    known: dict[tuple, Known] = {}
    for month in months:
        if str(month) in closed:
            continue
        figures = workplace.policy.period_for(month)
        shares = known.setdefault(figures_key(figures), {})
        bases = recorded_bases(session, month, rows)
        for row in rows:
            base = bases[row.id]
            person = people.get((row.id, base)) or people.setdefault((row.id, base), _insured(row, base))
            if person.insured_in(month):
                recorded[row.id][month] = line_for(figures, person, shares)
    for row in rows:
        if recorded[row.id]:
            yield row, recorded[row.id]


# --- the year's payments (App Home) -------------------------------------------------------------


@dataclass(frozen=True)
class MonthPayment:
    month: YearMonth
    state: MonthState
    due: date
    paid: Decimal | None  # the amounts recorded, when paid


def year_payments(session: Session, workplace: Workplace, *, year: int, today: date) -> list[MonthPayment]:
    """Each month of ``year``: paid (with the amounts recorded), due (and by when), late,
    to come, or due before si-bot kept track. Two queries, whatever the history."""
    months = year_months(year)
    paid: dict[str, Decimal] = {}
    for month, amount in session.execute(
        select(Payment.month, Payment.amount).where(Payment.month.between(str(months[0]), str(months[-1])))
    ):
        paid[month] = paid.get(month, Decimal("0.00")) + amount
    policy, calendar = workplace.policy, workplace.calendar
    # A month due before si-bot started (its first reminder tick) is not known to be late.
    engine = session.get(ReminderEngine, 1)
    since = engine.started_on if engine is not None else today
    found = []
    for month in months:
        due = payment_due(month, policy, calendar)
        state = month_state(month, paid=str(month) in paid, today=today, due=due, since=since)
        found.append(MonthPayment(month, state, due, paid.get(str(month))))
    return found


def home_payments(session: Session, workplace: Workplace, *, now: datetime) -> dict[str, Any]:
    """App Home's year of payments, as plain values: this year's months, each paid (with
    the amount recorded), due (by when), late or to come, and how many are late."""
    today = workplace.today(now)
    months = year_payments(session, workplace, year=today.year, today=today)
    return {
        "year": today.year,
        "months": [
            {
                "month": str(m.month),
                "state": m.state.value,
                "due": m.due.isoformat(),
                "paid": None if m.paid is None else str(m.paid),
            }
            for m in months
        ],
        "late": sum(1 for m in months if m.state is MonthState.LATE),
    }
