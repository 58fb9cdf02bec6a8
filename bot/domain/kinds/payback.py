"""Payback (补缴): contributions of missed months paid late, with an estimate."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.domain.fields import FormReader
from bot.domain.kinds.spec import AMOUNT, LONG, Fact, FactContext, FormContext, KindSpec, past_months
from bot.domain.months import YearMonth, month_range
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
    months = month_range(first, last) if first and last and first <= last else [first or last or current]
    base = form.base("monthly_base", [policy.period_for(m) for m in months], required=True)
    reason = form.choice("reason", PaybackReason)
    notes = form.notes("notes")
    form.done()
    return PaybackRequest(first, last, base, reason, notes)


def facts(form: PaybackRequest, ctx: FactContext) -> list[Fact]:
    """The estimate, as of the day the request was filed (so that it does not drift): its
    total, a line per stretch of months computed alike, and what its figures rest on."""
    estimate = estimate_payback(
        form.month_from, form.month_to, form.monthly_base, ctx.policy, ctx.filed_on, ctx.calendar
    )
    total = {
        "months": estimate.months,
        "employer": estimate.employer_total,
        "late_fee": estimate.late_fee,
        "employee": estimate.employee_contributions,
        "total": estimate.total,
    }
    found = [Fact("card.estimate", total, private=True)]
    for s in estimate.segments:
        segment = {
            "first": s.first,
            "last": s.last,
            "base": s.base,
            "employer_rate": s.employer_rate,
            "employee_rate": s.employee_rate,
            "held": s.held,
            "start": s.period.start,
            "end": s.period.end,
        }
        found.append(Fact("card.estimate_segment", segment, private=True))
    assumed = [m for m in estimate.detail if m.assumed]
    if assumed:
        months = ", ".join(str(m.month) for m in assumed)
        where = {"start": assumed[0].period.start, "end": assumed[0].period.end}
        found.append(
            Fact("card.estimate_assumed", {"months": months, "n": len(assumed), **where}, True, True)
        )
    for p in estimate.unverified:
        found.append(
            Fact("card.estimate_unverified", {"start": p.start, "end": p.end, "source": p.source}, True, True)
        )
    found.append(Fact("card.estimate_basis", private=True, aside=True))
    return found


SPEC = KindSpec(
    kind=RequestKind.PAYBACK,
    command="payback",
    form=PaybackRequest,
    parse=parse,
    facts=facts,
    month_windows=past_months("month_from", "month_to", back=lambda policy: policy.payback_max_months_back),
)
