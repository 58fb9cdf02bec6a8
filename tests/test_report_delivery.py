"""The monthly report's delivery: on the first working day, once across processes, through
the outbox to the fake Slack, its files uploaded once whatever fails."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.domain.policy import DEFAULT_HOLIDAYS_FILE, DEFAULT_POLICY_FILE
from bot.scheduler import reminder_tick, report_tick
from bot.services import report
from bot.services.outbox import TargetKind
from bot.storage.models import MonthlyReport, OutboxMessage
from tests.conftest import ADMIN, ADMIN2, ADMIN_CHANNEL, SHANGHAI
from tests.report_month import NOVEMBER_REPORT, at, november
from tests.slack import message_text

SECTIONS = ("requests", "turnaround", "waiting", "help", "reminders", "ledger")
FILES = [f"si-bot-report-2026-11-{s}.png" for s in SECTIONS]
FILES.append("si-bot-report-2026-11.xlsx")


def report_posts(fake, channel: str) -> list[dict]:
    return [
        c.params
        for c in fake.calls_to("chat.postMessage")
        if c.params.get("channel") == channel and "Monthly report · 2026-11" in str(c.params.get("text", ""))
    ]


def shares(fake, channel: str) -> list[list[str]]:
    """The file names of each upload shared into ``channel``."""
    return [[f["name"] for f in m["files"]] for m in fake.history.get(channel, []) if "files" in m]


def outbox_rows(db, kind: TargetKind) -> list[OutboxMessage]:
    with db.session(read_only=True) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.target_kind == kind.value)))


def test_last_months_report_goes_to_the_admin_channel_once_on_the_first_working_day(
    bot, make_bot, clock, fake_slack, db
):
    november(bot, clock).messages_sent()
    clock.move_to(at(12, 1, 8, 59))
    assert report_tick(bot) is None  # the first working day, before the reminders' hour
    clock.move_to(at(12, 1, 9, 5))
    assert str(report_tick(bot)) == "2026-11"
    assert report_tick(bot) is None  # claimed
    assert report_tick(make_bot()) is None  # another process: claimed already
    clock.move_to(at(12, 15, 9, 5))
    assert report_tick(bot) is None

    (post,) = report_posts(fake_slack, ADMIN_CHANNEL)
    text = message_text(post)
    assert "Monthly report · 2026-11" in text and "SI-2026-0004" in text
    assert "SI-2026-0006" not in text  # a complaint's id is not posted in a channel
    assert "1 confidential request(s)" in text
    assert shares(fake_slack, ADMIN_CHANNEL) == [FILES]
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1
    assert not report_posts(fake_slack, ADMIN) and not report_posts(fake_slack, ADMIN2)
    with db.session(read_only=True) as session:
        (claimed,) = session.scalars(select(MonthlyReport))
    # The report the rendering tests draw is the one the service made, titles included.
    assert claimed.figures == NOVEMBER_REPORT and claimed.recipients == 1


def test_without_an_admin_channel_each_administrator_gets_it_by_dm(make_bot, clock, fake_slack):
    bot = make_bot(admin_channel="")
    november(bot, clock).messages_sent()
    clock.move_to(at(12, 1, 9, 5))
    assert str(report_tick(bot)) == "2026-11"
    for admin in (ADMIN, ADMIN2):
        (post,) = report_posts(fake_slack, admin)
        assert "SI-2026-0006" in message_text(post)  # an administrator's DM lists the complaint
        assert shares(fake_slack, "D" + admin[1:]) == [FILES]


def test_the_policy_file_can_turn_the_report_off(make_bot, settings, clock, tmp_path, fake_slack):
    policy = tmp_path / "policy.toml"
    policy.write_text(
        DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace("monthly = true", "monthly = false"),
        encoding="utf-8",
    )
    shutil.copy(DEFAULT_HOLIDAYS_FILE, tmp_path / "holidays.toml")
    bot = make_bot(policy_file=str(policy))
    november(bot, clock).messages_sent()
    clock.move_to(at(12, 1, 9, 5))
    assert report_tick(bot) is None
    assert not report_posts(fake_slack, ADMIN_CHANNEL)


def test_no_report_of_a_month_that_ended_before_si_bot_first_ran(bot, clock, fake_slack):
    clock.move_to(at(12, 1, 9, 5))
    reminder_tick(bot)  # reminders (and si-bot) start today
    assert report_tick(bot) is None
    clock.move_to(datetime(2027, 1, 4, 9, 5, tzinfo=SHANGHAI))
    assert str(report_tick(bot)) == "2026-12"  # December was watched: its report comes
    (post,) = [
        c.params for c in fake_slack.calls_to("chat.postMessage") if "Monthly report" in str(c.params["text"])
    ]
    assert "Nothing happened in 2026-12" in message_text(post)
    assert not fake_slack.calls_to("files.completeUploadExternal")  # no empty charts


def test_files_uploaded_before_a_crash_are_not_uploaded_again(bot, clock, fake_slack, db):
    november(bot, clock).messages_sent()
    clock.move_to(at(12, 1, 9, 5))
    with bot.db.session() as session:  # claimed and recorded; the process dies before sending
        assert report.send_monthly_report(session, bot.workplace, bot.now())
    (row,) = outbox_rows(db, TargetKind.REPORT_FILES)
    # It had uploaded the files when it died: Slack has them, the row is not marked sent.
    bot.deliverer.reports.upload(row.target, row.params, since=row.created_at)
    assert shares(fake_slack, ADMIN_CHANNEL) == [FILES]
    clock.move_to(at(12, 1, 9, 20))
    bot.deliverer.deliver_pending()  # the next process
    assert shares(fake_slack, ADMIN_CHANNEL) == [FILES]  # found there, not uploaded again
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1
    (row,) = outbox_rows(db, TargetKind.REPORT_FILES)
    assert row.sent_at is not None
    assert len(report_posts(fake_slack, ADMIN_CHANNEL)) == 1


@pytest.mark.parametrize("step", ["files.getUploadURLExternal", "files.completeUploadExternal"])
def test_a_slack_outage_during_the_upload_delays_the_files_and_loses_nothing(
    bot, clock, fake_slack, db, step
):
    november(bot, clock).messages_sent()
    clock.move_to(at(12, 1, 9, 5))
    fake_slack.fail_next(step, 503)
    report_tick(bot)
    (row,) = outbox_rows(db, TargetKind.REPORT_FILES)
    assert row.sent_at is None and row.attempts == 1
    assert shares(fake_slack, ADMIN_CHANNEL) == []
    assert len(report_posts(fake_slack, ADMIN_CHANNEL)) == 1  # the message did not wait
    clock.move_to(row.not_before + timedelta(seconds=1))
    bot.deliverer.deliver_pending()
    assert shares(fake_slack, ADMIN_CHANNEL) == [FILES]
    (row,) = outbox_rows(db, TargetKind.REPORT_FILES)
    assert row.sent_at is not None


def test_two_processes_ticking_at_once_send_one_report(bot, make_bot, clock, fake_slack):
    november(bot, clock).messages_sent()
    clock.move_to(at(12, 1, 9, 5))
    replicas = [bot, make_bot()]
    barrier = threading.Barrier(len(replicas))

    def tick(replica):
        barrier.wait()
        return report_tick(replica)

    with ThreadPoolExecutor(len(replicas)) as pool:
        claimed = list(pool.map(tick, replicas))
    assert sorted(map(str, claimed)) == ["2026-11", "None"]
    assert len(report_posts(fake_slack, ADMIN_CHANNEL)) == 1
    assert shares(fake_slack, ADMIN_CHANNEL) == [FILES]
