"""``si-bot reminders due | calendar``, run as an administrator runs them: real processes."""

from __future__ import annotations

import shutil

from bot.domain.policy import DEFAULT_POLICY_FILE
from tests.test_cli import run, workdir  # noqa: F401 - the fixture, shared


def test_calendar_2026_shows_the_holiday_moves(workdir):  # noqa: F811
    result = run(["reminders", "calendar", "2026"], workdir, SI_LANGUAGE="en")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Public holidays: chinese_calendar" in out and "WARNING" not in out
    # Deadlines in a holiday move to the first working day after it (税收征收管理法实施细则
    # Art. 109): the Spring Festival's cut-off to Tue 02-24, the Mid-Autumn payment to Mon 09-28.
    assert "2026-02-24 Tue  Change cut-off for 2026-02  (moved from 2026-02-20 Fri)" in out
    assert "reminders: 02-12, 02-13, 02-14, 02-24; missed alert 02-25" in out
    assert "2026-09-20 Sun  Change cut-off for 2026-09" in out  # a make-up working Sunday
    assert "2026-09-28 Mon  Declaration and payment for 2026-09  (moved from 2026-09-25 Fri)" in out
    assert "reminders: 09-22, 09-23, 09-24, 09-28; missed alert 09-29" in out
    assert "certificate" not in out  # abolished for companies: off by default


def test_calendar_2027_falls_back_to_weekends_and_says_so(workdir):  # noqa: F811
    result = run(["reminders", "calendar", "2027"], workdir, SI_LANGUAGE="en")
    assert result.returncode == 0, result.stderr
    assert "WARNING: the public holidays of 2027 are not known yet" in result.stdout
    assert "Add [years.2027]" in result.stdout
    assert "2027-02-22 Mon  Change cut-off for 2027-02  (moved from 2027-02-20 Sat)" in result.stdout
    assert "no public holidays known for 2027" in result.stderr  # and in the log


def test_calendar_in_chinese_by_default(workdir):  # noqa: F811
    result = run(["reminders", "calendar", "2027"], workdir)
    assert "警告：尚无 2027 年的法定节假日安排" in result.stdout
    assert "2027-02-22 周一  2027-02 参保变更截止" in result.stdout


def test_an_administrator_adds_2027_to_the_holidays_file_and_the_deadlines_move(workdir):  # noqa: F811
    policy = workdir / "policy.toml"
    shutil.copy(DEFAULT_POLICY_FILE, policy)
    (workdir / "holidays.toml").write_text(
        """
[years.2027]
source = "a test notice"
holidays = ["2027-02-15..2027-02-21"]
workdays = [2027-02-14]
""",
        encoding="utf-8",
    )
    result = run(["reminders", "calendar", "2027"], workdir, SI_LANGUAGE="en", SI_POLICY_FILE=str(policy))
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stdout and "holidays.toml: a test notice" in result.stdout
    # Sat 20 February is in the new holiday: the cut-off moves to the first working day after
    # it, Mon 02-22; the last warning falls on the make-up Sunday 02-14.
    assert "2027-02-22 Mon  Change cut-off for 2027-02  (moved from 2027-02-20 Sat)" in result.stdout
    assert "reminders: 02-11, 02-12, 02-14, 02-22; missed alert 02-23" in result.stdout


def test_due_lists_what_is_due_at_a_moment(workdir):  # noqa: F811
    result = run(["reminders", "due", "--at", "2026-12-17T09:00"], workdir, SI_LANGUAGE="en")
    assert result.returncode == 0, result.stderr
    assert "Due at 2026-12-17 09:00 (Asia/Shanghai):" in result.stdout
    assert "[change_cutoff:2026-12:warning:2026-12-17]" in result.stdout
    result = run(["reminders", "due", "--at", "2026-12-10T09:00"], workdir, SI_LANGUAGE="en")
    assert "Nothing is due at 2026-12-10 09:00 (Asia/Shanghai)." in result.stdout
    # 01:00 UTC is 09:00 in Shanghai
    result = run(["reminders", "due", "--at", "2026-12-17T01:00+00:00"], workdir, SI_LANGUAGE="en")
    assert "Due at 2026-12-17 09:00 (Asia/Shanghai):" in result.stdout


def test_a_bad_moment_or_missing_token_is_refused_clearly(workdir):  # noqa: F811
    result = run(["reminders", "due", "--at", "tomorrow"], workdir, SI_LANGUAGE="en")
    assert result.returncode == 2 and "YYYY-MM-DDTHH:MM" in result.stdout
    result = run(["reminders", "send", "--at", "2026-12-17T09:00"], workdir, SI_LANGUAGE="en")
    assert result.returncode == 1 and "SLACK_BOT_TOKEN" in result.stdout
