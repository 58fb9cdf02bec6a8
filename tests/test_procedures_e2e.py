"""The other procedures of the role, end to end: each request kind's form, a mistake shown
on its field, a success with what the rules say and the materials checklist, and the same
states, buttons and notices as the first three kinds."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.models import Request
from tests.conftest import ADMIN, ADMIN_CHANNEL, EMPLOYEE, HR, OTHER
from tests.slack import message_text

MAN_1970 = "110105197006100016"  # born 1970-06-10, male
WOMAN_1980 = "110105198001150027"  # born 1980-01-15, female


def count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Request))


def request_row(db, public_id: str) -> Request:
    with db.session() as session:
        return session.scalar(select(Request).where(Request.public_id == public_id))


def submit(slack, command: str, answers: dict[str, str], *, user: str = EMPLOYEE):
    view = slack.open_form(command, user=user)
    return view, slack.submit(view, answers, user=user, view_id=view["id"])


def test_card_lost_tells_how_to_report_the_loss_at_once(slack, db):
    view = slack.open_form("card lost", user=EMPLOYEE)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert view["callback_id"] == "card_form"
    assert blocks["card_action"]["element"]["initial_option"]["value"] == "lost"
    assert blocks["lost_on"]["element"]["type"] == "datepicker"

    answers = {"card_action": "lost", "full_name": "Zhang San", "resident_id": MAN_1970, "bank": "icbc"}
    reply = slack.submit(view, answers, user=EMPLOYEE)
    assert reply.body["response_action"] == "errors"
    assert "fill this in" in reply.body["errors"]["lost_on"]
    reply = slack.submit(view, {**answers, "lost_on": "2026-12-25"}, user=EMPLOYEE)
    assert "2026-11-27 at the latest" in reply.body["errors"]["lost_on"]
    assert count(db) == 0

    reply = slack.submit(view, {**answers, "lost_on": "2026-11-26"}, user=EMPLOYEE, view_id=view["id"])
    confirmation = message_text(reply.body["view"])
    assert "SI-2026-0001" in confirmation
    assert "12333" in confirmation and "bank's hotline" in confirmation  # report it at once, and how
    assert "What to prepare" in confirmation and "formal loss report" in confirmation
    posts = slack.wait_posts(2)
    card = next(p for p in posts if p["channel"] == ADMIN_CHANNEL)
    card_text = message_text(card)
    assert card["text"] == "Waiting for approval: Social security card · Zhang San (SI-2026-0001)"
    assert "Lost card" in card_text and "Industrial and Commercial Bank of China" in card_text
    assert MAN_1970 not in card_text and "1101**********0016" in card_text
    dm = next(p for p in posts if p["channel"] == EMPLOYEE)
    assert MAN_1970 in message_text(dm) and "12333" in message_text(dm)


def test_card_apply_and_a_bad_subcommand_argument(slack, db):
    reply = slack.command("card stolen", user=EMPLOYEE)
    assert "“stolen” is not a card request" in message_text(reply.body)
    _, reply = submit(
        slack, "card apply", {"card_action": "apply", "full_name": "Zhang San", "resident_id": MAN_1970}
    )
    text = message_text(reply.body["view"])
    assert "standard ID photo" in text and "12333" not in text
    assert request_row(db, "SI-2026-0001").payload["lost_on"] is None


def test_transfer_in_checks_the_period_and_lists_the_steps(slack, db):
    view = slack.open_form("transfer in", user=EMPLOYEE)
    answers = {"direction": "in", "other_city": "Chengdu", "month_from": "2027-01", "month_to": "2026-10"}
    reply = slack.submit(view, answers, user=EMPLOYEE)
    errors = reply.body["errors"]
    assert "2026-11 at the latest" in errors["month_from"] and "before" in errors["month_to"]
    reply = slack.submit(view, {**answers, "month_from": "2020-03"}, user=EMPLOYEE)
    text = message_text(reply.body["view"])
    assert "Transfer in" in text and "Chengdu" in text and "15 working days" in text
    assert "国办发〔2009〕66号" in text
    assert request_row(db, "SI-2026-0001").kind == "transfer"


def test_retirement_shows_the_statutory_date_and_minimum_years(slack, db):
    view = slack.open_form("retire", user=EMPLOYEE)
    answers = {
        "full_name": "Zhang San",
        "resident_id": MAN_1970,
        "retirement_category": "female_50",
        "contribution_years": "15",
    }
    reply = slack.submit(view, answers, user=EMPLOYEE)
    assert "does not match the sex" in reply.body["errors"]["retirement_category"]
    reply = slack.submit(
        view, {**answers, "retirement_category": "male", "wanted_month": "2030-05"}, user=EMPLOYEE
    )
    assert "before the original retirement age" in reply.body["errors"]["wanted_month"]
    assert count(db) == 0

    reply = slack.submit(view, {**answers, "retirement_category": "male"}, user=EMPLOYEE, view_id=view["id"])
    text = message_text(reply.body["view"])
    # Born June 1970: 17 months later than 60 -> 61 years 5 months, November 2031 (DOMAIN §6);
    # a retirement in 2031 needs 16 years of contributions.
    assert "61 years 5 months" in text and "2031-11" in text and "2031-11-10" in text
    assert "17 months later" in text
    assert "Minimum contribution years* for a retirement in that month: 16" in text
    assert "not yet met" in text
    assert "personnel file" in text
    # The channel card shows no birth-revealing date; the administrator's details do.
    card = next(p for p in slack.wait_posts(2) if p["channel"] == ADMIN_CHANNEL)
    assert "2031-11" not in message_text(card)
    slack.press("request_details", "SI-2026-0001", user=ADMIN)
    detail = slack.fake.wait_for("views.open", 2)[-1].params["view"]
    assert "2031-11" in message_text(detail) and MAN_1970 in message_text(detail)


def test_retirement_of_a_woman_worker_in_chinese(make_bot, slack_for):
    slack = slack_for(make_bot(language="zh"))
    view = slack.open_form("retire", user=EMPLOYEE)
    assert view["title"]["text"] == "退休"
    answers = {
        "full_name": "王芳",
        "resident_id": WOMAN_1980,
        "retirement_category": "female_50",
        "contribution_years": "20",
    }
    reply = slack.submit(view, answers, user=EMPLOYEE)
    text = message_text(reply.body["view"])
    # Born January 1980, original age 50: 31 months later -> 52 years 7 months, August 2032.
    assert "52 岁 7 个月" in text and "2032-08" in text and "已满足" in text


def test_unemployment_says_eligibility_and_the_benefit_period(slack, db):
    view = slack.open_form("unemployment", user=EMPLOYEE)
    answers = {
        "separation_date": "2026-12-31",
        "separation_reason": "dismissed",
        "contribution_years": "six",
        "registered_unemployed": "yes",
    }
    reply = slack.submit(view, answers, user=EMPLOYEE)
    assert "not a number of years" in reply.body["errors"]["contribution_years"]
    reply = slack.submit(view, {**answers, "separation_date": "2027-06-30"}, user=EMPLOYEE)
    assert "2027-02-27 at the latest" in reply.body["errors"]["separation_date"]

    reply = slack.submit(view, {**answers, "contribution_years": "6"}, user=EMPLOYEE, view_id=view["id"])
    text = message_text(reply.body["view"])
    assert "eligible, for at most *18 months*" in text  # 5 to 10 years -> 18 (SIL Art. 46)
    assert "termination of the labour contract" in text

    view = slack.open_form("unemployment", user=OTHER)
    reply = slack.submit(
        view, {**answers, "contribution_years": "12", "separation_reason": "resigned"}, user=OTHER
    )
    text = message_text(reply.body["view"])
    assert "do not make you eligible" in text and "resignation does not qualify" in text

    view = slack.open_form("unemployment", user=HR)
    reply = slack.submit(
        view,
        {
            **answers,
            "contribution_years": "3",
            "registered_unemployed": "not_yet",
            "carried_over_months": "4",
        },
        user=HR,
    )
    text = message_text(reply.body["view"])
    assert "at most *16 months*" in text and "Register as unemployed" in text


def test_medical_treatment_dates_and_registration_first(slack, db):
    view = slack.open_form("medical", user=EMPLOYEE)
    answers = {
        "treatment_kind": "out_of_area",
        "hospital": "",
        "date_from": "2026-12-10",
        "date_to": "2026-12-01",
    }
    reply = slack.submit(view, answers, user=EMPLOYEE)
    errors = reply.body["errors"]
    assert set(errors) == {"hospital", "date_to"} and "before" in errors["date_to"]
    reply = slack.submit(
        view, {**answers, "hospital": "West China Hospital, Chengdu", "date_to": ""}, user=EMPLOYEE
    )
    text = message_text(reply.body["view"])
    assert "Register first" in text and "West China Hospital" in text
    assert request_row(db, "SI-2026-0001").payload["date_to"] is None


def test_settlement_for_a_death_is_filed_by_hr_for_the_person(slack, db):
    slack.command(f"admin staff add <@{HR}>", user=ADMIN)
    # An employee files only for themselves: no person picker, and no death to choose.
    view = slack.open_form("settle death", user=EMPLOYEE)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert "person" not in blocks
    reasons = [o["value"] for o in blocks["settle_reason"]["element"]["options"]]
    assert reasons == ["leaving_china", "other"]
    answers = {
        "settle_reason": "death",
        "full_name": "Zhang San",
        "id_number": MAN_1970,
        "event_date": "2026-11-20",
    }
    reply = slack.submit(view, answers, user=EMPLOYEE)  # a forged choice
    assert "choose the person who died" in reply.body["errors"]["settle_reason"]
    assert count(db) == 0

    # HR staff: the picker is there, and for a death it does not preselect the filer.
    view = slack.open_form("settle death", user=HR)
    person = next(b for b in view["blocks"] if b.get("block_id") == "person")
    assert "initial_user" not in person["element"]
    reply = slack.submit(view, {**answers, "person": HR}, user=HR, view_id=view["id"])
    assert "choose the person who died" in reply.body["errors"]["person"]
    reply = slack.submit(view, {**answers, "person": OTHER}, user=HR, view_id=view["id"])
    text = message_text(reply.body["view"])
    assert "inherited" in text and "funeral grant" in text
    row = request_row(db, "SI-2026-0001")
    assert row.kind == "settlement" and row.subject_id == OTHER and row.requester_id == HR


def test_settlement_of_a_foreign_national_takes_a_passport_number(slack, db):
    answers = {
        "settle_reason": "leaving_china",
        "person": EMPLOYEE,
        "full_name": "John Smith",
        "id_number": "E1234-5678",
        "event_date": "2027-01-15",
    }
    view, reply = submit(slack, "settle", answers)
    assert "passport number" in reply.body["errors"]["id_number"]
    reply = slack.submit(view, {**answers, "id_number": "E12345678"}, user=EMPLOYEE, view_id=view["id"])
    assert "paid out in one sum" in message_text(reply.body["view"])
    card = next(p for p in slack.wait_posts(2) if p["channel"] == ADMIN_CHANNEL)
    # A settlement is sensitive: the channel shows its kind, id and state, nothing of the person.
    assert "E12345678" not in message_text(card) and "John Smith" not in message_text(card)
    assert card["text"] == "Waiting for approval: Surrender and account settlement (SI-2026-0001)"
    assert "only its kind, id and state" in message_text(card)


def test_new_kinds_go_through_the_same_states_and_notices(slack, db):
    submit(
        slack,
        "transfer out",
        {"direction": "out", "other_city": "Hangzhou", "month_from": "2024-01", "month_to": "2026-11"},
    )
    slack.wait_posts(2)
    slack.press("request_approve", "SI-2026-0001", user=ADMIN)
    assert "Approved" in message_text(slack.fake.wait_for("chat.update", 1)[0].params)
    dm = slack.wait_posts(3)[-1]
    assert dm["channel"] == EMPLOYEE and "Transfer of insurance" in message_text(dm)
    slack.press("request_done", "SI-2026-0001", user=ADMIN)
    slack.fake.wait_for("chat.update", 2)
    row = request_row(db, "SI-2026-0001")
    assert [e.action for e in row.events] == ["submit", "approve", "done"]
    listed = message_text(slack.command("admin list transfer done", user=ADMIN).body)
    assert "SI-2026-0001" in listed
    assert "SI-2026-0001" not in message_text(slack.command("admin list retire", user=ADMIN).body)


def test_help_lists_the_other_procedures(slack):
    text = message_text(slack.command("help", user=EMPLOYEE).body)
    for sub in ("/si card", "/si transfer", "/si retire", "/si unemployment", "/si medical", "/si settle"):
        assert sub in text
