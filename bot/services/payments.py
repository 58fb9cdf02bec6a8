"""The payment record (duty 8): a month's contributions declared and paid — the amount, the
day, who recorded it, a receipt's reference or file. No Slack in here.

Recording a payment, in one transaction: the payment row; the month's ledger recorded as
it stands (bot/services/ledger.py ``close_month``: what was paid is what it was paid for);
the month's payment reminders stopped and their posted copies redrawn; and a message to
the administrator with the figures and, when the amount is not the ledger's total, the
difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.deadlines import Deadline, DeadlineKind, deadlines_for_year
from bot.domain.errors import Refused
from bot.domain.fields import FormReader
from bot.domain.ledger import parse_payment
from bot.domain.months import YearMonth
from bot.domain.workplace import Workplace
from bot.presenters.ledger import RECEIPT_WINDOW_HOURS, payment_params
from bot.services import ledger, reminders, roles
from bot.services.outbox import Recipient, enqueue
from bot.services.stored import store_file
from bot.storage.models import LedgerMonth, Payment

RECEIPT_WINDOW = timedelta(hours=RECEIPT_WINDOW_HOURS)


@dataclass(frozen=True)
class PaymentRecorded:
    payment: Payment
    ledger_total: Decimal  # the month's total on the ledger
    paid_total: Decimal  # every payment recorded for the month, this one included
    people: int
    created: bool  # False: this submission had been recorded already

    @property
    def difference(self) -> Decimal:
        """What was paid less what the ledger says is owed."""
        return self.paid_total - self.ledger_total


def payment_deadline(workplace: Workplace, month: YearMonth) -> Deadline:
    """The payment deadline of ``month`` (as moved off a holiday)."""
    return next(
        d
        for d in deadlines_for_year(workplace.policy, workplace.calendar, month.year)
        if d.kind is DeadlineKind.PAYMENT and d.period == str(month)
    )


def check_month(
    session: Session, workplace: Workplace, *, actor: str, month: YearMonth, now: datetime
) -> None:
    """A payment may be recorded for this month or an earlier one, by an administrator:
    Refused ``admins_only`` or ``payment_month_ahead`` otherwise."""
    roles.require_admin(session, actor)
    current = YearMonth.of(workplace.today(now))
    if month > current:
        raise Refused("payment_month_ahead", month=str(month), current=str(current))


def record_payment(
    session: Session,
    workplace: Workplace,
    *,
    month: YearMonth,
    raw: dict[str, Any],
    actor: str,
    submission_key: str | None,
    now: datetime,
) -> PaymentRecorded:
    """Record a payment of ``month`` from the filled-in form (amount, day paid,
    reference). ``FieldErrors`` names every field to fix; Refused as
    :func:`check_month` says. The same submission twice records one payment."""
    check_month(session, workplace, actor=actor, month=month, now=now)
    if submission_key:
        found = session.scalar(select(Payment).where(Payment.submission_key == submission_key))
        if found is not None:
            return _recorded(session, found, created=False)
    form = parse_payment(FormReader(raw), month=month, today=workplace.today(now))
    book = ledger.close_month(session, workplace, month=month, actor=actor, now=now)
    payment = Payment(
        month=str(month),
        amount=form.amount,
        paid_on=form.paid_on,
        reference=form.reference,
        ledger_total=book.total,
        recorded_by=actor,
        recorded_at=now,
        submission_key=submission_key,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:  # the same modal submitted twice at once
        found = session.scalar(select(Payment).where(Payment.submission_key == submission_key))
        if found is None:
            raise
        return _recorded(session, found, created=False)
    reminders.handled_elsewhere(
        session, workplace, deadline=payment_deadline(workplace, month), actor=actor, now=now
    )
    recorded = _recorded(session, payment, created=True, people=len(book.lines))
    enqueue(
        session,
        key=f"payment:{payment.id}:recorded",
        notice="payment_recorded",
        to=Recipient.person(actor),
        params=payment_params(recorded, workplace.policy),
        now=now,
    )
    return recorded


def _recorded(
    session: Session, payment: Payment, *, created: bool, people: int | None = None
) -> PaymentRecorded:
    month = YearMonth.parse(payment.month)
    paid = sum((p.amount for p in ledger.payments_of(session, month)), Decimal("0.00"))
    if people is None:
        people = _people(session, month)
    return PaymentRecorded(payment, payment.ledger_total, paid, people, created)


def _people(session: Session, month: YearMonth) -> int:
    closed = session.get(LedgerMonth, str(month))
    return closed.people if closed is not None else 0


def attach_receipt(
    session: Session, *, actor: str, file_name: str, content: bytes, now: datetime
) -> Payment | None:
    """Keep ``content`` as the receipt of the latest payment ``actor`` recorded in the
    last RECEIPT_WINDOW that has none yet; None when there is no such payment (the file
    is then none of the payments' business)."""
    payment = session.scalar(
        select(Payment)
        .where(
            Payment.recorded_by == actor,
            Payment.receipt_file_id.is_(None),
            Payment.recorded_at >= now - RECEIPT_WINDOW,
        )
        .order_by(Payment.recorded_at.desc(), Payment.id.desc())
        .limit(1)
    )
    if payment is None:
        return None
    payment.receipt_file_id = store_file(
        session, kind="receipt", file_name=file_name, content=content, actor=actor, now=now
    ).id
    session.flush()
    return payment
