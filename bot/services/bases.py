"""The yearly contribution-base declaration (duty 6): every enrolled person's base for the
base year, computed from the roster's wages (bot/domain/bases.py), reviewed, overridden
where the administrator knows better (with the reason, kept), then locked. No Slack here.

A declaration is a row per base year (``draft`` until ``locked``) and a row per person.
``compute`` re-computes a draft from the wages as they are now: the overrides stay. The
people are gone through a chunk at a time (memory holds one chunk, whatever the size of
the company); every change is an event in ``declaration_events``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.bases import (
    BackPay,
    Employment,
    Held,
    back_pay,
    base_year_start,
    compute_base,
    is_outlier,
    monthly_cost,
    movement,
)
from bot.domain.errors import Refused
from bot.domain.fields import FormReader
from bot.domain.months import YearMonth
from bot.domain.policy import Contribution, MonthFigures
from bot.domain.roster import EmployeeStatus
from bot.domain.workplace import Workplace
from bot.services.answers import answer_once
from bot.services.ledger import CHUNK, figures_from, recorded_bases
from bot.services.outbox import FAN_OUT_SPACING, Outgoing, Recipient, enqueue, enqueue_many
from bot.services.roles import require_admin
from bot.storage.bulk import insert_rows
from bot.storage.models import (
    BaseDeclaration,
    DeclarationEvent,
    DeclaredBase,
    Employee,
    LedgerLineRecord,
    LedgerMonth,
    OutboxMessage,
    WageRecord,
)

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


def is_locked(session: Session, year: int) -> bool:
    return session.scalar(select(BaseDeclaration.state).where(BaseDeclaration.year == year)) == LOCKED


# --- publicity: how it stands ---------------------------------------------------------------------

SENT, CONFIRMED, DISPUTED = "sent", "confirmed", "disputed"


@dataclass(frozen=True)
class PublicityStatus:
    """How the declaration's publicity stands, with the names behind each number."""

    year: int
    state: str
    sent: list[str]  # posted to the person (whatever their answer since)
    confirmed: list[str]
    disputed: list[str]  # with the request's id: "王五 (SI-2026-0001)"
    unanswered: list[str]  # posted, not answered
    waiting: list[str]  # queued, not posted yet (Slack's pace)
    no_slack_user: list[str]  # enrolled with no Slack user on the roster: not told in Slack


def status(session: Session, *, year: int, viewer: str) -> PublicityStatus:
    """The publicity of ``year``'s declaration: sent, confirmed, disputed, unanswered,
    still waiting to be posted, and who has no Slack user. Administrators and the command
    line only."""
    require_admin(session, viewer)
    return _status(session, _declaration(session, year))


def home_section(session: Session, workplace: Workplace, *, now: datetime) -> dict[str, Any] | None:
    """App Home's (administrators'): the publicity of the latest locked declaration while
    its base year runs — the counts, and up to HOME_NAMES names behind each. None when
    there is none."""
    this_month = YearMonth.of(workplace.today(now))
    declaration = session.scalar(
        select(BaseDeclaration)
        .where(BaseDeclaration.state == LOCKED, BaseDeclaration.start > str(this_month.plus(-12)))
        .order_by(BaseDeclaration.start.desc())
        .limit(1)
    )
    if declaration is None:
        return None
    found = _status(session, declaration)
    return {
        "year": found.year,
        **{
            what: {"n": len(names), "names": names[:HOME_NAMES]}
            for what, names in (
                ("sent", found.sent),
                ("confirmed", found.confirmed),
                ("disputed", found.disputed),
                ("unanswered", found.unanswered),
                ("waiting", found.waiting),
            )
        },
    }


HOME_NAMES = 10


def _status(session: Session, declaration: BaseDeclaration) -> PublicityStatus:
    year = declaration.year
    found: dict[str, list[str]] = {
        what: [] for what in ("sent", CONFIRMED, DISPUTED, "unanswered", "waiting")
    }
    no_slack: list[str] = []
    rows = session.execute(
        select(
            DeclaredBase.publicity,
            DeclaredBase.slack_user,
            DeclaredBase.request_public_id,
            Employee.full_name,
            OutboxMessage.sent_at,
        )
        .join(Employee, Employee.id == DeclaredBase.employee_id)
        .outerjoin(OutboxMessage, OutboxMessage.key == DeclaredBase.outbox_key)
        .where(DeclaredBase.declaration_id == declaration.id)
        .order_by(Employee.full_name, Employee.resident_id)
        .execution_options(yield_per=CHUNK)
    )
    for publicity, slack_user, public_id, name, sent_at in rows:
        if not slack_user:
            no_slack.append(name)
        elif publicity is None:
            continue
        elif sent_at is None and publicity == SENT:
            found["waiting"].append(name)
        else:
            found["sent"].append(name)
            if publicity == SENT:
                found["unanswered"].append(name)
            else:
                found[publicity].append(f"{name} ({public_id})" if public_id else name)
    return PublicityStatus(
        year=year,
        state=declaration.state,
        sent=found["sent"],
        confirmed=found[CONFIRMED],
        disputed=found[DISPUTED],
        unanswered=found["unanswered"],
        waiting=found["waiting"],
        no_slack_user=no_slack,
    )


# --- publicity: the DM to each person ---------------------------------------------------------------

NOTICE = "base_publicity"
REMINDER_NOTICE = "base_publicity_reminder"


def publicity_key(year: int, employee_id: int, revision: int = 0) -> str:
    return f"bases:{year}:{employee_id}" + (f":{revision}" if revision else "")


def _paid_on_old_bases(
    session: Session, start: YearMonth, ids: list[int], today: YearMonth
) -> dict[int, list[tuple[MonthFigures, tuple[Contribution, ...]]]]:
    """For each of ``ids``: the months of the base year already closed (paid) in the
    ledger, each with its figures and the shares paid then — what the back-pay is the
    difference from."""
    last = min(start.plus(11), today)
    if last < start:
        return {}
    closed = {
        row.month: row
        for row in session.scalars(
            select(LedgerMonth).where(LedgerMonth.month.between(str(start), str(last)))
        )
    }
    if not closed:
        return {}
    figures = {month: figures_from(YearMonth.parse(month), row.figures) for month, row in closed.items()}
    found: dict[int, list[tuple[MonthFigures, tuple[Contribution, ...]]]] = {}
    for record in session.scalars(
        select(LedgerLineRecord)
        .where(LedgerLineRecord.employee_id.in_(ids), LedgerLineRecord.month.in_(sorted(closed)))
        .order_by(LedgerLineRecord.month)
    ):
        shares = tuple(
            Contribution(scheme, Decimal(er), Decimal(ee)) for scheme, (er, ee) in record.shares.items()
        )
        found.setdefault(record.employee_id, []).append((figures[record.month], shares))
    return found


def publicity_params(
    year: int,
    start: YearMonth,
    line: PersonLine,
    figures: MonthFigures,
    paid: list[tuple[MonthFigures, tuple[Contribution, ...]]],
    *,
    revised: bool = False,
) -> dict[str, Any]:
    """What the person's DM shows (JSON-safe: it waits in the outbox): the new base and
    why, each scheme's monthly shares from the new period's rates, and the back-pay of
    the months already paid on the old base."""
    base = line.base
    assert base is not None
    shares = figures.contributions(base)
    owed = back_pay(base, paid)
    return {
        "year": year,
        "start": str(start),
        "person": line.full_name,
        "base": str(base),
        "previous": None if line.previous is None else str(line.previous),
        "rule": line.rule,
        "averaged": line.averaged,
        "held": "" if line.override is not None else line.held,
        "floor": str(figures.floor),
        "ceiling": str(figures.ceiling),
        "overridden": line.override is not None,
        "shares": [[s.scheme, str(s.employer), str(s.employee)] for s in shares],
        "employer": str(sum((s.employer for s in shares), ZERO)),
        "employee": str(sum((s.employee for s in shares), ZERO)),
        "back_pay": _back_pay_params(owed) if owed.months else None,
        "revised": revised,
        "reference": f"{year}:{line.employee_id}",
    }


def _back_pay_params(owed: BackPay) -> dict[str, Any]:
    """``kind``: ``owed`` (both sides pay more), ``refund`` (both get back: the figures
    shown without their sign) or ``mixed``."""
    employer, employee = owed.employer, owed.employee
    kind = (
        "owed"
        if employer >= 0 and employee >= 0
        else "refund"
        if employer <= 0 and employee <= 0
        else "mixed"
    )
    shown = abs if kind == "refund" else (lambda amount: amount)
    return {
        "months": [str(m) for m in owed.months],
        "shares": [[scheme, str(shown(er)), str(shown(ee))] for scheme, (er, ee) in owed.by_scheme.items()],
        "employer": str(employer),
        "employee": str(employee),
        "kind": kind,
        "employer_shown": str(shown(employer)),
        "employee_shown": str(shown(employee)),
    }


@dataclass(frozen=True)
class PublicityQueued:
    year: int
    queued: int
    status: PublicityStatus


def send_publicity(
    sessions: Callable[[], AbstractContextManager[Session]],
    workplace: Workplace,
    *,
    year: int,
    actor: str,
    now: datetime,
) -> PublicityQueued:
    """Queue the locked declaration's DM to every person with a Slack user not sent one
    yet, a chunk at a time, each chunk a short transaction with the declaration locked
    (two runs at once queue each person once; one stopped halfway is finished by the
    next). The outbox sends them at Slack's pace, across processes. Administrators only;
    Refused ``bases_not_locked`` before the lock."""
    with sessions() as session:
        require_admin(session, actor)
        declaration = _declaration(session, year)
        if declaration.state != LOCKED:
            raise Refused("bases_not_locked", year=year)
        declaration_id, start = declaration.id, YearMonth.parse(declaration.start)
        ids = list(
            session.scalars(
                select(DeclaredBase.employee_id)
                .where(
                    DeclaredBase.declaration_id == declaration_id,
                    DeclaredBase.slack_user.is_not(None),
                    DeclaredBase.publicity.is_(None),
                )
                .order_by(DeclaredBase.employee_id)
            )
        )
    figures = workplace.policy.period_for(start)
    today = YearMonth.of(workplace.today(now))
    queued = 0
    for at in range(0, len(ids), CHUNK):
        chunk = ids[at : at + CHUNK]
        with sessions() as session:
            session.scalars(
                select(BaseDeclaration.id).where(BaseDeclaration.id == declaration_id).with_for_update()
            ).one()
            todo = [
                line
                for line in _lines_of(session, declaration_id, chunk)
                if line.publicity is None and line.slack_user
            ]
            paid = _paid_on_old_bases(session, start, [line.employee_id for line in todo], today)
            messages = [
                Outgoing(
                    key=publicity_key(year, line.employee_id),
                    notice=NOTICE,
                    to=Recipient.person(line.slack_user),
                    params=publicity_params(year, start, line, figures, paid.get(line.employee_id, [])),
                )
                for line in todo
                if line.slack_user
            ]
            if todo:
                # One statement for the chunk: the key is publicity_key(year, employee_id).
                key = literal(f"bases:{year}:", String) + cast(DeclaredBase.employee_id, String)
                session.execute(
                    update(DeclaredBase)
                    .where(
                        DeclaredBase.declaration_id == declaration_id,
                        DeclaredBase.employee_id.in_([line.employee_id for line in todo]),
                    )
                    .values(publicity=SENT, outbox_key=key)
                    .execution_options(synchronize_session=False)
                )
            queued += enqueue_many(session, messages, now=now, start=now + FAN_OUT_SPACING * queued)
    with sessions() as session:
        return PublicityQueued(year, queued, status(session, year=year, viewer=actor))


def _lines_of(session: Session, declaration_id: int, ids: list[int]) -> list[PersonLine]:
    rows = session.execute(
        select(*_LINE_COLUMNS)
        .join(Employee, Employee.id == DeclaredBase.employee_id)
        .where(DeclaredBase.declaration_id == declaration_id, DeclaredBase.employee_id.in_(ids))
        .order_by(DeclaredBase.employee_id)
    )
    return [PersonLine(*row) for row in rows]


# --- the person's answer, the administrator's resolution, the reminder ---------------------------


def _own(session: Session, reference: str, actor: str) -> tuple[BaseDeclaration, DeclaredBase]:
    """The declared base ``year:employee_id`` if it was sent to ``actor``: Refused
    ``bases_not_yours`` otherwise."""
    year, _, employee_id = reference.partition(":")
    found = session.execute(
        select(BaseDeclaration, DeclaredBase)
        .join(DeclaredBase, DeclaredBase.declaration_id == BaseDeclaration.id)
        .where(BaseDeclaration.year == int(year), DeclaredBase.employee_id == int(employee_id))
    ).one_or_none()
    if found is None or found[1].slack_user != actor or found[1].publicity is None:
        raise Refused("bases_not_yours")
    return found[0], found[1]


def _answer(session: Session, row: DeclaredBase, state: str, now: datetime, **values: Any) -> None:
    def refused() -> Refused:
        return Refused("bases_answered", state=row.publicity, public_id=row.request_public_id or "")

    answer_once(
        session, row, DeclaredBase.publicity, sent=SENT, answer=state, now=now, refused=refused, **values
    )


def answered_params(session: Session, row: DeclaredBase) -> dict[str, Any]:
    """The DM as sent, with its answer: to redraw it."""
    params = session.scalar(select(OutboxMessage.params).where(OutboxMessage.key == row.outbox_key)) or {}
    return {**params, "answer": row.publicity, "request": row.request_public_id}


def confirm(session: Session, *, reference: str, actor: str, now: datetime) -> dict[str, Any]:
    """Confirm: the person agrees with their new base. Returns the DM's values to redraw
    it. Refused for anyone but the person, and once it was answered."""
    declaration, row = _own(session, reference, actor)
    _answer(session, row, CONFIRMED, now)
    _event(session, declaration, "confirmed", actor, now, employee_id=row.employee_id)
    return answered_params(session, row)


def dispute_form(
    session: Session, workplace: Workplace, *, reference: str, actor: str, now: datetime
) -> dict[str, str]:
    """Dispute: the correction form (what is wrong, the figure expected), filled in with
    who, the base year's first month (or this month, if it has not begun) and "the base
    is wrong". Refused as :func:`confirm` says."""
    declaration, row = _own(session, reference, actor)
    if row.publicity != SENT:
        raise Refused("bases_answered", state=row.publicity, public_id=row.request_public_id or "")
    person = session.get(Employee, row.employee_id)
    assert person is not None
    first = min(YearMonth.parse(declaration.start), YearMonth.of(workplace.today(now)))
    return {
        "full_name": person.full_name,
        "resident_id": person.resident_id,
        "month_from": str(first),
        "month_to": "",
        "issue": "base_wrong",
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
    """Dispute, filled in: a contribution record correction request filed by the person
    (the administrators get its card like any other request), and the base marked
    disputed. Returns the request's id. ``FieldErrors`` as for any request."""
    from bot.services.bills import file_correction  # the correction kind's one way in

    declaration, row = _own(session, reference, actor)
    public_id = file_correction(
        session, workplace, raw=raw, actor=actor, submission_key=submission_key, now=now
    )
    if row.request_public_id == public_id:
        return public_id  # the same submission again
    _answer(session, row, DISPUTED, now, request_public_id=public_id)
    _event(session, declaration, "disputed", actor, now, employee_id=row.employee_id, request=public_id)
    return public_id


def resolve(
    session: Session,
    workplace: Workplace,
    *,
    year: int,
    raw: dict[str, Any],
    actor: str,
    now: datetime,
) -> PersonLine:
    """Resolve a disputed base of the locked declaration: ``raw`` holds ``person``, a
    ``reason`` and either a ``base`` (an override within the bounds) or none, to compute
    the base again from the wages as recorded now (after the wage record was corrected).
    The person gets a new DM with the revised base (Confirm / Dispute again). Refused
    ``bases_not_disputed`` for someone whose base is not disputed."""
    require_admin(session, actor)
    declaration = _declaration(session, year, lock=True)
    if declaration.state != LOCKED:
        raise Refused("bases_not_locked", year=year)
    start = YearMonth.parse(declaration.start)
    figures = workplace.policy.period_for(start)
    form = FormReader(raw)
    base = form.base("base", [figures], required=False)
    reason = form.text("reason", required=True)
    form.done()
    row = _person(session, declaration, str(raw.get("person", "")))
    if row.publicity != DISPUTED:
        raise Refused("bases_not_disputed", person=str(raw.get("person", "")))
    before = row.base
    if base is None:
        person = session.get(Employee, row.employee_id)
        assert person is not None
        first_wage, last_wage = YearMonth(year - 1, 1), start.plus(12)
        wages = {
            YearMonth.parse(month): wage
            for month, wage in session.execute(
                select(WageRecord.month, WageRecord.gross_wage).where(
                    WageRecord.employee_id == row.employee_id,
                    WageRecord.month.between(str(first_wage), str(last_wage)),
                )
            )
        }
        employment = Employment(
            YearMonth.parse(person.enrolled_from),
            YearMonth.parse(person.leaving_month) if person.leaving_month else None,
        )
        found = compute_base(employment, wages, start, figures)
        if not found.complete:
            raise Refused("bases_still_missing", months=", ".join(str(m) for m in found.missing))
        row.rule, row.held = found.rule.value, found.held.value
        row.averaged, row.missing = [str(m) for m in found.averaged], []
        row.average = None if found.average is None else found.average.quantize(Decimal("0.01"))
        row.computed, row.override, row.override_reason, row.override_by = found.base, None, reason, actor
    else:
        row.override, row.override_reason, row.override_by = base, reason, actor
    revision = session.scalar(
        select(func.count())
        .select_from(DeclarationEvent)
        .where(
            DeclarationEvent.declaration_id == declaration.id,
            DeclarationEvent.employee_id == row.employee_id,
            DeclarationEvent.action == "resolved",
        )
    )
    key = publicity_key(year, row.employee_id, (revision or 0) + 1)
    _event(
        session,
        declaration,
        "resolved",
        actor,
        now,
        employee_id=row.employee_id,
        before=None if before is None else str(before),
        after=str(row.base),
        reason=reason,
        request=row.request_public_id,
    )
    row.publicity, row.outbox_key, row.answered_at, row.reminded_at = SENT, key, None, None
    session.flush()
    line = _line(session, row)
    paid = _paid_on_old_bases(session, start, [row.employee_id], YearMonth.of(workplace.today(now)))
    params = publicity_params(year, start, line, figures, paid.get(row.employee_id, []), revised=True)
    params["request"] = row.request_public_id
    if line.slack_user:
        enqueue(session, key=key, notice=NOTICE, to=Recipient.person(line.slack_user), now=now, params=params)
    return line


def remind_unanswered(session: Session, workplace: Workplace, now: datetime) -> int:
    """One reminder to each person who has not answered their base's DM the policy's
    number of working days after it was posted (a DM posted on a day off counts from the
    next working day); each is reminded once — the row is moved and the message recorded
    in one transaction under a unique key — whichever process runs it. A chunk of people
    a call (the scheduler calls it every few minutes). Returns how many were queued."""
    days = workplace.policy.base_publicity_reminder_working_days
    last_day = workplace.calendar.add_working_days(workplace.today(now), -days)
    posted_before = datetime.combine(last_day + timedelta(days=1), time(0), workplace.tz)
    rows = session.execute(
        select(DeclaredBase.id, DeclaredBase.slack_user, OutboxMessage.key, OutboxMessage.params)
        .join(BaseDeclaration, BaseDeclaration.id == DeclaredBase.declaration_id)
        .join(OutboxMessage, OutboxMessage.key == DeclaredBase.outbox_key)
        .where(
            BaseDeclaration.state == LOCKED,
            DeclaredBase.publicity == SENT,
            DeclaredBase.reminded_at.is_(None),
            OutboxMessage.sent_at < posted_before,
        )
        .order_by(DeclaredBase.id)
        .limit(CHUNK)
    ).all()
    queued = 0
    for row_id, slack_user, key, params in rows:
        moved = session.execute(
            update(DeclaredBase)
            .where(
                DeclaredBase.id == row_id, DeclaredBase.reminded_at.is_(None), DeclaredBase.publicity == SENT
            )
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            continue  # another process reminded them a moment ago
        queued += enqueue(
            session,
            key=f"{key}:reminder",
            notice=NOTICE,
            to=Recipient.person(slack_user),
            now=now,
            # Not "reminder": the outbox reads that key as a dated duty's reminder.
            params={**params, "remind": True},
        )
    return queued
