"""The yearly contribution-base declaration (duty 6): every enrolled person's base for the
base year, computed from the roster's wages (bot/domain/bases.py), reviewed, overridden
where the administrator knows better (with the reason, kept), then locked. No Slack here.

A declaration is a row per base year (``draft`` until ``locked``) and a row per person.
``compute`` re-computes a draft from the wages as they are now: the overrides stay. The
people are gone through a chunk at a time (memory holds one chunk, whatever the size of
the company); every change is an event in ``declaration_events``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.bases import (
    Employment,
    Held,
    base_year_start,
    compute_base,
    is_outlier,
    monthly_cost,
    movement,
)
from bot.domain.errors import Refused
from bot.domain.fields import FormReader
from bot.domain.months import YearMonth
from bot.domain.policy import MonthFigures
from bot.domain.roster import EmployeeStatus
from bot.domain.workplace import Workplace
from bot.services.ledger import CHUNK, recorded_bases
from bot.services.roles import require_admin
from bot.storage.bulk import insert_rows
from bot.storage.models import BaseDeclaration, DeclarationEvent, DeclaredBase, Employee, WageRecord

DRAFT, LOCKED = "draft", "locked"
ZERO = Decimal("0.00")


def _figures(workplace: Workplace, start: YearMonth) -> tuple[MonthFigures, MonthFigures]:
    """The new base year's figures and those of the month before it (the old bases')."""
    return workplace.policy.period_for(start), workplace.policy.period_for(start.plus(-1))


def _declaration(session: Session, year: int, *, lock: bool = False) -> BaseDeclaration:
    query = select(BaseDeclaration).where(BaseDeclaration.year == year)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise Refused("bases_not_computed", year=year)
    return found


def _event(
    session: Session,
    declaration: BaseDeclaration,
    action: str,
    actor: str,
    now: datetime,
    employee_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        DeclarationEvent(
            declaration_id=declaration.id,
            employee_id=employee_id,
            at=now,
            actor_id=actor,
            action=action,
            detail=detail,
        )
    )


# --- compute ------------------------------------------------------------------------------------


def compute(session: Session, workplace: Workplace, *, year: int, actor: str, now: datetime) -> Review:
    """(Re-)compute the draft declaration of the base year starting in ``year`` for every
    enrolled person, from the wages recorded now; an override made before stays. Returns
    the review. Administrators and the command line only; Refused ``bases_no_period``
    when the policy has no base period starting in ``year``, ``bases_locked`` once the
    declaration is locked."""
    require_admin(session, actor)
    start = base_year_start(workplace.policy, year)
    declaration = _draft(session, year, start, actor, now)
    new, _ = _figures(workplace, start)
    kept = {
        row.employee_id: row
        for row in session.execute(
            select(
                DeclaredBase.employee_id,
                DeclaredBase.override,
                DeclaredBase.override_reason,
                DeclaredBase.override_by,
            ).where(DeclaredBase.declaration_id == declaration.id, DeclaredBase.override.is_not(None))
        )
    }
    session.execute(delete(DeclaredBase).where(DeclaredBase.declaration_id == declaration.id))
    ids = list(
        session.scalars(
            select(Employee.id).where(Employee.status == EmployeeStatus.ENROLLED.value).order_by(Employee.id)
        )
    )
    first_wage, last_wage = YearMonth(year - 1, 1), start.plus(12)
    for at in range(0, len(ids), CHUNK):
        chunk = ids[at : at + CHUNK]
        people = list(
            session.execute(
                select(
                    Employee.id,
                    Employee.slack_user,
                    Employee.enrolled_from,
                    Employee.leaving_month,
                    Employee.contribution_base,
                ).where(Employee.id.in_(chunk))
            )
        )
        wages: dict[int, dict[YearMonth, Decimal]] = {p.id: {} for p in people}
        for employee_id, month, wage in session.execute(
            select(WageRecord.employee_id, WageRecord.month, WageRecord.gross_wage).where(
                WageRecord.employee_id.in_(chunk),
                WageRecord.month.between(str(first_wage), str(last_wage)),
            )
        ):
            wages[employee_id][YearMonth.parse(month)] = wage
        previous = recorded_bases(session, start.plus(-1), people)
        rows = []
        for person in people:
            employment = Employment(
                YearMonth.parse(person.enrolled_from),
                YearMonth.parse(person.leaving_month) if person.leaving_month else None,
            )
            found = compute_base(employment, wages[person.id], start, new)
            override = kept.get(person.id)
            rows.append(
                {
                    "declaration_id": declaration.id,
                    "employee_id": person.id,
                    "rule": found.rule.value,
                    "averaged": [str(m) for m in found.averaged],
                    "missing": [str(m) for m in found.missing],
                    "average": None if found.average is None else found.average.quantize(Decimal("0.01")),
                    "computed": found.base,
                    "held": found.held.value,
                    "previous": previous[person.id].amount,
                    "override": override.override if override else None,
                    "override_reason": override.override_reason if override else "",
                    "override_by": override.override_by if override else None,
                    "publicity": None,
                    "slack_user": person.slack_user,
                    "outbox_key": None,
                    "answered_at": None,
                    "request_public_id": None,
                    "reminded_at": None,
                }
            )
        insert_rows(session, DeclaredBase.__table__, rows)
    declaration.computed_at, declaration.computed_by = now, actor
    _event(session, declaration, "computed", actor, now, people=len(ids))
    session.flush()
    return review(session, workplace, year=year, viewer=actor)


def _draft(session: Session, year: int, start: YearMonth, actor: str, now: datetime) -> BaseDeclaration:
    """The year's declaration, created as a draft the first time; locked for the
    re-computation. Refused ``bases_locked`` once it is declared."""
    found = session.scalar(select(BaseDeclaration).where(BaseDeclaration.year == year).with_for_update())
    if found is None:
        try:
            with session.begin_nested():
                found = BaseDeclaration(
                    year=year, start=str(start), state=DRAFT, computed_at=now, computed_by=actor
                )
                session.add(found)
                session.flush()
        except IntegrityError:  # another computation created it a moment ago
            found = _declaration(session, year, lock=True)
    if found.state == LOCKED:
        raise Refused("bases_locked", year=year)
    return found


# --- the review ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonLine:
    """One person's line as the review and the sheets show it (resident ID whole: for
    the administrators and their files only)."""

    employee_id: int
    full_name: str
    resident_id: str
    slack_user: str | None
    rule: str
    averaged: list[str]
    missing: list[str]
    computed: Decimal | None
    held: str
    previous: Decimal | None
    override: Decimal | None
    override_reason: str
    publicity: str | None

    @property
    def base(self) -> Decimal | None:
        return self.override if self.override is not None else self.computed

    @property
    def masked_id(self) -> str:
        return f"{self.resident_id[:4]}**********{self.resident_id[-4:]}"


@dataclass
class Review:
    """What the administrator checks before declaring."""

    year: int
    start: YearMonth
    state: str
    people: int = 0
    raised: int = 0
    lowered: int = 0
    same: int = 0
    new: int = 0
    floor: int = 0  # held to the floor
    ceiling: int = 0  # held to the ceiling
    overridden: int = 0
    employer_change: Decimal = ZERO  # monthly, all people: new bases less old
    employee_change: Decimal = ZERO
    missing: list[PersonLine] = field(default_factory=list)  # to resolve first
    outliers: list[PersonLine] = field(default_factory=list)
    outlier_percent: Decimal = Decimal(30)
    floor_amount: Decimal = ZERO
    ceiling_amount: Decimal = ZERO
    assumed: bool = False  # the new period's figures are not in the policy yet

    @property
    def ready(self) -> bool:
        """Everyone has a base and no one has a month to resolve."""
        return not self.missing


_LINE_COLUMNS = (
    DeclaredBase.employee_id,
    Employee.full_name,
    Employee.resident_id,
    DeclaredBase.slack_user,
    DeclaredBase.rule,
    DeclaredBase.averaged,
    DeclaredBase.missing,
    DeclaredBase.computed,
    DeclaredBase.held,
    DeclaredBase.previous,
    DeclaredBase.override,
    DeclaredBase.override_reason,
    DeclaredBase.publicity,
)


def lines(session: Session, declaration_id: int) -> Iterator[PersonLine]:
    """Every person of a declaration, by name, streamed (a chunk at a time in memory)."""
    query = (
        select(*_LINE_COLUMNS)
        .join(Employee, Employee.id == DeclaredBase.employee_id)
        .where(DeclaredBase.declaration_id == declaration_id)
        .order_by(Employee.full_name, Employee.resident_id)
        .execution_options(yield_per=CHUNK)
    )
    for row in session.execute(query):
        yield PersonLine(*row)


def _unresolved(line: PersonLine) -> bool:
    """Missing wage months not settled by an override, or no base at all."""
    return line.override is None and (bool(line.missing) or line.computed is None)


def review(session: Session, workplace: Workplace, *, year: int, viewer: str) -> Review:
    """The declaration's summary: raised, lowered, the same, new; held to the floor or the
    ceiling; the monthly cost change for the company and for the employees (new bases on
    the new period's rates, old bases on the month before's); who has wage months to
    resolve (first, not guessed); the outliers (moved by more than the policy's percent).
    Administrators only."""
    require_admin(session, viewer)
    declaration = _declaration(session, year)
    start = YearMonth.parse(declaration.start)
    new, old = _figures(workplace, start)
    percent = workplace.policy.base_outlier_percent
    found = Review(
        year,
        start,
        declaration.state,
        outlier_percent=percent,
        floor_amount=new.floor,
        ceiling_amount=new.ceiling,
        assumed=new.assumed,
    )
    new_costs: dict[Decimal | None, tuple[Decimal, Decimal]] = {}
    old_costs: dict[Decimal | None, tuple[Decimal, Decimal]] = {}
    for line in lines(session, declaration.id):
        found.people += 1
        if line.override is not None:
            found.overridden += 1
        if _unresolved(line):  # counted once resolved: listed first, not guessed
            found.missing.append(line)
            continue
        base = line.base
        assert base is not None  # resolved
        if line.override is None and line.held == Held.FLOOR:
            found.floor += 1
        elif line.override is None and line.held == Held.CEILING:
            found.ceiling += 1
        moved = movement(line.previous, base)
        setattr(found, moved.value, getattr(found, moved.value) + 1)
        if is_outlier(line.previous, base, percent):
            found.outliers.append(line)
        if base not in new_costs:
            new_costs[base] = monthly_cost(new, base)
        if line.previous not in old_costs:
            old_costs[line.previous] = monthly_cost(old, line.previous)
        found.employer_change += new_costs[base][0] - old_costs[line.previous][0]
        found.employee_change += new_costs[base][1] - old_costs[line.previous][1]
    return found


# --- override and lock --------------------------------------------------------------------------


def _person(session: Session, declaration: BaseDeclaration, person: str) -> DeclaredBase:
    """A person of the declaration by resident ID (as typed) or roster id."""
    person = person.strip().upper()
    query = select(DeclaredBase).join(Employee, Employee.id == DeclaredBase.employee_id)
    query = query.where(DeclaredBase.declaration_id == declaration.id)
    if person.isdigit() and len(person) < 15:
        query = query.where(Employee.id == int(person))
    else:
        query = query.where(Employee.resident_id == person)
    found = session.scalar(query.with_for_update())
    if found is None:
        raise Refused("bases_person_not_found", person=person)
    return found


def override(
    session: Session,
    workplace: Workplace,
    *,
    year: int,
    raw: dict[str, Any],
    actor: str,
    now: datetime,
) -> PersonLine:
    """Set one person's base by hand: ``raw`` holds ``person`` (resident ID or roster id),
    ``base`` (within the new period's floor and ceiling) and ``reason`` (required: it is
    kept with the declaration's events). ``FieldErrors`` for a wrong field; Refused
    ``bases_locked`` once declared."""
    require_admin(session, actor)
    declaration = _declaration(session, year, lock=True)
    if declaration.state == LOCKED:
        raise Refused("bases_locked", year=year)
    new, _ = _figures(workplace, YearMonth.parse(declaration.start))
    form = FormReader(raw)
    base = form.base("base", [new], required=True)
    reason = form.text("reason", required=True)
    form.done()
    row = _person(session, declaration, str(raw.get("person", "")))
    _event(
        session,
        declaration,
        "override",
        actor,
        now,
        employee_id=row.employee_id,
        before=None if row.base is None else str(row.base),
        after=str(base),
        computed=None if row.computed is None else str(row.computed),
        reason=reason,
    )
    row.override, row.override_reason, row.override_by = base, reason, actor
    session.flush()
    return _line(session, row)


def _line(session: Session, row: DeclaredBase) -> PersonLine:
    found = session.execute(
        select(*_LINE_COLUMNS)
        .join(Employee, Employee.id == DeclaredBase.employee_id)
        .where(DeclaredBase.id == row.id)
    ).one()
    return PersonLine(*found)


def lock(session: Session, workplace: Workplace, *, year: int, actor: str, now: datetime) -> Review:
    """Declare: the draft becomes the year's declaration and its bases apply from the
    base year's start (the ledger reads them). Refused ``bases_unresolved`` while someone
    has wage months missing and no override, ``bases_locked`` when it already is."""
    require_admin(session, actor)
    declaration = _declaration(session, year, lock=True)
    if declaration.state == LOCKED:
        raise Refused("bases_locked", year=year)
    found = review(session, workplace, year=year, viewer=actor)
    if found.missing:
        raise Refused("bases_unresolved", year=year, count=len(found.missing))
    declaration.state, declaration.locked_at, declaration.locked_by = LOCKED, now, actor
    found.state = LOCKED
    _event(session, declaration, "locked", actor, now, people=found.people)
    session.flush()
    return found


def declaration_of(session: Session, year: int) -> BaseDeclaration:
    return _declaration(session, year)


# --- publicity: how it stands ---------------------------------------------------------------------

SENT, CONFIRMED, DISPUTED = "sent", "confirmed", "disputed"


@dataclass(frozen=True)
class PublicityStatus:
    """How the declaration's publicity stands, with the names behind each number."""

    year: int
    state: str
    sent: list[str]  # every person sent the DM (whatever their answer since)
    confirmed: list[str]
    disputed: list[str]  # with the request's id: "王五 (CORR-0001)"
    unanswered: list[str]
    no_slack_user: list[str]  # enrolled with no Slack user on the roster: not told in Slack


def status(session: Session, *, year: int, viewer: str) -> PublicityStatus:
    """The publicity of ``year``'s declaration: sent, confirmed, disputed, unanswered,
    and who has no Slack user. Administrators and the command line only."""
    require_admin(session, viewer)
    declaration = _declaration(session, year)
    found: dict[str | None, list[str]] = {None: [], SENT: [], CONFIRMED: [], DISPUTED: []}
    no_slack: list[str] = []
    rows = session.execute(
        select(
            DeclaredBase.publicity,
            DeclaredBase.slack_user,
            DeclaredBase.request_public_id,
            Employee.full_name,
        )
        .join(Employee, Employee.id == DeclaredBase.employee_id)
        .where(DeclaredBase.declaration_id == declaration.id)
        .order_by(Employee.full_name, Employee.resident_id)
    )
    for publicity, slack_user, public_id, name in rows:
        if not slack_user:
            no_slack.append(name)
        elif publicity is not None:
            found[publicity].append(f"{name} ({public_id})" if public_id else name)
    answered = found[CONFIRMED] + found[DISPUTED]
    return PublicityStatus(
        year=year,
        state=declaration.state,
        sent=sorted(found[SENT] + answered),
        confirmed=found[CONFIRMED],
        disputed=found[DISPUTED],
        unanswered=found[SENT],
        no_slack_user=no_slack,
    )
