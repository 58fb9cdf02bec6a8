"""What si-bot's App Home shows each person, as plain values. No Slack in here.

Administrators: open requests by kind and state, the ones waiting longest, this month's
change form, the next deadlines (the policy's and the registry's), complaints waiting for
a reply. Employees: their own requests. Both: a handover waiting for them to confirm.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.deadlines import next_deadlines
from bot.domain.months import YearMonth
from bot.domain.policy import policy_note
from bot.domain.requests import OPEN_STATES, RequestKind, State
from bot.domain.workplace import Workplace
from bot.services import bases, change_form, documents, handover, ledger, report, roles
from bot.services.requests import own_requests
from bot.storage.models import HomeTab, Request

WAITING_SHOWN = 8
OWN_SHOWN = 10
DEADLINES_SHOWN = 5
DOCUMENTS_AHEAD = timedelta(days=92)
COMPLAINTS_SHOWN = 10


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


def _row(workplace: Workplace, request: Request) -> dict[str, Any]:
    return {
        "public_id": request.public_id,
        "kind": request.kind,
        "state": request.state,
        "since": workplace.today(request.created_at).isoformat(),
        "requester": request.requester_id,
    }


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
    waiting = session.scalars(
        select(Request).where(Request.state == State.SUBMITTED).order_by(*oldest_first).limit(WAITING_SHOWN)
    )
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
    data = {
        "is_admin": True,
        "today": today.isoformat(),
        "open_total": sum(counts.values()),
        "by_kind": by_kind,
        "waiting": [_row(workplace, r) for r in waiting],
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


def employee_home(session: Session, workplace: Workplace, *, user: str, now: datetime) -> dict[str, Any]:
    """An employee's App Home: their own requests, newest first."""
    return {
        "is_admin": False,
        "today": workplace.today(now).isoformat(),
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
