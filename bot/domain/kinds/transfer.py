"""Transfer of the insurance relationship (转移) to or from another city."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.fields import FormReader
from bot.domain.kinds.spec import LONG, FormContext, KindSpec, option_argument, past_months
from bot.domain.months import YearMonth
from bot.domain.requests import RequestKind

MAX_PLACE = 100


class TransferDirection(StrEnum):
    IN = "in"  # from another city to ours
    OUT = "out"  # from ours to another city


@dataclass(frozen=True)
class TransferRequest:
    direction: TransferDirection
    other_city: str
    month_from: YearMonth  # the contribution period to move
    month_to: YearMonth
    notes: str = field(metadata=LONG)


def parse(form: FormReader, ctx: FormContext) -> TransferRequest:
    """A transfer in or out: the other city, and the contribution period to move (past
    months, in order)."""
    direction = form.choice("direction", TransferDirection)
    city = form.name("other_city", limit=MAX_PLACE)
    first, last = form.month("month_from"), form.month("month_to")
    current = YearMonth.of(ctx.today)
    for key, month in (("month_from", first), ("month_to", last)):
        if month and month > current:
            form.problem(key, "transfer_month_in_future", current=str(current))
    form.in_order(first, last, "month_to")
    notes = form.notes("notes")
    form.done()
    return TransferRequest(direction, city, first, last, notes)


def materials(form: TransferRequest) -> str:
    return f"materials.transfer.{form.direction}"


SPEC = KindSpec(
    kind=RequestKind.TRANSFER,
    command="transfer",
    form=TransferRequest,
    parse=parse,
    arguments=option_argument("direction", TransferDirection, "usage_transfer"),
    materials=materials,
    month_windows=past_months("month_from", "month_to", back=lambda policy: policy.transfer_months_back),
)
