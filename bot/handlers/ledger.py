"""The ledger in Slack: the month's contribution files, the payment record (``/si paid`` and
Record payment on the payment reminder), the center's bill reconciled (Explain, Turn into
a request), and the statements to the insured (Looks right, Something's wrong)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import commands as cmd
from bot.domain.errors import FieldErrors, Problem
from bot.domain.fields import MAX_AMOUNT
from bot.domain.months import YearMonth
from bot.exports import plain_words, upload_to_dm
from bot.handlers.forms import FormMetadata, correction_modal
from bot.handlers.listen import Interaction, Listen, Submission
from bot.handlers.replies import ephemeral, modal, notice
from bot.ids import ActionId, CallbackId
from bot.ledger_files import contributions_files, reconciliation_files
from bot.presenters.ledger import (
    contributions_params,
    difference_params,
    payment_params,
    reconciliation_params,
)
from bot.runtime import SiBot
from bot.services import bills, ledger, payments, roles, statements


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
        return {"response_action": "update", "view": modal(bot, shown, "payment_recorded")}

    @listen.button(ActionId.DIFFERENCE_ACTION, read_only=True)
    def difference_chosen(press: Interaction, session: Session) -> None:
        what, _, number = press.value.partition(":")
        found = bills.difference(session, difference_id=int(number), viewer=press.user)
        metadata = LedgerMetadata(item=number, channel=press.channel, ts=press.message_ts).dump()
        if what == "explain":
            callback = CallbackId.DIFFERENCE_EXPLAIN.value
            press.open(
                bot.messages.render(
                    "form_explain", callback_id=callback, metadata=metadata, d=difference_params(found)
                )
            )
            return
        words = plain_words(bot.messages)
        reason = words(f"bill.reason.{found.reason}")
        prefill = {
            **bills.request_prefill(found),
            "description": words(
                "bill.request_description",
                month=found.month,
                reason=reason,
                bill=found.bill_total,
                ledger=found.ledger_total,
            ),
        }
        press.open(
            correction_modal(
                bot, callback_id=CallbackId.DIFFERENCE_REQUEST.value, metadata=metadata, prefill=prefill
            )
        )

    @listen.submission(CallbackId.DIFFERENCE_EXPLAIN)
    def explained(form: Submission, session: Session) -> dict:
        number = int(LedgerMetadata.load(form.view.get("private_metadata")).item)
        note = form.values.get("note", "")
        if not note.strip():
            raise FieldErrors({"note": Problem("reason_required")})
        found = bills.explain(session, difference_id=number, note=note, actor=form.user, now=bot.now())
        left = bills.open_count(session, found.bill_id)
        shown = notice(bot, "bill.explained", name=found.full_name, open=left, month=found.month)
        return {"response_action": "update", "view": modal(bot, shown, "bill_difference")}

    @listen.submission(CallbackId.DIFFERENCE_REQUEST)
    def requested(form: Submission, session: Session) -> dict:
        number = int(LedgerMetadata.load(form.view.get("private_metadata")).item)
        found, public_id = bills.to_request(
            session,
            bot.workplace,
            difference_id=number,
            raw=form.values,
            actor=form.user,
            submission_key=form.key,
            now=bot.now(),
        )
        left = bills.open_count(session, found.bill_id)
        shown = notice(
            bot, "bill.requested", name=found.full_name, public_id=public_id, open=left, month=found.month
        )
        return {"response_action": "update", "view": modal(bot, shown, "bill_difference")}

    @listen.button(ActionId.STATEMENT_CONFIRM)
    def statement_confirmed(press: Interaction, session: Session) -> None:
        shown = statements.confirm(session, reference=press.value, actor=press.user, now=bot.now())
        press.redraw(bot.messages.render("statement", **shown))

    @listen.button(ActionId.STATEMENT_DISPUTE, read_only=True)
    def statement_disputed(press: Interaction, session: Session) -> None:
        prefill = statements.dispute_form(session, reference=press.value, actor=press.user)
        metadata = LedgerMetadata(item=press.value, channel=press.channel, ts=press.message_ts).dump()
        callback = CallbackId.STATEMENT_DISPUTE_FORM.value
        press.open(correction_modal(bot, callback_id=callback, metadata=metadata, prefill=prefill))

    @listen.submission(CallbackId.STATEMENT_DISPUTE_FORM)
    def statement_dispute_filed(form: Submission, session: Session) -> dict:
        public_id = statements.dispute(
            session,
            bot.workplace,
            reference=LedgerMetadata.load(form.view.get("private_metadata")).item,
            raw=form.values,
            actor=form.user,
            submission_key=form.key,
            now=bot.now(),
        )
        return {
            "response_action": "update",
            "view": modal(
                bot, notice(bot, "statement.dispute_filed", public_id=public_id), "statement_dispute"
            ),
        }

    @listen.button(ActionId.EXPLAIN_ROUNDING)
    def rounding(press: Interaction, session: Session) -> None:
        bill = bills.explain_rounding(session, bill_id=int(press.value), actor=press.user, now=bot.now())
        press.redraw(reconciliation_message(bot, bills.reconciliation_of(session, bot.workplace, bill)))


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


# --- the center's bill -------------------------------------------------------------------------


def reconciliation_message(bot: SiBot, rec: bills.Reconciliation) -> dict[str, Any]:
    return bot.messages.render("reconciliation", **reconciliation_params(rec, bot.workplace.tz))


def send_reconciliation(turn: Interaction, session: Session, month: YearMonth) -> None:
    """``/si bill YYYY-MM``: the month's reconciliation in the person's DM (its open
    differences first), with every difference as files."""
    bot = turn.bot
    rec = bills.month_reconciliation(session, bot.workplace, viewer=turn.user, month=month)
    message = reconciliation_message(bot, rec)
    words = plain_words(bot.messages)
    files = reconciliation_files(month, bills.differences_of(session, rec.bill_id), words)

    def send() -> None:
        bot.client.chat_postMessage(channel=turn.user, **message)
        if rec.differences:
            upload_to_dm(bot.client, turn.user, files, title=words("bill.sheet", month=str(month)))

    turn.then(send)


# --- statements ------------------------------------------------------------------------------


def own_statement(bot: SiBot, command: cmd.OwnStatement, user: str, session: Session) -> dict[str, Any]:
    """``/si statement [YYYY]``: the person's own months, seen by them only."""
    shown = statements.own_statement(session, bot.workplace, user=user, year=command.year, now=bot.now())
    return ephemeral(bot, "statement", **shown)


def statements_starting(
    bot: SiBot, command: cmd.SendStatements, user: str, session: Session
) -> dict[str, Any]:
    """``/si admin statements YYYY``, within the ack: what happens next (the counts come
    after the queuing)."""
    roles.require_admin(session, user)
    statements.months_of(command.year, YearMonth.of(bot.workplace.today(bot.now())))
    return notice(bot, "statements.starting", year=command.year)


def send_statements(turn: Interaction, command: cmd.SendStatements, session: Session) -> None:
    """After the ack: queue the year's statements, then tell the administrator the counts."""
    bot = turn.bot
    # Each chunk of people is a short transaction of its own (bot/services/statements.py).
    counted = statements.send_statements(
        bot.db.session, bot.workplace, year=command.year, actor=turn.user, now=bot.now()
    )
    turn.reply(ephemeral(bot, "statements_sent", c=counted, queued=True))


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
        max_amount=f"{MAX_AMOUNT:f}",
        paid=paid,
        due=due.isoformat(),
        today=bot.workplace.today(now).isoformat(),
    )
