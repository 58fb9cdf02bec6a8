"""What the ledger's templates show: plain, JSON-safe values (amounts as text, months,
dates, counts), for the messages that wait in the outbox and those drawn at once. Names and
resident IDs appear only in what goes to an administrator or to the person themself."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from bot.domain import resident_id
from bot.domain.ledger import MonthLedger, late_fee_per_day
from bot.domain.policy import Policy

if TYPE_CHECKING:
    from bot.services.bills import DifferenceView, Reconciliation
    from bot.services.ledger import ContributionsExport
    from bot.services.payments import PaymentRecorded

# A receipt sent to the bot this long after a payment was recorded is attached to it.
RECEIPT_WINDOW_HOURS = 24


def payment_params(recorded: PaymentRecorded, policy: Policy) -> dict[str, Any]:
    """What the ``payment_recorded`` message shows (JSON-safe: it waits in the outbox)."""
    payment = recorded.payment
    return {
        "month": payment.month,
        "amount": str(payment.amount),
        "paid_on": payment.paid_on.isoformat(),
        "reference": payment.reference,
        "by": payment.recorded_by,
        "ledger_total": str(recorded.ledger_total),
        "paid_total": str(recorded.paid_total),
        "difference": str(recorded.difference),
        "people": recorded.people,
        "per_day": str(late_fee_per_day(recorded.ledger_total, policy)),
        "receipt": payment.receipt_file_id is not None,
        "window_hours": RECEIPT_WINDOW_HOURS,
    }


def _money(value: Any) -> str:
    return str(value)


def totals_params(book: MonthLedger) -> dict[str, Any]:
    """A month's totals: per scheme and overall, the people, the figures' caveats."""
    return {
        "month": str(book.month),
        "people": len(book.lines),
        "employer": _money(book.employer_total),
        "employee": _money(book.employee_total),
        "total": _money(book.total),
        "schemes": [
            {"scheme": t.scheme, "employer": _money(t.employer), "employee": _money(t.employee)}
            for t in book.totals
        ],
        "missing_bases": book.missing_bases,
        "assumed": book.assumed,
        "unverified": not book.figures.period.verified,
        "closed": book.closed,
    }


def contributions_params(export: ContributionsExport, policy: Policy) -> dict[str, Any]:
    """The message that comes with a month's contribution files."""
    changes = export.changes
    return {
        **totals_params(export.ledger),
        "joined": len(changes.joiners),
        "left": len(changes.leavers),
        "rebased": len(changes.new_bases),
        "per_day": _money(late_fee_per_day(export.ledger.total, policy)),
        "payments": [
            {"amount": _money(p.amount), "paid_on": p.paid_on.isoformat(), "by": p.recorded_by}
            for p in export.payments
        ],
        "difference": _money(export.paid - export.ledger.total) if export.payments else None,
    }


def difference_params(d: DifferenceView) -> dict[str, Any]:
    """One difference as the administrator's message shows it (the resident ID masked: a
    name and the last digits are enough to tell people apart)."""
    return {
        "id": d.id,
        "name": d.full_name,
        "masked_id": resident_id.mask(d.resident_id),
        "reason": d.reason,
        "amount": _money(d.amount),
        "ledger_total": _money(d.ledger_total),
        "bill_total": _money(d.bill_total),
        "ledger_base": d.detail.get("ledger_base"),
        "bill_base": d.detail.get("bill_base"),
        "state": d.state,
        "note": d.note,
        "request": d.request,
    }


def reconciliation_params(rec: Reconciliation, tz: tzinfo, *, seen_before: bool = False) -> dict[str, Any]:
    """The reconciliation message: the bill against the ledger, the differences by reason
    and the first open ones, with what can be done with them."""
    return {
        "bill_id": rec.bill_id,
        "month": str(rec.month),
        "file": rec.file_name,
        "imported_at": rec.imported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "imported_by": rec.imported_by,
        "bill_people": rec.bill_people,
        "bill_total": _money(rec.bill_total),
        "ledger_people": rec.ledger_people,
        "ledger_total": _money(rec.ledger_total),
        "gap": _money(rec.bill_total - rec.ledger_total),
        "differences": rec.differences,
        "open": rec.open,
        "reconciled": rec.reconciled,
        "by_reason": [{"reason": r, "n": n} for r, n in sorted(rec.by_reason.items())],
        "shown": [difference_params(d) for d in rec.open_shown],
        "more": max(0, rec.open - len(rec.open_shown)),
        "open_rounding": rec.open_rounding,
        "seen_before": seen_before,
    }
