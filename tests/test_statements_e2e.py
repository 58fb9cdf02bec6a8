"""Statements to the insured, end to end: ``/si statement`` shows a person their own months;
``/si admin statements YYYY`` sends everyone insured in the year with a Slack user their
statement with Looks right / Something's wrong; an answer is recorded once, Something's
wrong files a correction request the administrators handle like the others; the counts.

Figures as in tests/test_payments_e2e.py: 张三 on 9,000.00 pays 945.00 a month, the
employer 2,309.40 (pension 720.00 / 1,440.00, medical 180.00 / 810.00, unemployment
45.00 / 45.00, work injury 0.00 / 14.40)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.domain.months import YearMonth
from bot.services import payments, roster, statements
from bot.storage.models import OutboxMessage, Request, Statement
from tests.conftest import ADMIN, EMPLOYEE, OTHER, SHANGHAI, STORY_NOW
from tests.slack import message_text
from tests.stories import WORKPLACE

ZHANG, LI, WANG = "11010519491231002X", "440305198506152340", "440305197901015552"
ROSTER = f"""姓名,身份证号,Slack 用户,户籍类型,参保月份,停保月份,缴费基数（元）
张三,{ZHANG},{EMPLOYEE},本市城镇,2026-09,,9000.00
李四,{LI},{OTHER},外埠农村,2021-03,2026-09,8000.50
王五,{WANG},,本市城镇,2019-05,,7600.00
""".encode()


@pytest.fixture
def enrolled(db, bot):
    with db.session() as session:
        assert roster.import_roster(
            session, WORKPLACE, actor="cli", file_name="roster.csv", content=ROSTER, now=STORY_NOW
        ).imported
        payments.record_payment(
            session,
            WORKPLACE,
            month=YearMonth(2026, 10),
            raw={"amount": "10000", "paid_on": "2026-10-23"},
            actor=ADMIN,
            submission_key=None,
            now=STORY_NOW,
        )


def buttons(message: dict) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["value"])
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_a_person_sees_their_own_months_of_the_year(slack, enrolled):
    reply = slack.command("statement", user=EMPLOYEE)
    text = message_text(reply.body)
    assert "Your social insurance statement 2026" in text
    # Enrolled from September: September to November, October paid.
    assert "*2026-09* · base 9,000.00 · :hourglass: payment not recorded yet" in text
    assert "*2026-10* · base 9,000.00 · :white_check_mark: paid" in text
    assert (
        "Pension: you 720.00, employer 1,440.00" in text and "Work injury: you 0.00, employer 14.40" in text
    )
    # 3 × 945.00 = 2,835.00; 3 × 2,309.40 = 6,928.20.
    assert "*2026 in all*: you 2,835.00 yuan, the employer 6,928.20 yuan." in text
    assert buttons(reply.body) == []
    assert "not on the roster" in slack.command("statement", user="UNOBODY01").body["text"]
    assert "2027 has not come yet" in slack.command("statement 2027", user=EMPLOYEE).body["text"]
    assert "is not a year" in slack.command("statement 26", user=EMPLOYEE).body["text"]


def test_the_yearly_statements_are_sent_answered_and_counted(slack, db, clock, enrolled):
    assert (
        "Only the filed social-insurance administrators"
        in slack.command("admin statements 2026", user=EMPLOYEE).body["text"]
    )
    reply = slack.command("admin statements 2026", user=ADMIN)
    assert "Sending the statements of 2026" in reply.body["text"]
    slack.idle()
    (counts,) = [r for r in slack.responses() if "queued now" in message_text(r)]
    # 张三 and 李四 (insured in 2026, with a Slack user); 王五 has none.
    assert "2 statement(s) of 2026 queued now" in message_text(counts)
    assert "1 person(s) insured in the year have no Slack user" in message_text(counts)

    # The fan-out is due at Slack's pace; the sweep sends it.
    clock.shift(60)
    slack.bot.deliverer.deliver_pending()
    statements_posted = {p["channel"]: p for p in slack.posts_to(EMPLOYEE) + slack.posts_to(OTHER)}
    assert set(statements_posted) == {EMPLOYEE, OTHER}
    mine = statements_posted[EMPLOYEE]
    assert "Your social insurance statement 2026" in message_text(mine)
    (confirm, dispute) = buttons(mine)
    assert confirm[0] == "statement_confirm" and dispute[0] == "statement_dispute"

    # Someone else cannot answer it; its person confirms it, once.
    slack.press("statement_confirm", confirm[1], user=OTHER, channel="D" + EMPLOYEE[1:])
    slack.press("statement_confirm", confirm[1], user=EMPLOYEE, channel="D" + EMPLOYEE[1:], message_ts="9.1")
    (redrawn,) = slack.fake.wait_for("chat.update")
    assert "You confirmed this statement" in message_text(redrawn.params) and buttons(redrawn.params) == []
    slack.press("statement_confirm", confirm[1], user=EMPLOYEE, channel="D" + EMPLOYEE[1:])
    slack.idle()
    said = [message_text(r) for r in slack.responses()]
    assert any("This statement is not yours" in t for t in said)
    assert any("You already answered this statement" in t for t in said)

    # 李四: Something's wrong asks what, and files a correction request.
    (_, theirs) = buttons(statements_posted[OTHER])
    slack.press("statement_dispute", theirs[1], user=OTHER, channel="D" + OTHER[1:])
    form = slack.fake.wait_for("views.open")[-1].result["view"]
    filled = {
        b["block_id"]: b["element"].get("initial_value")
        or b["element"].get("initial_option", {}).get("value")
        for b in form["blocks"]
        if b["type"] == "input"
    }
    assert (
        filled["full_name"] == "李四"
        and filled["month_from"] == "2026-01"
        and filled["month_to"] == "2026-09"
    )
    reply = slack.submit(
        form, {"issue": "base_wrong", "description": "My base was 8,500 from July."}, user=OTHER
    )
    assert "*SI-2026-0001* is filed" in message_text(reply.body["view"])
    slack.idle()
    with db.session() as session:
        request = session.scalar(select(Request))
        answers = dict(session.execute(select(Statement.slack_user, Statement.state)).all())
    assert (request.kind, request.requester_id) == ("correction", OTHER)
    assert answers == {EMPLOYEE: "confirmed", OTHER: "disputed"}
    card = [p for p in slack.posts_to("C0ADMIN") if "SI-2026-0001" in str(p.get("text"))]
    assert card, "the administrators get the request like any other"

    # Again: nobody is sent a second statement; the counts.
    slack.command("admin statements 2026", user=ADMIN)
    slack.idle()
    latest = [message_text(r) for r in slack.responses() if "queued now" in message_text(r)][-1]
    assert "0 statement(s) of 2026 queued now" in latest
    assert "2 in all · 2 sent · 1 confirmed · 1 disputed · 0 unanswered" in latest
    with db.session() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.notice == "statement")) == 2


def test_counts_before_anything_is_sent(db, bot, enrolled):
    counted = statements.send_statements(db.session, WORKPLACE, year=2026, actor=ADMIN, now=STORY_NOW)
    assert (counted.queued, counted.total, counted.delivered, counted.waiting) == (2, 2, 0, 2)
    with db.session() as session:
        due = list(session.scalars(select(OutboxMessage.not_before).order_by(OutboxMessage.id)))
    # One after the other at Slack's pace, from now.
    assert [d.astimezone(SHANGHAI) for d in due[-2:]] == [
        datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI),
        datetime(2026, 11, 27, 10, 0, 0, 200000, tzinfo=SHANGHAI),
    ]
