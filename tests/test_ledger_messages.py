"""The ledger's messages render valid Block Kit within Slack's limits, in both languages,
with the values the presenters give them (bot/presenters/ledger.py)."""

from __future__ import annotations

import pytest
from slack_sdk.models.views import View

from bot.messages import Messages
from tests.slack import message_text
from tests.test_messages import POLICY, check_message
from tests.test_workspace_messages import FORM_KINDS

MONTHS = [
    {
        "month": f"2026-{m:02d}",
        "state": state,
        "due": f"2026-{m:02d}-25",
        "paid": "6147.38" if state == "paid" else None,
    }
    for m, state in zip(
        range(1, 13), ["unrecorded"] * 2 + ["paid"] * 7 + ["late", "due", "upcoming"], strict=True
    )
]
SCHEMES = [
    {"scheme": s, "employer": "2720.08", "employee": "1360.04"}
    for s in ("pension", "medical", "unemployment", "work_injury")
]


def admin_home(**sections: object) -> dict:
    """An administrator's App Home as services.home draws it, empty but for ``sections``."""
    return {
        "is_admin": True,
        "today": "2026-11-27",
        "summary": {
            "waiting": 0,
            "oldest_age": 0,
            "approved": 0,
            "cutoff": "",
            "cutoff_days": 0,
            "complaints": 0,
        },
        "reminders": [],
        "open_total": 0,
        "by_kind": [],
        "waiting": [],
        "waiting_more": 0,
        "month": "2026-12",
        "form": {"approved": 0, "waiting": 0, "done": 0},
        "export": None,
        "deadlines": [],
        "complaints": [],
        "complaints_total": 0,
        "handover": None,
        **sections,
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_app_home_shows_the_year_s_payments(lang):
    home = admin_home(payments={"year": 2026, "months": MONTHS, "late": 1})
    view = Messages(lang).render(
        "home", home=home, user="U1", policy=POLICY, form_kinds=FORM_KINDS, help_channels=[]
    )
    View(**view).validate_json()
    text = message_text(view)
    if lang == "en":
        assert "Contributions 2026 — 1 month(s) late" in text
        assert "2026-10 late: was due 2026-10-25" in text and "2026-03 paid, 6,147.38 yuan" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_contribution_and_payment_messages_render(lang):
    messages = Messages(lang)
    totals = {
        "month": "2026-11",
        "people": 10000,
        "employer": "25000000.00",
        "employee": "10000000.00",
        "total": "35000000.00",
        "schemes": SCHEMES,
        "missing_bases": 3,
        "assumed": True,
        "unverified": True,
        "closed": False,
        "joined": 10,
        "left": 4,
        "rebased": 2,
        "per_day": "17500.00",
    }
    for payments, difference in (
        ([], None),
        ([{"amount": "1.00", "paid_on": "2026-11-20", "by": "U1"}], "-2.00"),
    ):
        check_message(
            messages.render(
                "contributions_ready",
                **totals,
                payments=payments,
                difference=difference,
                files=["a.xlsx", "a.csv"],
            )
        )
    for difference, people in (("0.00", 2), ("-147.38", 2), ("12.00", 2), ("0.00", 0)):
        message = messages.render(
            "payment_recorded",
            month="2026-11",
            amount="6000.00",
            paid_on="2026-11-24",
            reference="R <b>",
            by="U1",
            ledger_total="6147.38",
            paid_total="6000.00",
            difference=difference,
            people=people,
            per_day="3.07",
            receipt=False,
            window_hours=24,
        )
        check_message(message)
        if lang == "en" and difference == "-147.38":
            assert "*147.38 yuan* less than the ledger" in message_text(message)
    for people, initial in ((0, ""), (2, "6147.38")):
        view = messages.render(
            "form_payment",
            callback_id="payment_form",
            metadata="{}",
            month="2026-11",
            total="6147.38",
            people=people,
            assumed=True,
            initial_amount=initial,
            paid=1,
            due="2026-11-25",
            today="2026-11-27",
            max_amount="100000000",
        )
        View(**view).validate_json()
        # The hint says the amount is filled in only when it is.
        hint = next(b for b in view["blocks"] if b.get("block_id") == "amount")["hint"]["text"]
        assert (("ledger's total" in hint) or ("台账合计" in hint)) == bool(initial), hint


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("stage", ["warning", "missed"])
def test_the_payment_reminder_with_the_month_s_total(lang, stage):
    params = {
        "occurrence": "payment:2026-11",
        "kind": "payment",
        "period": "2026-11",
        "stage": stage,
        "scheduled_on": "2026-11-20",
        "today": "2026-11-20",
        "due": "2026-11-25",
        "late": False,
        "send_at": "09:00",
        "uncovered_years": [],
        "holidays_file": "holidays.toml",
        "nominal": "2026-11-25",
        "due_weekday": 2,
        "nominal_weekday": 2,
        "moved": False,
        "working_days_left": 3,
        "late_fee_percent": "0.05",
        "late_fee_per_10000": "5.00",
        "late_fee_source": "社会保险法 Art. 86",
        "late_from": "2026-11-26",
        "total": "6147.38",
        "per_day": "3.07",
        "people": 2,
        "assumed": True,
    }
    message = Messages(lang).render("reminder", policy=POLICY, **params)
    check_message(message)
    if lang == "en":
        assert "*6,147.38 yuan* for 2 people" in message_text(message)
    if stage == "missed":  # the law cited as the reader's language cites it
        cited = {"zh": "（社会保险法第86条）", "en": "(Social Insurance Law Art. 86)"}[lang]
        assert cited in message_text(message)


def difference(i: int, reason: str) -> dict:
    return {
        "id": i,
        "name": "李四 <b>" * 3,
        "masked_id": "4403**********2340",
        "reason": reason,
        "amount": "180.62",
        "ledger_total": "2892.98",
        "bill_total": "3073.60",
        "ledger_base": "8000.50",
        "bill_base": "8500.00",
        "state": "open",
        "note": "",
        "request": None,
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reconciliation_renders_open_or_reconciled(lang):
    from bot.domain.bill import DifferenceReason

    messages = Messages(lang)
    reasons = list(DifferenceReason)
    base = {
        "bill_id": 1,
        "month": "2026-11",
        "file": "对账单.xlsx",
        "imported_at": "2026-11-27 10:00",
        "imported_by": "cli",
        "bill_people": 10000,
        "bill_total": "35000000.00",
        "ledger_people": 9999,
        "ledger_total": "34990000.00",
        "gap": "10000.00",
        "by_reason": [{"reason": r.value, "n": 3} for r in reasons],
        "seen_before": True,
    }
    shown = [difference(i, reasons[i % len(reasons)].value) for i in range(10)]
    open_message = messages.render(
        "reconciliation",
        **base,
        differences=33,
        open=30,
        reconciled=False,
        shown=shown,
        more=20,
        open_rounding=3,
    )
    check_message(open_message)
    assert len(open_message["blocks"]) <= 50
    done = messages.render(
        "reconciliation", **base, differences=33, open=0, reconciled=True, shown=[], more=0, open_rounding=0
    )
    check_message(done)
    View(
        **messages.render(
            "form_explain", callback_id="x", metadata="{}", d=difference(1, "leaver_still_billed")
        )
    ).validate_json()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_statement_renders_for_a_whole_year_with_every_answer(lang):
    from bot.services.statements import StatementCounts

    messages = Messages(lang)
    months = [
        {
            "month": f"2026-{m:02d}",
            "base": "37731.00",
            "note": "lowered_to_ceiling",
            "shares": [
                [s, "6036.96", "3018.48"] for s in ("pension", "medical", "unemployment", "work_injury")
            ],
            "employer": "9000.00",
            "employee": "4000.00",
            "paid": m % 2 == 0,
            "assumed": m == 12,
        }
        for m in range(1, 13)
    ]
    base = {
        "year": 2026,
        "person": "张三 <b>",
        "months": months,
        "employer": "108000.00",
        "employee": "48000.00",
    }
    for extra in (
        {},
        {"statement": "2026:1"},
        {"statement": "2026:1", "answer": "confirmed", "request": None},
        {"statement": "2026:1", "answer": "disputed", "request": "SI-2026-0001"},
    ):
        check_message(messages.render("statement", **base, **extra))
    check_message(messages.render("statement", **{**base, "months": []}))
    counts = StatementCounts(2026, 10, 10000, 9000, 5000, 12, 40)
    check_message(messages.render("statements_sent", c=counts, queued=True))
