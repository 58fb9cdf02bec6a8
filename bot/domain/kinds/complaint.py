"""A complaint (投诉): confidential, for the administrators' eyes only."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.fields import FormReader
from bot.domain.kinds.spec import LONG, FormContext, KindSpec
from bot.domain.months import YearMonth
from bot.domain.requests import RequestKind


class ComplaintCategory(StrEnum):
    UNPAID_MONTHS = "unpaid_months"
    WRONG_BASE = "wrong_base"
    LATE_ENROLMENT = "late_enrolment"
    BENEFIT_REFUSED = "benefit_refused"
    OTHER = "other"


@dataclass(frozen=True)
class Complaint:
    category: ComplaintCategory
    description: str = field(metadata=LONG)
    month_from: YearMonth | None
    month_to: YearMonth | None


def parse(form: FormReader, ctx: FormContext) -> Complaint:
    """A complaint: a category and what happened; the months are optional, not future."""
    category = form.choice("category", ComplaintCategory)
    description = form.notes("description", required=True)
    first = form.month("month_from", required=False)
    last = form.month("month_to", required=False)
    current = YearMonth.of(ctx.today)
    for key, month in (("month_from", first), ("month_to", last)):
        if month and month > current:
            form.problem(key, "month_in_future", current=str(current))
    form.in_order(first, last, "month_to")
    form.done()
    return Complaint(category, description, first, last)


SPEC = KindSpec(
    kind=RequestKind.COMPLAINT,
    command="complaint",
    form=Complaint,
    parse=parse,
    confidential=True,
)
