"""The ledger's services: a month worked out from the roster, recorded when it is paid and
left as recorded after, one person's months, the year's payments, the export's changes,
and ``si-bot export contributions``. Figures as in tests/test_payments_e2e.py (the shipped
Shanghai policy): 张三 9,000.00 -> 3,254.40 a month, 李四 8,000.50 -> 2,892.98."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update

from bot.domain.ledger import BaseNote, MonthState
from bot.domain.months import YearMonth
from bot.services import ledger, payments, roster
from bot.storage.models import Base, Employee, LedgerLineRecord, ReminderEngine
from tests.conftest import ADMIN, STORY_NOW
from tests.stories import WORKPLACE
from tests.test_payments_e2e import ROSTER
from tests.test_roster_cli import cli  # noqa: F401 - the fixture

NOVEMBER = YearMonth(2026, 11)
ZHANG = "11010519491231002X"
LI = "440305198506152340"


def enrol(db) -> None:
    with db.session() as session:
        assert roster.import_roster(
            session, WORKPLACE, actor="cli", file_name="roster.csv", content=ROSTER, now=STORY_NOW
        ).imported


def set_base(db, number: str, base: str) -> None:
    with db.session() as session:
        session.execute(
            update(Employee).where(Employee.resident_id == number).values(contribution_base=Decimal(base))
        )


def pay(db, month: YearMonth, amount: str, key: str | None = None) -> payments.PaymentRecorded:
    with db.session() as session:
        return payments.record_payment(
            session,
            WORKPLACE,
            month=month,
            raw={"amount": amount, "paid_on": str(month.day(20)), "reference": "R"},
            actor=ADMIN,
            submission_key=key,
            now=STORY_NOW,
        )


def test_the_new_tables_match_their_migration(db):
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = {
        "stored_files",
        "ledger_months",
        "ledger_lines",
        "payments",
        "bills",
        "bill_lines",
        "bill_differences",
        "statement_runs",
        "statements",
    }
    assert [d for d in differences if any(t in repr(d) for t in mine)] == []


def test_a_month_is_worked_out_until_paid_then_kept_as_paid(db, bot):
    enrol(db)
    with db.session() as session:
        open_month = ledger.month_ledger(session, WORKPLACE, NOVEMBER)
    assert (open_month.total, open_month.closed) == (Decimal("6147.38"), False)

    recorded = pay(db, NOVEMBER, "6147.38")
    assert recorded.difference == 0 and recorded.people == 2
    # The roster changes afterwards (a new base for 张三): November stays as it was paid,
    # December is worked out on the new base.
    set_base(db, ZHANG, "12000.00")
    with db.session() as session:
        paid = ledger.month_ledger(session, WORKPLACE, NOVEMBER)
        december = ledger.month_ledger(session, WORKPLACE, NOVEMBER.plus(1))
        assert session.scalar(select(LedgerLineRecord.base).where(LedgerLineRecord.resident_id == ZHANG)) == (
            Decimal("9000.00")
        )
    assert (paid.total, paid.closed) == (Decimal("6147.38"), True)
    assert [line.base for line in paid.lines] == [Decimal("9000.00"), Decimal("8000.50")]
    # 张三 on 12,000.00: 1,920.00 + 1,080.00 + 60.00 + 19.20 = 3,079.20 employer;
    # 960.00 + 240.00 + 60.00 = 1,260.00 employee: 4,339.20. With 李四's 2,892.98: 7,232.18.
    assert december.total == Decimal("7232.18")

    # A second payment of the month adds up and leaves the recorded ledger alone.
    second = pay(db, NOVEMBER, "100.00")
    assert (second.paid_total, second.difference) == (Decimal("6247.38"), Decimal("100.00"))
    with db.session() as session:
        assert ledger.month_ledger(session, WORKPLACE, NOVEMBER).total == Decimal("6147.38")


def test_what_changed_since_the_paid_month_before(db, bot):
    enrol(db)
    pay(db, YearMonth(2026, 10), "6147.38")
    set_base(db, ZHANG, "5000.00")  # below the floor: 7,546.00 is used
    with db.session() as session:
        session.execute(
            update(Employee).where(Employee.resident_id == LI).values(leaving_month="2026-10", status="left")
        )
        export = ledger.export_contributions(session, WORKPLACE, month=NOVEMBER, actor="cli")
    assert [line.full_name for line in export.changes.leavers] == ["李四"]
    ((before, after),) = [(c.before, c.after) for c in export.changes.new_bases]
    assert (before.base, after.base, after.note) == (Decimal("9000.00"), Decimal("7546.00"), BaseNote.RAISED)


def test_one_person_s_months_come_from_the_recorded_and_the_open_ones(db, bot):
    enrol(db)
    pay(db, YearMonth(2026, 10), "6147.38")
    set_base(db, ZHANG, "10000.00")
    with db.session() as session:
        zhang = session.scalar(select(Employee.id).where(Employee.resident_id == ZHANG))
        months = [YearMonth(2019, 12), YearMonth(2026, 10), NOVEMBER]
        lines = ledger.person_lines(session, WORKPLACE, employee_id=zhang, months=months)
    assert lines[0] is None  # enrolled from 2020-01
    assert [line.base for line in lines[1:]] == [Decimal("9000.00"), Decimal("10000.00")]


def test_the_year_s_payments_paid_due_late_or_to_come(db, bot):
    enrol(db)
    pay(db, YearMonth(2026, 10), "6147.38")
    with db.session() as session:
        session.add(ReminderEngine(id=1, started_on=date(2026, 9, 1), started_at=STORY_NOW))
    with db.session() as session:
        year = ledger.year_payments(session, WORKPLACE, year=2026, today=date(2026, 11, 27))
    states = {str(m.month): m.state for m in year}
    assert states["2026-10"] is MonthState.PAID and year[9].paid == Decimal("6147.38")
    assert states["2026-09"] is MonthState.LATE  # due 28 September: si-bot was running
    assert states["2026-08"] is MonthState.UNRECORDED  # due 25 August, before si-bot started
    assert states["2026-11"] is MonthState.LATE  # due Wednesday 25 November
    assert states["2026-12"] is MonthState.UPCOMING
    with db.session() as session:
        year = ledger.year_payments(session, WORKPLACE, year=2026, today=date(2026, 11, 25))
    assert year[10].state is MonthState.DUE and year[10].due == date(2026, 11, 25)


def test_a_payment_for_a_month_to_come_or_by_someone_else_is_refused(db, bot):
    import pytest

    from bot.domain.errors import FieldErrors, Refused

    with pytest.raises(Refused, match="payment_month_ahead"):
        pay(db, YearMonth(2026, 12), "1.00")
    with pytest.raises(FieldErrors) as problems:
        pay(db, NOVEMBER, "0")
    assert set(problems.value.problems) == {"amount"}
    with db.session() as session, pytest.raises(Refused, match="admins_only"):
        payments.record_payment(
            session,
            WORKPLACE,
            month=NOVEMBER,
            raw={"amount": "1", "paid_on": "2026-11-20"},
            actor="UEMPLOYEE1",
            submission_key=None,
            now=STORY_NOW,
        )


def test_a_receipt_is_attached_only_to_a_payment_just_recorded_by_the_same_person(db, bot):
    pay(db, NOVEMBER, "10.00")
    with db.session() as session:
        assert (
            payments.attach_receipt(session, actor="UOTHER", file_name="a.pdf", content=b"x", now=STORY_NOW)
            is None
        )
        later = STORY_NOW + timedelta(hours=25)
        assert (
            payments.attach_receipt(session, actor=ADMIN, file_name="a.pdf", content=b"x", now=later) is None
        )
        attached = payments.attach_receipt(
            session, actor=ADMIN, file_name="a.pdf", content=b"x", now=STORY_NOW
        )
        assert attached is not None and attached.receipt_file_id is not None
        assert (
            payments.attach_receipt(session, actor=ADMIN, file_name="b.pdf", content=b"y", now=STORY_NOW)
            is None
        )


def test_si_bot_export_contributions_writes_the_month_into_a_folder(cli, db, tmp_path):  # noqa: F811
    enrol(db)
    code, out, _ = cli("export", "contributions", "2026-11", "--out", "ledger")
    assert code == 0, out
    assert "Contributions for 2026-11: 2 people, 6,147.38 yuan (employer 4,362.33, employee 1,785.05)" in out
    assert "Since last month: 0 joined, 0 left, 0 new base(s)." in out
    rows = list(
        csv.reader(io.StringIO((tmp_path / "ledger" / "contributions-2026-11.csv").read_text("utf-8-sig")))
    )
    assert len(rows) == 3 and rows[2][0] == "李四" and rows[2][-2] == "2892.98"
    assert (tmp_path / "ledger" / "contributions-2026-11.xlsx").stat().st_size > 0
    code, _, err = cli("export", "contributions", "2026/13", "--out", "ledger")
    assert code == 2 and "is not a month" in err


def test_app_home_shows_the_year_s_payments_to_administrators(db, bot):
    from bot.services import home

    enrol(db)
    pay(db, YearMonth(2026, 10), "6147.38")
    with db.session() as session:
        session.add(ReminderEngine(id=1, started_on=date(2026, 11, 2), started_at=STORY_NOW))
    with db.session() as session:
        shown = home.home_for(session, WORKPLACE, user=ADMIN, now=STORY_NOW)["payments"]
    # si-bot started in November: only November, due since then, is late; before, unrecorded.
    assert shown["year"] == 2026 and shown["late"] == 1
    assert shown["months"][8]["state"] == "unrecorded"
    assert shown["months"][9] == {"month": "2026-10", "state": "paid", "due": "2026-10-26", "paid": "6147.38"}


def test_a_month_s_summary_has_the_figures_of_its_ledger_recorded_or_worked_out(db, bot):
    from bot.domain.ledger import summarise

    enrol(db)
    pay(db, NOVEMBER, "6147.38")
    set_base(db, LI, "9000")  # after November was recorded: December is worked out with it
    with db.session() as session:
        for month in (NOVEMBER, NOVEMBER.plus(1)):
            summary = ledger.month_summary(session, WORKPLACE, month)
            assert summary == summarise(ledger.month_ledger(session, WORKPLACE, month))
            assert len(summary.people) == 2
        november = ledger.month_summary(session, WORKPLACE, NOVEMBER)
        december = ledger.month_summary(session, WORKPLACE, NOVEMBER.plus(1))
    # 张三 3,254.40 and 李四 2,892.98 as recorded; in December both on 9,000: 2 x 3,254.40.
    assert (november.closed, november.total) == (True, Decimal("6147.38"))
    assert (december.closed, december.total) == (False, Decimal("6508.80"))
    assert november.schemes == ("pension", "medical", "unemployment", "work_injury")
