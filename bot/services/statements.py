"""Statements to the insured (duty 15: "distribute statements and collect feedback"): a
person's own months of a year — base, their share and the employer's per scheme, whether
the month's payment is recorded — on request, and once a year to everyone. No Slack in here.

The yearly fan-out (``/si admin statements YYYY``) records a run for the year and, for
every employee insured in it who has a Slack user, a statement and its message in the
outbox, a chunk of people at a time, in bulk: memory holds one chunk, and ten thousand
people take seconds. The messages are due one after the other at Slack's pace; the outbox
sends them (paced across processes, resumed after a restart, each once). Running it again
queues only the people not sent one yet, and says how things stand: sent, confirmed,
disputed, unanswered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.ledger import ZERO, LedgerLine, year_months
from bot.domain.months import YearMonth
from bot.domain.workplace import Workplace
from bot.services import ledger
from bot.services.answers import answer_once
from bot.services.bills import file_correction
from bot.services.outbox import FAN_OUT_SPACING, Outgoing, Recipient, enqueue_many
from bot.services.roles import require_admin
from bot.storage.bulk import insert_rows
from bot.storage.models import Employee, OutboxMessage, Payment, Statement, StatementRun

SENT, CONFIRMED, DISPUTED = "sent", "confirmed", "disputed"
NOTICE = "statement"


def months_of(year: int, today_month: YearMonth) -> list[YearMonth]:
    """The months of ``year`` a statement shows: all twelve of a past year, up to this
    month of this one. Refused ``statement_year_ahead`` for a year to come."""
    if year > today_month.year:
        raise Refused("statement_year_ahead", year=year)
    return [m for m in year_months(year) if m <= today_month]


def _paid_months(session: Session, months: Sequence[YearMonth]) -> set[str]:
    names = [str(m) for m in months]
    return set(session.scalars(select(Payment.month).where(Payment.month.in_(names)).distinct()))


def statement_params(
    year: int,
    full_name: str,
    lines: dict[YearMonth, LedgerLine],
    paid: set[str],
    assumed: set[str],
    texts: dict[int, list[list[str]]] | None = None,
) -> dict[str, Any]:
    """A statement as its template shows it (JSON-safe: it waits in the outbox): each
    month insured, its base, each scheme's shares, whether it is paid; the year's totals.
    ``texts``: the shares already written out, by the identity of their tuple (the months
    of a base period, and people on the same base, share one)."""
    texts = {} if texts is None else texts
    months = []
    employer = employee = ZERO
    for month in sorted(lines):
        line = lines[month]
        shares = texts.get(id(line.shares))
        if shares is None:
            shares = texts[id(line.shares)] = [
                [s.scheme, str(s.employer), str(s.employee)] for s in line.shares
            ]
        line_employer, line_employee = line.employer, line.employee
        employer += line_employer
        employee += line_employee
        months.append(
            {
                "month": str(month),
                "base": str(line.base),
                "note": line.note.value,
                "shares": shares,
                "employer": str(line_employer),
                "employee": str(line_employee),
                "paid": str(month) in paid,
                "assumed": str(month) in assumed,
            }
        )
    return {
        "year": year,
        "person": full_name,
        "months": months,
        "employer": str(employer),
        "employee": str(employee),
    }


def _assumed(workplace: Workplace, months: Sequence[YearMonth]) -> set[str]:
    return {str(m) for m in months if workplace.policy.period_for(m).assumed}


# --- on request --------------------------------------------------------------------------------


def own_statement(
    session: Session, workplace: Workplace, *, user: str, year: int | None, now: datetime
) -> dict[str, Any]:
    """``user``'s own statement of ``year`` (default: this year), found by their Slack
    user on the roster. Refused ``statement_not_on_roster`` when they are not on it,
    ``statement_year_ahead`` for a year to come."""
    person = session.scalar(select(Employee).where(Employee.slack_user == user))
    if person is None:
        raise Refused("statement_not_on_roster")
    this_month = YearMonth.of(workplace.today(now))
    months = months_of(year or this_month.year, this_month)
    found = ledger.person_lines(session, workplace, employee_id=person.id, months=months)
    lines = {m: line for m, line in zip(months, found, strict=True) if line is not None}
    return statement_params(
        year or this_month.year,
        person.full_name,
        lines,
        _paid_months(session, months),
        _assumed(workplace, months),
    )


# --- once a year, to everyone ---------------------------------------------------------------------


@dataclass(frozen=True)
class StatementCounts:
    year: int
    queued: int  # this call
    total: int  # statements of the run
    delivered: int  # posted to Slack
    confirmed: int
    disputed: int
    no_slack_user: int  # insured in the year, with no Slack user on the roster: not sent

    @property
    def unanswered(self) -> int:
        return self.delivered - self.confirmed - self.disputed

    @property
    def waiting(self) -> int:
        """Queued, not posted yet (Slack's pace)."""
        return self.total - self.delivered


def statement_key(year: int, employee_id: int) -> str:
    return f"statement:{year}:{employee_id}"


def send_statements(
    sessions: Callable[[], AbstractContextManager[Session]],
    workplace: Workplace,
    *,
    year: int,
    actor: str,
    now: datetime,
) -> StatementCounts:
    """Queue ``year``'s statement to every employee insured in it who has a Slack user and
    was not sent one yet, with Looks right / Something's wrong; returns the counts.
    Administrators only; Refused ``statement_year_ahead`` for a year to come.

    ``sessions`` opens a unit of work: each chunk of people is queued in a short
    transaction of its own (a long one would hold SQLite's write lock for seconds), with
    the year's run locked, so that two runs at once queue each person once; one stopped
    halfway is finished by the next."""
    this_month = YearMonth.of(workplace.today(now))
    with sessions() as session:
        require_admin(session, actor)
        months = months_of(year, this_month)
        run_id = _run(session, year, actor, now).id
        ids = ledger.insured_ids(session, months)
        paid, assumed = _paid_months(session, months), _assumed(workplace, months)
    queued = no_slack = 0
    for start in range(0, len(ids), ledger.CHUNK):
        chunk = ids[start : start + ledger.CHUNK]
        with sessions() as session:
            run = session.scalars(
                select(StatementRun).where(StatementRun.id == run_id).with_for_update()
            ).one()
            done = set(
                session.scalars(
                    select(Statement.employee_id).where(
                        Statement.run_id == run_id, Statement.employee_id.in_(chunk)
                    )
                )
            )
            todo = []
            for row, lines in ledger.lines_by_person(session, workplace, months, chunk):
                if not row.slack_user:
                    no_slack += 1
                elif row.id not in done:
                    todo.append((row, lines))
            queued += _queue(session, run, todo, paid, assumed, now, queued)
    with sessions() as session:
        return counts(session, year, queued=queued, no_slack_user=no_slack)


def _run(session: Session, year: int, actor: str, now: datetime) -> StatementRun:
    """The year's run, created once."""
    found = session.scalar(select(StatementRun).where(StatementRun.year == year))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            run = StatementRun(year=year, started_by=actor, started_at=now)
            session.add(run)
            session.flush()
        return run
    except IntegrityError:  # another run of the year started a moment ago
        return session.scalars(select(StatementRun).where(StatementRun.year == year)).one()


def _queue(
    session: Session,
    run: StatementRun,
    chunk: Sequence[tuple[Any, dict[YearMonth, LedgerLine]]],
    paid: set[str],
    assumed: set[str],
    now: datetime,
    before: int,
) -> int:
    if not chunk:
        return 0
    keys = {row.id: statement_key(run.year, row.id) for row, _ in chunk}
    insert_rows(
        session,
        Statement.__table__,
        [
            {
                "run_id": run.id,
                "employee_id": row.id,
                "slack_user": row.slack_user,
                "state": SENT,
                "outbox_key": keys[row.id],
                "answered_at": None,
                "request_public_id": None,
            }
            for row, _ in chunk
        ],
    )
    texts: dict[int, list[list[str]]] = {}
    messages = [
        Outgoing(
            key=keys[row.id],
            notice=NOTICE,
            to=Recipient.person(row.slack_user),
            params={
                **statement_params(run.year, row.full_name, lines, paid, assumed, texts),
                "statement": f"{run.year}:{row.id}",
            },
        )
        for row, lines in chunk
    ]
    return enqueue_many(session, messages, now=now, start=now + FAN_OUT_SPACING * before)


def counts(session: Session, year: int, *, queued: int = 0, no_slack_user: int = 0) -> StatementCounts:
    """How the year's statements stand (from the database, whatever their number)."""
    run_id = session.scalar(select(StatementRun.id).where(StatementRun.year == year))
    by_state = dict(
        session.execute(
            select(Statement.state, func.count()).where(Statement.run_id == run_id).group_by(Statement.state)
        ).all()
    )
    delivered = session.scalar(
        select(func.count())
        .select_from(Statement)
        .join(OutboxMessage, OutboxMessage.key == Statement.outbox_key)
        .where(Statement.run_id == run_id, OutboxMessage.sent_at.is_not(None))
    )
    return StatementCounts(
        year=year,
        queued=queued,
        total=sum(by_state.values()),
        delivered=delivered or 0,
        confirmed=by_state.get(CONFIRMED, 0),
        disputed=by_state.get(DISPUTED, 0),
        no_slack_user=no_slack_user,
    )


# --- the person's answer ----------------------------------------------------------------------------


def _own(session: Session, reference: str, actor: str) -> Statement:
    """The statement ``year:employee_id`` if it is ``actor``'s: Refused otherwise."""
    year, _, employee_id = reference.partition(":")
    found = session.scalar(
        select(Statement)
        .join(StatementRun, StatementRun.id == Statement.run_id)
        .where(StatementRun.year == int(year), Statement.employee_id == int(employee_id))
    )
    if found is None or found.slack_user != actor:
        raise Refused("statement_not_found")
    return found


def _answer(session: Session, found: Statement, state: str, now: datetime, **values: Any) -> None:
    def refused() -> Refused:
        return Refused("statement_answered", state=found.state, public_id=found.request_public_id or "")

    answer_once(session, found, Statement.state, sent=SENT, answer=state, now=now, refused=refused, **values)


def confirm(session: Session, *, reference: str, actor: str, now: datetime) -> dict[str, Any]:
    """Looks right: the person confirms their statement. Returns the statement's values
    to redraw it. Refused for anyone but the person, and once it was answered."""
    found = _own(session, reference, actor)
    _answer(session, found, CONFIRMED, now)
    return answered_params(session, found)


def dispute_form(session: Session, *, reference: str, actor: str) -> dict[str, str]:
    """Something's wrong: the correction form, filled in with who and the year's months.
    Refused as :func:`confirm` says."""
    found = _own(session, reference, actor)
    if found.state != SENT:
        raise Refused("statement_answered", state=found.state, public_id=found.request_public_id or "")
    person = session.get(Employee, found.employee_id)
    params = session.scalar(select(OutboxMessage.params).where(OutboxMessage.key == found.outbox_key)) or {}
    months = [m["month"] for m in params.get("months", [])]
    return {
        "full_name": person.full_name if person else "",
        "resident_id": person.resident_id if person else "",
        "month_from": months[0] if months else "",
        "month_to": months[-1] if len(months) > 1 else "",
    }


def dispute(
    session: Session,
    workplace: Workplace,
    *,
    reference: str,
    raw: dict[str, Any],
    actor: str,
    submission_key: str | None,
    now: datetime,
) -> str:
    """Something's wrong, filled in: a contribution record correction request filed by
    the person (the administrators handle it like the others), and the statement marked
    disputed. Returns the request's id. ``FieldErrors`` as for any request; Refused as
    :func:`confirm` says."""
    found = _own(session, reference, actor)
    public_id = file_correction(
        session, workplace, raw=raw, actor=actor, submission_key=submission_key, now=now
    )
    if found.request_public_id == public_id:
        return public_id  # the same submission again
    _answer(session, found, DISPUTED, now, request_public_id=public_id)
    return public_id


def answered_params(session: Session, found: Statement) -> dict[str, Any]:
    """The statement as sent, with its answer: to redraw the message."""
    params = session.scalar(select(OutboxMessage.params).where(OutboxMessage.key == found.outbox_key)) or {}
    return {**params, "answer": found.state, "request": found.request_public_id}
