"""Surrender and personal-account settlement (退保 / 个人账户结算): leaving China for good,
a death, or another case an administrator looks at."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from bot.domain import resident_id
from bot.domain.fields import FormReader
from bot.domain.kinds.spec import ID_DOCUMENT, LONG, PERSON, FormContext, KindSpec, option_argument
from bot.domain.requests import RequestKind

_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")


class SettleReason(StrEnum):
    LEAVING_CHINA = "leaving_china"
    DEATH = "death"
    OTHER = "other"


@dataclass(frozen=True)
class SettlementRequest:
    settle_reason: SettleReason
    person: str = field(metadata=PERSON)  # Slack user id of the insured person
    full_name: str
    id_number: str = field(metadata=ID_DOCUMENT)  # resident ID, or a passport number
    event_date: date  # the departure, or the death
    notes: str = field(metadata=LONG)


def parse(form: FormReader, ctx: FormContext) -> SettlementRequest:
    """A settlement. Employees file for themselves (and so never for a death); HR staff
    and administrators for anyone. The ID may be a passport number for a foreign national;
    a death cannot be in the future."""
    today = ctx.today
    reason = form.choice("settle_reason", SettleReason)
    person = form.person("person", actor=ctx.actor, may_file_for_others=ctx.may_file_for_others)
    if reason is SettleReason.DEATH and person and person == ctx.actor:
        # An employee's form has no person picker (it is always them): the reason is wrong.
        form.problem("person" if ctx.may_file_for_others else "settle_reason", "settle_death_self")
    full_name = form.name("full_name")
    number = resident_id.normalise(form.text("id_number"))
    if not number:
        form.problem("id_number", "required")
    elif len(number) == 18 and number[:17].isdigit():
        if code := resident_id.problem(number, today):
            form.problem("id_number", code)
    elif not _PASSPORT.match(number):
        form.problem("id_number", "id_number_format")
    event = form.day(
        "event_date",
        earliest=today - timedelta(days=366 * 5),
        latest=today if reason is SettleReason.DEATH else today + timedelta(days=366),
    )
    notes = form.notes("notes")
    form.done()
    return SettlementRequest(reason, person, full_name, number, event, notes)


def materials(form: SettlementRequest) -> str:
    return f"materials.settlement.{form.settle_reason}"


SPEC = KindSpec(
    kind=RequestKind.SETTLEMENT,
    command="settle",
    form=SettlementRequest,
    parse=parse,
    arguments=option_argument("settle_reason", SettleReason, "usage_settle"),
    subject_field="person",
    for_others=True,
    materials=materials,
    sensitive=True,
)
