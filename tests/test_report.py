"""The monthly report's figures, against November 2026 counted by hand (tests/report_month.py)."""

from __future__ import annotations

import pytest

from bot.domain.errors import Refused
from bot.domain.months import YearMonth
from bot.presenters.report import report_message
from bot.services import report
from bot.services.outbox import Recipient
from tests.conftest import ADMIN, ADMIN_CHANNEL, EMPLOYEE
from tests.report_month import EXPECTED, at, november
from tests.slack import message_text

NOVEMBER = YearMonth(2026, 11)


@pytest.fixture
def month(bot, clock):
    return november(bot, clock)


def figures_of(bot, month: YearMonth, now):
    with bot.db.session(read_only=True) as session:
        return report.monthly_figures(session, bot.workplace, month, now)


def test_every_figure_of_the_month_is_the_one_counted_by_hand(bot, month):
    sections = figures_of(bot, NOVEMBER, at(12, 3))["sections"]
    for name, expected in EXPECTED.items():
        assert sections[name] == expected, name


def test_the_report_of_a_past_month_is_as_of_its_end_whenever_it_is_built(bot, month, clock):
    early = figures_of(bot, NOVEMBER, at(12, 1, 9))
    with bot.work() as session:  # later changes to November's requests do not move its report
        from bot.domain.requests import Action
        from bot.services.requests import act_on_request

        act_on_request(session, public_id="SI-2026-0009", action=Action.APPROVE, actor=ADMIN, now=at(12, 20))
    late = figures_of(bot, NOVEMBER, at(12, 31))
    assert early == late
    assert early["complete"] and early["as_of"] == "2026-11-30"
    assert list(early["sections"]) == ["requests", "turnaround", "waiting", "help", "reminders", "ledger"]


def test_a_month_in_progress_is_counted_up_to_now(bot, month):
    figures = figures_of(bot, NOVEMBER, at(11, 10, 12))
    assert not figures["complete"] and figures["as_of"] == "2026-11-10 12:00"
    # Filed by then: 0002-0005; 0002 and 0003 done, 0004 and 0005 approved.
    assert figures["sections"]["requests"]["states"] == {
        "submitted": 0, "approved": 2, "done": 2, "rejected": 0, "cancelled": 0,
    }  # fmt: skip
    # 0004, untouched since the 4th: 4 working days by Tuesday the 10th.
    waiting = figures["sections"]["waiting"]["requests"]
    assert [(r["public_id"], r["waited"]) for r in waiting] == [("SI-2026-0004", 4)]
    assert "reminders" not in figures["sections"]  # 2 November's tick sent nothing
    # Paid on the 27th: on the 10th nothing is paid yet, and the 25th is still to come.
    assert figures["sections"]["ledger"]["payment"] == {
        "timing": "not_yet_due", "due": "2026-11-25", "paid_on": None, "paid": "0.00", "days_late": 0,
    }  # fmt: skip


def test_a_month_unpaid_past_its_deadline_is_late_by_the_days_since(bot, month):
    payment = figures_of(bot, NOVEMBER, at(11, 26, 12))["sections"]["ledger"]["payment"]
    assert (payment["timing"], payment["paid_on"], payment["days_late"]) == ("late", None, 1)


def test_a_month_of_the_roster_alone_has_its_ledger_worked_out_and_unrecorded_payment(bot, month):
    # September: nothing but the roster's people (陈明, 林芳, 王强, as in October: 8,876.01);
    # its payment was due on the 25th, before si-bot's first reminder tick (2 November).
    figures = figures_of(bot, YearMonth(2026, 9), at(12, 3))
    assert list(figures["sections"]) == ["ledger"]
    september = figures["sections"]["ledger"]
    assert (september["headcount"], september["joiners"], september["leavers"]) == (3, 0, 0)
    assert (september["total"], september["previous_total"], september["recorded"]) == (
        "8876.01", "8876.01", False,
    )  # fmt: skip
    assert september["payment"]["timing"] == "unrecorded"
    text = message_text(report_message(bot.messages, figures, "en"))
    assert "3 people insured (3 in 2026-08): 0 joined, 0 left." in text
    assert "Worked out from today's roster" in text
    # The 25th is the Mid-Autumn Festival (a Friday): the deadline moves to Monday the 28th.
    assert "No payment recorded here: it was due on 2026-09-28, before si-bot kept track." in text


def test_nothing_happened_in_a_month_without_requests_questions_reminders_or_anyone_insured(bot, month):
    figures = figures_of(bot, YearMonth(2019, 12), at(12, 3))  # 陈明, the first, joined in 2020-01
    assert figures["sections"] == {} and figures["complete"]


def test_a_month_that_has_not_begun_is_refused(bot, month):
    with pytest.raises(Refused) as refused, bot.db.session(read_only=True) as session:
        report.monthly_figures(session, bot.workplace, YearMonth(2027, 1), at(12, 3))
    assert refused.value.code == "report_future_month"


def test_only_administrators_get_a_report_on_demand(bot, month):
    with bot.db.session(read_only=True) as session:
        assert report.report_for(session, bot.workplace, viewer=ADMIN, month=NOVEMBER, now=at(12, 3))
        with pytest.raises(Refused) as refused:
            report.report_for(session, bot.workplace, viewer=EMPLOYEE, month=NOVEMBER, now=at(12, 3))
    assert refused.value.code == "admins_only"


def test_a_channel_report_leaves_out_the_ids_of_confidential_requests(bot, month):
    figures = figures_of(bot, NOVEMBER, at(12, 3))
    shared = report.for_audience(figures, Recipient.channel(ADMIN_CHANNEL))
    waiting = shared["sections"]["waiting"]
    assert [r["public_id"] for r in waiting["requests"]] == ["SI-2026-0004", "SI-2026-0005"]
    assert waiting["confidential"] == 1 and waiting["count"] == 3
    assert report.for_audience(figures, Recipient.person(ADMIN)) is figures


def test_app_home_headline_is_the_month_so_far(bot, month):
    with bot.db.session(read_only=True) as session:
        headline = report.headline(session, bot.workplace, at(11, 10, 12))
        quiet = report.headline(session, bot.workplace, at(9, 15, 12))
    # By the 10th at noon: 0002-0005 filed, 0002 and 0003 done; approved after 24, 48, 24 and
    # 6 hours -> median 24; 0004 waiting 4 working days; payback-1..3 and card-1 answered,
    # nothing escalated yet.
    assert headline == {
        "month": "2026-11",
        "received": 4,
        "done": 2,
        "approval_median_hours": 24.0,
        "waiting": 1,
        "answered": 4,
        "escalated": 0,
    }
    assert quiet is None


def test_percentiles_are_linear_between_ranks():
    assert report.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert report.percentile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)
    assert report.percentile([5.0], 0.9) == 5.0
    assert report.percentile([], 0.5) is None


def test_app_home_shows_the_headline_to_administrators(bot, month, clock):
    clock.move_to(at(11, 10, 12))
    with bot.db.session(read_only=True) as session:
        admin = message_text(bot.home.view(session, ADMIN))
        employee = message_text(bot.home.view(session, EMPLOYEE))
    assert "This month so far (2026-11)" in admin
    assert "4 received · 2 done · median 1.0 days to approval · 1 waiting too long" in admin
    assert "This month so far" not in employee
