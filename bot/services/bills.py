"""The center's bill, imported and reconciled with the ledger (duty 15: "receiving" the
statement). No Slack in here.

An import is all or nothing, like the roster's: every row is checked first and a bill with
a rejected row imports nothing. An imported bill keeps its original file, its rows and its
differences from the month's ledger, each ``open`` until an administrator marks it
``explained`` (with a note) or turns it into a request (a contribution record correction,
which the administrators then handle like any request). The month counts as reconciled
when its latest bill has no open difference. A bill imported again (the same file for the
same month) is not imported twice; a corrected bill of the month replaces the earlier one,
and the differences it shares with it keep what was made of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain.bill import (
    BillEntry,
    Difference,
    DifferenceReason,
    OnRoster,
    check_bill,
    reconcile,
)
from bot.domain.errors import Refused
from bot.domain.kinds.correction import CorrectionIssue
from bot.domain.ledger import last_insured_month
from bot.domain.months import YearMonth
from bot.domain.requests import RequestKind
from bot.domain.roster import ImportOutcome, Rejection
from bot.domain.tables import Row, TableError, read_table
from bot.domain.workplace import Workplace
from bot.services import ledger
from bot.services.requests import file_request
from bot.services.roles import require_admin
from bot.services.stored import store_file
from bot.storage.bulk import insert_rows
from bot.storage.models import Bill, BillDifference, BillLine, Employee, StoredFile

OPEN, EXPLAINED, REQUEST = "open", "explained", "request"
SHOWN = 10  # open differences listed in the message; the rest are in the file
# What a difference's correction request says is wrong, by the difference's reason.
CORRECTION_ISSUES = {
    DifferenceReason.JOINER_NOT_ENROLLED: CorrectionIssue.MONTH_MISSING,
    DifferenceReason.NOT_BILLED: CorrectionIssue.MONTH_MISSING,
    DifferenceReason.LEAVER_STILL_BILLED: CorrectionIssue.BILLED_AFTER_LEAVING,
    DifferenceReason.NOT_ENROLLED_YET: CorrectionIssue.OTHER,
    DifferenceReason.NOT_ON_LEDGER: CorrectionIssue.OTHER,
    DifferenceReason.UNKNOWN_PERSON: CorrectionIssue.NOT_ON_ROSTER,
    DifferenceReason.NO_BASE: CorrectionIssue.BASE_WRONG,
    DifferenceReason.BASE_DIFFERS: CorrectionIssue.BASE_WRONG,
    DifferenceReason.ROUNDING: CorrectionIssue.AMOUNT_WRONG,
    DifferenceReason.RATE_DIFFERS: CorrectionIssue.AMOUNT_WRONG,
    DifferenceReason.SCHEME_DIFFERS: CorrectionIssue.AMOUNT_WRONG,
}


@dataclass(frozen=True)
class DifferenceView:
    id: int
    month: str
    full_name: str
    resident_id: str
    reason: str
    amount: Decimal
    ledger_total: Decimal
    bill_total: Decimal
    detail: dict[str, Any]
    state: str
    note: str
    request: str | None


@dataclass(frozen=True)
class Reconciliation:
    """A month's latest bill against its ledger: the totals, the differences by state and
    reason, and the first open ones."""

    bill_id: int
    month: YearMonth
    file_name: str
    imported_at: datetime
    imported_by: str
    bill_people: int
    bill_total: Decimal
    ledger_people: int
    ledger_total: Decimal
    differences: int
    open: int
    by_reason: dict[str, int]
    open_shown: list[DifferenceView]
    open_rounding: int

    @property
    def reconciled(self) -> bool:
        return self.open == 0


@dataclass(frozen=True)
class BillImport:
    """What importing a bill did. ``problem`` (code, params) when the file as a whole
    could not be read or its month is not known; ``rejections`` when rows were wrong —
    in both cases nothing was imported. Otherwise the ``reconciliation``; ``seen_before``
    when this very file was imported for the month already (nothing new was written)."""

    file_name: str
    month: YearMonth | None
    rows: int = 0
    rejections: tuple[Rejection, ...] = ()
    problem: tuple[str, dict[str, Any]] | None = None
    reconciliation: Reconciliation | None = None
    seen_before: bool = False
    differences: list[DifferenceView] = field(default_factory=list)  # every one, for the file

    @property
    def imported(self) -> bool:
        return self.reconciliation is not None

    @property
    def rejected_rows(self) -> int:
        return len({r.row for r in self.rejections})

    def as_outcome(self) -> ImportOutcome:
        """A bill that was not imported, as the roster's import outcome (the same summary
        and report of rejected rows)."""
        return ImportOutcome(
            None, self.file_name, rows=self.rows, rejections=self.rejections, problem=self.problem
        )


def import_bill(
    session: Session,
    workplace: Workplace,
    *,
    month: YearMonth | None,
    actor: str,
    file_name: str,
    content: bytes,
    now: datetime,
    rows: Sequence[Row] | None = None,
) -> BillImport:
    """Import the center's bill of ``month`` (None: the month the file says, in a month
    column or its name) and reconcile it with the month's ledger. See
    :class:`BillImport`. Refused ``admins_only`` for anyone but an administrator or the
    command line."""
    require_admin(session, actor)
    schemes = list(dict.fromkeys(r.name for r in workplace.policy.rate_schedule))
    try:
        table = read_table(file_name, content) if rows is None else rows
        read = check_bill(
            table, month=month, file_name=file_name, schemes=schemes, today=workplace.today(now)
        )
    except TableError as exc:
        return BillImport(file_name, month, problem=(exc.code, exc.params))
    checked = read.checked
    if read.month is None:
        return BillImport(file_name, None, rows=checked.rows, problem=("bill_month_unknown", {}))
    month = read.month
    if checked.rejections:
        rejected = tuple(sorted(checked.rejections, key=lambda r: r.row))
        return BillImport(file_name, month, rows=checked.rows, rejections=rejected)
    digest = hashlib.sha256(content).hexdigest()
    earlier = session.scalar(
        select(Bill)
        .join(StoredFile, StoredFile.id == Bill.file_id)
        .where(Bill.month == str(month), StoredFile.digest == digest)
        .order_by(Bill.id.desc())
        .limit(1)
    )
    if earlier is not None:
        return _outcome(session, workplace, earlier, file_name, checked.rows, seen_before=True)
    bill = _record(session, workplace, month, checked.entries, file_name, content, actor, now)
    return _outcome(session, workplace, bill, file_name, checked.rows)


def _record(
    session: Session,
    workplace: Workplace,
    month: YearMonth,
    entries: Sequence[BillEntry],
    file_name: str,
    content: bytes,
    actor: str,
    now: datetime,
) -> Bill:
    stored = store_file(session, kind="bill", file_name=file_name, content=content, actor=actor, now=now)
    previous = latest_bill(session, month)
    bill = Bill(
        month=str(month),
        file_id=stored.id,
        imported_by=actor,
        imported_at=now,
        rows=len(entries),
        people=len({e.resident_id for e in entries}),
        total=sum((e.employer + e.employee for e in entries), Decimal("0.00")),
    )
    session.add(bill)
    session.flush()
    insert_rows(
        session,
        BillLine.__table__,
        [
            {
                "bill_id": bill.id,
                "row": e.row,
                "resident_id": e.resident_id,
                "full_name": e.full_name,
                "scheme": e.scheme,
                "base": e.base,
                "employer": e.employer,
                "employee": e.employee,
            }
            for e in entries
        ],
    )
    found = reconcile(ledger.month_ledger(session, workplace, month), entries, _roster(session))
    carried = _resolutions(session, previous) if previous is not None else {}
    insert_rows(
        session,
        BillDifference.__table__,
        [
            _difference_row(bill, d, carried.get((d.resident_id, d.reason.value, d.amount)))
            for d in found.differences
        ],
    )
    return bill


def _roster(session: Session) -> dict[str, OnRoster]:
    """What the roster knows of everyone, by resident ID (one query: the roster's size,
    not the history's)."""
    found = {}
    for row in session.execute(
        select(
            Employee.id,
            Employee.resident_id,
            Employee.enrolled_from,
            Employee.leaving_month,
            Employee.retired_on,
        )
    ):
        leaving = YearMonth.parse(row.leaving_month) if row.leaving_month else None
        found[row.resident_id] = OnRoster(
            row.id, YearMonth.parse(row.enrolled_from), last_insured_month(leaving, row.retired_on)
        )
    return found


def _resolutions(session: Session, bill: Bill) -> dict[tuple[str, str, Decimal], BillDifference]:
    """What was made of an earlier bill's differences, by person, reason and amount."""
    rows = session.scalars(
        select(BillDifference).where(BillDifference.bill_id == bill.id, BillDifference.state != OPEN)
    )
    return {(d.resident_id, d.reason, d.amount): d for d in rows}


def _difference_row(bill: Bill, d: Difference, resolved: BillDifference | None) -> dict[str, Any]:
    return {
        "bill_id": bill.id,
        "month": bill.month,
        "resident_id": d.resident_id,
        "full_name": d.full_name,
        "employee_id": d.employee_id,
        "reason": d.reason.value,
        "ledger_total": d.ledger_total,
        "bill_total": d.bill_total,
        "amount": d.amount,
        "detail": d.detail,
        "state": resolved.state if resolved else OPEN,
        "note": resolved.note if resolved else "",
        "request_public_id": resolved.request_public_id if resolved else None,
        "resolved_by": resolved.resolved_by if resolved else None,
        "resolved_at": resolved.resolved_at if resolved else None,
    }


def _outcome(
    session: Session,
    workplace: Workplace,
    bill: Bill,
    file_name: str,
    rows: int,
    *,
    seen_before: bool = False,
) -> BillImport:
    return BillImport(
        file_name,
        YearMonth.parse(bill.month),
        rows=rows,
        reconciliation=reconciliation_of(session, workplace, bill),
        seen_before=seen_before,
        differences=differences_of(session, bill.id),
    )


# --- looking at it -------------------------------------------------------------------------------


def latest_bill(session: Session, month: YearMonth) -> Bill | None:
    return session.scalar(select(Bill).where(Bill.month == str(month)).order_by(Bill.id.desc()).limit(1))


def month_reconciliation(
    session: Session, workplace: Workplace, *, viewer: str, month: YearMonth
) -> Reconciliation:
    """The reconciliation of ``month``'s latest bill (administrators only). Refused
    ``admins_only``, or ``bill_not_found`` when no bill of the month was imported."""
    require_admin(session, viewer)
    bill = latest_bill(session, month)
    if bill is None:
        raise Refused("bill_not_found", month=str(month))
    return reconciliation_of(session, workplace, bill)


def reconciliation_of(session: Session, workplace: Workplace, bill: Bill) -> Reconciliation:
    month = YearMonth.parse(bill.month)
    counts: dict[tuple[str, str], int] = {
        (state, reason): n
        for state, reason, n in session.execute(
            select(BillDifference.state, BillDifference.reason, func.count())
            .where(BillDifference.bill_id == bill.id)
            .group_by(BillDifference.state, BillDifference.reason)
        )
    }
    by_reason: dict[str, int] = {}
    for (_, reason), n in counts.items():
        by_reason[reason] = by_reason.get(reason, 0) + n
    shown = session.scalars(
        select(BillDifference)
        .where(BillDifference.bill_id == bill.id, BillDifference.state == OPEN)
        .order_by(BillDifference.full_name, BillDifference.id)
        .limit(SHOWN)
    )
    book = ledger.month_ledger(session, workplace, month)
    stored = session.get(StoredFile, bill.file_id)
    return Reconciliation(
        bill_id=bill.id,
        month=month,
        file_name=stored.file_name if stored else "",
        imported_at=bill.imported_at,
        imported_by=bill.imported_by,
        bill_people=bill.people,
        bill_total=bill.total,
        ledger_people=len(book.lines),
        ledger_total=book.total,
        differences=sum(counts.values()),
        open=sum(n for (state, _), n in counts.items() if state == OPEN),
        by_reason=by_reason,
        open_shown=[_view(d) for d in shown],
        open_rounding=counts.get((OPEN, DifferenceReason.ROUNDING.value), 0),
    )


def open_count(session: Session, bill_id: int) -> int:
    """How many of a bill's differences are still open."""
    query = select(func.count()).where(BillDifference.bill_id == bill_id, BillDifference.state == OPEN)
    return session.scalar(query) or 0


def differences_of(session: Session, bill_id: int) -> list[DifferenceView]:
    """Every difference of a bill, by name: the reconciliation's file."""
    rows = session.scalars(
        select(BillDifference)
        .where(BillDifference.bill_id == bill_id)
        .order_by(BillDifference.full_name, BillDifference.id)
    )
    return [_view(d) for d in rows]


def _view(d: BillDifference) -> DifferenceView:
    return DifferenceView(
        d.id,
        d.month,
        d.full_name,
        d.resident_id,
        d.reason,
        d.amount,
        d.ledger_total,
        d.bill_total,
        d.detail,
        d.state,
        d.note,
        d.request_public_id,
    )


# --- what is made of a difference -----------------------------------------------------------------


def _open_difference(session: Session, difference_id: int, actor: str) -> BillDifference:
    require_admin(session, actor)
    found = session.get(BillDifference, difference_id)
    if found is None:
        raise Refused("difference_not_found")
    if found.state != OPEN:
        raise _resolved_already(found)
    return found


def _resolved_already(found: BillDifference) -> Refused:
    return Refused(
        "difference_resolved",
        name=found.full_name,
        state=found.state,
        by=found.resolved_by or "",
        public_id=found.request_public_id or "",
    )


def difference(session: Session, *, difference_id: int, viewer: str) -> DifferenceView:
    """An open difference (administrators only), to explain or turn into a request."""
    return _view(_open_difference(session, difference_id, viewer))


def _resolve(
    session: Session, found: BillDifference, *, state: str, actor: str, now: datetime, **values: Any
) -> None:
    moved = session.execute(
        update(BillDifference)
        .where(BillDifference.id == found.id, BillDifference.state == OPEN)
        .values(state=state, resolved_by=actor, resolved_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        session.refresh(found)
        raise _resolved_already(found)


def explain(session: Session, *, difference_id: int, note: str, actor: str, now: datetime) -> BillDifference:
    """Mark an open difference explained, with why (required). Refused for anyone but an
    administrator, and for a difference already explained or turned into a request (two
    presses make one change)."""
    found = _open_difference(session, difference_id, actor)
    note = note.strip()
    if not note:
        raise Refused("reason_required")
    _resolve(session, found, state=EXPLAINED, actor=actor, now=now, note=note[:2000])
    session.refresh(found)
    return found


def explain_rounding(session: Session, *, bill_id: int, actor: str, now: datetime) -> Bill:
    """Mark every open rounding difference of a bill explained, as rounding (they are
    within ROUNDING_TOLERANCE per scheme and side); returns the bill. Administrators only;
    Refused ``difference_not_found`` for a bill that does not exist."""
    require_admin(session, actor)
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise Refused("difference_not_found")
    session.execute(
        update(BillDifference)
        .where(
            BillDifference.bill_id == bill_id,
            BillDifference.state == OPEN,
            BillDifference.reason == DifferenceReason.ROUNDING.value,
        )
        .values(state=EXPLAINED, resolved_by=actor, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return bill


def to_request(
    session: Session,
    workplace: Workplace,
    *,
    difference_id: int,
    raw: dict[str, Any],
    actor: str,
    submission_key: str | None,
    now: datetime,
) -> tuple[BillDifference, str]:
    """Turn an open difference into a contribution record correction request, filed by
    the administrator from the filled-in form (``FieldErrors`` as for any request): the
    administrators then handle it like the others. Returns the difference and the
    request's id. Refused as :func:`explain` says."""
    require_admin(session, actor)
    found = session.get(BillDifference, difference_id)
    if found is None:
        raise Refused("difference_not_found")
    public_id = file_correction(
        session, workplace, raw=raw, actor=actor, submission_key=submission_key, now=now
    )
    if found.request_public_id == public_id:
        return found, public_id  # the same submission again
    _resolve(session, found, state=REQUEST, actor=actor, now=now, request_public_id=public_id)
    session.refresh(found)
    return found, public_id


def file_correction(
    session: Session,
    workplace: Workplace,
    *,
    raw: dict[str, Any],
    actor: str,
    submission_key: str | None,
    now: datetime,
) -> str:
    """File a contribution record correction (a bill's difference, a statement's
    Something's wrong) from its filled-in form; returns its id. ``FieldErrors`` as for any
    request; the same submission twice files one request."""
    filed = file_request(
        session,
        workplace,
        kind=RequestKind.CORRECTION,
        actor=actor,
        raw=raw,
        submission_key=submission_key,
        now=now,
    )
    return filed.request.public_id


def request_prefill(view: DifferenceView) -> dict[str, str]:
    """The correction form, filled in from a difference: who, the month, what is wrong
    and the bill's figure for the person."""
    return {
        "full_name": view.full_name,
        "resident_id": view.resident_id,
        "month_from": view.month,
        "issue": CORRECTION_ISSUES[DifferenceReason(view.reason)].value,
        "expected": str(view.bill_total),
    }
