"""What si-bot's App Home shows each person, as plain values. No Slack in here.

Administrators, today's work first: a one-line summary (waiting for approval and the
oldest's age in working days, approved but not yet filed, the next cut-off and the working
days left, complaints), the requests waiting for approval one a row, the reminders sent
and not yet handled; then open requests by kind, this month's change form, the next
deadlines (the policy's and the registry's), complaints waiting for a reply. Employees:
their own roster record and their own requests. Both: a handover waiting for them to
confirm. Every count comes from GROUP BY or an index; every list is its top N.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.deadlines import DeadlineKind, next_deadlines
from bot.domain.months import YearMonth
from bot.domain.policy import policy_note
from bot.domain.requests import OPEN_STATES, RequestKind, State
from bot.domain.workplace import Workplace
from bot.services import bases, change_form, documents, handover, ledger, report, roles
from bot.services.requests import own_requests
from bot.storage.models import Employee, HomeTab, LedgerLineRecord, ReminderOccurrence, ReminderSend, Request

WAITING_SHOWN = 8
OWN_SHOWN = 10
DEADLINES_SHOWN = 5
DOCUMENTS_AHEAD = timedelta(days=92)
COMPLAINTS_SHOWN = 10
REMINDERS_SHOWN = 5
# Reminders listed on App Home: those whose title needs only their period.
PERIOD_REMINDERS = tuple(
    k.value
    for k in (
        DeadlineKind.CHANGE_CUTOFF,
        DeadlineKind.PAYMENT,
        DeadlineKind.BASE_DECLARATION_OPEN,
        DeadlineKind.BASE_DECLARATION_CLOSE,
        DeadlineKind.CERTIFICATE_EXAM,
    )
)


def opened(session: Session, user: str, now: datetime) -> None:
    """Remember that ``user`` looks at App Home, so it is redrawn for them after changes."""
    row = session.get(HomeTab, user)
    if row is not None:
        row.opened_at = now
        return
    try:
        with session.begin_nested():
            session.add(HomeTab(user_id=user, opened_at=now))
    except IntegrityError:
        pass  # opened twice at once


def watchers(session: Session, users: list[str]) -> list[str]:
    """Those of ``users`` who have opened App Home."""
    wanted = [u for u in dict.fromkeys(users) if u]
    if not wanted:
        return []
    found = set(session.scalars(select(HomeTab.user_id).where(HomeTab.user_id.in_(wanted))))
    return [u for u in wanted if u in found]


def _row(workplace: Workplace, request: Request, today: date | None = None) -> dict[str, Any]:
    since = workplace.today(request.created_at)
    row = {
        "public_id": request.public_id,
        "kind": request.kind,
        "state": request.state,
        "since": since.isoformat(),
        "requester": request.requester_id,
    }
    if today is not None:
        row["age"] = max(0, workplace.calendar.working_days_between(since, today))  # working days
    return row


def _unhandled_reminders(session: Session) -> list[dict[str, Any]]:
    """Reminders sent and not yet handled (Done), the earliest due first."""
    sent = select(ReminderSend.id).where(ReminderSend.occurrence_id == ReminderOccurrence.id).exists()
    rows = session.scalars(
        select(ReminderOccurrence)
        .where(
            ReminderOccurrence.handled_at.is_(None),
            ReminderOccurrence.kind.in_(PERIOD_REMINDERS),
            sent,
        )
        .order_by(ReminderOccurrence.due_on, ReminderOccurrence.id)
        .limit(REMINDERS_SHOWN)
    )
    return [{"kind": r.kind, "period": r.period, "due": r.due_on.isoformat()} for r in rows]


def admin_home(session: Session, workplace: Workplace, *, now: datetime) -> dict[str, Any]:
    """The administrator's App Home (call only for an administrator). Counts come from the
    database; only the rows shown are fetched. ``headline``: this month's figures so far
    (bot.services.report.headline), when there are any."""
    today = workplace.today(now)
    counts = dict(
        ((kind, state), n)
        for kind, state, n in session.execute(
            select(Request.kind, Request.state, func.count())
            .where(Request.state.in_(OPEN_STATES))
            .group_by(Request.kind, Request.state)
        )
    )
    by_kind = [
        {
            "kind": kind.value,
            "submitted": counts.get((kind.value, "submitted"), 0),
            "approved": counts.get((kind.value, "approved"), 0),
        }
        for kind in RequestKind
        if counts.get((kind.value, "submitted")) or counts.get((kind.value, "approved"))
    ]
    oldest_first = (Request.created_at, Request.id)
    waiting = list(
        session.scalars(
            select(Request)
            .where(Request.state == State.SUBMITTED)
            .order_by(*oldest_first)
            .limit(WAITING_SHOWN)
        )
    )
    waiting_total = sum(n for (_, state), n in counts.items() if state == State.SUBMITTED.value)
    approved_total = sum(n for (_, state), n in counts.items() if state == State.APPROVED.value)
    complaints = session.scalars(
        select(Request)
        .where(Request.kind == RequestKind.COMPLAINT, Request.state == State.SUBMITTED)
        .order_by(*oldest_first)
        .limit(COMPLAINTS_SHOWN)
    )
    complaints_total = counts.get((RequestKind.COMPLAINT.value, State.SUBMITTED.value), 0)
    month = change_form.form_month(workplace, now)
    export = change_form.latest_unfiled(session, month)
    deadlines: list[dict[str, Any]] = [
        {"kind": d.kind.value, "period": d.period, "due": d.due.isoformat(), "name": ""}
        for d in next_deadlines(workplace.policy, workplace.calendar, today, DEADLINES_SHOWN)
    ]
    for doc in documents.documents_due(session, today + DOCUMENTS_AHEAD):
        deadlines.append(
            {
                "kind": f"document_{doc.due_kind or 'exam'}",
                "period": "",
                "due": doc.due_on.isoformat(),
                "name": doc.name,
            }
        )
    deadlines.sort(key=lambda d: d["due"])
    cutoff = next(
        (
            d
            for d in next_deadlines(workplace.policy, workplace.calendar, today, 4)
            if d.kind is DeadlineKind.CHANGE_CUTOFF
        ),
        None,
    )
    waiting_rows = [_row(workplace, r, today) for r in waiting]
    data = {
        "is_admin": True,
        "today": today.isoformat(),
        "summary": {
            "waiting": waiting_total,
            "oldest_age": waiting_rows[0]["age"] if waiting_rows else 0,
            "approved": approved_total,
            "cutoff": cutoff.due.isoformat() if cutoff else "",
            "cutoff_days": workplace.calendar.working_days_between(today, cutoff.due) if cutoff else 0,
            "complaints": counts.get((RequestKind.COMPLAINT.value, State.SUBMITTED.value), 0),
        },
        "reminders": _unhandled_reminders(session),
        "open_total": sum(counts.values()),
        "by_kind": by_kind,
        "waiting": waiting_rows,
        "waiting_more": max(0, waiting_total - len(waiting_rows)),
        "month": str(month),
        "form": change_form.month_summary(session, month),
        "export": None
        if export is None
        else {
            "id": export.id,
            "rows": len(export.request_ids),
            "at": export.created_at.astimezone(workplace.tz).strftime("%Y-%m-%d %H:%M"),
            "by": export.created_by,
        },
        "deadlines": deadlines[: DEADLINES_SHOWN + 3],
        "complaints": [_row(workplace, r) for r in complaints],
        "complaints_total": complaints_total,
        # The year's contributions: paid, due or late (bot/services/ledger.py).
        "payments": ledger.home_payments(session, workplace, now=now),
    }
    # The yearly base declaration's publicity, while its base year runs (bot/services/bases.py).
    declaration = bases.home_section(session, workplace, now=now)
    if declaration is not None:
        data["bases"] = declaration
    # The month so far, as the monthly report counts it (absent before anything happened).
    headline = report.headline(session, workplace, now)
    if headline is not None:
        data["headline"] = headline
    return data


def own_record(session: Session, user: str) -> dict[str, Any] | None:
    """The roster record linked to ``user``'s Slack account, for their eyes only (their
    Home is private to them, so the base is shown whole): status, enrolled since, leaving
    month, current base, the last month a contribution was recorded for them. None when
    no roster row is linked to them."""
    person = session.scalar(select(Employee).where(Employee.slack_user == user))
    if person is None:
        return None
    last_month = session.scalar(
        select(LedgerLineRecord.month)
        .where(LedgerLineRecord.employee_id == person.id)
        .order_by(LedgerLineRecord.month.desc())
        .limit(1)
    )
    return {
        "name": person.full_name,
        "status": person.status,
        "enrolled_from": person.enrolled_from,
        "leaving_month": person.leaving_month or "",
        "base": None if person.contribution_base is None else str(person.contribution_base),
        "last_contribution": last_month or "",
    }


def employee_home(session: Session, workplace: Workplace, *, user: str, now: datetime) -> dict[str, Any]:
    """An employee's App Home: their roster record, their own requests, newest first."""
    return {
        "is_admin": False,
        "today": workplace.today(now).isoformat(),
        "record": own_record(session, user),
        "mine": [_row(workplace, r) for r in own_requests(session, user, limit=OWN_SHOWN)],
    }


def home_for(session: Session, workplace: Workplace, *, user: str, now: datetime) -> dict[str, Any]:
    """App Home's values for ``user``, with a handover waiting for their confirmation."""
    data = (
        admin_home(session, workplace, now=now)
        if roles.is_admin(session, user)
        else employee_home(session, workplace, user=user, now=now)
    )
    pending = handover.is_pending_successor(session, user)
    data["handover"] = None if pending is None else {"id": pending.id, "from": pending.from_id}
    # No base period for this month: the figures shown are the last known ones.
    note = policy_note(workplace.policy, YearMonth.of(workplace.today(now)))
    data["policy_note"] = None if note is None else note.params
    return data
