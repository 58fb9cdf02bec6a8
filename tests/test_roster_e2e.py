"""Roster and wage files sent to si-bot in a DM, end to end through the real Bolt app: the
signed ``file_shared`` event, ``files.info`` and the download with the bot token from the
fake Slack, the import, the summary in the DM and the report uploaded as files."""

from __future__ import annotations

import csv
import io
import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.domain.roster import FileKind, ImportOutcome, PreviousImport, Rejection
from bot.messages import Messages
from bot.roster_files import summary_params
from bot.storage.models import Employee, WageRecord
from tests.conftest import ADMIN, EMPLOYEE, SHANGHAI, STORY_NOW
from tests.slack import SlackDriver, message_text
from tests.test_messages import check_message
from tests.test_roster_rules import LI, ZHANG, xlsx

_events = itertools.count(1)


ROSTER = xlsx(
    [
        ["姓名", "身份证号", "Slack 用户", "户籍类型", "参保月份", "缴费基数（元）"],
        ["张三", ZHANG, EMPLOYEE, "本市城镇", "2020-01", 9000],
        ["李四", LI, "", "外埠农村", "2021-03", 8000.5],
    ]
)


def dm_of(user: str) -> str:
    return "D" + user[1:]


def send_file(
    slack: SlackDriver, name: str, content: bytes, *, user: str = ADMIN, channel: str | None = None
):
    """``user`` sends a file to the bot: returns the file_shared event, to deliver again."""
    channel = channel or dm_of(user)
    file_id = slack.fake.share_file(name, content, user=user, channel=channel)
    event = {
        "type": "file_shared",
        "file_id": file_id,
        "user_id": user,
        "file": {"id": file_id},
        "channel_id": channel,
        "event_ts": f"1764300000.{next(_events):06d}",
    }
    assert slack.event(event, event_id=f"EvFile{file_id}").status == 200
    return event


def settle(slack: SlackDriver, count: int) -> list[dict]:
    slack.wait_posts(count)
    slack.idle()  # every listener has finished: a wrong extra message would be there now
    return slack.wait_posts(count)


def count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def uploaded(fake) -> dict[str, bytes]:
    names = {c.result["file_id"]: c.params["filename"] for c in fake.calls_to("files.getUploadURLExternal")}
    return {names[c.params["file_id"]]: c.params["content"] for c in fake.calls_to("upload")}


def test_an_administrator_sends_the_roster_and_it_is_imported_once(slack, db):
    event = send_file(slack, "花名册.xlsx", ROSTER)
    (summary,) = settle(slack, 1)
    assert summary["channel"] == ADMIN  # a DM to the administrator: the one the file came from
    assert "*花名册.xlsx* is imported (roster): 2 added, 0 changed, 0 unchanged." in message_text(summary)
    (download,) = slack.fake.calls_to("file_download")
    assert download.params["authorization"] == "Bearer xoxb-test"  # the bot token, as Slack requires
    with db.session() as session:
        li = session.scalar(select(Employee).where(Employee.resident_id == LI))
        assert (li.full_name, li.contribution_base, li.status) == ("李四", Decimal("8000.50"), "enrolled")

    # Slack retries the event, and delivers it again under another id: one import, one summary.
    assert slack.event(event, event_id=f"EvFile{event['file_id']}", retry=1).status == 200
    assert slack.event(event, event_id="EvFileAgain").status == 200
    assert len(settle(slack, 1)) == 1
    assert len(slack.fake.calls_to("file_download")) == 1 and count(db, Employee) == 2

    # The same file sent again (a new upload) is read, and changes nothing.
    send_file(slack, "花名册.xlsx", ROSTER)
    again = settle(slack, 2)[-1]
    assert "are already recorded as they are" in message_text(again)
    assert f"This file was imported on 2026-11-27 10:00 by <@{ADMIN}>" in message_text(again)


def test_a_wage_file_is_recognised_by_its_columns(slack, db):
    send_file(slack, "roster.xlsx", ROSTER)
    settle(slack, 1)
    # An old .xls from a payroll system, with a title line and more columns than wages.
    send_file(
        slack, "工资表-2026-10.xls", (Path(__file__).parent / "data" / "wages-2026-10.xls").read_bytes()
    )
    summary = settle(slack, 2)[-1]
    assert "(wage records): 2 added" in message_text(summary)
    with db.session() as session:
        wages = sorted(session.scalars(select(WageRecord.gross_wage)))
    assert wages == [Decimal("8000.00"), Decimal("12000.50")]


def test_a_bad_file_is_rejected_whole_with_a_summary_and_the_report_as_files(slack, db):
    bad = xlsx(
        [
            ["姓名", "身份证号", "户籍类型", "参保月份", "停保月份"],
            ["张三", ZHANG, "本市城镇", "2020-01", ""],
            ["李四", "440305198506152341", "外埠农村", "2021-03", ""],
            ["王五", ZHANG, "火星", "2022-05", "2021-01"],
        ]
    )
    send_file(slack, "roster.xlsx", bad)
    (summary,) = settle(slack, 1)
    text = message_text(summary)
    assert "*roster.xlsx* is not imported: 2 of its 3 rows are wrong. Nothing was changed" in text
    assert "Row 3, 身份证号: The last character does not match the others" in text
    assert "Row 4, 身份证号: Already in row 2 of this file." in text
    assert count(db, Employee) == 0

    complete = slack.fake.wait_for("files.completeUploadExternal", 1)[0].params
    assert complete["channel_id"] == dm_of(ADMIN)
    files = uploaded(slack.fake)
    assert set(files) == {"rejected-rows-roster.xlsx", "rejected-rows-roster.csv"}
    report = load_workbook(io.BytesIO(files["rejected-rows-roster.xlsx"])).active
    sheet = [list(r) for r in report.iter_rows(values_only=True)]
    assert sheet[0] == ["Row", "Column", "Value in the file", "Reason"]
    assert [r[:3] for r in sheet[1:]] == [
        [3, "身份证号", "440305198506152341"],
        [4, "身份证号", ZHANG],
        [4, "户籍类型", "火星"],
        [4, "停保月份", "2021-01"],
    ]
    lines = list(csv.reader(io.StringIO(files["rejected-rows-roster.csv"].decode("utf-8-sig"))))
    assert lines[1][0] == "3" and len(lines) == 5


def test_a_file_the_bot_cannot_read_is_answered_with_why(slack, db):
    send_file(slack, "payroll.pdf", b"%PDF-1.4")
    (summary,) = settle(slack, 1)
    assert "I could not import *payroll.pdf*: I import .csv, .xlsx and .xls files" in message_text(summary)
    assert not slack.fake.calls_to("files.getUploadURLExternal")


def test_a_file_from_someone_who_is_not_an_administrator_is_not_read(slack, db):
    event = send_file(slack, "roster.xlsx", ROSTER, user=EMPLOYEE)
    slack.event(event, event_id="EvRetry", retry=1)
    (reply,) = settle(slack, 1)
    assert reply["channel"] == EMPLOYEE  # in their DM with the bot
    assert "I only read roster and wage files, and only from the filed social-insurance administrators" in (
        message_text(reply)
    )
    assert not slack.fake.calls_to("files.info") and not slack.fake.calls_to("file_download")
    assert count(db, Employee) == 0


def test_files_shared_in_channels_and_by_the_bot_itself_are_left_alone(slack, db):
    send_file(slack, "roster.xlsx", ROSTER, channel="C0ADMIN")
    send_file(slack, "rejected-rows.xlsx", ROSTER, user="UBOTSIBOT")
    slack.idle()  # every listener has finished: a wrong reaction would be there now
    assert not slack.fake.calls_to("chat.postMessage") and not slack.fake.calls_to("files.info")
    assert count(db, Employee) == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_summaries_render_within_slacks_limits_in_both_languages(lang):
    long_reason = Rejection(2, "full_name", "姓名" * 40, "", "too_long", {"limit": 100})
    rejected = ImportOutcome(FileKind.ROSTER, "花名册 <b>&.xlsx", rows=500, rejections=(long_reason,) * 400)
    problem = ImportOutcome(None, "x.csv", problem=("columns_missing", {"fields": ["full_name", "hukou"]}))
    seen = PreviousImport(STORY_NOW, "cli", "roster.csv")
    unchanged = ImportOutcome(FileKind.WAGES, "w.csv", rows=3, unchanged=3, seen_before=seen)
    messages = Messages(lang)
    for outcome in (rejected, problem, unchanged):
        check_message(messages.render("import_summary", **summary_params(outcome, SHANGHAI)))
    text = message_text(messages.render("import_summary", **summary_params(rejected, SHANGHAI)))
    assert "花名册 &lt;b&gt;&amp;.xlsx" in text and text.count("•") == 10
    for why, params in (("not_admin", {}), ("too_large", {"file": "a.csv", "size": 61.2, "limit": 50})):
        check_message(messages.render("file_reply", why=why, params=params))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_files_name_is_shown_as_sent_its_marks_formatting_nothing(lang):
    messages = Messages(lang)
    marked = ImportOutcome(FileKind.WAGES, "_w_ *v2*.csv", rows=3, unchanged=3)
    summary = messages.render("import_summary", **summary_params(marked, SHANGHAI))
    assert "ˍwˍ ∗v2∗.csv" in summary["blocks"][0]["text"]["text"]
    too_large = {"file": "~big~ `x`.xlsx", "size": 61.2, "limit": 50}
    reply = messages.render("file_reply", why="too_large", params=too_large)
    assert "∼big∼ ˋxˋ.xlsx" in reply["blocks"][0]["text"]["text"]
