"""The monthly insured change form (参保人员增减员表): built from the approved changes of a
month, exported as .xlsx and .csv, and, once filed at the social security center, marked
done in one go so that each requester is told. No Slack in here.

"A month's changes" is defined once, here (:func:`month_changes`), and the form, App Home
and the cut-off reminder all count with it: every open change effective in the month *or
before it*. A change that missed last month's form belongs on this month's, flagged late.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from bot.domain.deadlines import DeadlineKind, next_deadlines
from bot.domain.errors import Refused
from bot.domain.kinds import read_form
from bot.domain.kinds.change import ChangeType, InsuredChange
from bot.domain.months import YearMonth
from bot.domain.requests import Action, RequestKind, State
from bot.domain.workplace import Workplace
from bot.services.requests import act_on_request
from bot.services.roles import require_admin
from bot.storage.models import ChangeFormExport, Request

COLUMNS = (
    "full_name",
    "resident_id",
    "change_type",
    "effective_month",
    "contribution_base",
    "hukou",
    "public_id",
    "note",
)
_TYPE_ORDER = {ChangeType.ADD: 0, ChangeType.REMOVE: 1, ChangeType.UPDATE: 2}


@dataclass(frozen=True)
class ChangeFormRow:
    """One person's line on the form. The resident ID is whole: the form goes to the
    administrators and the social security center only."""

    full_name: str
    resident_id: str
    change_type: ChangeType
    effective_month: YearMonth
    contribution_base: Decimal | None
    hukou: str
    public_id: str
    request_id: int
    late: bool  # effective before the form's month: it missed an earlier form


@dataclass(frozen=True)
class Exported:
    export: ChangeFormExport
    rows: list[ChangeFormRow]


@dataclass(frozen=True)
class Filed:
    month: str
    done: list[str]  # public ids marked done
    skipped: list[str]  # no longer approved when the form was marked filed


def month_changes(month: YearMonth, states: tuple[State, ...]) -> Select:
    """The month's changes in ``states``: every change effective in ``month`` or before it
    (one that missed an earlier form belongs on this one)."""
    return select(Request).where(
        Request.kind == RequestKind.CHANGE,
        Request.state.in_(states),
        Request.effective_month <= str(month),
    )


def change_form_rows(session: Session, month: YearMonth) -> list[ChangeFormRow]:
    """The changes on ``month``'s form: the approved ones effective in it or before it
    (those flagged late); additions, then removals, then updates, each by name."""
    rows = []
    for request in session.scalars(month_changes(month, (State.APPROVED,))):
        form = read_form(RequestKind.CHANGE, request.payload)
        assert isinstance(form, InsuredChange)
        rows.append(
            ChangeFormRow(
                full_name=form.full_name,
                resident_id=form.resident_id,
                change_type=form.change_type,
                effective_month=form.effective_month,
                contribution_base=form.contribution_base,
                hukou=form.hukou.value,
                public_id=request.public_id,
                request_id=request.id,
                late=form.effective_month < month,
            )
        )
    return sorted(rows, key=lambda r: (_TYPE_ORDER[r.change_type], r.full_name, r.public_id))


def month_summary(session: Session, month: YearMonth) -> dict[str, int]:
    """How many of the month's changes are on its form (approved), still waiting for
    approval (submitted), and done (those effective in the month itself)."""
    counted = month_changes(month, (State.SUBMITTED, State.APPROVED)).subquery()
    counts = dict(session.execute(select(counted.c.state, func.count()).group_by(counted.c.state)).all())
    done = session.scalar(
        select(func.count())
        .select_from(Request)
        .where(
            Request.kind == RequestKind.CHANGE,
            Request.state == State.DONE,
            Request.effective_month == str(month),
        )
    )
    return {
        "approved": counts.get(State.APPROVED.value, 0),
        "waiting": counts.get(State.SUBMITTED.value, 0),
        "done": done or 0,
    }


def form_month(workplace: Workplace, now: datetime) -> YearMonth:
    """The month whose form is being prepared: that of the next change cut-off, today
    included (after this month's cut-off, next month's)."""
    upcoming = next_deadlines(workplace.policy, workplace.calendar, workplace.today(now), 4)
    cutoff = next(d for d in upcoming if d.kind is DeadlineKind.CHANGE_CUTOFF)
    return YearMonth.parse(cutoff.period)


def export_change_form(
    session: Session, workplace: Workplace, *, month: YearMonth, actor: str, now: datetime
) -> Exported:
    """Record an export of ``month``'s change form and return its rows. Administrators
    only (the operator at the command line is one). An export with no rows is not
    recorded (``export.id`` is then None)."""
    require_admin(session, actor)
    rows = change_form_rows(session, month)
    export = ChangeFormExport(
        month=str(month), created_at=now, created_by=actor, request_ids=[r.request_id for r in rows]
    )
    if rows:
        session.add(export)
        session.flush()
    return Exported(export, rows)


def latest_unfiled(session: Session, month: YearMonth) -> ChangeFormExport | None:
    """The month's latest export not yet marked filed."""
    return session.scalar(
        select(ChangeFormExport)
        .where(ChangeFormExport.month == str(month), ChangeFormExport.filed_at.is_(None))
        .order_by(ChangeFormExport.id.desc())
        .limit(1)
    )


def mark_filed(session: Session, *, export_id: int, actor: str, now: datetime) -> Filed:
    """The form was filed at the social security center: every change on it that is still
    approved is marked done (each requester is told, as for the Done button). Refused for
    non-administrators and for a form already marked filed (two presses mark it once)."""
    require_admin(session, actor)
    export = session.get(ChangeFormExport, export_id)
    if export is None:
        raise Refused("change_form_not_found")
    claimed = session.execute(
        update(ChangeFormExport)
        .where(ChangeFormExport.id == export_id, ChangeFormExport.filed_at.is_(None))
        .values(filed_at=now, filed_by=actor)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.refresh(export)
        raise Refused("change_form_already_filed", month=export.month, by=export.filed_by or "")
    done, skipped = [], []
    for request_id in export.request_ids:
        request = session.get(Request, request_id)
        if request is None:
            continue
        if request.state != State.APPROVED.value:
            skipped.append(request.public_id)
            continue
        try:
            act_on_request(session, public_id=request.public_id, action=Action.DONE, actor=actor, now=now)
            done.append(request.public_id)
        except Refused:
            skipped.append(request.public_id)  # moved by someone else a moment ago
    return Filed(export.month, done, skipped)


# --- files ------------------------------------------------------------------------------------

Words = Callable[..., str]  # (text key, **params) -> its plain words in the chosen language


def _cells(row: ChangeFormRow, words: Words) -> list[object]:
    return [
        row.full_name,
        row.resident_id,
        words(f"change_form.type.{row.change_type}"),
        str(row.effective_month),
        row.contribution_base if row.contribution_base is not None else "",
        words(f"hukou.{row.hukou}"),
        row.public_id,
        words("change_form.late", month=str(row.effective_month)) if row.late else "",
    ]


def to_xlsx(rows: list[ChangeFormRow], month: YearMonth, words: Words) -> bytes:
    """The form as an Excel workbook: a title line, the header, one row a person. Resident
    IDs are text cells (never numbers, which would lose digits)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = str(month)
    sheet.append([words("change_form.sheet_title", month=str(month))])
    sheet["A1"].font = Font(bold=True)
    sheet.append([words(f"change_form.column.{c}") for c in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        cells = _cells(row, words)
        if isinstance(cells[4], Decimal):
            cells[4] = float(cells[4])
        sheet.append(cells)
        sheet.cell(row=sheet.max_row, column=2).number_format = "@"
        sheet.cell(row=sheet.max_row, column=5).number_format = "#,##0.00"
    for letter, width in zip("ABCDEFGH", (16, 22, 14, 12, 14, 16, 16, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_csv(rows: list[ChangeFormRow], words: Words) -> bytes:
    """The same rows as CSV, UTF-8 with a byte-order mark so that Excel reads Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([words(f"change_form.column.{c}") for c in COLUMNS])
    for row in rows:
        writer.writerow([f"{v:.2f}" if isinstance(v, Decimal) else v for v in _cells(row, words)])
    return buffer.getvalue().encode("utf-8-sig")


def file_names(month: YearMonth) -> tuple[str, str]:
    return f"change-form-{month}.xlsx", f"change-form-{month}.csv"
