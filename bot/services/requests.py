"""Use cases for requests: file, move through states, look up. No Slack in here.

Every change is one transaction: the request row, its audit event and the messages that
report it (outbox) are committed together or not at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Select, bindparam, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bot.domain.errors import FieldErrors, Problem, Refused
from bot.domain.kinds import FiledForm, FormContext, parse_form, read_form, spec_for
from bot.domain.kinds.settlement import SettleReason
from bot.domain.requests import ADMIN_ACTIONS, Action, RequestKind, State, next_state
from bot.domain.workplace import Workplace
from bot.services import roles, roster
from bot.services.outbox import Recipient, enqueue
from bot.storage.glance import Glance
from bot.storage.models import Request, RequestCounter, RequestEvent, RequestMessage

PUBLIC_ID_PREFIX = "SI"
# A change the roster contradicts is shown on the field that would fix it.
_ROSTER_FIELDS = {
    "roster_already_enrolled": "change_type",
    "roster_not_enrolled": "resident_id",
    "roster_leaving_before_enrolment": "effective_month",
}


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


def file_request(
    session: Session,
    workplace: Workplace,
    *,
    kind: RequestKind,
    actor: str,
    raw: dict[str, Any],
    submission_key: str | None,
    now: datetime,
) -> Submitted:
    """Check a filled-in form of ``kind`` and record it, with its first audit event and
    the notices to the administrators (confidential kinds: each privately) and to the
    requester. ``FieldErrors`` names every field to fix; nothing is saved then. Employees
    file for themselves; HR staff and administrators may file some kinds for others. A
    second call with the same ``submission_key`` records nothing and returns the first
    request."""
    if submission_key:
        existing = session.scalar(select(Request).where(Request.submission_key == submission_key))
        if existing is not None:
            return Submitted(existing, created=False)
    spec = spec_for(kind)
    context = FormContext(
        actor=actor,
        may_file_for_others=spec.for_others and roles.may_file_for_others(session, actor),
        today=workplace.today(now),
        policy=workplace.policy,
    )
    filed = parse_form(kind, raw, context)
    _check_against_records(session, kind, filed)
    try:
        with session.begin_nested():
            request = Request(
                public_id=_next_public_id(session, workplace.today(now).year),
                kind=kind.value,
                state=State.SUBMITTED.value,
                requester_id=actor,
                subject_id=filed.subject,
                payload=filed.payload,
                effective_month=filed.effective_month,
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
    for recipient in roles.administrators(session, workplace, confidential=spec.confidential):
        enqueue(
            session,
            key=f"{request.public_id}:new:{recipient.id}",
            notice="request_card",
            to=recipient,
            request_id=request.id,
            track=True,
            now=now,
        )
    if filed.subject != actor and _subject_is_told(kind, filed.form):
        enqueue(
            session,
            key=f"{request.public_id}:for_you",
            notice="request_for_you",
            to=Recipient.person(filed.subject),
            request_id=request.id,
            now=now,
        )
    enqueue(
        session,
        key=f"{request.public_id}:received",
        notice="request_received",
        to=Recipient.person(actor),
        request_id=request.id,
        now=now,
    )
    session.flush()
    session.refresh(request)
    return Submitted(request, created=True)


def _subject_is_told(kind: RequestKind, form: Any) -> bool:
    """The insured person hears of a request someone else filed for them, unless it
    reports their death."""
    return not (kind is RequestKind.SETTLEMENT and form.settle_reason is SettleReason.DEATH)


def _check_against_records(session: Session, kind: RequestKind, filed: FiledForm) -> None:
    """What the unit's records say against a request: an insured change the roster
    contradicts (an addition of someone enrolled, a removal of someone who is not),
    shown on the field that would fix it."""
    if kind is not RequestKind.CHANGE:
        return
    try:
        roster.check_change(session, filed.form)
    except Refused as exc:
        raise FieldErrors({_ROSTER_FIELDS[exc.code]: Problem(exc.code, exc.params)}) from None


def _done(session: Session, request: Request, *, actor: str, now: datetime) -> None:
    """What a request marked done changes in the unit's records: an insured change
    enrols, ends or corrects the person on the roster; a retirement retires them."""
    if request.kind == RequestKind.CHANGE:
        form = read_form(request.kind, request.payload)
        roster.apply_done_change(session, change=form, public_id=request.public_id, actor=actor, now=now)
    elif request.kind == RequestKind.RETIREMENT:
        form = read_form(request.kind, request.payload)
        roster.retire_from_request(
            session, form=form, subject=request.subject_id, public_id=request.public_id, actor=actor, now=now
        )


def _normal_id(public_id: str) -> str:
    return public_id.strip().upper()


def find_request(session: Session, public_id: str) -> Request:
    request = session.scalar(select(Request).where(Request.public_id == _normal_id(public_id)))
    if request is None:
        raise Refused("request_not_found", public_id=public_id)
    return request


def may_see(session: Session, request: Request | RequestHead, viewer: str) -> bool:
    """Its requester, the person it concerns (not for confidential kinds) and the
    administrators may see a request."""
    return _may_see(request, viewer, lambda: roles.is_admin(session, viewer))


def _may_see(request: Request | RequestHead, viewer: str, viewer_is_admin: Callable[[], bool]) -> bool:
    if request.requester_id == viewer:
        return True
    if request.subject_id == viewer and not spec_for(request.kind).confidential:
        return True
    return viewer_is_admin()


def visible_request(session: Session, *, public_id: str, viewer: str) -> Request:
    """The request, if ``viewer`` may see it; to anyone else it does not exist."""
    request = find_request(session, public_id)
    if not may_see(session, request, viewer):
        raise Refused("request_not_found", public_id=public_id)
    return request


def check_action(
    glance: Glance, *, public_id: str, action: Action, actor: str, reason: str = "", tz: tzinfo = UTC
) -> None:
    """Refused as :func:`act_on_request` would refuse, from one read outside any unit of
    work: a press on a card someone already acted on is answered without waiting for the
    write lock (SQLite has one writer at a time), and without a session. The move itself
    checks again: this is only the early answer, so it reads what deciding needs — the
    request's columns, whether the presser is an administrator, its last event — in one
    statement (bot/storage/glance.py)."""
    found = glance.rows(_PRESS, {"public_id": _normal_id(public_id), "actor": actor})
    if not found:
        raise Refused("request_not_found", public_id=public_id)
    row = found[0]
    head = RequestHead(**{name: row[name] for name in RequestHead.__dataclass_fields__})
    last = LastEvent(action=row["last_action"], actor_id=row["last_actor"], at=row["last_at"])
    _allowed_move(
        head,
        action=action,
        actor=actor,
        reason=reason,
        tz=tz,
        actor_is_admin=lambda: bool(row["actor_is_admin"]),
        last_event=lambda: last,
    )


@dataclass(frozen=True)
class RequestHead:
    """What deciding whether a move is allowed reads of a request (a ``Request`` has them too)."""

    id: int
    public_id: str
    kind: str
    state: str
    requester_id: str
    subject_id: str | None


@dataclass(frozen=True)
class LastEvent:
    """Who last moved a request, how and when: what "already approved by @x at 10:02" says."""

    action: str
    actor_id: str
    at: datetime


def _newest_first(events: Any) -> tuple[Any, Any]:
    """The order of a request's events, its last first (the same moment: the later row)."""
    return events.at.desc(), events.id.desc()


_EARLIER = aliased(RequestEvent)
# The id of a request's last event, for the request of the statement it is in.
_LAST_EVENT_ID = (
    select(_EARLIER.id)
    .where(_EARLIER.request_id == Request.id)
    .order_by(*_newest_first(_EARLIER))
    .limit(1)
    .scalar_subquery()
)

# A press's read (check_action): the request's head, whether the presser is an
# administrator now, and its last event.
_PRESS = (
    select(
        Request.id,
        Request.public_id,
        Request.kind,
        Request.state,
        Request.requester_id,
        Request.subject_id,
        roles.admin_now(bindparam("actor")).label("actor_is_admin"),
        RequestEvent.action.label("last_action"),
        RequestEvent.actor_id.label("last_actor"),
        RequestEvent.at.label("last_at"),
    )
    .outerjoin(RequestEvent, RequestEvent.id == _LAST_EVENT_ID)
    .where(Request.public_id == bindparam("public_id"))
)


def _allowed_move(
    request: Request | RequestHead,
    *,
    action: Action,
    actor: str,
    reason: str,
    tz: tzinfo,
    actor_is_admin: Callable[[], bool],
    last_event: Callable[[], LastEvent],
) -> tuple[State, State]:
    """The request's state and the state ``action`` takes it to, or the refusal. What it
    may need to read is asked of the callers' functions, only when needed."""
    if action in ADMIN_ACTIONS:
        roles.require(actor_is_admin())
    if action is Action.CANCEL and request.requester_id != actor:
        if not _may_see(request, actor, actor_is_admin):
            raise Refused("request_not_found", public_id=request.public_id)
        raise Refused("only_requester_cancels", public_id=request.public_id)
    if action is Action.REJECT and not reason.strip():
        raise Refused("reason_required")
    current = State(request.state)
    try:
        target = next_state(current, action)
    except Refused as refused:
        if current is State.SUBMITTED:  # nobody acted on it yet: the move itself is wrong
            raise Refused(refused.code, kind=request.kind, **refused.params) from None  # its words
        raise _already_moved(request, last_event(), tz) from None
    return current, target


def act_on_request(
    session: Session,
    *,
    public_id: str,
    action: Action,
    actor: str,
    now: datetime,
    reason: str = "",
    tz: tzinfo = UTC,
) -> Request:
    """Move a request to its next state. Administrators approve, reject (with a reason)
    and mark done; the requester cancels while it is still submitted. Refused when the
    actor may not (someone who may not see the request is told it does not exist), or
    when the request is no longer in a state the action applies to (so two
    administrators pressing Approve at once produce one approval). A request marked done
    updates the unit's records (the roster), or is refused as they say."""
    request = find_request(session, public_id)
    current, target = _allowed_move(
        request,
        action=action,
        actor=actor,
        reason=reason,
        tz=tz,
        actor_is_admin=lambda: roles.is_admin(session, actor),
        last_event=lambda: _last_event(session, request.id),
    )
    if target is State.DONE:
        _done(session, request, actor=actor, now=now)  # refused like the move, before it
    moved = session.execute(
        update(Request)
        .where(Request.id == request.id, Request.state == current.value)
        .values(state=target.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        session.refresh(request)
        raise _already_moved(request, _last_event(session, request.id), tz)
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
        to=Recipient.cards_of(request.public_id),
        request_id=request.id,
        now=now,
    )
    if actor != request.requester_id:
        enqueue(
            session,
            key=f"{request.public_id}:state:{event.id}",
            notice="request_state_changed",
            to=Recipient.person(request.requester_id),
            request_id=request.id,
            params={"event_id": event.id},
            now=now,
        )
    session.refresh(request)
    return request


COUNTED_UP_TO = 1000  # /si admin list says "more than 1,000" beyond this
MAX_MESSAGE = 2000  # a message to the administrators (the form's max_length)


def message_administrators(
    session: Session,
    workplace: Workplace,
    *,
    public_id: str,
    actor: str,
    text: str,
    submission_key: str,
    now: datetime,
) -> Request:
    """The person a request concerns writes to the administrators about it (from a
    rejection's "contact the administrator"): each administrator gets it privately, as it
    may tell something personal. Refused for someone who may not see the request; the same
    ``submission_key`` (a double submission) sends nothing more."""
    request = visible_request(session, public_id=public_id, viewer=actor)
    text = text.strip()
    if not text:
        raise FieldErrors({"message": Problem("required")})
    if len(text) > MAX_MESSAGE:
        raise FieldErrors({"message": Problem("too_long", {"limit": MAX_MESSAGE})})
    for recipient in roles.administrators(session, workplace, confidential=True):
        enqueue(
            session,
            key=f"{request.public_id}:message:{submission_key}:{recipient.id}",
            notice="request_message",
            to=recipient,
            request_id=request.id,
            params={"author": actor, "message": text},
            now=now,
        )
    return request


def _already_moved(request: Request | RequestHead, last: LastEvent, tz: tzinfo) -> Refused:
    """Someone acted on the request first: who, what and when ("SI-… was already approved
    by @x at 10:02")."""
    return Refused(
        "already_moved",
        public_id=request.public_id,
        kind=request.kind,
        state=request.state,
        action=last.action,
        actor=last.actor_id,
        at=last.at.astimezone(tz).strftime("%H:%M"),
    )


def _last_event(session: Session, request_id: int) -> LastEvent:
    row = session.execute(_LAST_EVENT, {"request_id": request_id}).one()
    return LastEvent(action=row.action, actor_id=row.actor_id, at=row.at)


_LAST_EVENT = (
    select(RequestEvent.action, RequestEvent.actor_id, RequestEvent.at)
    .where(RequestEvent.request_id == bindparam("request_id"))
    .order_by(*_newest_first(RequestEvent))
    .limit(1)
)


def own_requests(session: Session, user_id: str, limit: int = 20) -> list[Request]:
    """The user's own requests, newest first."""
    query = (
        select(Request)
        .where(Request.requester_id == user_id)
        .order_by(Request.created_at.desc(), Request.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# --- lists, a page at a time ------------------------------------------------------------------

PAGE_SIZE = 10


@dataclass(frozen=True)
class ListFilter:
    """Which list: the viewer's own requests (``mine``) or everyone's (administrators),
    of one kind and one state or of all."""

    mine: bool
    kind: RequestKind | None = None
    state: State | None = None


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: after (``older``) or before the request filed at ``created_at``
    with ``id``; lists are newest first, ordered by (created_at, id)."""

    created_at: datetime
    id: int
    older: bool


@dataclass(frozen=True)
class ListRow:
    """What a list shows of a request: read by its columns alone (no form, no history)."""

    id: int
    public_id: str
    kind: str
    state: str
    requester_id: str
    created_at: datetime


@dataclass(frozen=True)
class Page:
    rows: list[ListRow]
    total: int  # how many match, counted up to COUNTED_UP_TO
    newer: Keyset | None  # the previous page, None on the first
    older: Keyset | None  # the next page, None on the last
    cards: dict[int, RequestMessage]  # request id -> its card in the administrators' channel


_LIST_COLUMNS = (
    Request.id,
    Request.public_id,
    Request.kind,
    Request.state,
    Request.requester_id,
    Request.created_at,
)


@functools.cache
def _list_statements(mine: bool, kind: bool, state: bool, direction: str) -> tuple[Select, Select]:
    """A list's page and count statements for one shape of filter and keyset (``top``,
    ``older``, ``newer``), with bound parameters: built and compiled once, not per view."""
    query = select(*_LIST_COLUMNS)
    if mine:
        query = query.where(Request.requester_id == bindparam("viewer"))
    if kind:
        query = query.where(Request.kind == bindparam("kind"))
    if state:
        query = query.where(Request.state == bindparam("state"))
    counted = query.with_only_columns(Request.id).limit(COUNTED_UP_TO + 1).subquery()
    count = select(func.count().label("total")).select_from(counted)
    order = (Request.created_at, Request.id)
    mark = tuple_(bindparam("at", type_=Request.created_at.type), bindparam("id"))
    if direction == "older":
        query = query.where(tuple_(*order) < mark)
    elif direction == "newer":
        query = query.where(tuple_(*order) > mark)
    newest_first = direction != "newer"
    query = query.order_by(*(c.desc() for c in order) if newest_first else order)
    return query.limit(bindparam("size")), count


Rows = Callable[[Select, dict[str, Any]], list[Any]]


def request_page(
    session: Session,
    *,
    viewer: str,
    which: ListFilter,
    start: Keyset | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of a list, newest first: from the top, or from ``start`` (a keyset: the page
    reads its rows by index and no more, however long the history). Everyone's requests are
    for administrators only, with their cards' links."""
    if not which.mine:
        roles.require_admin(session, viewer)

    def rows(statement: Select, params: dict[str, Any]) -> list[Any]:
        # Plain rows of columns, without the ORM's execution (no objects to build).
        return [row._mapping for row in session.connection().execute(statement, params)]

    page = _page(rows, viewer=viewer, which=which, start=start, size=size)
    if page.rows and not which.mine:
        found = session.scalars(
            select(RequestMessage).where(
                RequestMessage.request_id.in_([r.id for r in page.rows]), RequestMessage.audience == "shared"
            )
        )
        page = replace(page, cards={card.request_id: card for card in found})
    return page


def own_first_page(glance: Glance, *, viewer: str, which: ListFilter) -> Page:
    """The first page of ``viewer``'s own requests, read outside a unit of work (``/si
    status``'s ack: one statement, no session, bot/storage/glance.py). Everyone's requests
    are read by ``request_page``, in a unit of work that checks the viewer first."""
    if not which.mine:
        raise ValueError("own_first_page reads one's own requests only")
    return _page(glance.rows, viewer=viewer, which=which, start=None, size=PAGE_SIZE)


def _page(rows: Rows, *, viewer: str, which: ListFilter, start: Keyset | None, size: int) -> Page:
    """A page's rows, newer and older keysets, and the total: a first page that holds them
    all is its own count; only a longer list is counted (up to COUNTED_UP_TO)."""
    direction = "top" if start is None else "older" if start.older else "newer"
    page_query, count_query = _list_statements(which.mine, bool(which.kind), bool(which.state), direction)
    params: dict[str, Any] = {
        "viewer": viewer,
        "kind": which.kind.value if which.kind else None,
        "state": which.state.value if which.state else None,
    }
    where = {"at": start.created_at, "id": start.id} if start is not None else {}
    found = [ListRow(**row) for row in rows(page_query, {**params, **where, "size": size + 1})]
    more = len(found) > size
    newest_first = direction != "newer"
    found = found[:size] if newest_first else found[:size][::-1]
    newer_exists, older_exists = (start is not None, more) if newest_first else (more, True)
    total = len(found) if start is None and not more else rows(count_query, params)[0]["total"]
    return Page(
        rows=found,
        total=total,
        newer=Keyset(found[0].created_at, found[0].id, older=False) if found and newer_exists else None,
        older=Keyset(found[-1].created_at, found[-1].id, older=True) if found and older_exists else None,
        cards={},
    )
