"""The forms' elements, end to end (issue 15, items 3 and 4): the modals the app opens and
redraws (views.open / views.update at the fake Slack), what a submission parses to, and the
reject form. The story's today is 2026-11-27."""

from __future__ import annotations

from sqlalchemy import select

from bot.console import slack_payloads as payloads
from bot.storage.models import Request
from tests.conftest import ADMIN, ADMIN2, EMPLOYEE, HR, OTHER
from tests.slack import message_text

VALID_ID = "11010519491231002X"
ADD = {
    "change_type": "add",
    "full_name": "Zhang San",
    "resident_id": VALID_ID,
    "hukou": "local_urban",
    "effective_month": "2026-12",
    "contribution_base": "9000.5",
}


def blocks(view) -> dict:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def element(view, field: str) -> dict:
    return blocks(view)[field]["element"]


def options(view, field: str) -> list[str]:
    found = element(view, field)
    groups = found.get("option_groups") or [{"options": found["options"]}]
    return [o["value"] for g in groups for o in g["options"]]


def request_row(db, public_id: str) -> Request:
    with db.session() as session:
        return session.scalar(select(Request).where(Request.public_id == public_id))


def add_hr(slack) -> None:
    assert "on the HR staff list" in message_text(slack.command(f"admin staff add <@{HR}>", user=ADMIN).body)


def test_the_change_form_shows_the_base_only_for_the_types_that_take_one(slack, db):
    view = slack.open_form("change", user=EMPLOYEE)
    change_type = blocks(view)["change_type"]
    assert change_type["dispatch_action"] is True and change_type["element"]["type"] == "radio_buttons"
    described = {o["value"]: o["description"]["text"] for o in change_type["element"]["options"]}
    assert set(described) == {"add", "remove", "update"} and all(described.values())
    # Employees file for themselves: no person picker. The ID is 18 characters exactly.
    assert "person" not in blocks(view) and "contribution_base" not in blocks(view)
    assert (element(view, "resident_id")["min_length"], element(view, "resident_id")["max_length"]) == (
        18,
        18,
    )
    # The months a change may take effect in, newest first, in one format.
    assert options(view, "effective_month") == [
        "2027-02", "2027-01", "2026-12", "2026-11", "2026-10", "2026-09", "2026-08",
    ]  # fmt: skip
    assert "YYYY" not in message_text(view) and "optional" not in message_text(view).lower()

    # Choosing "add" redraws it with the base, required, bounded by this base year, and
    # keeps what was typed.
    typed = {"change_type": "add", "full_name": "Zhang San", "notes": "Starts in December"}
    added = slack.choose(view, typed, "change_type", user=EMPLOYEE)
    base = blocks(added)["contribution_base"]
    assert base["optional"] is False and base["element"]["type"] == "number_input"
    assert base["element"]["is_decimal_allowed"] is True
    assert (base["element"]["min_value"], base["element"]["max_value"]) == ("7546", "37731")
    assert element(added, "full_name")["initial_value"] == "Zhang San"
    assert element(added, "notes")["initial_value"] == "Starts in December"
    assert element(added, "change_type")["initial_option"]["value"] == "add"

    # A removal takes no base; an update takes one only when correcting it.
    removed = slack.choose(added, {**typed, "change_type": "remove"}, "change_type", user=EMPLOYEE)
    assert "contribution_base" not in blocks(removed)
    assert element(removed, "full_name")["initial_value"] == "Zhang San"
    updated = slack.choose(removed, {**typed, "change_type": "update"}, "change_type", user=EMPLOYEE)
    assert blocks(updated)["contribution_base"]["optional"] is True
    # A base below the floor is not kept as the initial value (Slack would refuse the view).
    low = {**typed, "change_type": "update", "contribution_base": "100"}
    updated = slack.choose(updated, low, "change_type", user=EMPLOYEE)
    assert "initial_value" not in element(updated, "contribution_base")
    # Nor is a choice that is none of the options (else the redraw failed to render).
    odd = {**typed, "change_type": "update", "hukou": "/si bogus"}
    updated = slack.choose(updated, odd, "change_type", user=EMPLOYEE)
    assert "initial_option" not in element(updated, "hukou")

    # What number_input sends is read as the amount.
    added = slack.choose(updated, {**typed, "change_type": "add"}, "change_type", user=EMPLOYEE)
    reply = slack.submit(added, ADD, user=EMPLOYEE, view_id=added["id"])
    assert reply.body["response_action"] == "update", reply.raw
    row = request_row(db, "SI-2026-0001")
    assert row.subject_id == EMPLOYEE and row.effective_month == "2026-12"
    assert row.payload["contribution_base"] == "9000.5"


def test_a_stale_redraw_is_dropped_and_nobody_is_bothered(slack):
    view = slack.open_form("change", user=EMPLOYEE)
    slack.choose(view, {"change_type": "add"}, "change_type", user=EMPLOYEE)
    # A second choice sent with the hash the first redraw replaced: Slack refuses it.
    signed = payloads.view_block_action(
        slack.secret, user=EMPLOYEE, view=view, answers={"change_type": "remove"}, block_id="change_type"
    )
    assert slack.send(signed).status == 200
    slack.idle()
    updates = slack.fake.calls_to("views.update")
    assert len(updates) == 2 and updates[-1].result == {"ok": False, "error": "hash_conflict"}
    assert not slack.fake.calls_to("chat.postMessage") and not slack.responses()


def test_the_payback_base_is_bounded_by_the_base_years_of_its_months(slack, db):
    view = slack.open_form("payback", user=EMPLOYEE)
    months = options(view, "month_from")
    assert months[0] == "2026-11" and months[-1] == "2023-11" and len(months) == 37
    base = element(view, "monthly_base")
    # Before the months are chosen: the widest bounds of the base years on offer.
    assert (base["min_value"], base["max_value"]) == ("7384", "37731")
    typed = {"month_from": "2025-01", "month_to": "2025-03"}
    chosen = slack.choose(view, typed, "month_to", user=EMPLOYEE)
    base = element(chosen, "monthly_base")
    assert (base["min_value"], base["max_value"]) == ("7384", "36921")  # 2024-07 to 2025-06
    assert "2024-07 to 2025-06" in blocks(chosen)["monthly_base"]["hint"]["text"]
    reply = slack.submit(chosen, {**typed, "monthly_base": "10000", "reason": "other"}, user=EMPLOYEE)
    assert reply.body["response_action"] == "update", reply.raw
    assert request_row(db, "SI-2026-0001").payload["monthly_base"] == "10000"


def test_the_settlement_form_does_not_preselect_the_filer_for_a_death(slack, db):
    add_hr(slack)
    view = slack.open_form("settle", user=HR)
    assert element(view, "person")["initial_user"] == HR
    assert blocks(view)["settle_reason"]["dispatch_action"] is True
    death = slack.choose(view, {"settle_reason": "death"}, "settle_reason", user=HR)
    assert "initial_user" not in element(death, "person")
    chosen = slack.choose(death, {"settle_reason": "death", "person": OTHER}, "settle_reason", user=HR)
    assert element(chosen, "person")["initial_user"] == OTHER  # someone chosen stays chosen
    # Back to another reason with nobody chosen: the filer, as at first.
    typed = {"settle_reason": "leaving_china", "person": ""}
    leaving = slack.choose(chosen, typed, "settle_reason", user=HR)
    assert element(leaving, "person")["initial_user"] == HR


def test_counts_years_and_choices_use_their_elements(slack, db):
    view = slack.open_form("unemployment", user=EMPLOYEE)
    carried = element(view, "carried_over_months")
    assert carried["type"] == "number_input" and carried["is_decimal_allowed"] is False
    assert (carried["min_value"], carried["max_value"]) == ("0", "24")
    assert element(view, "contribution_years")["is_decimal_allowed"] is True
    assert element(view, "registered_unemployed")["type"] == "radio_buttons"
    answers = {
        "separation_date": "2026-11-20",
        "separation_reason": "contract_expired",
        "contribution_years": "6.5",
        "registered_unemployed": "yes",
        "carried_over_months": "3",
    }
    reply = slack.submit(view, answers, user=EMPLOYEE)
    assert reply.body["response_action"] == "update", reply.raw
    payload = request_row(db, "SI-2026-0001").payload
    assert (payload["contribution_years"], payload["carried_over_months"]) == ("6.5", "3")

    retire = slack.open_form("retire", user=EMPLOYEE)
    assert element(retire, "retirement_category")["type"] == "radio_buttons"
    wanted = options(retire, "wanted_month")
    assert wanted[0] == "2026-11" and wanted[-1] == "2033-11" and len(wanted) == 85  # soonest first
    assert "optional" not in blocks(retire)["wanted_month"]["label"]["text"].lower()

    transfer = slack.open_form("transfer out", user=EMPLOYEE)
    assert element(transfer, "direction")["initial_option"]["value"] == "out"
    groups = element(transfer, "month_from")["option_groups"]  # 241 months: by year
    assert groups[0]["label"]["text"] == "2026" and groups[-1]["label"]["text"] == "2006"
    assert all(len(g["options"]) <= 100 for g in groups)
    answers = {"other_city": "Beijing", "month_from": "2010-03", "month_to": "2026-10"}
    reply = slack.submit(transfer, answers, user=EMPLOYEE)
    assert reply.body["response_action"] == "update", reply.raw
    assert request_row(db, "SI-2026-0002").payload["month_from"] == "2010-03"


def file_change(slack) -> None:
    view = slack.open_form("change add", user=EMPLOYEE)
    reply = slack.submit(view, ADD, user=EMPLOYEE, view_id=view["id"])
    assert reply.body["response_action"] == "update", reply.raw
    slack.idle()


def test_the_reject_form_shows_what_is_rejected(slack, db):
    file_change(slack)
    slack.press("request_reject", "SI-2026-0001", user=ADMIN, trigger_id="trig-reject")
    form = slack.fake.wait_for("views.open", 2)[-1].result["view"]
    text = message_text(form)
    assert f"Enrolment change · <@{EMPLOYEE}> · 2026-12" in text and "SI-2026-0001" in text
    assert VALID_ID not in text
    reply = slack.submit(form, {"reason": "Wrong hukou type"}, user=ADMIN)
    assert reply.status == 200 and not reply.body
    assert request_row(db, "SI-2026-0001").state == "rejected"


def test_a_request_that_moved_on_meanwhile_is_answered_with_who_and_when(slack, db):
    file_change(slack)
    slack.press("request_reject", "SI-2026-0001", user=ADMIN, trigger_id="trig-reject")
    form = slack.fake.wait_for("views.open", 2)[-1].result["view"]
    # While the form is open, the requester withdraws it.
    slack.command("cancel SI-2026-0001", user=EMPLOYEE)
    assert request_row(db, "SI-2026-0001").state == "cancelled"
    reply = slack.submit(form, {"reason": "Wrong hukou type"}, user=ADMIN)
    assert reply.body["response_action"] == "update"  # not a field error that can't be fixed
    text = message_text(reply.body["view"])
    assert "Nothing was rejected" in text and "already cancelled" in text
    assert f"<@{EMPLOYEE}>" in text and "2026-11-27 10:" in text
    assert request_row(db, "SI-2026-0001").state == "cancelled"

    # A card not yet redrawn: pressing Reject says so at once.
    slack.press("request_reject", "SI-2026-0001", user=ADMIN2, trigger_id="trig-again")
    shown = slack.fake.wait_for("views.open", 3)[-1].result["view"]
    assert "already cancelled" in message_text(shown) and "submit" not in shown


def test_the_card_form_asks_the_day_of_the_loss_for_a_lost_card_only(slack, db):
    view = slack.open_form("card", user=EMPLOYEE)
    action = blocks(view)["card_action"]
    assert action["dispatch_action"] is True and action["element"]["type"] == "radio_buttons"
    described = {o["value"]: o["description"]["text"] for o in action["element"]["options"]}
    assert set(described) == {"apply", "lost", "replace"} and all(described.values())
    assert "lost_on" not in blocks(view)
    assert (element(view, "resident_id")["min_length"], element(view, "resident_id")["max_length"]) == (
        18,
        18,
    )
    typed = {"card_action": "lost", "full_name": "Zhang San", "bank": "icbc"}
    lost = slack.choose(view, typed, "card_action", user=EMPLOYEE)
    assert blocks(lost)["lost_on"]["optional"] is False
    assert element(lost, "full_name")["initial_value"] == "Zhang San"
    assert element(lost, "bank")["initial_option"]["value"] == "icbc"
    applying = slack.choose(lost, {**typed, "card_action": "apply"}, "card_action", user=EMPLOYEE)
    assert "lost_on" not in blocks(applying)
    answers = {**typed, "resident_id": VALID_ID, "lost_on": "2026-11-25"}
    reply = slack.submit(lost, answers, user=EMPLOYEE, view_id=lost["id"])
    assert reply.body["response_action"] == "update", reply.raw
    row = request_row(db, "SI-2026-0001")
    assert (row.kind, row.payload["card_action"], row.payload["lost_on"]) == ("card", "lost", "2026-11-25")


def test_months_to_come_are_offered_soonest_first_also_by_year(make_bot, slack_for, tmp_path):
    """Over Slack's 100 options a month select groups its months by year: months to come
    (a retirement) keep their order there too, this year first."""
    from bot.domain.policy import DEFAULT_POLICY_FILE

    (tmp_path / "holidays.toml").write_text("[years]\n", encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace(
            "retirement_months_ahead = 84", "retirement_months_ahead = 120"
        ),
        encoding="utf-8",
    )
    slack = slack_for(make_bot(policy_file=str(policy)))
    groups = element(slack.open_form("retire", user=EMPLOYEE), "wanted_month")["option_groups"]
    assert [g["label"]["text"] for g in groups] == [str(year) for year in range(2026, 2037)]
    assert options(slack.open_form("retire", user=EMPLOYEE), "wanted_month")[:2] == ["2026-11", "2026-12"]
