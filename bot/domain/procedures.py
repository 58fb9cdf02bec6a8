"""The administrator's other procedures, one request kind each: social security cards,
transfers of the insurance relationship, retirement, unemployment benefit, medical
treatment approval, and surrender / personal-account settlement.

Each has a typed form, a ``parse_*`` that reports every mistake at once as codes
(``FieldErrors``), and what the rules say about it (statutory retirement, the benefit
period). Sources are in DOMAIN.md (§5 transfer, §6 retirement, §7 unemployment, §8.1
medical, §9 card, §11 settlement); the words, including each kind's materials checklist,
live in ``messages/<lang>/workspace.toml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.domain import resident_id, retirement, unemployment
from bot.domain.errors import Collector
from bot.domain.months import YearMonth
from bot.domain.requests import Kind, _decimal, _enum, _month, _notes, _range, _text
from bot.domain.retirement import Category
from bot.domain.unemployment import SeparationReason

MAX_NAME = 100
MAX_PLACE = 100
MAX_YEARS = Decimal(60)  # contribution years: more is a typo
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")


class CardAction(StrEnum):
    APPLY = "apply"  # a first card (new hires are usually applied for in batch)
    LOST = "lost"  # report the loss, then replace
    REPLACE = "replace"  # damaged, or the details on it changed


class TransferDirection(StrEnum):
    IN = "in"  # from another city to ours
    OUT = "out"  # from ours to another city


class RegisteredUnemployed(StrEnum):
    YES = "yes"
    NOT_YET = "not_yet"


class TreatmentKind(StrEnum):
    INPATIENT = "inpatient"
    SPECIAL_OUTPATIENT = "special_outpatient"  # 门诊特殊病 / chronic-disease outpatient
    OUT_OF_AREA = "out_of_area"  # treatment in another city: register (备案) first
    OTHER = "other"


class SettleReason(StrEnum):
    LEAVING_CHINA = "leaving_china"
    DEATH = "death"
    OTHER = "other"


@dataclass(frozen=True)
class CardRequest:
    card_action: CardAction
    full_name: str
    resident_id: str
    lost_on: date | None  # only for a lost card
    bank: str  # the card's bank, whose hotline takes the loss report
    notes: str


@dataclass(frozen=True)
class TransferRequest:
    direction: TransferDirection
    other_city: str
    month_from: YearMonth  # the contribution period to move
    month_to: YearMonth
    notes: str


@dataclass(frozen=True)
class RetirementRequest:
    full_name: str
    resident_id: str  # birth date and sex come from it
    retirement_category: Category
    contribution_years: Decimal
    wanted_month: YearMonth | None  # a flexible (earlier or later) retirement, if asked for
    notes: str

    @property
    def birth(self) -> date:
        return resident_id.birth_date(self.resident_id)

    @property
    def statutory(self) -> retirement.Retirement:
        return retirement.statutory_retirement(self.birth, self.retirement_category)


@dataclass(frozen=True)
class UnemploymentRequest:
    separation_date: date
    separation_reason: SeparationReason
    contribution_years: Decimal
    registered_unemployed: RegisteredUnemployed
    carried_over_months: int
    notes: str

    def assessment(self) -> unemployment.UnemploymentAssessment:
        return unemployment.assess(
            self.contribution_years,
            self.separation_reason,
            registered_unemployed=True if self.registered_unemployed is RegisteredUnemployed.YES else None,
            carried_over_months=self.carried_over_months,
        )


@dataclass(frozen=True)
class MedicalRequest:
    treatment_kind: TreatmentKind
    hospital: str
    date_from: date
    date_to: date | None
    notes: str


@dataclass(frozen=True)
class SettlementRequest:
    settle_reason: SettleReason
    person: str  # Slack user id of the insured person
    full_name: str
    id_number: str  # resident ID, or a passport number for a foreign national
    event_date: date  # the departure, or the death
    notes: str


ProcedureForm = (
    CardRequest
    | TransferRequest
    | RetirementRequest
    | UnemploymentRequest
    | MedicalRequest
    | SettlementRequest
)
PROCEDURE_KINDS = frozenset(
    {Kind.CARD, Kind.TRANSFER, Kind.RETIREMENT, Kind.UNEMPLOYMENT, Kind.MEDICAL, Kind.SETTLEMENT}
)


def is_male(number: str) -> bool:
    """GB 11643: the 17th character is odd for men, even for women."""
    return int(number[16]) % 2 == 1


# --- reading stored payloads -----------------------------------------------------------------


def procedure_from_payload(kind: Kind, payload: dict[str, Any]) -> ProcedureForm:
    """The inverse of ``requests.to_payload`` for the kinds of this module."""

    def day(key: str) -> date | None:
        return date.fromisoformat(payload[key]) if payload.get(key) else None

    notes = payload.get("notes") or ""
    if kind is Kind.CARD:
        return CardRequest(
            CardAction(payload["card_action"]),
            payload["full_name"],
            payload["resident_id"],
            day("lost_on"),
            payload.get("bank") or "",
            notes,
        )
    if kind is Kind.TRANSFER:
        return TransferRequest(
            TransferDirection(payload["direction"]),
            payload["other_city"],
            YearMonth.parse(payload["month_from"]),
            YearMonth.parse(payload["month_to"]),
            notes,
        )
    if kind is Kind.RETIREMENT:
        wanted = payload.get("wanted_month")
        return RetirementRequest(
            payload["full_name"],
            payload["resident_id"],
            Category(payload["retirement_category"]),
            Decimal(payload["contribution_years"]),
            YearMonth.parse(wanted) if wanted else None,
            notes,
        )
    if kind is Kind.UNEMPLOYMENT:
        return UnemploymentRequest(
            date.fromisoformat(payload["separation_date"]),
            SeparationReason(payload["separation_reason"]),
            Decimal(payload["contribution_years"]),
            RegisteredUnemployed(payload["registered_unemployed"]),
            int(payload.get("carried_over_months") or 0),
            notes,
        )
    if kind is Kind.MEDICAL:
        return MedicalRequest(
            TreatmentKind(payload["treatment_kind"]),
            payload["hospital"],
            date.fromisoformat(payload["date_from"]),
            day("date_to"),
            notes,
        )
    if kind is Kind.SETTLEMENT:
        return SettlementRequest(
            SettleReason(payload["settle_reason"]),
            payload["person"],
            payload["full_name"],
            payload["id_number"],
            date.fromisoformat(payload["event_date"]),
            notes,
        )
    raise ValueError(f"not a procedure kind: {kind}")


# --- parsing raw form values -----------------------------------------------------------------


def _date(
    errors: Collector,
    raw: dict[str, Any],
    key: str,
    *,
    required: bool = True,
    earliest: date | None = None,
    latest: date | None = None,
) -> date | None:
    value = _text(raw, key)
    if not value:
        if required:
            errors.add(key, "required")
        return None
    try:
        day = date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        errors.add(key, "date_format", value=value)
        return None
    if earliest and day < earliest:
        errors.add(key, "date_too_early", earliest=earliest.isoformat())
        return None
    if latest and day > latest:
        errors.add(key, "date_too_late", latest=latest.isoformat())
        return None
    return day


def _name(errors: Collector, raw: dict[str, Any], key: str, limit: int = MAX_NAME) -> str:
    value = _text(raw, key)
    if not value:
        errors.add(key, "required")
    elif len(value) > limit:
        errors.add(key, "too_long", limit=limit)
    return value


def _resident_id(errors: Collector, raw: dict[str, Any], key: str, today: date) -> str:
    number = resident_id.normalise(_text(raw, key))
    if not number:
        errors.add(key, "required")
    elif code := resident_id.problem(number, today):
        errors.add(key, code)
        return ""
    return number


def _years(errors: Collector, raw: dict[str, Any], key: str) -> Decimal | None:
    value = _text(raw, key).replace("，", ".").removesuffix("年").strip()
    years = _decimal(errors, key, value, code="years_format", required=True)
    if years is not None and not 0 <= years <= MAX_YEARS:
        errors.add(key, "years_format", value=value)
        return None
    return years


def _count(errors: Collector, raw: dict[str, Any], key: str, *, limit: int) -> int:
    value = _text(raw, key)
    if not value:
        return 0
    if not value.isdigit() or int(value) > limit:
        errors.add(key, "count_format", value=value, limit=limit)
        return 0
    return int(value)


def _person(errors: Collector, raw: dict[str, Any], *, actor: str, may_file_for_others: bool) -> str:
    person = _text(raw, "person")
    if not person:
        errors.add("person", "required")
    elif person != actor and not may_file_for_others:
        errors.add("person", "only_for_yourself")
    return person


def parse_card(raw: dict[str, Any], *, today: date) -> CardRequest:
    """Validate a social security card request. A lost card needs the day it was lost
    (not in the future); every request needs the holder's name and resident ID."""
    errors = Collector()
    action = _enum(errors, raw, "card_action", CardAction)
    full_name = _name(errors, raw, "full_name")
    number = _resident_id(errors, raw, "resident_id", today)
    lost_on = _date(
        errors,
        raw,
        "lost_on",
        required=action is CardAction.LOST,
        earliest=today - timedelta(days=366 * 5),
        latest=today,
    )
    if action is not CardAction.LOST:
        lost_on = None
    bank = _text(raw, "bank")
    if len(bank) > MAX_PLACE:
        errors.add("bank", "too_long", limit=MAX_PLACE)
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return CardRequest(action, full_name, number, lost_on, bank, notes)


def parse_transfer(raw: dict[str, Any], *, today: date) -> TransferRequest:
    """Validate a transfer in or out: the other city, and the contribution period to move
    (past months, in order)."""
    errors = Collector()
    direction = _enum(errors, raw, "direction", TransferDirection)
    city = _name(errors, raw, "other_city", limit=MAX_PLACE)
    first = _month(errors, raw, "month_from")
    last = _month(errors, raw, "month_to")
    current = YearMonth.of(today)
    for key, month in (("month_from", first), ("month_to", last)):
        if month and month > current:
            errors.add(key, "transfer_month_in_future", current=str(current))
    _range(errors, first, last, "month_to")
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return TransferRequest(direction, city, first, last, notes)


def parse_retirement(raw: dict[str, Any], *, today: date) -> RetirementRequest:
    """Validate a retirement request. Birth date and sex come from the resident ID; the
    category must agree with the sex. A wanted (flexible) month must be in the future and
    within what the 2024 reform allows: never before the original age, at most 3 years
    early (and only with the minimum years for that month) or 3 years late; a deferral is
    refused once the statutory date has passed (《实施弹性退休制度暂行办法》: it is agreed
    in writing at least 1 month before that date and cannot be extended afterwards)."""
    errors = Collector()
    full_name = _name(errors, raw, "full_name")
    number = _resident_id(errors, raw, "resident_id", today)
    category = _enum(errors, raw, "retirement_category", Category)
    if number and category and is_male(number) != (category is Category.MALE):
        errors.add("retirement_category", "category_sex_mismatch")
        category = None
    years = _years(errors, raw, "contribution_years")
    wanted = _month(errors, raw, "wanted_month", required=False)
    if wanted and wanted < YearMonth.of(today):
        errors.add("wanted_month", "wanted_month_past", current=str(YearMonth.of(today)))
    elif wanted and number and category and years is not None:
        birth = resident_id.birth_date(number)
        bounds = retirement.flexible_bounds(birth, category)
        statutory = retirement.statutory_retirement(birth, category)
        # Contributions go on until the wanted month (the person is employed here).
        months = int(years * 12) + max(0, wanted.months_since(YearMonth.of(today)))
        check = retirement.assess_flexible(birth, category, wanted, months, applied_on=today)
        # Short notice is shown on the request, not refused: the agreement may exist already.
        advisory = ("employer_agreement_needed", "notice_too_short", "deferral_notice_too_short")
        blocking = [r for r in check.reasons if r not in advisory]
        if blocking:
            errors.add(
                "wanted_month",
                f"flexible_{blocking[0]}",
                earliest=str(bounds.earliest),
                statutory=str(bounds.statutory),
                latest=str(bounds.latest),
                minimum=check.minimum_years,
                statutory_day=statutory.reached_on.isoformat(),
            )
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return RetirementRequest(full_name, number, category, years, wanted, notes)


def parse_unemployment(raw: dict[str, Any], *, today: date) -> UnemploymentRequest:
    """Validate an unemployment-benefit request: the separation day (at most 3 months
    ahead), its reason, the years of unemployment contributions, and months carried over
    from an earlier spell (at most 24)."""
    errors = Collector()
    separated = _date(
        errors,
        raw,
        "separation_date",
        earliest=today - timedelta(days=366 * 5),
        latest=today + timedelta(days=92),
    )
    reason = _enum(errors, raw, "separation_reason", SeparationReason)
    years = _years(errors, raw, "contribution_years")
    registered = _enum(errors, raw, "registered_unemployed", RegisteredUnemployed)
    carried = _count(errors, raw, "carried_over_months", limit=unemployment.MAX_MONTHS)
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return UnemploymentRequest(separated, reason, years, registered, carried, notes)


def parse_medical(raw: dict[str, Any], *, today: date) -> MedicalRequest:
    """Validate a treatment approval: the kind, the hospital, and the dates (within a year
    either side of today; the end, when given, not before the start)."""
    errors = Collector()
    kind = _enum(errors, raw, "treatment_kind", TreatmentKind)
    hospital = _name(errors, raw, "hospital", limit=MAX_PLACE)
    window = timedelta(days=366)
    first = _date(errors, raw, "date_from", earliest=today - window, latest=today + window)
    last = _date(errors, raw, "date_to", required=False, earliest=today - window, latest=today + 2 * window)
    if first and last and last < first:
        errors.add("date_to", "date_order", first=first.isoformat(), last=last.isoformat())
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return MedicalRequest(kind, hospital, first, last, notes)


def parse_settlement(
    raw: dict[str, Any], *, actor: str, may_file_for_others: bool, today: date
) -> SettlementRequest:
    """Validate a surrender / personal-account settlement. Employees file for themselves
    (and so never for a death); HR staff and administrators for anyone. The ID may be a
    passport number for a foreign national; a death cannot be in the future."""
    errors = Collector()
    reason = _enum(errors, raw, "settle_reason", SettleReason)
    person = _person(errors, raw, actor=actor, may_file_for_others=may_file_for_others)
    if reason is SettleReason.DEATH and person and person == actor:
        errors.add("person", "settle_death_self")
    full_name = _name(errors, raw, "full_name")
    number = resident_id.normalise(_text(raw, "id_number"))
    if not number:
        errors.add("id_number", "required")
    elif len(number) == 18 and number[:17].isdigit():
        if code := resident_id.problem(number, today):
            errors.add("id_number", code)
    elif not _PASSPORT.match(number):
        errors.add("id_number", "id_number_format")
    event = _date(
        errors,
        raw,
        "event_date",
        earliest=today - timedelta(days=366 * 5),
        latest=today if reason is SettleReason.DEATH else today + timedelta(days=366),
    )
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return SettlementRequest(reason, person, full_name, number, event, notes)


def parse_procedure(
    kind: Kind, raw: dict[str, Any], *, actor: str, may_file_for_others: bool, today: date
) -> tuple[ProcedureForm, str]:
    """Validate a form of one of this module's kinds; returns it and the insured person's
    user id (the requester, except for a settlement filed for someone else)."""
    if kind is Kind.CARD:
        return parse_card(raw, today=today), actor
    if kind is Kind.TRANSFER:
        return parse_transfer(raw, today=today), actor
    if kind is Kind.RETIREMENT:
        return parse_retirement(raw, today=today), actor
    if kind is Kind.UNEMPLOYMENT:
        return parse_unemployment(raw, today=today), actor
    if kind is Kind.MEDICAL:
        return parse_medical(raw, today=today), actor
    if kind is Kind.SETTLEMENT:
        form = parse_settlement(raw, actor=actor, may_file_for_others=may_file_for_others, today=today)
        return form, form.person
    raise ValueError(f"not a procedure kind: {kind}")


def materials_key(form: ProcedureForm) -> str:
    """The ``materials.*`` text that lists what to prepare for this request."""
    if isinstance(form, CardRequest):
        return f"materials.card.{form.card_action}"
    if isinstance(form, TransferRequest):
        return f"materials.transfer.{form.direction}"
    if isinstance(form, RetirementRequest):
        return "materials.retirement"
    if isinstance(form, UnemploymentRequest):
        return "materials.unemployment"
    if isinstance(form, MedicalRequest):
        area = "out_of_area" if form.treatment_kind is TreatmentKind.OUT_OF_AREA else "any"
        return f"materials.medical.{area}"
    return f"materials.settlement.{form.settle_reason}"
