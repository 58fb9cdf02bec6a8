"""A complaint (投诉): confidential, for the administrators' eyes only."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.fields import FormReader
from bot.domain.kinds.spec import LONG, FormContext, KindSpec, past_months
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
    first, last = form.past_months("month_from", "month_to", ctx.today, first_required=False)
    form.done()
    return Complaint(category, description, first, last)


SPEC = KindSpec(
    kind=RequestKind.COMPLAINT,
    command="complaint",
    form=Complaint,
    parse=parse,
    confidential=True,
    own_words=True,
    month_windows=past_months("month_from", "month_to", back=lambda policy: policy.record_months_back),
)
