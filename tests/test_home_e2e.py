"""App Home leads with today's work (issue 15 item 8) and shows people their own record
(issue 9), end to end through the real Bolt app: the app_home_opened event, views.publish
recorded by the fake Slack, presses on Home's overflow and select."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bench.bench_import import ROSTER_HEADER, to_file
from bot.console import slack_payloads as payloads
from bot.domain.months import YearMonth
from bot.services import payments, roster
from bot.services.ledger import month_ledger
from bot.services.roles import CLI_ACTOR
from bot.storage.models import ReminderOccurrence, ReminderSend, Request
from tests.conftest import ADMIN, EMPLOYEE, OTHER, SECRET, STORY_NOW
from tests.slack import message_text
from tests.stories import WORKPLACE, add_request
from tests.test_workspace_e2e import open_home


def press_home(slack, action_id: str, value: str, user: str = ADMIN):
    return slack.send(payloads.home_block_action(SECRET, user=user, action_id=action_id, value=value))


def story(db) -> None:
    """Eleven requests waiting (ten changes filed a day apart, the oldest ten days ago, and a
    complaint), one approved, one done; a payment reminder sent and not handled."""

    def add(public_id: str, kind: str, state: str, at) -> None:
        add_request(session, public_id, kind, state, at, effective_month="2026-12")

    with db.session() as session:
        for n in range(1, 11):
            add(f"SI-2026-{n:04d}", "change", "submitted", STORY_NOW - timedelta(days=11 - n))
        add("SI-2026-0011", "complaint", "submitted", STORY_NOW - timedelta(hours=2))
        add("SI-2026-0012", "change", "approved", STORY_NOW - timedelta(hours=1))
        add("SI-2026-0013", "change", "done", STORY_NOW - timedelta(hours=1))
        occurrence = ReminderOccurrence(
            key="payment:2026-11",
            kind="payment",
            period="2026-11",
            due_on=STORY_NOW.date() + timedelta(days=5),
            created_at=STORY_NOW - timedelta(days=2),
        )
        session.add(occurrence)
        session.flush()
        session.add(
            ReminderSend(
                key="payment:2026-11:warning:2026-11-25",
                occurrence_id=occurrence.id,
                stage="warning",
                scheduled_on=STORY_NOW.date() - timedelta(days=2),
                sent_at=STORY_NOW - timedelta(days=2),
                params={},
            )
        )


def test_the_administrators_home_leads_with_todays_work(slack, db):
    story(db)
    view = open_home(slack, ADMIN, 1)["view"]
    blocks = [message_text({"blocks": [b]}) for b in view["blocks"]]
    text = "\n".join(blocks)
    summary = next(i for i, b in enumerate(blocks) if "waiting for approval" in b)
    # Filed Tue 17 Nov, today Fri 27 Nov: 8 working days. The cut-off: Mon 21 Dec, 16 left.
    assert blocks[summary].strip() == (
        ":inbox_tray: *11* waiting for approval (oldest 8 working day(s)) · *1* approved, not yet "
        "filed · next cut-off 2026-12-21 (16 working day(s) left) · *1* complaint(s)"
    )
    rows = [i for i, b in enumerate(blocks) if "working day(s)" in b and "SI-2026-" in b]
    assert len(rows) == 8 and rows[0] > summary  # one a row, oldest first, the first eight
    assert "*SI-2026-0001* · Enrolment change · <@UEMPLOYEE1> · 8 working day(s)" in blocks[rows[0]]
    assert "+3 more" in blocks[rows[-1] + 1]
    reminders = next(i for i, b in enumerate(blocks) if "Reminders not yet handled" in b)
    assert "Declaration and payment for 2026-11 — due 2026-12-02" in blocks[reminders]
    rest = next(i for i, b in enumerate(blocks) if "Open requests (12)" in b)
    assert summary < rows[0] < reminders < rest
    overflow = view["blocks"][rows[0]]["accessory"]
    assert overflow["action_id"] == "home_waiting"
    assert [o["value"] for o in overflow["options"]] == ["approve:SI-2026-0001", "details:SI-2026-0001"]
    assert "Help topics" not in text

    # Details: a modal titled with the request's id, its history inside.
    assert press_home(slack, "home_waiting", "details:SI-2026-0002").status == 200
    (opened,) = slack.fake.wait_for("views.open", 1)
    assert opened.result["view"]["title"]["text"] == "Request SI-2026-0002"
    assert "History" in message_text(opened.result["view"])
    # Approve from Home: the request moves, and Home is redrawn without it.
    assert press_home(slack, "home_waiting", "approve:SI-2026-0001").status == 200

    def approved(_calls) -> bool:
        with db.session(read_only=True) as session:
            return (
                session.scalar(select(Request.state).where(Request.public_id == "SI-2026-0001")) == "approved"
            )

    assert slack.fake.wait_until(approved)
    # An employee cannot approve through a forged press.
    press_home(slack, "home_waiting", "approve:SI-2026-0002", user=EMPLOYEE)
    assert slack.fake.wait_until(
        lambda calls: any(
            c.method == "chat.postMessage"
            and c.params["channel"] == EMPLOYEE
            and "Only the filed" in message_text(c.params)
            for c in calls
        )
    )
    with db.session() as session:
        assert session.scalar(select(Request.state).where(Request.public_id == "SI-2026-0002")) == "submitted"


def test_an_employee_sees_their_own_record_and_nobody_else_does(slack, db):
    staff = [
        ["Zhang San", "11010519491231002X", "本市城镇", "2020-01", "12345.00", EMPLOYEE],
        ["Li Si", "110105197006100016", "本市城镇", "2021-03", "9000.00", ""],
    ]
    content = to_file("csv", [*ROSTER_HEADER, "Slack 用户"], staff)
    month = YearMonth(2026, 10)
    with db.session() as session:
        done = roster.import_roster(
            session, WORKPLACE, actor=CLI_ACTOR, file_name="roster.csv", content=content, now=STORY_NOW
        )
        assert done.imported, done.rejections
        total = month_ledger(session, WORKPLACE, month).total
        payments.record_payment(
            session,
            WORKPLACE,
            month=month,
            raw={"amount": str(total), "paid_on": "2026-10-15"},
            actor=ADMIN,
            submission_key=None,
            now=STORY_NOW,
        )
    text = message_text(open_home(slack, EMPLOYEE, 1)["view"])
    assert "Your insurance record" in text
    assert (
        "Enrolled · enrolled since 2020-01 · contribution base 12,345.00 yuan · "
        "last contribution recorded 2026-10" in text
    )
    # Another employee (no roster row linked) sees none of it.
    other = message_text(open_home(slack, OTHER, 2)["view"])
    assert "Your insurance record" not in other and "12,345.00" not in other and "Zhang San" not in other


def test_the_more_select_opens_any_other_form(slack, db):
    view = open_home(slack, EMPLOYEE, 1)["view"]
    assert "home_open_form_more" in str(view)
    assert press_home(slack, "home_open_form_more", "retirement", user=EMPLOYEE).status == 200
    (opened,) = slack.fake.wait_for("views.open", 1)
    assert opened.result["view"]["callback_id"] == "retirement_form"
