"""Payback (补缴): contributions of missed months paid late, with an estimate."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.domain.fields import FormReader
from bot.domain.kinds.spec import AMOUNT, LONG, Fact, FactContext, FormContext, KindSpec
from bot.domain.months import YearMonth
from bot.domain.payback import estimate_payback
from bot.domain.requests import RequestKind


class PaybackReason(StrEnum):
    LATE_ENROLMENT = "late_enrolment"
    EMPLOYER_OMISSION = "employer_omission"
    BASE_CORRECTION = "base_correction"
    OTHER = "other"


@dataclass(frozen=True)
class PaybackRequest:
    month_from: YearMonth
    month_to: YearMonth
    monthly_base: Decimal = field(metadata=AMOUNT)
    reason: PaybackReason
    notes: str = field(metadata=LONG)


def parse(form: FormReader, ctx: FormContext) -> PaybackRequest:
    """A payback: past months only, within the policy's reach, in order; a base within
    the floor and ceiling."""
    policy = ctx.policy
    first, last = form.month("month_from"), form.month("month_to")
    current = YearMonth.of(ctx.today)
    earliest = current.plus(-policy.payback_max_months_back)
    for key, month in (("month_from", first), ("month_to", last)):
        if month and month > current:
            form.problem(key, "month_in_future", current=str(current))
        elif month and month < earliest:
            form.problem(key, "month_too_old", earliest=str(earliest), limit=policy.payback_max_months_back)
    form.in_order(first, last, "month_to")
    base = form.base("monthly_base", policy.base_floor, policy.base_ceiling, required=True)
    reason = form.choice("reason", PaybackReason)
    notes = form.notes("notes")
    form.done()
    return PaybackRequest(first, last, base, reason, notes)


def facts(form: PaybackRequest, ctx: FactContext) -> list[Fact]:
    """The estimate, as of the day the request was filed (so that it does not drift)."""
    estimate = estimate_payback(form.month_from, form.month_to, form.monthly_base, ctx.policy, ctx.filed_on)
    shown = {
        "months": estimate.months,
        "employer": estimate.employer_total,
        "late_fee": estimate.late_fee,
        "employee": estimate.employee_contributions,
        "total": estimate.total,
    }
    return [Fact("card.estimate", shown, private=True), Fact("card.estimate_basis", private=True, aside=True)]


SPEC = KindSpec(
    kind=RequestKind.PAYBACK,
    command="payback",
    form=PaybackRequest,
    parse=parse,
    facts=facts,
)
