"""Contribution record correction (缴费记录更正): someone's contribution record for some
months looks wrong — a base, a missing month, a month billed after leaving, an amount.
Filed by the person from their statement (Something's wrong), by anyone with
``/si correction``, and by an administrator from a difference between the center's bill
and the ledger. The administrators handle it like any request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.domain.errors import Refused
from bot.domain.fields import FormReader
from bot.domain.kinds.spec import AMOUNT, LONG, RESIDENT_ID, FormContext, KindSpec, past_months
from bot.domain.months import YearMonth
from bot.domain.requests import RequestKind


class CorrectionIssue(StrEnum):
    BASE_WRONG = "base_wrong"
    MONTH_MISSING = "month_missing"  # a month insured but not paid or not billed
    BILLED_AFTER_LEAVING = "billed_after_leaving"
    AMOUNT_WRONG = "amount_wrong"
    NOT_ON_ROSTER = "not_on_roster"  # billed, and not on the unit's roster
    OTHER = "other"


@dataclass(frozen=True)
class RecordCorrection:
    full_name: str
    resident_id: str = field(metadata=RESIDENT_ID)
    month_from: YearMonth
    month_to: YearMonth | None
    issue: CorrectionIssue
    expected: Decimal | None = field(metadata=AMOUNT)  # the figure the filer expects, if any
    description: str = field(metadata=LONG)


def parse(form: FormReader, ctx: FormContext) -> RecordCorrection:
    """A correction: whose record (name, resident ID), which months (past or this one, in
    order), what is wrong and what happened; the figure expected is optional."""
    full_name = form.name("full_name")
    number = form.resident_id("resident_id", ctx.today)
    first, last = form.past_months("month_from", "month_to", ctx.today, first_required=True)
    issue = form.choice("issue", CorrectionIssue)
    expected = form.amount("expected", required=False)
    description = form.notes("description", required=True)
    form.done()
    return RecordCorrection(full_name, number, first, last, issue, expected, description)


def arguments(word: str, args: Sequence[str]) -> dict[str, str]:
    """``/si correction [YYYY-MM]``: the form with its first month filled in."""
    if not args:
        return {}
    try:
        month = YearMonth.parse(args[0])
    except ValueError:
        raise Refused("bad_month", value=args[0]) from None
    if len(args) > 1:
        raise Refused("usage_no_arguments", sub=word, value=args[1])
    return {"month_from": str(month)}


SPEC = KindSpec(
    kind=RequestKind.CORRECTION,
    command="correction",
    form=RecordCorrection,
    parse=parse,
    arguments=arguments,
    month_field="month_from",
    month_windows=past_months("month_from", "month_to", back=lambda policy: policy.record_months_back),
)
