"""The monthly insured change form (参保人员增减员表): built from the approved changes of a
month, exported as .xlsx and .csv, and, once filed at the social security center, marked
done in one go so that each requester is told. No Slack in here."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.months import YearMonth
from bot.domain.requests import Action, ChangeType, InsuredChange, Kind, State, from_payload
from bot.services.requests import act_on_request
from bot.services.roles import require_admin
from bot.services.workplace import Workplace
from bot.storage.models import ChangeFormExport, Request

CLI_ACTOR = "cli"
COLUMNS = (
    "full_name",
    "resident_id",
    "change_type",
    "effective_month",
    "contribution_base",
    "hukou",
    "public_id",
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


@dataclass(frozen=True)
class Exported:
    export: ChangeFormExport
    rows: list[ChangeFormRow]


@dataclass(frozen=True)
class Filed:
    month: str
    done: list[str]  # public ids marked done
    skipped: list[str]  # no longer approved when the form was marked filed


def _changes(session: Session, month: YearMonth, states: tuple[State, ...]) -> list[Request]:
    rows = session.scalars(
        select(Request)
        .where(Request.kind == Kind.CHANGE.value, Request.state.in_([s.value for s in states]))
        .order_by(Request.id)
    )
    # The month lives in the JSON payload: filter here, the same on SQLite and PostgreSQL.
    return [r for r in rows if r.payload.get("effective_month") == str(month)]


def change_form_rows(session: Session, month: YearMonth) -> list[ChangeFormRow]:
    """The approved insured changes effective in ``month``: additions, then removals,
    then updates, each by name."""
    rows = []
    for request in _changes(session, month, (State.APPROVED,)):
        form = from_payload(Kind.CHANGE, request.payload)
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
            )
        )
    return sorted(rows, key=lambda r: (_TYPE_ORDER[r.change_type], r.full_name, r.public_id))


def month_summary(session: Session, month: YearMonth) -> dict[str, int]:
    """How many of the month's changes are approved (on the form), waiting (submitted)
    and done (filed)."""
    states = (State.SUBMITTED, State.APPROVED, State.DONE)
    counts = Counter(r.state for r in _changes(session, month, states))
    return {
        "approved": counts[State.APPROVED.value],
        "waiting": counts[State.SUBMITTED.value],
        "done": counts[State.DONE.value],
    }


def form_month(workplace: Workplace, now: datetime) -> YearMonth:
    """The month whose form is being prepared: that of the next change cut-off, today
    included (after this month's cut-off, next month's)."""
    from bot.domain.calendar import WorkingCalendar
    from bot.domain.deadlines import Kind as DeadlineKind
    from bot.domain.deadlines import next_deadlines

    calendar = WorkingCalendar.from_policy(workplace.policy)
    upcoming = next_deadlines(workplace.policy, calendar, workplace.today(now), 4)
    cutoff = next(d for d in upcoming if d.kind is DeadlineKind.CHANGE_CUTOFF)
    return YearMonth.parse(cutoff.period)


def export_change_form(
    session: Session, workplace: Workplace, *, month: YearMonth, actor: str, now: datetime
) -> Exported:
    """Record an export of ``month``'s change form and return its rows. Administrators
    only (``cli`` is the operator at the command line). An export with no rows is not
    recorded (``export.id`` is then None)."""
    if actor != CLI_ACTOR:
        require_admin(workplace, actor)
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


def mark_filed(session: Session, workplace: Workplace, *, export_id: int, actor: str, now: datetime) -> Filed:
    """The form was filed at the social security center: every change on it that is still
    approved is marked done (each requester is told, as for the Done button). Refused for
    non-administrators and for a form already marked filed (two presses mark it once)."""
    require_admin(workplace, actor)
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
            act_on_request(
                session, workplace, public_id=request.public_id, action=Action.DONE, actor=actor, now=now
            )
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
    for letter, width in zip("ABCDEFG", (16, 22, 14, 12, 14, 16, 16), strict=True):
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
