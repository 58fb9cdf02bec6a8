"""The bill's services: all or nothing, a corrected bill keeps what was made of the
differences it shares with the earlier one, each difference is resolved once, and a paid
month is reconciled against its recorded ledger. Figures as in tests/test_bill_e2e.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from bot.domain.errors import Refused
from bot.domain.months import YearMonth
from bot.services import bills, payments
from bot.storage.models import Bill, BillLine, Employee
from tests.conftest import ADMIN, EMPLOYEE, STORY_NOW
from tests.stories import WORKPLACE
from tests.test_bill_e2e import BILL, HEADER, LI, WANG_LINES, ZHANG_LINES, enrolled, lines  # noqa: F401
from tests.test_roster_rules import xlsx

NOVEMBER = YearMonth(2026, 11)
# 李四 billed as the ledger has him, on 8,000.50 (tests/test_payments_e2e.py).
LI_RIGHT = "1280.08/640.04 720.05/160.01 40.00/40.00 12.80/0"
# Every story: the administrators filed (the bot), and the roster of tests/test_bill_e2e.py.
pytestmark = pytest.mark.usefixtures("bot", "enrolled")


def import_bill(db, content: bytes = BILL, *, month=NOVEMBER, now=STORY_NOW, name="bill.xlsx"):
    with db.session() as session:
        return bills.import_bill(
            session, WORKPLACE, month=month, actor=ADMIN, file_name=name, content=content, now=now
        )


def open_differences(db) -> dict[str, int]:
    with db.session() as session:
        rec = bills.month_reconciliation(session, WORKPLACE, viewer=ADMIN, month=NOVEMBER)
    return {d.full_name: d.id for d in rec.open_shown}


def test_a_bill_with_one_wrong_row_imports_nothing(db):
    bad = xlsx([HEADER, ZHANG_LINES[0], [*ZHANG_LINES[1][:3], "公积金", *ZHANG_LINES[1][4:]]])
    outcome = import_bill(db, bad)
    assert not outcome.imported and [(r.row, r.code) for r in outcome.rejections] == [
        (3, "bill_scheme_unknown")
    ]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Bill)) == 0
        assert session.scalar(select(func.count()).select_from(BillLine)) == 0
    assert import_bill(db, b"not a workbook").problem == ("file_unreadable", {})


def test_a_corrected_bill_keeps_what_was_made_of_the_same_differences(db):
    first = import_bill(db)
    assert first.reconciliation.open == 3
    ids = open_differences(db)
    with db.session() as session:
        bills.explain(session, difference_id=ids["王五"], note="left 31 October", actor=ADMIN, now=STORY_NOW)
    # The center corrects 李四's base; 王五 is still billed, the same 1,824.00.
    fixed = xlsx([HEADER, *ZHANG_LINES, *lines("李四", LI, "8000.50", LI_RIGHT), *WANG_LINES])
    second = import_bill(db, fixed, now=STORY_NOW + timedelta(days=1))
    rec = second.reconciliation
    # 李四 now matches; 赵六 is missing from this bill; 王五's explanation carries over.
    assert {d.full_name: (d.reason, d.state, d.note) for d in second.differences} == {
        "王五": ("leaver_still_billed", "explained", "left 31 October"),
        "赵六": ("not_billed", "open", ""),
    }
    assert (rec.open, rec.reconciled) == (1, False)


def test_each_difference_is_resolved_once_and_only_by_an_administrator(db):
    import_bill(db)
    ids = open_differences(db)
    with db.session() as session, pytest.raises(Refused, match="admins_only"):
        bills.explain(session, difference_id=ids["王五"], note="x", actor=EMPLOYEE, now=STORY_NOW)
    with db.session() as session:
        bills.explain(session, difference_id=ids["王五"], note="x", actor=ADMIN, now=STORY_NOW)
    with db.session() as session, pytest.raises(Refused) as refused:
        bills.explain(session, difference_id=ids["王五"], note="y", actor=ADMIN, now=STORY_NOW)
    assert refused.value.code == "difference_resolved" and refused.value.params["state"] == "explained"
    with db.session() as session, pytest.raises(Refused, match="reason_required"):
        bills.explain(session, difference_id=ids["李四"], note="  ", actor=ADMIN, now=STORY_NOW)


def test_a_paid_month_is_reconciled_against_what_was_paid(db):
    with db.session() as session:
        payments.record_payment(
            session,
            WORKPLACE,
            month=NOVEMBER,
            raw={"amount": "9316.96", "paid_on": "2026-11-24"},
            actor=ADMIN,
            submission_key=None,
            now=STORY_NOW,
        )
        # After the payment, 李四's base is raised on the roster to what the center bills.
        session.execute(
            update(Employee).where(Employee.resident_id == LI).values(contribution_base=Decimal("8500"))
        )
    outcome = import_bill(db)
    # November as paid still has 李四 on 8,000.50: the base still differs from the bill.
    assert {d.full_name: d.reason for d in outcome.differences}["李四"] == "base_differs"
    assert outcome.reconciliation.ledger_total == Decimal("9316.96")
