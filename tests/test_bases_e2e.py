"""The yearly base declaration end to end, through signed requests to the real app and the
fake Slack: /si bases compute → the review → Override → Lock (confirm dialog) → the
declaration sheet in the administrator's DM → a DM to each person → Confirm and Dispute →
the administrator resolves the dispute → a new DM; one reminder to the unanswered; and a
replica stopping in the middle of the fan-out, another finishing it, each person told once.

Base year 2026 (from 2026-07, Shanghai): floor 7,546, ceiling 37,731; rates employer 16 +
9 + 0.5 + 0.16 %, employee 8 + 2 + 0.5 %, each share rounded to the cent. July to September
2026 are paid (closed) on the roster's old bases before the declaration: the back-pay."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bot.domain.months import YearMonth
from bot.domain.resident_id import check_char
from bot.scheduler import bases_reminder_tick
from bot.services import bases, payments, roster, wages
from bot.storage.models import OutboxMessage, Request
from tests.conftest import ADMIN, EMPLOYEE, OTHER, STORY_NOW
from tests.slack import message_text
from tests.stories import WORKPLACE
from tests.test_workspace_e2e import wait_home

ZHANG, LI, WANG, ZHAO = "11010519491231002X", "440305198506152340", "110101198001010010", "440305197901015552"
WANG_USER = "UWANG00001"
ROSTER = f"""姓名,身份证号,Slack 用户,户籍类型,参保月份,停保月份,缴费基数（元）
张三,{ZHANG},{EMPLOYEE},本市城镇,2020-01,,9000.00
李四,{LI},{OTHER},外埠农村,2021-03,,8000.50
王五,{WANG},{WANG_USER},本市城镇,2025-09,,7460.00
赵六,{ZHAO},,本市城镇,2019-05,,7600.00
""".encode()


def wage_file(rows) -> bytes:
    return ("\n".join(["身份证号,姓名,月份,应发工资", *(",".join(r) for r in rows)]) + "\n").encode()


# 张三 12,000 a month (raised from 9,000: an outlier, +33 %); 李四 5,000 (held to the floor
# 7,546, lowered from 8,000.50); 王五 enrolled 2025-09: October and December, November
# missing; 赵六 7,600 (the same).
WAGES = wage_file(
    [(ZHANG, "张三", f"2025-{m:02}", "12000") for m in range(1, 13)]
    + [(LI, "李四", f"2025-{m:02}", "5000") for m in range(1, 13)]
    + [(WANG, "王五", "2025-10", "9000"), (WANG, "王五", "2025-12", "9600")]
    + [(ZHAO, "赵六", f"2025-{m:02}", "7600") for m in range(1, 13)]
)


def enrol(db, content: bytes = ROSTER, wage_content: bytes = WAGES, paid: int = 3) -> None:
    with db.session() as session:
        assert roster.import_roster(
            session, WORKPLACE, actor="cli", file_name="roster.csv", content=content, now=STORY_NOW
        ).imported
        assert wages.import_wages(
            session, WORKPLACE, actor="cli", file_name="wages.csv", content=wage_content, now=STORY_NOW
        ).imported
        for month in range(7, 7 + paid):
            payments.record_payment(
                session,
                WORKPLACE,
                month=YearMonth(2026, month),
                raw={"amount": "1000", "paid_on": f"2026-{month:02}-20"},
                actor=ADMIN,
                submission_key=None,
                now=STORY_NOW,
            )


def buttons(message: dict) -> dict[str, dict]:
    return {
        e["action_id"]: e for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
    }


def uploaded(fake) -> dict[str, bytes]:
    names = {c.result["file_id"]: c.params["filename"] for c in fake.calls_to("files.getUploadURLExternal")}
    return {names[c.params["file_id"]]: c.params["content"] for c in fake.calls_to("upload")}


def said(slack) -> list[str]:
    return [message_text(r) for r in slack.responses()]


def open_form(slack, action_id: str, value: str, *, user: str, **kw) -> dict:
    """Press ``action_id`` and return the modal it opens."""
    before = len(slack.fake.calls_to("views.open"))
    slack.press(action_id, value, user=user, **kw)
    return slack.fake.wait_for("views.open", before + 1)[-1].result["view"]


def dms(slack, user: str) -> list[dict]:
    return slack.posts_to(user)


def test_compute_review_override_lock_publicity_answers_and_resolution(slack, db, clock):
    enrol(db)
    assert (
        "Only the filed social-insurance administrators"
        in slack.command("bases compute 2026", user=EMPLOYEE).body["text"]
    )
    assert "no base period starting in 2028" in slack.command("bases compute 2028", user=ADMIN).body["text"]

    reply = slack.command("bases compute 2026", user=ADMIN)
    assert "Computing every enrolled person's base" in reply.body["text"]
    slack.idle()
    (review,) = [r for r in slack.responses() if "Contribution bases 2026" in message_text(r)]
    text = message_text(review)
    assert "Base year 2026 (from 2026-07), draft: 4 people." in text
    assert "Raised 1, lowered 1, the same 1, no base before 0; held to the floor 1" in text
    # 张三 +769.80 / +315.00, 李四 -116.63 / -47.72, 赵六 0: +653.17 / +267.28.
    assert "the company +653.17, the employees +267.28" in text
    assert "王五 1101**********0010: 2025-11" in text
    assert "张三 1101**********002X: 9,000.00 → 12,000.00" in text
    found = buttons(review)
    assert set(found) == {"bases_override", "bases_lock"}
    assert found["bases_lock"]["confirm"]["title"]["text"] == "Lock the declaration?"

    # Lock is refused while 王五's November is missing: nothing is guessed.
    slack.press("bases_lock", "2026", user=ADMIN)
    slack.idle()
    assert any("1 person(s) still have wage months missing" in t for t in said(slack))

    # Override 王五 with a reason (a base under the floor is refused on its field).
    form = open_form(slack, "bases_override", "2026", user=ADMIN)
    wrong = slack.submit(form, {"person": WANG, "base": "5000", "reason": "payslip"}, user=ADMIN)
    assert wrong.body["response_action"] == "errors" and "base" in wrong.body["errors"]
    reason = "November's payslip: 9,000 (not imported)"
    done = slack.submit(form, {"person": WANG, "base": "9300", "reason": reason}, user=ADMIN)
    assert "王五's base for 2026 is now *9,300.00*" in message_text(done.body["view"])

    # Lock: the review is redrawn locked, the sheet is in the administrator's DM.
    slack.press("bases_lock", "2026", user=ADMIN, channel="C0ADMIN", message_ts="7.1")
    slack.idle()
    (redrawn,) = slack.fake.wait_for("chat.update")
    assert "Locked (declared) by" in message_text(redrawn.params) and not buttons(redrawn.params)
    files = uploaded(slack.fake)
    sheet = files["bases-2026-declaration.csv"].decode("utf-8-sig").splitlines()
    assert sheet == [
        "Resident ID,Name,Base,Effective from",
        f"{ZHANG},张三,12000.00,2026-07",
        f"{LI},李四,7546.00,2026-07",
        f"{WANG},王五,9300.00,2026-07",
        f"{ZHAO},赵六,7600.00,2026-07",
    ]
    assert "bases-2026-declaration.xlsx" in files
    assert any("3 DM(s) are queued" in t for t in said(slack))
    # Compute again after the lock: nothing is re-computed; the review and the sheet again.
    again = slack.command("bases compute 2026", user=ADMIN).body["text"]
    assert "is locked: it is not computed again" in again
    slack.idle()
    assert any("0 DM(s) are queued" in t for t in said(slack))
    assert len(slack.fake.calls_to("files.completeUploadExternal")) == 2

    # The fan-out goes at Slack's pace: the sweep sends it.
    clock.shift(60)
    slack.bot.deliverer.deliver_pending()
    (zhang,) = dms(slack, EMPLOYEE)
    text = message_text(zhang)
    assert "张三: from *2026-07*, your monthly contribution base is *12,000.00* (before: 9,000.00)." in text
    assert "Why: the average of your monthly wages in 2025 (12 months: 2025-01 – 2025-12)." in text
    assert "*Each month*: you 1,260.00 (withheld from your wage), the company 3,079.20." in text
    assert "Pension: you 960.00, the company 1,920.00" in text
    # July to September paid on 9,000: 3 × 769.80 = 2,309.40 and 3 × 315.00 = 945.00.
    assert (
        "*The difference for 2026-07 – 2026-09* (3 month(s) already paid on your old base, 多退少补): "
        "you pay 945.00 more, the company 2,309.40 more." in text
    )
    (li,) = dms(slack, OTHER)
    text = message_text(li)
    assert "raised to this year's floor 7,546.00" in text
    # 3 × 47.72 = 143.16 and 3 × 116.63 = 349.89 back.
    assert "you get back 143.16, the company 349.89." in text
    (wang,) = dms(slack, WANG_USER)
    assert "Why: set by the administrator." in message_text(wang)

    # 张三 confirms (once; nobody else can).
    reference = buttons(zhang)["bases_confirm"]["value"]
    slack.press("bases_confirm", reference, user=OTHER, channel="D" + EMPLOYEE[1:])
    slack.press("bases_confirm", reference, user=EMPLOYEE, channel="D" + EMPLOYEE[1:], message_ts="9.1")
    slack.idle()
    confirmed = [c for c in slack.fake.calls_to("chat.update") if c.params.get("ts") == "9.1"]
    assert confirmed and "You confirmed your base" in message_text(confirmed[-1].params)
    assert any("This base is not yours" in t for t in said(slack))

    # 李四 disputes: the correction form, filled in; a request the administrators get.
    form = open_form(
        slack, "bases_dispute", buttons(li)["bases_dispute"]["value"], user=OTHER, channel="D" + OTHER[1:]
    )
    filled = {
        b["block_id"]: b["element"].get("initial_value")
        or b["element"].get("initial_option", {}).get("value")
        for b in form["blocks"]
        if b["type"] == "input"
    }
    assert (filled["full_name"], filled["resident_id"], filled["month_from"]) == ("李四", LI, "2026-07")
    reply = slack.submit(
        form,
        {"issue": "base_wrong", "expected": "8000", "description": "My 2025 wages were 8,000 a month."},
        user=OTHER,
    )
    assert "*SI-2026-0001* is filed" in message_text(reply.body["view"])
    slack.idle()
    with db.session() as session:
        request = session.scalar(select(Request))
    assert (request.kind, request.requester_id) == ("correction", OTHER)

    status = slack.command("bases status 2026", user=ADMIN).body
    text = message_text(status)
    assert "Confirmed 1: 张三" in text and "Disputed 1: 李四 (SI-2026-0001)" in text
    assert "Unanswered 1: 王五" in text and "not told in Slack) 1: 赵六" in text
    assert "Sent 3" in text
    # App Home shows the administrator the same, with the names.
    event = {"type": "app_home_opened", "user": ADMIN, "channel": "D" + ADMIN[1:], "tab": "home"}
    assert slack.event(event, event_id="EvHomeBases1").status == 200
    home = wait_home(slack.fake, ADMIN, "Contribution bases 2026: publicity")
    text = message_text(home)
    assert "Confirmed 1: 张三" in text and "Disputed 1: 李四 (SI-2026-0001)" in text
    assert "Unanswered 1: 王五" in text

    # The administrator resolves it: 8,000; 李四 gets a new DM.
    form = open_form(slack, "bases_resolve", buttons(status)["bases_resolve"]["value"], user=ADMIN)
    done = slack.submit(form, {"person": LI, "base": "8000", "reason": "Payroll confirms 8,000"}, user=ADMIN)
    assert "李四's base is now *8,000.00*" in message_text(done.body["view"])
    slack.idle()
    slack.bot.deliverer.deliver_pending()
    revised = dms(slack, OTHER)[-1]
    text = message_text(revised)
    assert "Your contribution base 2026, revised" in text and "*8,000.00* (before: 8,000.50)" in text
    # 8,000 against 8,000.50: 0.05 and 0.13 a month back, three months.
    assert "you get back 0.15, the company 0.39." in text

    # Three working days on (Friday to Wednesday): one reminder to whoever has not answered.
    clock.shift(timedelta(days=5))
    assert bases_reminder_tick(slack.bot) == 2
    assert bases_reminder_tick(slack.bot) == 0
    reminded = [p for p in dms(slack, WANG_USER) + dms(slack, OTHER) if "A reminder" in message_text(p)]
    assert len(reminded) == 2 and not [p for p in dms(slack, EMPLOYEE) if "A reminder" in message_text(p)]


PEOPLE = 30


def test_a_replica_stopping_in_the_fan_out_another_finishes_each_person_once(slack, make_bot, db, clock):
    numbers = [f"11010119800101{i:03d}" for i in range(PEOPLE)]
    numbers = [n + check_char(n) for n in numbers]
    rows = ["姓名,身份证号,Slack 用户,户籍类型,参保月份,停保月份,缴费基数（元）"]
    rows += [f"员工{i},{n},UFAN{i:05d},本市城镇,2020-01,,9000" for i, n in enumerate(numbers)]
    wage_rows = [
        (n, f"员工{i}", f"2025-{m:02}", "10000") for i, n in enumerate(numbers) for m in range(1, 13)
    ]
    enrol(db, "\n".join(rows).encode(), wage_file(wage_rows), paid=0)
    with db.session() as session:
        bases.compute(session, WORKPLACE, year=2026, actor=ADMIN, now=STORY_NOW)
    slack.press("bases_lock", "2026", user=ADMIN)
    slack.idle()
    assert any(f"{PEOPLE} DM(s) are queued" in t for t in said(slack))

    # The first replica sends part of the fan-out, then dies holding five rows it claimed.
    first = slack.bot
    clock.shift(1)  # the first few are due (one every 200 ms)
    first.deliverer.deliver_pending()
    sent_first = PEOPLE - unsent(db)
    assert 0 < sent_first < PEOPLE
    with db.session() as session:
        stuck = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.notice == "base_publicity", OutboxMessage.sent_at.is_(None))
                .limit(5)
            )
        )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(stuck))
            .values(claimed_until=datetime.now(UTC) + timedelta(minutes=2))
        )
    # The second replica (another process on the same database) finishes, once the dead
    # one's claims have run out.
    clock.shift(timedelta(minutes=3))
    second = make_bot()
    deadline = time.monotonic() + 60
    while unsent(db) and time.monotonic() < deadline:
        second.deliverer.deliver_pending()
    assert unsent(db) == 0
    posted = [
        c.params["channel"]
        for c in slack.fake.calls_to("chat.postMessage")
        if c.params["channel"].startswith("UFAN")
    ]
    assert sorted(posted) == sorted(f"UFAN{i:05d}" for i in range(PEOPLE))  # none lost, none twice
    with db.session() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.notice == "base_publicity")) == PEOPLE
        found = bases.status(session, year=2026, viewer=ADMIN)
    assert len(found.sent) == len(found.unanswered) == PEOPLE


def unsent(db) -> int:
    with db.session(read_only=True) as session:
        return session.scalar(
            select(func.count()).where(
                OutboxMessage.notice == "base_publicity", OutboxMessage.sent_at.is_(None)
            )
        )
