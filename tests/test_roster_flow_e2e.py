"""The roster kept current by the requests, end to end through the real app: a change
marked done enrols or removes the person, a retirement marked done retires them, a change
the roster contradicts is refused on its field, a removal's form is prefilled from the
roster, and /si roster shows a record (one's own, or any to an administrator) with its
wages, which an administrator corrects with a reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.services import roster, wages
from bot.storage.models import Employee, EmployeeChange, WageCorrection
from tests.conftest import ADMIN, EMPLOYEE, HR, OTHER, STORY_NOW
from tests.slack import message_text
from tests.stories import WORKPLACE

ZHANG = "11010519491231002X"  # the story's employee, EMPLOYEE in Slack
LI = "440305198506152340"  # OTHER in Slack, not on the roster at first
ROSTER = f"""姓名,身份证号,Slack 用户,户籍类型,参保月份,缴费基数（元）
张三,{ZHANG},{EMPLOYEE},本市城镇,2020-01,9000
""".encode()
WAGES = f"""身份证号,姓名,月份,应发工资
{ZHANG},张三,2026-09,12000
{ZHANG},张三,2026-10,12500.50
""".encode()
ADD_LI = {
    "change_type": "add",
    "person": OTHER,
    "full_name": "李四",
    "resident_id": LI,
    "hukou": "nonlocal_rural",
    "effective_month": "2026-12",
    "contribution_base": "9000",
}


def keep_roster(db) -> None:
    with db.session() as session:
        roster.import_roster(
            session, WORKPLACE, actor=ADMIN, file_name="r.csv", content=ROSTER, now=STORY_NOW
        )
        wages.import_wages(session, WORKPLACE, actor=ADMIN, file_name="w.csv", content=WAGES, now=STORY_NOW)


def person(db, number: str) -> Employee | None:
    with db.session() as session:
        return session.scalar(select(Employee).where(Employee.resident_id == number))


def file(slack, kind: str, answers: dict, *, user: str):
    view = slack.open_form(kind, user=user)
    if "change_type" in answers:  # the type chosen redraws the form with its fields
        view = slack.choose(view, answers, "change_type", user=user)
    return slack.submit(view, answers, user=user, view_id=view["id"])


def approve_and_finish(slack, public_id: str) -> None:
    slack.press("request_approve", public_id, user=ADMIN)
    slack.idle()
    slack.press("request_done", public_id, user=ADMIN)
    slack.idle()


def test_an_addition_marked_done_enrols_the_person_from_its_month(slack, db):
    keep_roster(db)
    reply = file(slack, "change", ADD_LI, user=OTHER)
    assert reply.body["response_action"] == "update", reply.raw
    assert person(db, LI) is None  # not before it is done
    approve_and_finish(slack, "SI-2026-0001")
    li = person(db, LI)
    assert (li.status, li.enrolled_from, li.slack_user, li.contribution_base) == (
        "enrolled",
        "2026-12",
        OTHER,
        Decimal(9000),
    )
    with db.session() as session:
        history = session.scalars(select(EmployeeChange).where(EmployeeChange.employee_id == li.id)).all()
    assert [(h.action, h.reference, h.actor_id) for h in history] == [("created", "SI-2026-0001", ADMIN)]


def test_a_change_the_roster_contradicts_is_refused_on_its_field(slack, db):
    keep_roster(db)
    again = {**ADD_LI, "person": EMPLOYEE, "full_name": "张三", "resident_id": ZHANG}
    reply = file(slack, "change", again, user=EMPLOYEE)
    assert reply.body["response_action"] == "errors"
    assert "already enrolled (since 2020-01)" in reply.body["errors"]["change_type"]
    gone = {**ADD_LI, "change_type": "remove", "contribution_base": ""}
    reply = file(slack, "change", gone, user=OTHER)
    assert "not enrolled on the roster" in reply.body["errors"]["resident_id"]


def test_a_removal_is_prefilled_from_the_roster_for_those_who_may_file_it(slack, db):
    keep_roster(db)
    with db.session() as session:
        from bot.storage.models import Staff

        session.add(Staff(user_id=HR, added_by=ADMIN, added_at=STORY_NOW))
    view = slack.open_form(f"change remove <@{EMPLOYEE}> 2026-12", user=HR)
    text = message_text(view)
    initial = {
        b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"
    }
    assert (initial["full_name"], initial["resident_id"]) == ("张三", ZHANG)
    reply = slack.submit(view, {}, user=HR, view_id=view["id"])
    assert reply.body["response_action"] == "update", reply.raw
    approve_and_finish(slack, "SI-2026-0001")
    zhang = person(db, ZHANG)
    assert (zhang.status, zhang.leaving_month) == ("left", "2026-12")
    # Someone who may not file for others sees nobody's details.
    stranger = slack.open_form(f"change remove <@{EMPLOYEE}>", user=OTHER)
    assert ZHANG not in message_text(stranger) and "张三" not in text.replace("张三", "", 1)


def test_a_retirement_marked_done_retires_the_person(slack, db):
    keep_roster(db)
    # Zhang San, a woman (the ID's 17th digit is even) born 1949-12-31, in a 55 category:
    # her statutory date was 2004-12-31, long past; the request asks for no other month.
    answers = {
        "full_name": "张三",
        "resident_id": ZHANG,
        "retirement_category": "female_55",
        "contribution_years": "30",
    }
    assert file(slack, "retire", answers, user=EMPLOYEE).body["response_action"] == "update"
    approve_and_finish(slack, "SI-2026-0001")
    zhang = person(db, ZHANG)
    assert zhang.status == "retired" and zhang.retired_on == date(2004, 12, 31)
    listing = message_text(slack.command("roster retirees", user=ADMIN).body)
    assert "张三" in listing and "1101**********002X" in listing


def test_roster_shows_ones_own_record_and_any_record_to_an_administrator(slack, db):
    keep_roster(db)
    own = message_text(slack.command("roster", user=EMPLOYEE).body)
    assert ZHANG in own and "12,500.50" in own and "Correct a wage" not in own
    assert "not on the unit's roster" in message_text(slack.command("roster", user=OTHER).body)
    assert "Only the filed" in message_text(slack.command(f"roster <@{EMPLOYEE}>", user=OTHER).body)
    record = slack.command(f"roster <@{EMPLOYEE}>", user=ADMIN).body
    assert "Correct a wage" in message_text(record) and "12,000.00" in message_text(record)
    assert "roster_correct_wage" in [
        e["action_id"] for b in record["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


def test_an_administrator_corrects_a_wage_with_a_reason_and_the_old_figure_stays(slack, db):
    keep_roster(db)
    zhang = person(db, ZHANG)
    slack.press("roster_correct_wage", str(zhang.id), user=ADMIN)
    view = slack.fake.wait_for("views.open")[-1].result["view"]
    elements = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert (
        elements["month"]["type"] == "static_select" and elements["month"]["options"][0]["value"] == "2026-11"
    )
    assert elements["gross_wage"]["type"] == "number_input" and elements["gross_wage"]["is_decimal_allowed"]
    refused = slack.submit(view, {"month": "2026-10", "gross_wage": "13000"}, user=ADMIN, view_id=view["id"])
    assert refused.body["response_action"] == "errors" and "reason" in refused.body["errors"]
    missing = slack.submit(
        view, {"month": "2026-08", "gross_wage": "13000", "reason": "x"}, user=ADMIN, view_id=view["id"]
    )
    assert "month" in missing.body["errors"]  # no wage recorded for August: import it instead
    done = slack.submit(
        view,
        {"month": "2026-10", "gross_wage": "13000", "reason": "Overtime missed by payroll"},
        user=ADMIN,
        view_id=view["id"],
    )
    assert "is corrected" in message_text(done.body["view"])
    with db.session() as session:
        (correction,) = session.scalars(select(WageCorrection)).all()
    assert (correction.old_wage, correction.new_wage, correction.actor_id, correction.reason) == (
        Decimal("12500.50"),
        Decimal("13000"),
        ADMIN,
        "Overtime missed by payroll",
    )
    assert "corrected 1 time" in message_text(slack.command("roster", user=EMPLOYEE).body)


def test_the_import_templates_come_to_the_administrators_dm(slack):
    reply = slack.command("roster template", user=ADMIN)
    assert "on their way" in message_text(reply.body)
    complete = slack.fake.wait_for("files.completeUploadExternal")[0].params
    assert complete["channel_id"] == "DADMIN0001"
    names = {c.params["filename"] for c in slack.fake.calls_to("files.getUploadURLExternal")}
    assert names == {"roster-template.xlsx", "wage-records-template.xlsx"}
    assert "Only the filed" in message_text(slack.command("roster template", user=EMPLOYEE).body)
