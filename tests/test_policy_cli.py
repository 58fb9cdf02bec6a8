"""``si-bot policy check``, run as an administrator runs it (real processes), and the
missing-period warning at start-up and on App Home."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from bot.domain.policy import DEFAULT_POLICY_FILE
from tests.test_cli import run, workdir  # noqa: F401 - the fixture, shared


def test_the_shipped_policy_has_every_month_up_to_today(workdir):  # noqa: F811
    result = run(["policy", "check", "--at", "2026-11"], workdir, SI_LANGUAGE="en")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    # 60 % and 300 % of each year's average wage (DOMAIN.md §2).
    assert "2025-07 to 2026-06: floor 7,460, ceiling 37,302 (average wage 12,434: 60.0 % and 300.0 %)" in out
    assert re.search(r"2026-07 to 2027-06: floor 7,546, ceiling 37,731 .*<- 2026-11", out)
    assert "https://rsj.sh.gov.cn/tgsgg_17341/20260818/t0035_1443203.html" in out
    assert "medical from 2026-03: 9.00 / 2.00" in out
    assert "OK: every month up to 2026-11 has its base period (3 period(s))." in out


def test_a_month_after_the_last_period_is_a_gap_and_fails(workdir):  # noqa: F811
    result = run(["policy", "check", "--at", "2027-09"], workdir, SI_LANGUAGE="en")
    assert result.returncode == 1
    assert "MISSING: no base period covers 2027-07 to 2027-09 (the last one ends 2027-06)." in result.stdout


def test_a_hole_between_periods_fails_saying_where(workdir):  # noqa: F811
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    # Drop the 2025-07..2026-06 table.
    start = text.index('[[base_periods]]\nstart = "2025-07"')
    end = text.index("[[base_periods]]", start + 10)
    policy = workdir / "policy.toml"
    policy.write_text(text[:start] + text[end:], encoding="utf-8")
    (workdir / "holidays.toml").write_text("", encoding="utf-8")
    result = run(["policy", "check", "--at", "2026-11"], workdir, SI_POLICY_FILE=str(policy))
    assert result.returncode == 1
    assert "缺失：2025-07 至 2026-06 没有缴费基数年度" in result.stdout


def test_overlapping_periods_are_refused_saying_where(workdir):  # noqa: F811
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace('start = "2026-07"', 'start = "2026-05"')
    policy = workdir / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    (workdir / "holidays.toml").write_text("", encoding="utf-8")
    result = run(["policy", "check"], workdir, SI_LANGUAGE="en", SI_POLICY_FILE=str(policy))
    assert result.returncode == 1
    assert "base periods overlap from 2026-05 to 2026-06" in result.stdout


def test_a_bad_month_is_refused(workdir):  # noqa: F811
    result = run(["policy", "check", "--at", "November"], workdir, SI_LANGUAGE="en")
    assert result.returncode == 2 and "expected a month as YYYY-MM" in result.stdout


def test_start_up_warns_when_no_period_covers_this_month(make_bot, clock, caplog):
    clock.move_to(datetime(2027, 7, 5, 2, tzinfo=UTC))
    with caplog.at_level(logging.WARNING, logger="bot.runtime"):
        make_bot()
    assert "no contribution-base period" in caplog.text and "covers 2027-07" in caplog.text


def home_text(bot) -> str:
    with bot.db.session(read_only=True) as session:
        return str(bot.home.view(session, "U0EMPLOYEE"))


def test_app_home_says_when_the_figures_are_the_last_known(make_bot, clock):
    clock.move_to(datetime(2027, 7, 5, 2, tzinfo=UTC))
    assert "No contribution-base period in the policy file covers 2027-07" in home_text(make_bot())
    clock.move_to(datetime(2026, 11, 30, 2, tzinfo=UTC))
    assert "No contribution-base period" not in home_text(make_bot())
