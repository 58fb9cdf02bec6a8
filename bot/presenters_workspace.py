"""What a template needs to show a request of one of the other procedures (card,
transfer, retirement, unemployment, medical, settlement): its fields, what the rules say
about it (statutory retirement, benefit period) and its materials checklist. Plain
values and text keys, no words; masked where the audience is not entitled to see
personal data whole."""

from __future__ import annotations

from typing import Any

from bot.domain import resident_id, unemployment
from bot.domain.procedures import (
    CardAction,
    CardRequest,
    MedicalRequest,
    ProcedureForm,
    RetirementRequest,
    SettlementRequest,
    TransferRequest,
    UnemploymentRequest,
    materials_key,
)
from bot.domain.retirement import (
    EARLY_NOTICE_MONTHS,
    assess_flexible,
    deferral_agreed_by,
    minimum_contribution_years,
)

Fact = tuple[str, dict[str, Any]]  # a text key and its parameters


def mask_document(number: str) -> str:
    """A resident ID as ``1101**********002X``; a passport number with only its last two
    characters."""
    if len(number) == 18:
        return resident_id.mask(number)
    return "*" * max(0, len(number) - 2) + number[-2:]


def _years(value: Any) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def present_procedure(form: ProcedureForm, *, whole: bool) -> tuple[dict[str, Any], list[Fact], str]:
    """``(fields, facts, materials key)`` of a procedure request."""
    facts: list[Fact] = []
    fields: dict[str, Any]
    if isinstance(form, CardRequest):
        fields = {
            "card_action": form.card_action.value,
            "full_name": form.full_name,
            "resident_id": form.resident_id if whole else resident_id.mask(form.resident_id),
            "lost_on": str(form.lost_on) if form.lost_on else "",
            "bank": form.bank,
            "notes": form.notes,
        }
        if form.card_action is CardAction.LOST:
            facts.append(("fact.card_lost_now", {}))
    elif isinstance(form, TransferRequest):
        fields = {
            "direction": form.direction.value,
            "other_city": form.other_city,
            "month_from": str(form.month_from),
            "month_to": str(form.month_to),
            "notes": form.notes,
        }
    elif isinstance(form, RetirementRequest):
        fields = {
            "full_name": form.full_name,
            "resident_id": form.resident_id if whole else resident_id.mask(form.resident_id),
            "retirement_category": form.retirement_category.value,
            "contribution_years": _years(form.contribution_years),
            "wanted_month": str(form.wanted_month) if form.wanted_month else "",
            "notes": form.notes,
        }
        if whole:  # the statutory month tells the birth month: not for channels
            facts.extend(_retirement_facts(form))
    elif isinstance(form, UnemploymentRequest):
        fields = {
            "separation_date": str(form.separation_date),
            "separation_reason": form.separation_reason.value,
            "contribution_years": _years(form.contribution_years),
            "registered_unemployed": form.registered_unemployed.value,
            "carried_over_months": str(form.carried_over_months) if form.carried_over_months else "",
            "notes": form.notes,
        }
        facts.extend(_unemployment_facts(form))
    elif isinstance(form, MedicalRequest):
        fields = {
            "treatment_kind": form.treatment_kind.value,
            "hospital": form.hospital,
            "date_from": str(form.date_from),
            "date_to": str(form.date_to) if form.date_to else "",
            "notes": form.notes,
        }
    else:
        assert isinstance(form, SettlementRequest)
        fields = {
            "settle_reason": form.settle_reason.value,
            "person": form.person,
            "full_name": form.full_name,
            "id_number": form.id_number if whole else mask_document(form.id_number),
            "event_date": str(form.event_date),
            "notes": form.notes,
        }
    return fields, facts, materials_key(form)


def _retirement_facts(form: RetirementRequest) -> list[Fact]:
    statutory = form.statutory
    minimum = minimum_contribution_years(statutory.retirement_month)
    facts: list[Fact] = [
        (
            "fact.retirement_statutory",
            {
                "years": statutory.age_years,
                "months": statutory.age_months,
                "month": str(statutory.retirement_month),
                "day": statutory.reached_on.isoformat(),
                "original": statutory.original_age,
                "delay": statutory.delay_months,
            },
        ),
        (
            "fact.retirement_minimum_met"
            if form.contribution_years >= minimum
            else "fact.retirement_minimum_short",
            {"minimum": _years(minimum), "years": _years(form.contribution_years)},
        ),
    ]
    if form.wanted_month and form.wanted_month != statutory.retirement_month:
        check = assess_flexible(form.birth, form.retirement_category, form.wanted_month, 0)
        facts.append((f"fact.flexible_{check.timing}", {"month": str(form.wanted_month)}))
        if check.timing == "late":
            # 《实施弹性退休制度暂行办法》: agreed in writing 1 month before the statutory date.
            facts.append(("fact.flexible_employer", {"by": deferral_agreed_by(statutory).isoformat()}))
        else:
            facts.append(
                ("fact.flexible_early_notice", {"by": str(form.wanted_month.plus(-EARLY_NOTICE_MONTHS))})
            )
    return facts


def _unemployment_facts(form: UnemploymentRequest) -> list[Fact]:
    check = form.assessment()
    by_years = unemployment.benefit_months(form.contribution_years)
    longest = min(unemployment.MAX_MONTHS, by_years + form.carried_over_months)
    if check.eligible:
        return [("fact.unemployment_eligible", {"months": check.max_months})]
    if check.unmet:
        return [("fact.unemployment_not_eligible", {})] + [(f"fact.unmet.{code}", {}) for code in check.unmet]
    return [("fact.unemployment_pending", {"months": longest})] + [
        (f"fact.pending.{code}", {}) for code in check.pending
    ]
