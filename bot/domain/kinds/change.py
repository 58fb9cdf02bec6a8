"""Insured change (增减员): a hire to enrol, a leaver to take off the insured list, or a
correction of someone's details, for the monthly change form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from bot.domain.errors import Refused
from bot.domain.fields import FormReader, MonthWindow
from bot.domain.kinds.spec import AMOUNT, LONG, PERSON, RESIDENT_ID, FormContext, KindSpec
from bot.domain.mentions import parse_user
from bot.domain.months import YearMonth
from bot.domain.policy import Policy
from bot.domain.requests import RequestKind


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


@dataclass(frozen=True)
class InsuredChange:
    change_type: ChangeType
    person: str = field(metadata=PERSON)  # Slack user id of the insured person
    full_name: str
    resident_id: str = field(metadata=RESIDENT_ID)
    hukou: Hukou
    effective_month: YearMonth
    contribution_base: Decimal | None = field(metadata=AMOUNT)
    notes: str = field(metadata=LONG)


def parse(form: FormReader, ctx: FormContext) -> InsuredChange:
    """An insured change: employees only for themselves; the effective month within the
    policy's window around this month; a base (within the floor and ceiling) for an
    addition, none for a removal."""
    change_type = form.choice("change_type", ChangeType)
    person = form.person("person", actor=ctx.actor, may_file_for_others=ctx.may_file_for_others)
    full_name = form.name("full_name")
    number = form.resident_id("resident_id", ctx.today)
    hukou = form.choice("hukou", Hukou)
    month = form.month("effective_month")
    policy = ctx.policy
    if month:
        current = YearMonth.of(ctx.today)
        earliest = current.plus(-policy.change_max_months_back)
        latest = current.plus(policy.change_max_months_ahead)
        if not earliest <= month <= latest:
            form.problem("effective_month", "month_window", earliest=str(earliest), latest=str(latest))
    # The bounds of the month the change takes effect in (this month's while it is unknown).
    base = form.base(
        "contribution_base",
        [policy.period_for(month or YearMonth.of(ctx.today))],
        required=change_type is ChangeType.ADD,
    )
    if change_type is ChangeType.REMOVE:
        base = None  # a leaver's base is not part of a removal
    notes = form.notes("notes")
    form.done()
    return InsuredChange(change_type, person, full_name, number, hukou, month, base, notes)


def arguments(word: str, args: Sequence[str]) -> dict[str, str]:
    """``/si change [add|remove|update] [@person] [YYYY-MM]``: the form pre-filled."""
    prefill: dict[str, str] = {}
    if args:
        try:
            prefill["change_type"] = ChangeType(args[0].lower()).value
        except ValueError:
            raise Refused("bad_change_type", value=args[0]) from None
    for token in args[1:]:
        if user := parse_user(token):
            prefill["person"] = user
            continue
        try:
            prefill["effective_month"] = str(YearMonth.parse(token))
        except ValueError:
            raise Refused("bad_change_argument", value=token) from None
    return prefill


def month_windows(policy: Policy, today: date) -> dict[str, MonthWindow]:
    """The effective months a change may have: the policy's window around this month."""
    window = MonthWindow.back(
        YearMonth.of(today), policy.change_max_months_back, policy.change_max_months_ahead
    )
    return {"effective_month": window}


SPEC = KindSpec(
    kind=RequestKind.CHANGE,
    command="change",
    form=InsuredChange,
    parse=parse,
    arguments=arguments,
    subject_field="person",
    for_others=True,
    month_field="effective_month",
    month_windows=month_windows,
)
