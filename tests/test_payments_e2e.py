"""The month's contributions and the payment record, end to end through the real Bolt app:
the payment reminder says what the month comes to, Record payment opens the form with the
ledger's total, recording it stops the reminders, the missed alert states the real total
and the late fee a day, `/si paid` shows a difference, a receipt sent in the DM is kept,
`/si export contributions` sends the files.

The roster: two people under the shipped Shanghai policy (2026-07..2027-06: floor 7,546,
ceiling 37,731; pension 16 / 8 %, medical 9 / 2 %, unemployment 0.5 / 0.5 %, work injury
0.16 / 0 %; to the cent, half up). Worked by hand, for 2026-11:
- 张三, base 9,000.00: pension 1,440.00 / 720.00; medical 810.00 / 180.00; unemployment
  45.00 / 45.00; work injury 14.40 / 0.00 — employer 2,309.40, employee 945.00: 3,254.40.
- 李四, base 8,000.50: pension 1,280.08 / 640.04; medical 720.045 -> 720.05 / 160.01;
  unemployment 40.0025 -> 40.00 / 40.00; work injury 12.8008 -> 12.80 / 0.00 — employer
  2,052.93, employee 840.05: 2,892.98.
- The month: 3,254.40 + 2,892.98 = 6,147.38 yuan; a late day: 6,147.38 × 0.05 % = 3.07369
  -> 3.07 yuan.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.scheduler import reminder_tick
from bot.services import roster
from bot.storage.models import LedgerMonth, Payment, ReminderSend, StoredFile
from tests.conftest import ADMIN, ADMIN2, ADMIN_CHANNEL, EMPLOYEE, SHANGHAI, STORY_NOW
from tests.slack import message_text
from tests.stories import WORKPLACE
from tests.test_roster_e2e import send_file, uploaded

ROSTER = """姓名,身份证号,Slack 用户,户籍类型,参保月份,停保月份,缴费基数（元）
张三,11010519491231002X,UEMPLOYEE1,本市城镇,2020-01,,9000.00
李四,440305198506152340,,外埠农村,2021-03,,8000.50
""".encode()
TOTAL = "6,147.38"


def local(month: int, day: int, hh: int = 9, mm: int = 5) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture
def enrolled(db):
    with db.session() as session:
        outcome = roster.import_roster(
            session, WORKPLACE, actor="cli", file_name="roster.csv", content=ROSTER, now=STORY_NOW
        )
    assert outcome.imported


def payment_posts(slack, channel: str = ADMIN_CHANNEL) -> list[dict]:
    return [p for p in slack.posts_to(channel) if "Declaration and payment for 2026-11" in message_text(p)]


def buttons(message: dict) -> list[str]:
    return [
        e["action_id"] for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
    ]


def test_the_reminder_says_the_total_record_payment_stops_the_reminders(slack, db, clock, enrolled):
    # Friday 20 November: the first of the three working days' warnings before the 25th.
    clock.move_to(local(11, 20))
    reminder_tick(slack.bot)
    slack.idle()
    (warning,) = payment_posts(slack)
    text = message_text(warning)
    assert f"*{TOTAL} yuan* for 2 people" in text and "*3.07 yuan a day*" in text
    assert buttons(warning) == ["reminder_done", "reminder_snooze", "payment_record"]

    # An administrator presses Record payment on the channel's copy: the form has the total.
    slack.press("payment_record", "2026-11", user=ADMIN2, channel=ADMIN_CHANNEL)
    form = slack.fake.wait_for("views.open")[-1].result["view"]
    assert "6147.38" in str(form["blocks"]) and f"*{TOTAL} yuan* for 2 people" in message_text(form)
    reply = slack.submit(
        form, {"amount": "6147.38", "paid_on": "2026-11-20", "reference": "TAX-20261120-01"}, user=ADMIN2
    )
    assert reply.status == 200 and reply.body["response_action"] == "update"
    shown = message_text(reply.body["view"])
    assert (
        "Payment for 2026-11 recorded" in shown
        and f"matches the ledger's total for 2 people: {TOTAL}" in shown
    )
    # The same submission again (Slack's retry) records nothing more.
    assert slack.submit(form, {"amount": "6147.38", "paid_on": "2026-11-20"}, user=ADMIN2).status == 200
    slack.idle()
    with db.session() as session:
        (payment,) = session.scalars(select(Payment))
        assert (payment.amount, payment.ledger_total, payment.reference) == (
            Decimal("6147.38"),
            Decimal("6147.38"),
            "TAX-20261120-01",
        )
        closed = session.get(LedgerMonth, "2026-11")
        assert closed.people == 2 and closed.employer_total + closed.employee_total == Decimal("6147.38")
    # The warning is redrawn: who handled it, and no buttons left.
    redrawn = slack.fake.wait_for("chat.update", 1)
    assert all(buttons(u.params) == [] for u in redrawn)
    (dm,) = [p for p in slack.posts_to(ADMIN2) if "recorded" in message_text(p)]
    assert "send me the file" in message_text(dm)

    # No more payment reminders: not on the 23rd, 24th, the due day, nor a missed alert.
    for day in (23, 24, 25, 26):
        clock.move_to(local(11, day))
        reminder_tick(slack.bot)
    slack.idle()
    assert len(payment_posts(slack)) == 1
    with db.session() as session:
        keys = [s.key for s in session.scalars(select(ReminderSend)) if s.key.startswith("payment:2026-11")]
    assert keys == ["payment:2026-11:warning:2026-11-20"]


def test_the_missed_alert_states_the_real_total_and_the_late_fee_a_day(slack, db, clock, enrolled):
    # Due on Wednesday the 25th (its reminder went out); on Thursday nobody had marked it.
    for day in (25, 26):
        clock.move_to(local(11, day))
        reminder_tick(slack.bot)
    slack.idle()
    due_day, missed = payment_posts(slack, ADMIN_CHANNEL)
    assert "Due *today*" in message_text(due_day)
    text = message_text(missed)
    assert text.startswith("Missed: Declaration and payment for 2026-11")
    assert f"*{TOTAL} yuan* for 2 people" in text
    assert "from 2026-11-26 until paid" in text and "*3.07 yuan a day*" in text
    assert "payment_record" in buttons(missed)


def test_a_payment_that_differs_from_the_ledger_shows_the_difference_and_keeps_the_receipt(
    slack, db, clock, enrolled
):
    assert (
        slack.command("paid 2026-11", user=EMPLOYEE)
        .body["text"]
        .startswith("Only the filed social-insurance administrators")
    )
    assert "has not come yet" in slack.command("paid 2026-12", user=ADMIN).body["text"]
    form = slack.open_form("paid 2026-11", user=ADMIN)
    reply = slack.submit(form, {"amount": "6,000", "paid_on": "2026-11-30"}, user=ADMIN)
    assert reply.body["response_action"] == "errors"
    assert reply.body["errors"] == {"paid_on": "This date is too far ahead: 2026-11-27 at the latest."}
    reply = slack.submit(form, {"amount": "6,000", "paid_on": "2026-11-24"}, user=ADMIN)
    shown = message_text(reply.body["view"])
    # 6,000.00 recorded against 6,147.38 on the ledger: 147.38 less.
    assert f"The ledger's total is *{TOTAL} yuan* for 2 people" in shown
    assert "*147.38 yuan* less than the ledger" in shown
    slack.idle()

    # The receipt, sent in the DM: kept with the payment.
    send_file(slack, "回单.pdf", b"%PDF-1.4 receipt")
    assert slack.fake.wait_until(lambda calls: any("回单.pdf" in str(c.params) for c in calls))
    slack.idle()
    (reply,) = [p for p in slack.posts_to(ADMIN) if "is kept as the receipt" in message_text(p)]
    assert "of the payment for 2026-11 (6,000.00 yuan, paid 2026-11-24)" in message_text(reply)
    with db.session() as session:
        payment = session.scalar(select(Payment))
        stored = session.get(StoredFile, payment.receipt_file_id)
        assert (stored.kind, stored.file_name, stored.content) == ("receipt", "回单.pdf", b"%PDF-1.4 receipt")

    # A second PDF has no payment waiting for a receipt: it is not a file the bot reads.
    send_file(slack, "other.pdf", b"%PDF-1.4 other")
    assert slack.fake.wait_until(
        lambda calls: any("I could not import *other.pdf*" in message_text(c.params) for c in calls)
    )


def test_the_month_s_contributions_arrive_as_files_with_a_summary(slack, db, clock, enrolled):
    reply = slack.command("export contributions 2026-11", user=ADMIN)
    assert "Working out the contributions of 2026-11" in reply.body["text"]
    slack.fake.wait_for("files.completeUploadExternal")
    slack.idle()
    (summary,) = slack.posts_to("D" + ADMIN[1:])
    text = message_text(summary)
    assert (
        f"*Contributions for 2026-11*: 2 people, *{TOTAL} yuan* — employer 4,362.33, employee 1,785.05"
        in text
    )
    assert "Pension: employer 2,720.08 · employee 1,360.04" in text
    assert "No payment recorded yet: record it with `/si paid 2026-11`" in text
    files = uploaded(slack.fake)
    assert set(files) == {"contributions-2026-11.xlsx", "contributions-2026-11.csv"}
    rows = list(csv.reader(io.StringIO(files["contributions-2026-11.csv"].decode("utf-8-sig"))))
    assert rows[1][:2] == ["张三", "11010519491231002X"]  # whole: the file is for administrators
    assert rows[1][-4:] == ["2309.40", "945.00", "3254.40", ""]
    book = load_workbook(io.BytesIO(files["contributions-2026-11.xlsx"]))
    assert book.sheetnames == ["2026-11", "Summary", "Changes"]
    summary_sheet = {r[0]: r[1:] for r in book["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert [round(v, 2) for v in summary_sheet["All schemes"][1:4]] == [4362.33, 1785.05, 6147.38]


def test_only_administrators_export_contributions(slack, db, enrolled):
    reply = slack.command("export contributions 2026-11", user=EMPLOYEE)
    assert reply.body["text"].startswith("Only the filed social-insurance administrators")
    assert "is not a month" in slack.command("export contributions 2026-13", user=ADMIN).body["text"]
