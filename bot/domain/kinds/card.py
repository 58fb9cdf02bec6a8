"""Social security card (社保卡): a first card, a lost one, or a replacement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.fields import FormReader
from bot.domain.kinds.spec import (
    LONG,
    RESIDENT_ID,
    Fact,
    FactContext,
    FormContext,
    KindSpec,
    option_argument,
    option_of,
)
from bot.domain.requests import RequestKind


class Bank(StrEnum):
    """The banks that issue social security cards (a select: a card or account number
    typed into a free-text bank field once reached the channel)."""

    ICBC = "icbc"
    ABC = "abc"
    BOC = "boc"
    CCB = "ccb"
    BOCOM = "bocom"
    PSBC = "psbc"
    CMB = "cmb"
    SPDB = "spdb"
    CITIC = "citic"
    CIB = "cib"
    BANK_OF_SHANGHAI = "bank_of_shanghai"
    RURAL_COMMERCIAL = "rural_commercial"
    OTHER = "other"


class CardAction(StrEnum):
    APPLY = "apply"  # a first card (new hires are usually applied for in batch)
    LOST = "lost"  # report the loss, then replace
    REPLACE = "replace"  # damaged, or the details on it changed


@dataclass(frozen=True)
class CardRequest:
    card_action: CardAction
    full_name: str
    resident_id: str = field(metadata=RESIDENT_ID)
    lost_on: date | None  # only for a lost card
    bank: str = field(metadata=option_of(Bank))  # the card's bank, whose hotline takes the loss report
    notes: str = field(metadata=LONG)


def parse(form: FormReader, ctx: FormContext) -> CardRequest:
    """A card request: the holder's name and resident ID; a lost card needs the day it
    was lost (not in the future, at most five years ago)."""
    today = ctx.today
    action = form.choice("card_action", CardAction)
    full_name = form.name("full_name")
    number = form.resident_id("resident_id", today)
    lost_on = form.day(
        "lost_on",
        required=action is CardAction.LOST,
        earliest=today - timedelta(days=366 * 5),
        latest=today,
    )
    if action is not CardAction.LOST:
        lost_on = None
    bank = form.choice("bank", Bank) if form.text("bank") else None
    notes = form.notes("notes")
    form.done()
    return CardRequest(action, full_name, number, lost_on, bank.value if bank else "", notes)


def materials(form: CardRequest) -> str:
    return f"materials.card.{form.card_action}"


def facts(form: CardRequest, ctx: FactContext) -> list[Fact]:
    return [Fact("fact.card_lost_now")] if form.card_action is CardAction.LOST else []


SPEC = KindSpec(
    kind=RequestKind.CARD,
    command="card",
    form=CardRequest,
    parse=parse,
    arguments=option_argument("card_action", CardAction, "usage_card"),
    materials=materials,
    facts=facts,
)
