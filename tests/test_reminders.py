"""Reminders to the administrators, service level, through the real outbox to the fake Slack.

The clock is moved with time-machine, never slept. Dates are 2026 unless said otherwise,
with the State Council's 2026 arrangement: Spring Festival 15-23 February (make-up working
days Sat 14 and Sat 28 February), National Day 1-7 October (make-up days Sun 20 September
and Sat 10 October). Shanghai's default policy: change cut-off on the 20th, payment on the
25th, both moved to the previous working day, three working days' warning, reminders from
09:00 Asia/Shanghai.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.http_retry import builtin_handlers
from sqlalchemy import func, select

from bot.domain.calendar import WorkingCalendar
from bot.domain.deadlines import deadlines_for_year
from bot.domain.errors import Refused
from bot.domain.reminders import plan
from bot.presenters.reminders import reminder_params
from bot.scheduler import reminder_tick, start_scheduler
from bot.services import reminders
from bot.storage.models import (
    OutboxMessage,
    ReminderEngine,
    ReminderOccurrence,
    ReminderSend,
)
from tests.conftest import ADMIN, ADMIN2, ADMIN_CHANNEL, EMPLOYEE, SHANGHAI, policy_moving_back
from tests.slack import message_text
from tests.stories import add_request, new_hire

D = date
# Where reminders go by default ([reminders] to = "channel"): the admin channel alone.
AUDIENCE = (ADMIN_CHANNEL,)


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 5) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture
def settings(settings, tmp_path):
    """These stories were worked out on a policy that moves deadlines back and keeps the
    certificate exam (tests/conftest.py: policy_moving_back)."""
    return replace(settings, policy_file=str(policy_moving_back(tmp_path)))


@pytest.fixture
def cal(bot) -> WorkingCalendar:
    return bot.workplace.calendar


@pytest.fixture
def at(bot, clock):
    """Move the clock to a moment and run one reminder tick there."""

    def tick(moment: datetime) -> list[reminders.DueReminder]:
        clock.move_to(moment)
        return reminder_tick(bot)

    return tick


def sends(db) -> list[ReminderSend]:
    with db.session() as session:
        return list(session.scalars(select(ReminderSend).order_by(ReminderSend.id)))


def sent_keys(db) -> list[str]:
    return [s.key for s in sends(db)]


def posts(fake, occurrence: str | None = None) -> list[dict]:
    """Reminder messages posted to Slack (optionally of one occurrence)."""
    found = []
    for call in fake.calls_to("chat.postMessage"):
        values = [
            e.get("value")
            for b in call.params.get("blocks", [])
            if b.get("type") == "actions"
            for e in b["elements"]
        ]
        ours = any(
            str(v).startswith(("change_cutoff:", "payment:", "base_", "certificate", "stale")) for v in values
        )
        if ours and (occurrence is None or occurrence in values):
            found.append(call.params)
    return found


# --- a whole year --------------------------------------------------------------------------


def test_a_simulated_year_sends_each_reminder_once_on_its_working_day(bot, db, at, cal, fake_slack):
    day = D(2026, 1, 1)
    while day <= D(2026, 12, 31):
        for hh, mm in ((8, 55), (9, 0), (16, 30)):  # before the send time, at it, later on
            at(local(day.year, day.month, day.day, hh, mm))
        day += timedelta(days=1)

    done = sends(db)
    by_key = Counter(s.key for s in done)
    assert max(by_key.values()) == 1  # never twice

    # Exactly the plan, each on its own working day, from 09:00, none late.
    expected = set()
    for deadline in [d for year in (2025, 2026, 2027) for d in deadlines_for_year(bot.policy, cal, year)]:
        for when, stage in plan(deadline, bot.policy, cal):
            if D(2026, 1, 1) <= when <= D(2026, 12, 31):
                expected.add(f"{deadline.key}:{stage}:{when.isoformat()}")
    assert set(by_key) == expected
    for send in done:
        sent_local = send.sent_at.astimezone(SHANGHAI)
        assert sent_local.date() == send.scheduled_on and sent_local.hour == 9 and not send.late
        assert cal.is_working_day(send.scheduled_on)

    days = defaultdict(list)
    for send in done:
        days[send.scheduled_on].append(send.key.rsplit(":", 1)[0])
    # Spring Festival: the cut-off moved to the make-up Saturday, nothing in the holiday,
    # the missed alert on the first working day after it.
    assert days[D(2026, 2, 14)] == ["change_cutoff:2026-02:due_day", "payment:2026-02:warning"]
    assert all(not days[D(2026, 2, d)] for d in range(15, 24))
    assert days[D(2026, 2, 24)] == ["change_cutoff:2026-02:missed", "payment:2026-02:warning"]
    # National Day: the September cut-off falls on the make-up Sunday; nothing on 1-7 October.
    assert days[D(2026, 9, 20)] == ["change_cutoff:2026-09:due_day"]
    assert all(not days[D(2026, 10, d)] for d in range(1, 8))
    assert days[D(2026, 9, 28)] == ["payment:2026-09:missed"]  # Fri 25 moved to Thu 24
    # The certificate exam: a month before, then each working day of June until done.
    cert = [s.scheduled_on for s in done if s.key.startswith("certificate_exam:2026:")]
    assert cert[:3] == [D(2026, 5, 6), D(2026, 6, 1), D(2026, 6, 2)]
    assert cert[-2:] == [D(2026, 6, 30), D(2026, 7, 1)]
    # The base declaration: before and when the window opens, before and when it closes.
    assert [s.key for s in done if s.key.startswith("base_declaration_open:2026")][-1] == (
        "base_declaration_open:2026:due_day:2026-07-01"
    )

    # Every one reached the admin channel, once.
    posted = Counter(
        (p["channel"], next(e["value"] for b in p["blocks"] if b["type"] == "actions" for e in b["elements"]))
        for p in posts(fake_slack)
    )
    assert len(posts(fake_slack)) == len(AUDIENCE) * len(done)
    for target in AUDIENCE:
        assert sum(n for (channel, _), n in posted.items() if channel == target) == len(done)
    with db.session() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0


def test_a_year_without_holiday_data_falls_back_to_weekends_and_says_so(bot, db, at, fake_slack, caplog):
    caplog.set_level(logging.WARNING)
    claimed = at(local(2027, 1, 15))  # Friday: three working days before Wed 20 January
    assert [r.key for r in claimed] == ["change_cutoff:2027-01:warning:2027-01-15"]
    assert not claimed[0].calendar_covered
    text = message_text(posts(fake_slack)[0])
    assert "public holidays of 2027 are not known yet" in text and "holidays.toml" in text
    assert any("2027" in r.getMessage() and "holidays" in r.getMessage() for r in caplog.records)


def test_server_in_utc_and_policy_in_shanghai_across_midnight(bot, db, at, monkeypatch):
    for server_zone in ("UTC", "America/Los_Angeles"):
        monkeypatch.setenv("TZ", server_zone)
        time.tzset()
        try:
            utc = ZoneInfo("UTC")
            # 23:30 UTC on the 10th is 07:30 on the 11th in Shanghai: that day, but too early.
            assert at(datetime(2026, 2, 10, 23, 30, tzinfo=utc)) == []
            # 01:00 UTC is 09:00 in Shanghai: the 11th's reminder.
            claimed = at(datetime(2026, 2, 11, 1, 0, tzinfo=utc))
            assert [r.key for r in claimed] == ["change_cutoff:2026-02:warning:2026-02-11"]
            # Shanghai's midnight passes at 16:00 UTC: the 12th has begun, still before 09:00.
            assert at(datetime(2026, 2, 11, 16, 0, tzinfo=utc)) == []
            claimed = at(datetime(2026, 2, 12, 1, 0, tzinfo=utc))
            assert [r.key for r in claimed] == ["change_cutoff:2026-02:warning:2026-02-12"]
        finally:
            monkeypatch.delenv("TZ")
            time.tzset()
        db_reset(db)


def db_reset(db) -> None:
    from bot.storage.models import Base

    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def test_the_scheduler_ticks_in_si_timezone_whatever_the_server_zone(bot, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    scheduler = start_scheduler(bot)
    try:
        job = scheduler.get_job("reminder-tick")
        assert str(job.trigger.timezone) == "Asia/Shanghai"
        assert job.coalesce is True and job.misfire_grace_time is None and job.max_instances == 1
        assert str(scheduler.timezone) == "Asia/Shanghai"
    finally:
        scheduler.shutdown(wait=True)
        monkeypatch.delenv("TZ")
        time.tzset()


# --- Done and Snooze -------------------------------------------------------------------------


def test_done_stops_follow_ups_and_the_missed_alert(bot, db, at):
    at(local(2026, 2, 11))
    with db.session() as session:
        reminders.mark_done(session, key="change_cutoff:2026-02", actor=ADMIN, now=bot.now())
    for day in (12, 13, 14, 24, 25, 26):
        at(local(2026, 2, day))
    cutoff = [k for k in sent_keys(db) if k.startswith("change_cutoff:2026-02")]
    assert cutoff == ["change_cutoff:2026-02:warning:2026-02-11"]
    # The payment goes on: Done is for one occurrence.
    assert "payment:2026-02:missed:2026-02-26" in sent_keys(db)
    with db.session() as session, pytest.raises(Refused) as refused:
        reminders.mark_done(session, key="change_cutoff:2026-02", actor=ADMIN2, now=bot.now())
    assert refused.value.code == "reminder_already_done" and refused.value.params["by"] == ADMIN


def test_only_administrators_may_mark_done_or_snooze(bot, db, at, cal):
    at(local(2026, 2, 11))
    with db.session() as session:
        with pytest.raises(Refused) as refused:
            reminders.mark_done(session, key="change_cutoff:2026-02", actor=EMPLOYEE, now=bot.now())
        assert refused.value.code == "admins_only"
        with pytest.raises(Refused):
            reminders.snooze(
                session, bot.workplace, key="change_cutoff:2026-02", actor=EMPLOYEE, now=bot.now()
            )
        with pytest.raises(Refused) as refused:
            reminders.mark_done(session, key="payment:1999-01", actor=ADMIN, now=bot.now())
        assert refused.value.code == "reminder_not_found"
        occurrence = session.scalar(select(ReminderOccurrence))
        assert occurrence.handled_at is None and occurrence.snoozed_until is None


def test_snooze_brings_a_reminder_back_the_next_working_day(bot, db, at, cal):
    at(local(2026, 5, 6))  # the certificate exam, a month before; the next is on 1 June
    assert sent_keys(db) == ["certificate_exam:2026:warning:2026-05-06"]
    with db.session() as session:
        snoozed = reminders.snooze(
            session, bot.workplace, key="certificate_exam:2026", actor=ADMIN, now=bot.now()
        )
    assert snoozed.until == D(2026, 5, 7)
    at(local(2026, 5, 6, 17, 0))
    at(local(2026, 5, 7, 8, 59))
    assert len(sent_keys(db)) == 1  # not before tomorrow's send time
    at(local(2026, 5, 7))
    at(local(2026, 5, 8))
    assert sent_keys(db) == [
        "certificate_exam:2026:warning:2026-05-06",
        "certificate_exam:2026:warning:2026-05-07",
    ]


def test_snooze_on_a_friday_before_the_spring_festival_comes_back_on_the_make_up_saturday(bot, db, at, cal):
    at(local(2026, 2, 13))
    with db.session() as session:
        snoozed = reminders.snooze(session, bot.workplace, key="payment:2026-02", actor=ADMIN, now=bot.now())
    assert snoozed.until == D(2026, 2, 14)
    at(local(2026, 2, 13, 18, 0))
    at(local(2026, 2, 14))
    assert [k for k in sent_keys(db) if k.startswith("payment")] == [
        "payment:2026-02:warning:2026-02-13",
        "payment:2026-02:warning:2026-02-14",
    ]


def test_a_due_day_snoozed_unhandled_turns_into_the_missed_alert(bot, db, at, cal):
    at(local(2026, 3, 25))  # the payment's due day
    with db.session() as session:
        reminders.snooze(session, bot.workplace, key="payment:2026-03", actor=ADMIN, now=bot.now())
    at(local(2026, 3, 26))
    assert [k for k in sent_keys(db) if k.startswith("payment:2026-03")][
        -1
    ] == "payment:2026-03:missed:2026-03-26"


# --- exactly once: restarts and downtime ---------------------------------------------------


def test_a_restart_in_the_middle_of_a_tick_sends_nothing_twice(
    bot, make_bot, db, clock, fake_slack, monkeypatch
):
    clock.move_to(local(2026, 2, 14))  # two reminders due
    calls = []

    def dies_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == len(AUDIENCE) + 1:  # the second reminder's first message
            raise SystemExit("killed")
        return enqueue(*args, **kwargs)

    enqueue = reminders.enqueue
    monkeypatch.setattr(reminders, "enqueue", dies_on_second)
    with pytest.raises(SystemExit):
        reminder_tick(bot)
    assert sends(db) == [] and fake_slack.calls_to("chat.postMessage") == []  # all rolled back
    monkeypatch.setattr(reminders, "enqueue", enqueue)

    # Killed again, after the claim was committed and before anything was delivered.
    restarted = make_bot()
    monkeypatch.setattr(restarted.deliverer, "deliver_pending", lambda: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        reminder_tick(restarted)
    assert len(sends(db)) == 2 and fake_slack.calls_to("chat.postMessage") == []

    # The next process claims nothing new and delivers what was recorded, once.
    again = make_bot()
    assert reminder_tick(again) == []
    assert reminder_tick(again) == []
    assert len(posts(fake_slack)) == 2 * len(AUDIENCE)
    assert Counter(p["channel"] for p in posts(fake_slack)) == {t: 2 for t in AUDIENCE}


def test_downtime_across_a_send_time_sends_the_latest_reminder_late(bot, db, at, fake_slack):
    at(local(2026, 2, 11))
    # Down from the 11th until 15:00 on Friday the 13th: the 12th's reminder is superseded.
    claimed = at(local(2026, 2, 13, 15, 0))
    assert [(r.key, r.late) for r in claimed] == [
        ("change_cutoff:2026-02:warning:2026-02-13", True),
        ("payment:2026-02:warning:2026-02-13", True),
    ]
    text = message_text(posts(fake_slack, "change_cutoff:2026-02")[-1])
    assert "Sent late: it was due on 2026-02-13 at 09:00" in text
    assert not [k for k in sent_keys(db) if "2026-02-12" in k]


def test_downtime_across_a_deadline_becomes_the_missed_alert(bot, db, at, fake_slack):
    at(local(2026, 2, 11))
    # Down over the Spring Festival, back on the 25th at 10:00.
    claimed = at(local(2026, 2, 25, 10, 0))
    assert [(r.key, r.late) for r in claimed] == [
        ("change_cutoff:2026-02:missed:2026-02-24", True),
        ("payment:2026-02:due_day:2026-02-25", True),
    ]
    missed = message_text(posts(fake_slack, "change_cutoff:2026-02")[-1])
    assert "has passed and this was not marked done" in missed and "2026-03's" in missed
    at(local(2026, 2, 26))
    payment = message_text(posts(fake_slack, "payment:2026-02")[-1])
    assert "late fee of 0.05 % of the month's total for each day from 2026-02-26" in payment
    assert "5.00 yuan a day for every 10,000 yuan" in payment


def test_nothing_before_the_first_tick_is_sent_late_or_reported_missed(bot, db, at):
    claimed = at(local(2026, 2, 24))  # a fresh install, after the February cut-off
    assert [r.key for r in claimed] == ["payment:2026-02:warning:2026-02-24"]


def test_due_lists_what_a_tick_would_send_and_records_nothing(bot, db, clock, cal):
    with db.session() as session:
        due = reminders.due_reminders(session, bot.workplace, local(2026, 2, 14))
    assert [(r.key, r.stage, r.late) for r in due] == [
        ("change_cutoff:2026-02:due_day:2026-02-14", "due_day", False),
        ("payment:2026-02:warning:2026-02-14", "warning", False),
    ]
    with db.session() as session:
        assert reminders.due_reminders(session, bot.workplace, local(2026, 2, 14, 8, 0)) == []
        assert reminders.due_reminders(session, bot.workplace, local(2026, 2, 18)) == []  # holiday
    assert sends(db) == []


# --- what reminders say ------------------------------------------------------------------------


def test_the_cut_off_reminder_counts_the_month_changes_and_lists_those_awaiting_review(
    bot, db, at, fake_slack
):
    with db.session() as session:
        add_request(session, "SI-2026-0001", "change", "approved", local(2026, 2, 2))
        add_request(session, "SI-2026-0002", "change", "approved", local(2026, 2, 3), "2026-01")
        add_request(session, "SI-2026-0003", "change", "submitted", local(2026, 2, 9))
        add_request(
            session, "SI-2026-0004", "change", "submitted", local(2026, 2, 10), "2026-03"
        )  # next form
        add_request(session, "SI-2026-0005", "change", "done", local(2026, 2, 3))
    at(local(2026, 2, 11))
    for post in posts(fake_slack, "change_cutoff:2026-02"):
        text = message_text(post)
        assert "*2* approved and waiting for the form" in text and "*1* still awaiting review" in text
        assert "Awaiting review: SI-2026-0003" in text and "SI-2026-0004" not in text
        assert "Due *2026-02-14* (Sat), in 3 working days." in text
        assert "Moved from 2026-02-20 (Fri)" in text
        hire = new_hire(3)  # the one awaiting review: named nowhere, ID nowhere
        assert hire["full_name"] not in text and hire["resident_id"][:6] not in text
        buttons = [e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert buttons == [
            "reminder_done",
            "reminder_snooze",
            "reminder_see_changes",
            "reminder_export_change_form",
        ]


def test_one_stale_digest_a_working_day_and_complaints_stay_out_of_the_channel(bot, db, at, fake_slack):
    """In the channel (the default) the digest counts a complaint without its id."""
    with db.session() as session:
        add_request(session, "SI-2026-0001", "change", "submitted", local(2026, 2, 10, 11))
        add_request(session, "SI-2026-0002", "complaint", "submitted", local(2026, 2, 10, 12))
        add_request(session, "SI-2026-0003", "change", "submitted", local(2026, 2, 12, 12))  # too recent
    at(local(2026, 2, 12))
    assert not [k for k in sent_keys(db) if k.startswith("stale_digest")]
    at(local(2026, 2, 13))  # 11, 12, 13: three working days since the 10th
    at(local(2026, 2, 13, 16, 0))
    (digest,) = posts(fake_slack, "stale_digest:2026-02-13")
    assert digest["channel"] == ADMIN_CHANNEL
    text = message_text(digest)
    assert "2 requests have not been acted on" in text and digest["text"] == "Requests waiting too long: 2"
    assert "SI-2026-0001" in text and "SI-2026-0003" not in text and "SI-2026-0002" not in text
    assert "One of them is a confidential complaint, not named in a channel" in text
    assert "never paid" not in text and new_hire(1)["full_name"] not in text
    at(local(2026, 2, 14))
    assert len(posts(fake_slack, "stale_digest:2026-02-14")) == 1
    at(local(2026, 2, 16))  # a holiday: no digest
    assert [k for k in sent_keys(db) if k.startswith("stale_digest")] == [
        "stale_digest:2026-02-13",
        "stale_digest:2026-02-14",
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reminder_renders_in_both_languages(make_bot, db, clock, cal, lang):
    from slack_sdk.models.blocks import Block

    bot = make_bot(language=lang)
    with db.session() as session:
        session.add(ReminderEngine(id=1, started_on=D(2026, 1, 1), started_at=local(2026, 1, 1)))
        add_request(session, "SI-2026-0001", "change", "submitted", local(2026, 1, 5))
    moments = [
        local(2026, 2, 11),
        local(2026, 2, 24),
        local(2026, 2, 26),
        local(2026, 6, 30),
        local(2026, 7, 1),
    ]
    moments += [local(2026, 7, 31), local(2026, 8, 3), local(2027, 1, 15)]
    kinds = set()
    for moment in moments:
        with db.session() as session:
            for reminder in reminders.due_reminders(session, bot.workplace, moment):
                data = reminders.reminder_data(session, bot.workplace, reminder, moment)
                params = reminder_params(reminder, bot.workplace, moment, data)
                for state in ({}, {"handled_by": ADMIN, "handled_at": "2026-02-11 10:00"}):
                    shown = {**params, **state, "snoozed_until": None, "snoozed_by": None}
                    message = bot.messages.render(
                        reminders.notice_for(reminder.kind), policy=bot.policy, **shown
                    )
                    assert message["text"] and len(message["blocks"]) <= 50
                    for block in message["blocks"]:
                        Block.parse(block).validate_json()
                kinds.add((reminder.kind, reminder.stage))
    assert {k for k, _ in kinds} == {
        "change_cutoff",
        "payment",
        "base_declaration_open",
        "base_declaration_close",
        "certificate_exam",
        "stale_digest",
    }
    assert {s for _, s in kinds} == {"warning", "due_day", "missed", "digest"}


# --- Slack says no -------------------------------------------------------------------------------


def test_by_dm_each_administrator_gets_the_digest_with_the_complaints_and_no_channel_copy(
    make_bot, db, clock, fake_slack, tmp_path
):
    bot = make_bot(policy_file=str(policy_moving_back(tmp_path, reminders_to="dm")))
    with db.session() as session:
        add_request(session, "SI-2026-0001", "change", "submitted", local(2026, 2, 10, 11))
        add_request(session, "SI-2026-0002", "complaint", "submitted", local(2026, 2, 10, 12))
    clock.move_to(local(2026, 2, 13))
    reminder_tick(bot)
    digests = posts(fake_slack, "stale_digest:2026-02-13")
    assert sorted(p["channel"] for p in digests) == sorted([ADMIN, ADMIN2])
    for post in digests:
        text = message_text(post)
        assert "SI-2026-0001" in text and "SI-2026-0002" in text and "confidential" not in text
    assert not [p for p in posts(fake_slack) if p["channel"] == ADMIN_CHANNEL]


@pytest.mark.parametrize(("status", "headers"), [(429, {"Retry_After": "7"}), (500, {})])
def test_a_slack_429_or_500_delays_a_reminder_but_never_drops_or_doubles_it(
    make_bot, db, clock, fake_slack, monkeypatch, tmp_path, status, headers
):
    # By DM: two copies of one reminder, so that one postponed shows what the other does.
    bot = make_bot(policy_file=str(policy_moving_back(tmp_path, reminders_to="dm")))
    waited: list[float] = []
    monkeypatch.setattr(builtin_handlers.time, "sleep", waited.append)  # the client's own retries
    # After a 429 the client tries three times, then the outbox takes over; a post answered
    # 500 is not retried by the client (Slack may have it): the outbox looks for it first.
    for _ in range(3 if status == 429 else 1):
        fake_slack.fail_next("chat.postMessage", status, **headers)
    clock.move_to(local(2026, 2, 11))
    reminder_tick(bot)
    # The first message is postponed. After a 500 the others go out; after a 429 they wait
    # out its Retry-After too, as every sender does (bot/pacing.py).
    copies = 2
    waiting = copies if status == 429 else 1
    assert len(posts(fake_slack)) == copies - waiting
    if status == 429:
        assert len(waited) == 2 and all(w >= 7 for w in waited)  # Retry-After honoured
    with db.session() as session:
        postponed = session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all()
    assert len(postponed) == waiting and sorted(p.attempts for p in postponed)[-1] == 1
    assert bot.deliverer.deliver_pending() == 0  # not before its back-off
    clock.shift(timedelta(seconds=5))
    assert reminder_tick(bot) == [] and len(posts(fake_slack)) == copies - waiting
    clock.shift(timedelta(minutes=1))
    assert bot.deliverer.deliver_pending() == waiting
    assert bot.deliverer.deliver_pending() == 0
    assert sorted(p["channel"] for p in posts(fake_slack)) == sorted([ADMIN, ADMIN2])


def test_the_send_time_comes_from_the_policy(make_bot, db, clock, tmp_path):
    from bot.domain.policy import DEFAULT_POLICY_FILE, PolicyError, load_policy

    (tmp_path / "holidays.toml").write_text("[years]\n", encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace('send_at = "09:00"', 'send_at = "07:30"'),
        encoding="utf-8",
    )
    early = make_bot(policy_file=str(policy))
    # The shipped default moves the Spring Festival's cut-off to Tue 02-24: first warning 02-12.
    clock.move_to(local(2026, 2, 12, 7, 29))
    assert reminder_tick(early) == []
    clock.move_to(local(2026, 2, 12, 7, 30))
    assert [r.key for r in reminder_tick(early)] == ["change_cutoff:2026-02:warning:2026-02-12"]
    policy.write_text(
        DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace('send_at = "09:00"', 'send_at = "9 am"'),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match=r"reminders\.send_at"):
        load_policy(policy)
