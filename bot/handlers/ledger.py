"""The ledger in Slack: the month's contribution files, the payment record (``/si paid`` and
Record payment on the payment reminder), the center's bill reconciled (Explain, Turn into
a request), and the statements to the insured (Looks right, Something's wrong)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.months import YearMonth
from bot.exports import plain_words, upload_to_dm
from bot.handlers.forms import FormMetadata
from bot.handlers.listen import Interaction, Listen, Submission
from bot.handlers.replies import modal
from bot.ids import ActionId, CallbackId
from bot.ledger_files import contributions_files
from bot.presenters.ledger import contributions_params, payment_params
from bot.runtime import SiBot
from bot.services import ledger, payments


@dataclass(frozen=True)
class LedgerMetadata(FormMetadata):
    """Carried in a ledger modal's private_metadata: what it is about (a month, a bill's
    difference or a statement: ``item``) and the message it was opened from (``channel``,
    ``ts``), to redraw it."""

    month: str = ""
    item: str = ""
    ts: str = ""


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.button(ActionId.RECORD_PAYMENT, read_only=True)
    def record_payment_pressed(press: Interaction, session: Session) -> None:
        month = YearMonth.parse(press.value)
        press.open(payment_form(bot, session, user=press.user, month=month))

    @listen.submission(CallbackId.PAYMENT_FORM)
    def record_payment(form: Submission, session: Session) -> dict:
        month = YearMonth.parse(LedgerMetadata.load(form.view.get("private_metadata")).month)
        recorded = payments.record_payment(
            session,
            bot.workplace,
            month=month,
            raw=form.values,
            actor=form.user,
            submission_key=form.key,
            now=bot.now(),
        )
        shown = bot.messages.render("payment_recorded", **payment_params(recorded, bot.policy))
        return {"response_action": "update", "view": modal(bot, shown)}


# --- the month's contributions -----------------------------------------------------------------


def send_contributions(turn: Interaction, session: Session, month: YearMonth) -> None:
    """``month``'s contributions to the person's DM: the .xlsx and .csv, then a message
    with the totals, the changes and the payment's state."""
    bot = turn.bot
    export = ledger.export_contributions(session, bot.workplace, month=month, actor=turn.user)
    words = plain_words(bot.messages)
    files = contributions_files(export, bot.policy, words)
    message = bot.messages.render(
        "contributions_ready", **contributions_params(export, bot.policy), files=[name for name, _ in files]
    )

    def send() -> None:
        channel = upload_to_dm(
            bot.client, turn.user, files, title=words("ledger.file_title", month=str(month))
        )
        bot.client.chat_postMessage(channel=channel, **message)

    turn.then(send)


# --- the payment record ----------------------------------------------------------------------


def payment_form(bot: SiBot, session: Session, *, user: str, month: YearMonth) -> dict[str, Any]:
    """The modal that records ``month``'s payment, with the ledger's total filled in.
    Refused for anyone but an administrator and for a month still to come."""
    now = bot.now()
    payments.check_month(session, bot.workplace, actor=user, month=month, now=now)
    book = ledger.month_total(session, bot.workplace, month)
    paid = sum((p.amount for p in ledger.payments_of(session, month)), 0)
    due = payments.payment_deadline(bot.workplace, month).due
    return bot.messages.render(
        "form_payment",
        callback_id=CallbackId.PAYMENT_FORM.value,
        metadata=LedgerMetadata(month=str(month)).dump(),
        month=str(month),
        total=book.total if book else None,
        people=len(book.lines) if book else 0,
        assumed=book.assumed if book else False,
        initial_amount=str(book.total) if book and not paid else "",
        paid=paid,
        due=due.isoformat(),
        today=bot.workplace.today(now).isoformat(),
    )
