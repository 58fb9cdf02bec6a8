"""The declaration's messages render valid Block Kit within Slack's limits, in both
languages, for every rule, answer and back-pay direction, and with many people (the lists
are cut, never past 50 blocks or 3,000 characters a section)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from slack_sdk.models.views import View

from bot.domain.months import YearMonth
from bot.messages import Messages
from bot.services.bases import PersonLine, PublicityStatus, Review
from tests.slack import message_text
from tests.test_messages import POLICY, check_message

SHARES = [[s, "1920.00", "960.00"] for s in ("pension", "medical", "unemployment", "work_injury")]


def person(i: int) -> PersonLine:
    return PersonLine(
        i, f"员工{i} <b>", "11010119800101001X", f"U{i:08d}", "previous_year", ["2025-01", "2025-12"],
        ["2025-11"], Decimal("9300.00"), "", Decimal("7460.00"), None, "", None,
    )  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_review_and_the_status_render_with_thousands_of_names(lang):
    messages = Messages(lang)
    many = [person(i) for i in range(3000)]
    review = Review(2026, YearMonth(2026, 7), "draft", people=10000, raised=6000, lowered=1000, same=3000)
    review.missing, review.outliers = many, many
    for state, locked_by in (("draft", None), ("locked", "UADMIN0001")):
        review.state = state
        shown = messages.render("bases_review", r=review, shown=20, locked_by=locked_by)
        check_message(shown)
        assert "2980" in message_text(shown)  # the rest are counted, not listed
    names = [f"员工{i}" for i in range(3000)]
    status = PublicityStatus(2026, "locked", names, names, names, names, names, names)
    check_message(messages.render("bases_status", s=status, shown=20))
    empty = PublicityStatus(2026, "draft", [], [], [], [], [], [])
    check_message(messages.render("bases_status", s=empty, shown=20))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_publicity_dm_renders_for_every_rule_answer_and_back_pay(lang):
    messages = Messages(lang)
    base = {
        "year": 2026,
        "start": "2026-07",
        "person": "张三 <b>",
        "base": "12000.00",
        "previous": "9000.00",
        "averaged": ["2025-01", "2025-12"],
        "floor": "7546",
        "ceiling": "37731",
        "shares": SHARES,
        "employer": "3079.20",
        "employee": "1260.00",
        "reference": "2026:1",
        "revised": False,
        "back_pay": None,
    }
    back_pay = {
        "months": ["2026-07", "2026-08", "2026-09"],
        "shares": SHARES,
        "employer": "2309.40",
        "employee": "945.00",
        "employer_shown": "2309.40",
        "employee_shown": "945.00",
    }
    for rule in ("previous_year", "months_worked", "first_full_month"):
        for held in ("", "floor", "ceiling"):
            for kind in ("owed", "refund", "mixed"):
                shown = messages.render(
                    "base_publicity",
                    **{**base, "back_pay": {**back_pay, "kind": kind}},
                    rule=rule,
                    held=held,
                    overridden=False,
                )
                check_message(shown)
    for extra in (
        {"overridden": True, "back_pay": None, "revised": True},
        {"remind": True},
        {"answer": "confirmed", "request": None},
        {"answer": "disputed", "request": "SI-2026-0001"},
    ):
        check_message(
            messages.render(
                "base_publicity",
                **{**base, "rule": "previous_year", "held": "", "overridden": False, **extra},
            )
        )
    for resolve in (False, True):
        View(
            **messages.render(
                "form_bases_override",
                callback_id="x",
                metadata="{}",
                year=2026,
                start="2026-07",
                floor=POLICY.period_for(YearMonth(2026, 7)).floor,
                ceiling=POLICY.period_for(YearMonth(2026, 7)).ceiling,
                resolve=resolve,
            )
        ).validate_json()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_app_home_shows_the_declaration_s_publicity(lang):
    from tests.test_ledger_messages import MONTHS, admin_home
    from tests.test_workspace_messages import FORM_KINDS

    names = {"n": 9000, "names": [f"员工{i} <b>" for i in range(10)]}
    home = admin_home(
        payments={"year": 2026, "months": MONTHS, "late": 1},
        bases={
            "year": 2026,
            "sent": names,
            "confirmed": names,
            "disputed": names,
            "unanswered": names,
            "waiting": {"n": 0, "names": []},
        },
    )
    view = Messages(lang).render(
        "home", home=home, user="U1", policy=POLICY, form_kinds=FORM_KINDS, help_channels=[]
    )
    View(**view).validate_json()
    text = message_text(view)
    if lang == "en":
        assert (
            "Contribution bases 2026: publicity" in text and "Unanswered 9000: 员工0 &lt;b&gt;、员工1" in text
        )
        assert "Still to send" not in text
