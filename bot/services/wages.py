"""Wage records, the income accounts (duty 3): each person's gross wage for each month,
imported from payroll's file, corrected with a reason, and shown to the administrators and
to the person, never to anyone else. No Slack in here.

An import follows the roster's rules (bot/services/roster.py): all or nothing, a report
of every rejected row, bulk writes, and the same file again changes nothing. A row names
the person by resident ID, who must be on the roster. A figure that differs from the one
recorded is replaced, and the old one kept in ``wage_corrections``, with the file it came
from; so is one changed by :func:`correct_wage`, with who and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot.domain import resident_id
from bot.domain.errors import FieldErrors, Problem, Refused
from bot.domain.fields import FormReader
from bot.domain.months import YearMonth
from bot.domain.roster import (
    MAX_MONTHLY_WAGE,
    Checked,
    FileKind,
    ImportOutcome,
    Rejection,
    ValueProblem,
    WageEntry,
    check_wages,
    parse_amount,
    same_name,
)
from bot.domain.tables import Row
from bot.domain.workplace import Workplace
from bot.services.file_import import run_import
from bot.services.roles import require_admin
from bot.services.roster import visible_employee
from bot.storage.bulk import insert_rows
from bot.storage.models import Employee, ImportBatch, WageCorrection, WageRecord


@dataclass(frozen=True)
class CorrectionView:
    at: datetime
    actor: str
    old_wage: Decimal
    new_wage: Decimal
    source: str  # correction | import
    reference: str  # the file, for an import
    reason: str


@dataclass(frozen=True)
class WageView:
    """One month's gross wage of one person, with the figures it replaced. Personal data:
    for the administrators and the person only."""

    month: YearMonth
    gross_wage: Decimal
    recorded_at: datetime  # by the import that recorded it: when, who, from which file
    recorded_by: str
    reference: str
    corrections: tuple[CorrectionView, ...]


def import_wages(
    session: Session,
    workplace: Workplace,
    *,
    actor: str,
    file_name: str,
    content: bytes,
    now: datetime,
    rows: Sequence[Row] | None = None,
) -> ImportOutcome:
    """Import a wage file (.csv or .xlsx; ``rows`` when already read): one row per person
    and month, the person by resident ID. All or nothing: a row rejected by the rules
    (bot/domain/roster.py), for someone not on the roster (``not_on_roster``) or under
    another name than the roster's (``name_mismatch``) means nothing is written, and the
    outcome lists every rejection. A month already recorded with another figure is
    corrected, keeping the old figure. Refused ``admins_only`` for anyone but an
    administrator or the CLI."""
    today = workplace.today(now)
    return run_import(
        session,
        workplace,
        kind=FileKind.WAGES,
        check=lambda table: check_wages(table, today=today),
        plan=_WagePlan,
        actor=actor,
        file_name=file_name,
        content=content,
        now=now,
        rows=rows,
    )


class _WagePlan:
    """The people the rows name, the months already recorded, what the file adds and
    changes, and the writes."""

    def __init__(self, session: Session, checked: Checked[WageEntry]):
        self.session = session
        query = select(Employee.resident_id, Employee.id, Employee.full_name)
        people = {number: (employee_id, name) for number, employee_id, name in session.execute(query)}
        self.rejections: list[Rejection] = []
        titles = checked.header.titles
        for entry in checked.entries:
            person = people.get(entry.resident_id)
            if person is None:
                self.rejections.append(
                    Rejection(
                        entry.row, "resident_id", titles["resident_id"], entry.resident_id, "not_on_roster"
                    )
                )
            elif (
                entry.full_name and entry.full_name != person[1] and not same_name(entry.full_name, person[1])
            ):
                self.rejections.append(
                    Rejection(
                        entry.row,
                        "full_name",
                        titles.get("full_name", ""),
                        entry.full_name,
                        "name_mismatch",
                        {"roster_name": person[1]},
                    )
                )
        self.new: list[tuple[int, str, Decimal]] = []
        self.changes: list[tuple[int, Decimal, Decimal]] = []  # record id, old wage, new wage
        if not self.rejections:
            self._compare(checked.entries, people)
        self.added, self.changed = len(self.new), len(self.changes)

    def _compare(self, entries: list[WageEntry], people: dict[str, tuple[int, str]]) -> None:
        month_texts = {month: str(month) for month in {e.month for e in entries}}
        query = select(WageRecord.employee_id, WageRecord.month, WageRecord.id, WageRecord.gross_wage)
        recorded = {
            (employee_id, month): (record_id, wage)
            for employee_id, month, record_id, wage in self.session.execute(
                query.where(WageRecord.month.in_(sorted(month_texts.values())))
            )
        }
        for entry in entries:
            employee_id, month = people[entry.resident_id][0], month_texts[entry.month]
            found = recorded.get((employee_id, month))
            if found is None:
                self.new.append((employee_id, month, entry.gross_wage))
            elif found[1] != entry.gross_wage:
                self.changes.append((found[0], found[1], entry.gross_wage))

    def write(self, *, batch_id: int, actor: str, now: datetime, reference: str) -> None:
        if self.new:
            rows = [
                {"employee_id": employee_id, "month": month, "gross_wage": wage, "import_batch_id": batch_id}
                for employee_id, month, wage in self.new
            ]
            insert_rows(self.session, WageRecord.__table__, rows)  # a year of wages: 100,000 rows
        if self.changes:
            self.session.execute(
                update(WageRecord),
                [{"id": record_id, "gross_wage": wage} for record_id, _, wage in self.changes],
            )
            corrections = [
                _correction(record_id, old, wage, actor=actor, now=now, source="import", reference=reference)
                for record_id, old, wage in self.changes
            ]
            insert_rows(self.session, WageCorrection.__table__, corrections)


def _correction(
    record_id: int,
    old: Decimal,
    new: Decimal,
    *,
    actor: str,
    now: datetime,
    source: str,
    reference: str = "",
    reason: str = "",
) -> dict[str, Any]:
    return {
        "wage_record_id": record_id,
        "at": now,
        "actor_id": actor,
        "old_wage": old,
        "new_wage": new,
        "source": source,
        "reference": reference,
        "reason": reason,
    }


def correct_wage(
    session: Session,
    *,
    actor: str,
    resident_id_number: str,
    month: YearMonth,
    gross_wage: str | Decimal,
    reason: str,
    now: datetime,
) -> bool:
    """Correct a recorded month's gross wage (administrators only): the old figure stays
    in the history with who corrected it, when and why. False when the figure is already
    that. Refused ``admins_only``, ``reason_required`` (a correction says why),
    ``amount_format``, ``wage_negative`` or ``wage_too_large`` for the new figure,
    ``roster_not_found`` for an ID not on the roster, ``wage_not_found`` for a month with
    no record (import it instead)."""
    require_admin(session, actor)
    if not reason.strip():
        raise Refused("reason_required")
    try:
        wage = parse_amount(str(gross_wage))
    except ValueProblem as problem:
        raise Refused(problem.code, **problem.params) from None
    if wage < 0:
        raise Refused("wage_negative")
    if wage > MAX_MONTHLY_WAGE:
        raise Refused("wage_too_large", limit=MAX_MONTHLY_WAGE)
    number = resident_id.normalise(resident_id_number)
    employee_id = session.scalar(select(Employee.id).where(Employee.resident_id == number))
    if employee_id is None:
        raise Refused("roster_not_found")
    record = session.scalar(
        select(WageRecord).where(WageRecord.employee_id == employee_id, WageRecord.month == str(month))
    )
    if record is None:
        raise Refused("wage_not_found", month=str(month))
    if record.gross_wage == wage:
        return False
    session.execute(
        insert(WageCorrection),
        [
            _correction(
                record.id,
                record.gross_wage,
                wage,
                actor=actor,
                now=now,
                source="correction",
                reason=reason.strip(),
            )
        ],
    )
    record.gross_wage = wage
    session.flush()
    return True


def wages_of(
    session: Session,
    *,
    viewer: str,
    employee_id: int,
    first: YearMonth | None = None,
    last: YearMonth | None = None,
) -> list[WageView]:
    """A person's wage records, month by month, each with its corrections: for the
    administrators and the person themself. Anyone else is told there is no such record
    (``roster_not_found``): an employee sees their own wages, and only their own."""
    person = visible_employee(session, viewer=viewer, employee_id=employee_id)
    query = (
        select(WageRecord, ImportBatch)
        .join(ImportBatch, ImportBatch.id == WageRecord.import_batch_id)
        .where(WageRecord.employee_id == person.id)
    )
    if first:
        query = query.where(WageRecord.month >= str(first))
    if last:
        query = query.where(WageRecord.month <= str(last))
    records = [(r, batch) for r, batch in session.execute(query.order_by(WageRecord.month))]
    corrections: dict[int, list[CorrectionView]] = {}
    if records:
        for c in session.scalars(
            select(WageCorrection)
            .where(WageCorrection.wage_record_id.in_([r.id for r, _ in records]))
            .order_by(WageCorrection.id)
        ):
            corrections.setdefault(c.wage_record_id, []).append(
                CorrectionView(c.at, c.actor_id, c.old_wage, c.new_wage, c.source, c.reference, c.reason)
            )
    return [
        WageView(
            YearMonth.parse(r.month),
            r.gross_wage,
            batch.at,
            batch.actor_id,
            batch.file_name,
            tuple(corrections.get(r.id, ())),
        )
        for r, batch in records
    ]


def own_wages(session: Session, user_id: str) -> list[WageView]:
    """The viewer's own wage records (found by their Slack user on the roster); none when
    they are not on it."""
    employee_id = session.scalar(select(Employee.id).where(Employee.slack_user == user_id))
    if employee_id is None:
        return []
    return wages_of(session, viewer=user_id, employee_id=employee_id)


def correct_wage_form(
    session: Session, *, actor: str, employee_id: int, raw: dict[str, Any], now: datetime
) -> bool:
    """The wage-correction form of one person's record (administrators only): the month,
    the right gross wage and why. ``FieldErrors`` name the field to fix (a month with no
    record says to import it); otherwise as :func:`correct_wage`."""
    require_admin(session, actor)
    form = FormReader(raw)
    month = form.month("month")
    wage = form.amount("gross_wage", required=True)
    reason = form.notes("reason", required=True)
    form.done()
    person = visible_employee(session, viewer=actor, employee_id=employee_id)
    try:
        return correct_wage(
            session,
            actor=actor,
            resident_id_number=person.resident_id,
            month=month,
            gross_wage=wage,
            reason=reason,
            now=now,
        )
    except Refused as exc:
        field = "month" if exc.code == "wage_not_found" else "gross_wage"
        raise FieldErrors({field: Problem(exc.code, exc.params)}) from None
