"""The insured roster: importing it from the HR system's file, keeping it current from
the requests that are marked done, and looking people up. No Slack in here.

An import is all or nothing: every row is checked first (bot/domain/roster.py, then
against the database), and only a file without a single rejection writes anything — in
bulk, one statement per table, so ten thousand people take seconds. The same file
imported again finds every row unchanged, writes nothing, and says so. Every change to a
person's record is a row of ``employee_changes``: who, when, what, and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from bot.domain import resident_id
from bot.domain.errors import Refused
from bot.domain.kinds.change import ChangeType, Hukou, InsuredChange
from bot.domain.kinds.retirement import RetirementRequest
from bot.domain.months import YearMonth
from bot.domain.roster import (
    Checked,
    EmployeeStatus,
    FileKind,
    ImportOutcome,
    Rejection,
    RosterEntry,
    ValueProblem,
    check_roster,
    parse_slack_user,
    retirement_day,
)
from bot.domain.tables import Row
from bot.domain.workplace import Workplace
from bot.services import roles
from bot.services.file_import import run_import
from bot.services.roles import is_admin, require_admin
from bot.storage.bulk import insert_rows
from bot.storage.models import Employee, EmployeeChange, Request

# The fields of a record an import compares and sets, in the order history shows them.
FIELDS = (
    "full_name",
    "slack_user",
    "hukou",
    "enrolled_from",
    "leaving_month",
    "contribution_base",
    "status",
    "retired_on",
)
_PUBLIC_ID = re.compile(r"^SI-\d{4}-\d{4,}$", re.IGNORECASE)


@dataclass(frozen=True)
class EmployeeView:
    """A person's roster record. The resident ID is whole: whoever shows it masks it for
    any audience other than the administrators and the person (``masked_id``)."""

    id: int
    full_name: str
    resident_id: str
    slack_user: str | None
    hukou: Hukou
    enrolled_from: YearMonth
    leaving_month: YearMonth | None
    contribution_base: Decimal | None
    status: EmployeeStatus
    retired_on: date | None

    @property
    def masked_id(self) -> str:
        return resident_id.mask(self.resident_id)


@dataclass(frozen=True)
class ChangeView:
    at: datetime
    actor: str
    action: str  # created | updated | enrolled | left | retired
    changes: dict[str, list[Any]]  # field -> [before, after], as text
    source: str  # import | request
    reference: str  # the file's name or the request's id
    reason: str


def view(employee: Employee) -> EmployeeView:
    return EmployeeView(
        id=employee.id,
        full_name=employee.full_name,
        resident_id=employee.resident_id,
        slack_user=employee.slack_user,
        hukou=Hukou(employee.hukou),
        enrolled_from=YearMonth.parse(employee.enrolled_from),
        leaving_month=YearMonth.parse(employee.leaving_month) if employee.leaving_month else None,
        contribution_base=employee.contribution_base,
        status=EmployeeStatus(employee.status),
        retired_on=employee.retired_on,
    )


def latest_month(workplace: Workplace, now: datetime) -> YearMonth:
    """The latest enrolment or leaving month a roster may hold: as far ahead as a change
    may be filed (the policy's ``change_max_months_ahead``)."""
    return YearMonth.of(workplace.today(now)).plus(workplace.policy.change_max_months_ahead)


# --- import -------------------------------------------------------------------------------


def import_roster(
    session: Session,
    workplace: Workplace,
    *,
    actor: str,
    file_name: str,
    content: bytes,
    now: datetime,
    rows: Sequence[Row] | None = None,
) -> ImportOutcome:
    """Import a roster file (.csv or .xlsx; ``rows`` when already read). All or nothing:
    when any row is rejected (a rule of bot/domain/roster.py, or a Slack user that is
    someone else's on the roster), nothing is written and the outcome lists every
    rejection; a file that cannot be read has a ``problem``. People in the file are added
    or brought up to date (their history says what changed, who imported it and from
    which file); people not in it are left as they are. Refused ``admins_only`` for anyone
    but an administrator or the CLI."""
    today, latest = workplace.today(now), latest_month(workplace, now)
    return run_import(
        session,
        workplace,
        kind=FileKind.ROSTER,
        check=lambda table: check_roster(table, today=today, latest_month=latest),
        plan=_RosterPlan,
        actor=actor,
        file_name=file_name,
        content=content,
        now=now,
        rows=rows,
    )


_COLUMNS = (Employee.id, Employee.resident_id, *(getattr(Employee, name) for name in FIELDS))


class _RosterPlan:
    """The roster as it is, what the file would change in it, and the writes."""

    def __init__(self, session: Session, checked: Checked[RosterEntry]):
        self.session = session
        existing = {row.resident_id: row for row in session.execute(select(*_COLUMNS))}
        self.rejections = _slack_users_taken(checked.entries, existing, checked.header.titles)
        self.new = [e for e in checked.entries if e.resident_id not in existing]
        self.changes: list[tuple[Any, RosterEntry, dict[str, list[Any]]]] = []
        for entry in checked.entries:
            before = existing.get(entry.resident_id)
            if before is not None:
                diff = _diff(_record(before), _values(entry, before))
                if diff:
                    self.changes.append((before, entry, diff))
        self.added, self.changed = len(self.new), len(self.changes)

    def write(self, *, batch_id: int, actor: str, now: datetime, reference: str) -> None:
        source = dict(actor=actor, now=now, source="import", reference=reference)
        # Slack users are unique: ones moving between people are let go first.
        moving = [before.id for before, _, diff in self.changes if "slack_user" in diff and before.slack_user]
        if moving:
            self.session.execute(update(Employee).where(Employee.id.in_(moving)).values(slack_user=None))
        if self.new:
            rows = [
                {**_values(e), "resident_id": e.resident_id, "created_at": now, "updated_at": now}
                for e in self.new
            ]
            insert_rows(self.session, Employee.__table__, rows)
            by_number = {e.resident_id: e for e in self.new}
            # COPY hands back no ids: the new people's are looked up, all in one query.
            inserted = self.session.execute(select(Employee.id, Employee.resident_id))
            empty = dict.fromkeys(FIELDS)
            history = [
                _history_row(employee_id, "created", _diff(empty, _values(by_number[number])), **source)
                for employee_id, number in inserted
                if number in by_number
            ]
            insert_rows(self.session, EmployeeChange.__table__, history)
        if self.changes:
            self.session.execute(
                update(Employee),
                [
                    {"id": before.id, **_values(entry, before), "updated_at": now}
                    for before, entry, _ in self.changes
                ],
            )
            history = [_history_row(before.id, "updated", diff, **source) for before, _, diff in self.changes]
            insert_rows(self.session, EmployeeChange.__table__, history)


def _record(row: Any) -> dict[str, Any]:
    """A stored record's fields as the import compares them."""
    return {name: getattr(row, name) for name in FIELDS}


def _values(entry: RosterEntry, before: Any | None = None) -> dict[str, Any]:
    """What a file's row sets. A Slack user or base the file leaves empty keeps the
    stored one: HR exports rarely know Slack, and the base changes once a year."""
    values = {
        "full_name": entry.full_name,
        "slack_user": entry.slack_user,
        "hukou": entry.hukou.value,
        "enrolled_from": str(entry.enrolled_from),
        "leaving_month": str(entry.leaving_month) if entry.leaving_month else None,
        "contribution_base": entry.contribution_base,
        "status": entry.status.value,
        "retired_on": entry.retired_on,
    }
    if before is not None:
        for name in ("slack_user", "contribution_base"):
            if values[name] is None:
                values[name] = getattr(before, name)
    return values


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """field -> [before, after] for every field that differs, as JSON-safe text."""
    return {name: [_text(before[name]), _text(after[name])] for name in FIELDS if before[name] != after[name]}


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _slack_users_taken(
    entries: list[RosterEntry], existing: dict[str, Any], titles: dict[str, str]
) -> list[Rejection]:
    """Rows that give someone a Slack user another person on the roster keeps (a Slack
    user the file moves away from its holder is free)."""
    in_file = {e.resident_id: e for e in entries}
    holders = {row.slack_user: row.resident_id for row in existing.values() if row.slack_user}
    moved_away = {
        row.slack_user
        for number, row in existing.items()
        if row.slack_user and number in in_file and in_file[number].slack_user not in (None, row.slack_user)
    }
    rejections = []
    for entry in entries:
        holder = holders.get(entry.slack_user or "")
        if holder and holder != entry.resident_id and entry.slack_user not in moved_away:
            rejections.append(
                Rejection(
                    entry.row,
                    "slack_user",
                    titles.get("slack_user", ""),
                    entry.slack_user or "",
                    "slack_user_taken",
                    {"holder": existing[holder].full_name},
                )
            )
    return rejections


def _history_row(
    employee_id: int,
    action: str,
    changes: dict[str, list[Any]],
    *,
    actor: str,
    now: datetime,
    source: str,
    reference: str,
    reason: str = "",
) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "at": now,
        "actor_id": actor,
        "action": action,
        "changes": changes,
        "source": source,
        "reference": reference,
        "reason": reason,
    }


# --- the request flow keeps the roster current ------------------------------------------------


def roster_is_kept(session: Session) -> bool:
    """Whether a roster was ever imported or started: until then the bot cannot know who
    is enrolled, and refuses nothing on that ground."""
    return session.scalar(select(Employee.id).limit(1)) is not None


def _person(session: Session, number: str, slack_user: str | None = None) -> Employee | None:
    """The person with this resident ID, or else with this Slack user."""
    found = session.scalar(select(Employee).where(Employee.resident_id == number))
    if found is None and slack_user:
        found = session.scalar(select(Employee).where(Employee.slack_user == slack_user))
    return found


def check_change(session: Session, change: InsuredChange) -> None:
    """Refuse an insured change the roster contradicts: an *add* for someone already
    enrolled (``roster_already_enrolled``), a *remove* for someone not enrolled
    (``roster_not_enrolled``; only once a roster is kept) or effective before their
    enrolment month (``roster_leaving_before_enrolment``). Updates are never refused."""
    if change.change_type is ChangeType.ADD:
        person = _person(session, change.resident_id)
        if person is not None and person.status == EmployeeStatus.ENROLLED.value:
            raise Refused("roster_already_enrolled", name=person.full_name, since=person.enrolled_from)
    elif change.change_type is ChangeType.REMOVE:
        person = _person(session, change.resident_id, change.person)
        if person is None or person.status != EmployeeStatus.ENROLLED.value:
            if person is not None or roster_is_kept(session):
                raise Refused("roster_not_enrolled", name=change.full_name)
            return
        if change.effective_month < YearMonth.parse(person.enrolled_from):
            raise Refused(
                "roster_leaving_before_enrolment",
                name=person.full_name,
                enrolled=person.enrolled_from,
                leaving=str(change.effective_month),
            )


def apply_done_change(
    session: Session, *, change: InsuredChange, public_id: str, actor: str, now: datetime
) -> EmployeeView | None:
    """Bring the roster up to date with an insured change marked done: an *add* enrols
    the person from its effective month (a new record, or a leaver or retiree enrolled
    again); a *remove* ends their enrolment at that month (the leaving month); an
    *update* corrects their name, resident ID, hukou type and base. The history names
    the request. Refused as :func:`check_change` says; None when there is nobody to
    update (an update or remove for someone not on a roster that is not kept)."""
    check_change(session, change)
    # A new hire is who their resident ID says; a leaver or a correction may be found by
    # their Slack user too (a correction may be of the ID itself).
    adding = change.change_type is ChangeType.ADD
    person = _person(session, change.resident_id, None if adding else change.person)
    reference = dict(actor=actor, now=now, source="request", reference=public_id)
    if adding:
        values = {
            "full_name": change.full_name,
            "hukou": change.hukou.value,
            "enrolled_from": str(change.effective_month),
            "leaving_month": None,
            "status": EmployeeStatus.ENROLLED.value,
            "retired_on": None,
        }
        if change.contribution_base is not None:
            values["contribution_base"] = change.contribution_base
        if session.scalar(select(Employee.id).where(Employee.slack_user == change.person)) is None:
            values["slack_user"] = change.person
        if person is None:
            person = Employee(resident_id=change.resident_id, created_at=now, updated_at=now, **values)
            session.add(person)
            session.flush()
            return _recorded(
                session, person, "created", _diff(dict.fromkeys(FIELDS), _record(person)), **reference
            )
        return _change(session, person, values, "enrolled", **reference)
    if person is None:
        return None
    if change.change_type is ChangeType.REMOVE:
        values = {"leaving_month": str(change.effective_month), "status": EmployeeStatus.LEFT.value}
        return _change(session, person, values, "left", **reference)
    values = {"full_name": change.full_name, "hukou": change.hukou.value}
    if change.contribution_base is not None:
        values["contribution_base"] = change.contribution_base
    if change.resident_id != person.resident_id and _person(session, change.resident_id) is None:
        values["resident_id"] = change.resident_id
    return _change(session, person, values, "updated", **reference)


def change_prefill(session: Session, *, viewer: str, person: str) -> dict[str, str]:
    """What the roster knows of ``person`` for an insured change's form (a removal or an
    update): their name, resident ID, hukou type and base. Only for the person themself
    and those who may file for others; nothing for anyone else or anyone not on it."""
    if viewer != person and not roles.may_file_for_others(session, viewer):
        return {}
    found = session.scalar(select(Employee).where(Employee.slack_user == person))
    if found is None:
        return {}
    values = {"full_name": found.full_name, "resident_id": found.resident_id, "hukou": found.hukou}
    if found.contribution_base is not None:
        values["contribution_base"] = f"{found.contribution_base:f}"
    return values


def retire_from_request(
    session: Session, *, form: RetirementRequest, subject: str, public_id: str, actor: str, now: datetime
) -> EmployeeView | None:
    """A retirement request marked done moves the person to *retired*, from the day
    :func:`bot.domain.roster.retirement_day` gives. The person is found by the resident
    ID on the request, or else by its subject's Slack user; None when not on the roster."""
    person = _person(session, form.resident_id, subject)
    if person is None:
        return None
    values = {"status": EmployeeStatus.RETIRED.value, "retired_on": retirement_day(form)}
    return _change(
        session, person, values, "retired", actor=actor, now=now, source="request", reference=public_id
    )


def _change(
    session: Session, person: Employee, values: dict[str, Any], action: str, **reference: Any
) -> EmployeeView:
    before = {**_record(person), "resident_id": person.resident_id}
    changes = {
        name: [_text(before[name]), _text(value)] for name, value in values.items() if before[name] != value
    }
    if not changes:
        return view(person)
    for name, value in values.items():
        setattr(person, name, value)
    person.updated_at = reference["now"]
    session.flush()
    return _recorded(session, person, action, changes, **reference)


def _recorded(
    session: Session, person: Employee, action: str, changes: dict[str, list[Any]], **reference: Any
) -> EmployeeView:
    session.execute(insert(EmployeeChange), [_history_row(person.id, action, changes, **reference)])
    return view(person)


# --- looking it up --------------------------------------------------------------------------


def look_up(session: Session, *, viewer: str, text: str, limit: int = 20) -> list[EmployeeView]:
    """Find people on the roster (administrators only) by Slack user (``@person``), by
    resident ID, by a request's id (``SI-2026-0042``: the person it concerns), or by
    name (the exact name first, else names that contain the text). Refused
    ``admins_only``; an empty list when nobody matches."""
    require_admin(session, viewer)
    text = text.strip()
    if not text:
        return []
    try:
        user = parse_slack_user(text)
    except ValueProblem:
        user = None
    found = _views(session.scalars(select(Employee).where(Employee.slack_user == user))) if user else []
    if found:
        return found  # else it may be a name that looks like a member id ("WANG")
    if _PUBLIC_ID.match(text):
        request = session.scalar(select(Request).where(Request.public_id == text.upper()))
        if request is None:
            raise Refused("request_not_found", public_id=text)
        number = request.payload.get("resident_id") or ""
        return _views(
            session.scalars(
                select(Employee).where(
                    (Employee.resident_id == number) | (Employee.slack_user == request.subject_id)
                )
            )
        )
    number = resident_id.normalise(text)
    if len(number) == 18:
        return _views(session.scalars(select(Employee).where(Employee.resident_id == number)))
    exact = _views(session.scalars(select(Employee).where(Employee.full_name == text).limit(limit)))
    if exact:
        return exact
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = select(Employee).where(Employee.full_name.ilike(pattern, escape="\\"))
    return _views(session.scalars(query.order_by(Employee.full_name).limit(limit)))


def employee_history(session: Session, *, viewer: str, employee_id: int) -> list[ChangeView]:
    """Every change to a person's record, oldest first: for the administrators and the
    person. Others are told there is no such record (``roster_not_found``)."""
    person = visible_employee(session, viewer=viewer, employee_id=employee_id)
    rows = session.scalars(
        select(EmployeeChange).where(EmployeeChange.employee_id == person.id).order_by(EmployeeChange.id)
    )
    return [ChangeView(r.at, r.actor_id, r.action, r.changes, r.source, r.reference, r.reason) for r in rows]


def visible_employee(session: Session, *, viewer: str, employee_id: int) -> Employee:
    """The record, if ``viewer`` may see it: an administrator or the person themself."""
    person = session.get(Employee, employee_id)
    if person is None or not (person.slack_user == viewer or is_admin(session, viewer)):
        raise Refused("roster_not_found")
    return person


def own_record(session: Session, user_id: str) -> EmployeeView | None:
    """The viewer's own roster record (found by their Slack user), or None."""
    person = session.scalar(select(Employee).where(Employee.slack_user == user_id))
    return view(person) if person else None


def retirees(session: Session, *, viewer: str) -> list[EmployeeView]:
    """The unit's retirees, by retirement date (administrators only): the unit still looks
    after them (duty 11). Refused ``admins_only``."""
    require_admin(session, viewer)
    query = (
        select(Employee)
        .where(Employee.status == EmployeeStatus.RETIRED.value)
        .order_by(Employee.retired_on, Employee.full_name)
    )
    return _views(session.scalars(query))


def roster_counts(session: Session) -> dict[EmployeeStatus, int]:
    """How many people are enrolled, left and retired (no personal data)."""
    counts = dict.fromkeys(EmployeeStatus, 0)
    for status, count in session.execute(select(Employee.status, func.count()).group_by(Employee.status)):
        counts[EmployeeStatus(status)] = count
    return counts


def _views(rows: Iterable[Employee]) -> list[EmployeeView]:
    return [view(row) for row in rows]
