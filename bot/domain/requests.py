"""Request kinds, their forms and the state machine every request goes through.

A request is submitted, then an administrator approves it and marks it done, or rejects
it; the requester may cancel it while it is still submitted. Nothing is ever deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from bot.domain import resident_id
from bot.domain.errors import Collector, Refused
from bot.domain.months import YearMonth, month_range
from bot.domain.policy import Policy


class Kind(StrEnum):
    CHANGE = "change"
    PAYBACK = "payback"
    COMPLAINT = "complaint"
    # The other procedures of the role (bot/domain/procedures.py).
    CARD = "card"
    TRANSFER = "transfer"
    RETIREMENT = "retirement"
    UNEMPLOYMENT = "unemployment"
    MEDICAL = "medical"
    SETTLEMENT = "settlement"


class State(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DONE = "done"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in (State.SUBMITTED, State.APPROVED)


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    DONE = "done"
    CANCEL = "cancel"


# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[State], State]] = {
    Action.APPROVE: (frozenset({State.SUBMITTED}), State.APPROVED),
    Action.REJECT: (frozenset({State.SUBMITTED, State.APPROVED}), State.REJECTED),
    Action.DONE: (frozenset({State.APPROVED}), State.DONE),
    Action.CANCEL: (frozenset({State.SUBMITTED}), State.CANCELLED),
}
ADMIN_ACTIONS = frozenset({Action.APPROVE, Action.REJECT, Action.DONE})


def next_state(current: State, action: Action) -> State:
    """The state ``action`` leads to from ``current``; Refused when the move is not allowed."""
    allowed_from, target = TRANSITIONS[action]
    if current not in allowed_from:
        raise Refused("transition_not_allowed", action=action.value, state=current.value)
    return target


class ChangeType(StrEnum):
    ADD = "add"  # a new hire to enrol (增员)
    REMOVE = "remove"  # a leaver to take off the insured list (减员)
    UPDATE = "update"  # correct name, resident ID, hukou type or base (信息变更)


class Hukou(StrEnum):
    LOCAL_URBAN = "local_urban"
    LOCAL_RURAL = "local_rural"
    NONLOCAL_URBAN = "nonlocal_urban"
    NONLOCAL_RURAL = "nonlocal_rural"
    FOREIGN = "foreign"


class PaybackReason(StrEnum):
    LATE_ENROLMENT = "late_enrolment"
    EMPLOYER_OMISSION = "employer_omission"
    BASE_CORRECTION = "base_correction"
    OTHER = "other"


class ComplaintCategory(StrEnum):
    UNPAID_MONTHS = "unpaid_months"
    WRONG_BASE = "wrong_base"
    LATE_ENROLMENT = "late_enrolment"
    BENEFIT_REFUSED = "benefit_refused"
    OTHER = "other"


MAX_NOTES = 2000


@dataclass(frozen=True)
class InsuredChange:
    change_type: ChangeType
    person: str  # Slack user id of the insured person
    full_name: str
    resident_id: str
    hukou: Hukou
    effective_month: YearMonth
    contribution_base: Decimal | None
    notes: str


@dataclass(frozen=True)
class PaybackRequest:
    month_from: YearMonth
    month_to: YearMonth
    monthly_base: Decimal
    reason: PaybackReason
    notes: str


@dataclass(frozen=True)
class Complaint:
    category: ComplaintCategory
    description: str
    month_from: YearMonth | None
    month_to: YearMonth | None


Form = InsuredChange | PaybackRequest | Complaint


def to_payload(form: Form) -> dict[str, Any]:
    """A JSON-safe dict of the form, for storage."""
    values = {f.name: getattr(form, f.name) for f in fields(form)}
    return {k: (None if v is None else str(v)) for k, v in values.items()}


def from_payload(kind: Kind, payload: dict[str, Any]) -> Form:
    """The inverse of to_payload (for values that were valid when stored)."""

    from bot.domain.procedures import PROCEDURE_KINDS, procedure_from_payload

    if kind in PROCEDURE_KINDS:
        return procedure_from_payload(kind, payload)  # type: ignore[return-value]

    def month(key: str) -> YearMonth | None:
        return YearMonth.parse(payload[key]) if payload.get(key) else None

    def money(key: str) -> Decimal | None:
        return Decimal(payload[key]) if payload.get(key) else None

    if kind is Kind.CHANGE:
        return InsuredChange(
            change_type=ChangeType(payload["change_type"]),
            person=payload["person"],
            full_name=payload["full_name"],
            resident_id=payload["resident_id"],
            hukou=Hukou(payload["hukou"]),
            effective_month=YearMonth.parse(payload["effective_month"]),
            contribution_base=money("contribution_base"),
            notes=payload.get("notes") or "",
        )
    if kind is Kind.PAYBACK:
        return PaybackRequest(
            month_from=YearMonth.parse(payload["month_from"]),
            month_to=YearMonth.parse(payload["month_to"]),
            monthly_base=Decimal(payload["monthly_base"]),
            reason=PaybackReason(payload["reason"]),
            notes=payload.get("notes") or "",
        )
    return Complaint(
        category=ComplaintCategory(payload["category"]),
        description=payload["description"],
        month_from=month("month_from"),
        month_to=month("month_to"),
    )


# --- parsing raw form values -------------------------------------------------------------


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def _enum(errors: Collector, raw: dict[str, Any], key: str, enum: type[StrEnum]) -> Any:
    value = _text(raw, key)
    try:
        return enum(value)
    except ValueError:
        errors.add(key, "choose_one")
        return None


def _month(errors: Collector, raw: dict[str, Any], key: str, *, required: bool = True) -> YearMonth | None:
    value = _text(raw, key)
    if not value:
        if required:
            errors.add(key, "required")
        return None
    try:
        return YearMonth.parse(value)
    except ValueError:
        errors.add(key, "month_format", value=value)
        return None


def _decimal(errors: Collector, key: str, value: str, *, code: str, required: bool) -> Decimal | None:
    """``value`` (the field's text, cleaned of units) as an amount with at most two
    decimals; otherwise a ``code`` problem on ``key``."""
    if not value:
        if required:
            errors.add(key, "required")
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.quantize(Decimal("0.01")):
        errors.add(key, code, value=value)
        return None
    return number


def _base(
    errors: Collector,
    raw: dict[str, Any],
    key: str,
    policy: Policy,
    months: list[YearMonth],
    *,
    required: bool,
) -> Decimal | None:
    """The base, checked against the bounds of the base periods of ``months`` (the months
    the form is about): it must lie within the bounds of at least one of them. (A payback
    over several base years holds the base to each month's bounds in its estimate.)"""
    value = _text(raw, key).replace(",", "").replace("，", "").removeprefix("¥").strip()
    amount = _decimal(errors, key, value, code="amount_format", required=required)
    figures = [policy.period_for(m) for m in months]
    if amount is not None and not any(f.within(amount) for f in figures):
        floor = min(f.floor for f in figures)
        ceiling = max(f.ceiling for f in figures)
        periods = list(dict.fromkeys(f.period for f in figures))
        errors.add(
            key,
            "base_out_of_range",
            floor=floor,
            ceiling=ceiling,
            start=str(periods[0].start),
            end=str(periods[-1].end),
            assumed=any(f.assumed for f in figures),
            month=str(months[-1]),
            verified=all(p.verified for p in periods),
        )
        return None
    return amount


def _notes(errors: Collector, raw: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = _text(raw, key)
    if required and not value:
        errors.add(key, "required")
    if len(value) > MAX_NOTES:
        errors.add(key, "too_long", limit=MAX_NOTES)
    return value


def _range(
    errors: Collector, first: YearMonth | None, last: YearMonth | None, last_key: str
) -> tuple[YearMonth | None, YearMonth | None]:
    if first and last and last < first:
        errors.add(last_key, "month_order", first=str(first), last=str(last))
    return first, last


def parse_change(
    raw: dict[str, Any], *, actor: str, actor_may_file_for_others: bool, today: date, policy: Policy
) -> InsuredChange:
    """Validate an insured-change form. Employees may only file for themselves."""
    errors = Collector()
    change_type = _enum(errors, raw, "change_type", ChangeType)
    person = _text(raw, "person")
    if not person:
        errors.add("person", "required")
    elif person != actor and not actor_may_file_for_others:
        errors.add("person", "only_for_yourself")
    full_name = _text(raw, "full_name")
    if not full_name:
        errors.add("full_name", "required")
    elif len(full_name) > 100:
        errors.add("full_name", "too_long", limit=100)
    number = resident_id.normalise(_text(raw, "resident_id"))
    if not number:
        errors.add("resident_id", "required")
    elif code := resident_id.problem(number, today):
        errors.add("resident_id", code)
    hukou = _enum(errors, raw, "hukou", Hukou)
    month = _month(errors, raw, "effective_month")
    if month:
        current = YearMonth.of(today)
        earliest = current.plus(-policy.change_max_months_back)
        latest = current.plus(policy.change_max_months_ahead)
        if not earliest <= month <= latest:
            errors.add("effective_month", "month_window", earliest=str(earliest), latest=str(latest))
    # The bounds of the month the change takes effect in (this month's while it is unknown).
    base = _base(
        errors,
        raw,
        "contribution_base",
        policy,
        [month or YearMonth.of(today)],
        required=change_type is ChangeType.ADD,
    )
    if change_type is ChangeType.REMOVE:
        base = None  # a leaver's base is not part of a removal
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return InsuredChange(change_type, person, full_name, number, hukou, month, base, notes)


def parse_payback(raw: dict[str, Any], *, today: date, policy: Policy) -> PaybackRequest:
    """Validate a payback form: past months only, within the policy's reach, base in range."""
    errors = Collector()
    first = _month(errors, raw, "month_from")
    last = _month(errors, raw, "month_to")
    current = YearMonth.of(today)
    earliest = current.plus(-policy.payback_max_months_back)
    for key, month in (("month_from", first), ("month_to", last)):
        if month and month > current:
            errors.add(key, "month_in_future", current=str(current))
        elif month and month < earliest:
            errors.add(key, "month_too_old", earliest=str(earliest), limit=policy.payback_max_months_back)
    _range(errors, first, last, "month_to")
    ordered = first and last and first <= last
    months = month_range(first, last) if ordered else [first or last or current]  # type: ignore[arg-type]
    base = _base(errors, raw, "monthly_base", policy, months, required=True)
    reason = _enum(errors, raw, "reason", PaybackReason)
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return PaybackRequest(first, last, base, reason, notes)


def parse_complaint(raw: dict[str, Any], *, today: date) -> Complaint:
    """Validate a complaint: a category and what happened; months are optional."""
    errors = Collector()
    category = _enum(errors, raw, "category", ComplaintCategory)
    description = _notes(errors, raw, "description", required=True)
    first = _month(errors, raw, "month_from", required=False)
    last = _month(errors, raw, "month_to", required=False)
    current = YearMonth.of(today)
    for key, month in (("month_from", first), ("month_to", last)):
        if month and month > current:
            errors.add(key, "month_in_future", current=str(current))
    _range(errors, first, last, "month_to")
    errors.raise_if_any()
    return Complaint(category, description, first, last)


def months_of(form: PaybackRequest) -> list[YearMonth]:
    return month_range(form.month_from, form.month_to)
