"""Use cases for requests: submit, move through states, look up. No Slack in here.

Every change is one transaction: the request row, its audit event and the messages that
report it (outbox) are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.procedures import PROCEDURE_KINDS, parse_procedure
from bot.domain.requests import (
    ADMIN_ACTIONS,
    Action,
    Form,
    Kind,
    State,
    next_state,
    parse_change,
    parse_complaint,
    parse_payback,
    to_payload,
)
from bot.services.outbox import enqueue
from bot.services.roles import may_file_for_others
from bot.services.workplace import Workplace
from bot.storage.models import Request, RequestCounter, RequestEvent

PUBLIC_ID_PREFIX = "SI"


@dataclass(frozen=True)
class Submitted:
    request: Request
    created: bool  # False: this submission had already been recorded (a retry or double click)


def _next_public_id(session: Session, year: int) -> str:
    if session.get(RequestCounter, year) is None:
        try:
            with session.begin_nested():
                session.add(RequestCounter(year=year, last=0))
        except IntegrityError:
            pass  # another transaction created this year's counter a moment ago: use it
    # The UPDATE takes the row lock, so concurrent submissions get consecutive numbers.
    session.execute(
        update(RequestCounter).where(RequestCounter.year == year).values(last=RequestCounter.last + 1)
    )
    number = session.scalar(select(RequestCounter.last).where(RequestCounter.year == year))
    return f"{PUBLIC_ID_PREFIX}-{year}-{number:04d}"


def submit_request(
    session: Session,
    workplace: Workplace,
    *,
    kind: Kind,
    actor: str,
    subject: str,
    form: Form,
    submission_key: str | None,
    now: datetime,
) -> Submitted:
    """Record a validated request, its first audit event, and the notices to the
    administrators and to the requester. A second call with the same ``submission_key``
    records nothing and returns the first request."""
    if submission_key:
        existing = session.scalar(select(Request).where(Request.submission_key == submission_key))
        if existing is not None:
            return Submitted(existing, created=False)
    try:
        with session.begin_nested():
            request = Request(
                public_id=_next_public_id(session, workplace.today(now).year),
                kind=kind.value,
                state=State.SUBMITTED.value,
                requester_id=actor,
                subject_id=subject,
                payload=to_payload(form),
                created_at=now,
                updated_at=now,
                submission_key=submission_key,
            )
            session.add(request)
            session.flush()
    except IntegrityError:
        existing = session.scalar(select(Request).where(Request.submission_key == submission_key))
        if existing is None:
            raise
        return Submitted(existing, created=False)
    session.add(
        RequestEvent(
            request_id=request.id,
            at=now,
            actor_id=actor,
            action="submit",
            from_state=None,
            to_state=State.SUBMITTED.value,
            reason="",
        )
    )
    # Complaints are confidential: to each administrator privately, never to a channel.
    for target_kind, target in workplace.admin_targets(confidential=kind is Kind.COMPLAINT):
        enqueue(
            session,
            key=f"{request.public_id}:new:{target}",
            notice="request_card",
            target_kind=target_kind,
            target=target,
            request_id=request.id,
            track=True,
            now=now,
        )
    enqueue(
        session,
        key=f"{request.public_id}:received",
        notice="request_received",
        target_kind="user",
        target=actor,
        request_id=request.id,
        now=now,
    )
    session.flush()
    session.refresh(request)
    return Submitted(request, created=True)


def find_request(session: Session, public_id: str) -> Request:
    request = session.scalar(select(Request).where(Request.public_id == public_id.strip().upper()))
    if request is None:
        raise Refused("request_not_found", public_id=public_id)
    return request


def visible_request(session: Session, workplace: Workplace, *, public_id: str, viewer: str) -> Request:
    """The request, if ``viewer`` may see it: its requester, the person it concerns (not
    for complaints) or an administrator. Others are told it does not exist."""
    request = find_request(session, public_id)
    if workplace.is_admin(viewer) or request.requester_id == viewer:
        return request
    if request.subject_id == viewer and request.kind != Kind.COMPLAINT:
        return request
    raise Refused("request_not_found", public_id=public_id)


def act_on_request(
    session: Session,
    workplace: Workplace,
    *,
    public_id: str,
    action: Action,
    actor: str,
    now: datetime,
    reason: str = "",
) -> Request:
    """Move a request to its next state. Administrators approve, reject (with a reason)
    and mark done; the requester cancels while it is still submitted. Refused when the
    actor may not, or when the request is no longer in a state the action applies to
    (so two administrators pressing Approve at once produce one approval)."""
    request = find_request(session, public_id)
    if action in ADMIN_ACTIONS and not workplace.is_admin(actor):
        raise Refused("admins_only")
    if action is Action.CANCEL and request.requester_id != actor:
        raise Refused("only_requester_cancels", public_id=request.public_id)
    if action is Action.REJECT and not reason.strip():
        raise Refused("reason_required")
    current = State(request.state)
    target = next_state(current, action)
    moved = session.execute(
        update(Request)
        .where(Request.id == request.id, Request.state == current.value)
        .values(state=target.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        session.refresh(request)
        raise Refused("already_moved", public_id=request.public_id, state=request.state)
    event = RequestEvent(
        request_id=request.id,
        at=now,
        actor_id=actor,
        action=action.value,
        from_state=current.value,
        to_state=target.value,
        reason=reason.strip(),
    )
    session.add(event)
    session.flush()
    enqueue(
        session,
        key=f"{request.public_id}:cards:{event.id}",
        notice="request_card",
        target_kind="request_cards",
        target=request.public_id,
        request_id=request.id,
        now=now,
    )
    if actor != request.requester_id:
        enqueue(
            session,
            key=f"{request.public_id}:state:{event.id}",
            notice="request_state_changed",
            target_kind="user",
            target=request.requester_id,
            request_id=request.id,
            params={"event_id": event.id},
            now=now,
        )
    session.refresh(request)
    return request


def own_requests(session: Session, user_id: str, limit: int = 20) -> list[Request]:
    """The user's own requests, newest first."""
    query = (
        select(Request)
        .where(Request.requester_id == user_id)
        .order_by(Request.created_at.desc(), Request.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def all_requests(
    session: Session,
    workplace: Workplace,
    *,
    viewer: str,
    kind: Kind | None = None,
    state: State | None = None,
    limit: int = 30,
) -> tuple[list[Request], int]:
    """Requests of everyone (administrators only), newest first, and how many match."""
    if not workplace.is_admin(viewer):
        raise Refused("admins_only")
    query = select(Request)
    if kind:
        query = query.where(Request.kind == kind.value)
    if state:
        query = query.where(Request.state == state.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Request.created_at.desc(), Request.id.desc()).limit(limit))
    return list(rows), total


def file_request(
    session: Session,
    workplace: Workplace,
    *,
    kind: Kind,
    actor: str,
    raw: dict[str, str],
    submission_key: str | None,
    now: datetime,
) -> Submitted:
    """Validate a filled-in form of ``kind`` and record it. FieldErrors names every field
    to fix; nothing is saved then. Employees may report changes only for themselves."""
    today = workplace.today(now)
    form: Form
    if kind is Kind.CHANGE:
        form = parse_change(
            raw,
            actor=actor,
            actor_may_file_for_others=may_file_for_others(session, workplace, actor),
            today=today,
            policy=workplace.policy,
        )
        subject = form.person
    elif kind is Kind.PAYBACK:
        form = parse_payback(raw, today=today, policy=workplace.policy)
        subject = actor
    elif kind in PROCEDURE_KINDS:  # cards, transfers, retirement... (bot/domain/procedures.py)
        form, subject = parse_procedure(
            kind,
            raw,
            actor=actor,
            may_file_for_others=kind is Kind.SETTLEMENT and may_file_for_others(session, workplace, actor),
            today=today,
        )
    else:
        form = parse_complaint(raw, today=today)
        subject = actor
    return submit_request(
        session,
        workplace,
        kind=kind,
        actor=actor,
        subject=subject,
        form=form,
        submission_key=submission_key,
        now=now,
    )
