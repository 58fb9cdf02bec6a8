"""The monthly report on demand: ``/si report [YYYY-MM]`` in Slack, ``si-bot report YYYY-MM
--out DIR`` at a terminal."""

from __future__ import annotations

from tests.conftest import ADMIN, ADMIN2, EMPLOYEE
from tests.report_month import at, november
from tests.slack import message_text
from tests.test_cli import run, workdir  # noqa: F401 - the fixture, shared
from tests.test_report_delivery import FILES, report_posts, shares


def test_an_administrator_asks_for_a_report_and_gets_it_in_their_dm(bot, clock, slack, fake_slack):
    november(bot, clock).messages_sent()
    clock.move_to(at(12, 3))
    reply = slack.command("report 2026-11", user=ADMIN)
    assert "Building the report for 2026-11" in message_text(reply.body)
    fake_slack.wait_for("files.completeUploadExternal")
    (post,) = report_posts(fake_slack, ADMIN)
    assert "Monthly report · 2026-11" in message_text(post) and "SI-2026-0006" in message_text(post)
    assert shares(fake_slack, "D" + ADMIN[1:])[0] == FILES
    # Last month by default; refusals say what to do.
    assert "2026-11" in message_text(slack.command("report", user=ADMIN2).body)
    assert "Only the filed" in message_text(slack.command("report 2026-11", user=EMPLOYEE).body)
    assert "has not begun" in message_text(slack.command("report 2027-01", user=ADMIN).body)
    assert "is not a month" in message_text(slack.command("report soon", user=ADMIN).body)
    assert "/si report YYYY-MM" in message_text(slack.command("report 2026-10 2026-11", user=ADMIN).body)


def test_si_bot_report_writes_the_charts_and_the_workbook(bot, clock, workdir, db):  # noqa: F811
    november(bot, clock).messages_sent()
    out = workdir / "out"
    env = {"DATABASE_URL": db.url, "SI_LANGUAGE": "en"}
    result = run(["report", "2026-10", "--out", str(out)], workdir, **env)
    assert result.returncode == 0, result.stderr
    assert "Requests received" in result.stdout and "1 received" in result.stdout
    # October's contributions: the roster's three, paid on the 23rd; due the 26th (the 25th
    # is a Sunday). Recording the payment marked October's payment duty done: a reminder figure.
    assert "3 people insured" in result.stdout and "1 duty(ies) marked done" in result.stdout
    assert "Paid on time: 8,876.01 yuan on 2026-10-23 (due 2026-10-26)" in result.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"si-bot-report-2026-10{s}"
        for s in ("-requests.png", "-turnaround.png", "-help.png", "-reminders.png", "-ledger.png", ".xlsx")
    )
    empty = run(["report", "2019-12", "--out", str(workdir / "empty")], workdir, **env)
    assert empty.returncode == 0 and "Nothing happened in 2019-12" in empty.stdout
    assert not (workdir / "empty").exists()
    assert run(["report", "2099-01", "--out", str(out)], workdir, **env).returncode == 2
    assert run(["report", "soon", "--out", str(out)], workdir, **env).returncode == 2
