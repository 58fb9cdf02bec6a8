"""The request-intake stories, end to end: signed HTTP requests into the real Bolt app,
the Web API pointed at a fake Slack that records every call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from bot.lazy import LAZY_WORKERS
from bot.storage.db import READ_ONLY
from bot.storage.models import Request, RequestEvent
from tests.conftest import ADMIN, ADMIN2, ADMIN_CHANNEL, EMPLOYEE, HR, OTHER
from tests.slack import message_text

VALID_ID = "11010519491231002X"  # the example number of GB 11643
CHANGE = {
    "change_type": "add",
    "person": EMPLOYEE,
    "full_name": "Zhang San",
    "resident_id": VALID_ID,
    "hukou": "local_urban",
    "effective_month": "2026-12",
    "contribution_base": "9000",
    "notes": "Starts 1 December",
}


def file_change(slack, user=EMPLOYEE, **answers):
    view = slack.open_form("change add", user=user)
    reply = slack.submit(view, {**CHANGE, **answers}, user=user, view_id=view["id"])
    assert reply.status == 200, reply.raw
    return view, reply


def count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def request_row(db, public_id: str) -> Request:
    with db.session() as session:
        return session.scalar(select(Request).where(Request.public_id == public_id))


# --- filing --------------------------------------------------------------------------------


def test_employee_files_change_and_admins_and_requester_are_told(slack, db):
    view, reply = file_change(slack)

    assert view["callback_id"] == "change_form"
    assert reply.body["response_action"] == "update"
    confirmation = message_text(reply.body["view"])
    assert "SI-2026-0001" in confirmation and "2026-12" in confirmation

    posts = slack.wait_posts(2)
    channel_card = next(p for p in posts if p["channel"] == ADMIN_CHANNEL)
    card_text = message_text(channel_card)
    assert "SI-2026-0001" in card_text and "Submitted" in card_text
    # Personal data is masked in the channel...
    assert VALID_ID not in card_text and "1101**********002X" in card_text
    assert "9,000.00" not in card_text
    buttons = [
        e["action_id"] for b in channel_card["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["request_approve", "request_reject", "request_details"]
    # ...and the requester's own DM shows it whole.
    dm = next(p for p in posts if p["channel"] == EMPLOYEE)
    assert VALID_ID in message_text(dm) and "what happens next" not in message_text(dm)
    assert "An administrator reviews it" in message_text(dm)

    row = request_row(db, "SI-2026-0001")
    assert row.kind == "change" and row.state == "submitted" and row.subject_id == EMPLOYEE
    assert [e.action for e in row.events] == ["submit"]


def test_change_text_arguments_prefill_the_form(slack, db):
    with db.session() as session:
        from bot.storage.models import Staff

        session.add(Staff(user_id=HR, added_by=ADMIN, added_at=slack.bot.now()))
    view = slack.open_form(f"change add <@{OTHER}|li.si> 2026-12", user=HR)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["change_type"]["element"]["initial_option"]["value"] == "add"
    assert blocks["person"]["element"]["initial_user"] == OTHER
    assert blocks["effective_month"]["element"]["initial_option"]["value"] == "2026-12"


def test_text_argument_mistakes_get_an_ephemeral_that_says_what_to_fix(slack):
    reply = slack.command("change hire <@UX> 2026-12", user=EMPLOYEE)
    assert reply.body["response_type"] == "ephemeral"
    assert "“hire” is not a type of change" in message_text(reply.body)
    reply = slack.command("change add <@UX> 2026-13", user=EMPLOYEE)
    assert "“2026-13”" in message_text(reply.body)
    reply = slack.command("cancel 42", user=EMPLOYEE)
    assert "SI-2026-0042" in message_text(reply.body)
    reply = slack.command("frobnicate", user=EMPLOYEE)
    assert "/si help" in message_text(reply.body)
    assert not slack.fake.calls_to("views.open")


def test_form_mistakes_show_on_the_exact_fields_and_nothing_is_saved(slack, db):
    view = slack.open_form("change add", user=EMPLOYEE)
    reply = slack.submit(
        view,
        {
            **CHANGE,
            "resident_id": "11010519491231002Y",
            "contribution_base": "999999",
            "effective_month": "Dec 2026",
            "full_name": "",
        },
        user=EMPLOYEE,
    )
    assert reply.body["response_action"] == "errors"
    errors = reply.body["errors"]
    assert set(errors) == {"resident_id", "contribution_base", "effective_month", "full_name"}
    assert "digit or X" in errors["resident_id"]
    # The effective month is unreadable: this month's base period, 2026-07..2027-06.
    assert "7,546.00" in errors["contribution_base"] and "37,731.00" in errors["contribution_base"]
    assert "2026-07 to 2027-06" in errors["contribution_base"]
    assert "YYYY-MM" in errors["effective_month"]
    assert count(db, Request) == 0

    reply = slack.submit(view, {**CHANGE, "resident_id": "110105194912310021"}, user=EMPLOYEE)
    assert "does not match" in reply.body["errors"]["resident_id"]
    reply = slack.submit(view, {**CHANGE, "resident_id": "110105194902300021"}, user=EMPLOYEE)
    assert "birth date" in reply.body["errors"]["resident_id"]
    assert count(db, Request) == 0


def test_employee_may_file_only_for_themselves_but_hr_staff_for_anyone(slack, db):
    # An employee's form has no person picker: it is always them.
    view = slack.open_form("change add", user=EMPLOYEE)
    assert "person" not in {b.get("block_id") for b in view["blocks"]}
    reply = slack.submit(view, CHANGE, user=EMPLOYEE)
    assert reply.body["response_action"] == "update", reply.raw
    assert request_row(db, "SI-2026-0001").subject_id == EMPLOYEE
    # An employee who names someone else sees them on the form, and is told.
    view = slack.open_form(f"change add <@{OTHER}>", user=EMPLOYEE)
    person = next(b for b in view["blocks"] if b.get("block_id") == "person")
    assert person["element"]["initial_user"] == OTHER
    reply = slack.submit(view, {**CHANGE, "person": OTHER}, user=EMPLOYEE)
    assert "only for yourself" in reply.body["errors"]["person"]

    assert "on the HR staff list" in message_text(slack.command(f"admin staff add <@{HR}>", user=ADMIN).body)
    view = slack.open_form("change add", user=HR)
    reply = slack.submit(view, {**CHANGE, "person": OTHER}, user=HR)
    assert reply.body["response_action"] == "update"
    assert request_row(db, "SI-2026-0002").subject_id == OTHER


def test_double_submission_of_one_form_creates_one_request(slack, db):
    view = slack.open_form("change add", user=EMPLOYEE)
    first = slack.submit(view, CHANGE, user=EMPLOYEE, view_id=view["id"])
    second = slack.submit(view, CHANGE, user=EMPLOYEE, view_id=view["id"])
    assert "SI-2026-0001" in message_text(first.body["view"])
    assert "SI-2026-0001" in message_text(second.body["view"])
    assert count(db, Request) == 1
    slack.wait_posts(2)
    assert len(slack.posts_to(ADMIN_CHANNEL)) == 1


def test_payback_shows_the_estimate_with_the_split(slack, db):
    view = slack.open_form("payback", user=EMPLOYEE)
    answers = {
        "month_from": "2026-08",
        "month_to": "2026-10",
        "monthly_base": "10000",
        "reason": "late_enrolment",
    }
    reply = slack.submit(view, answers, user=EMPLOYEE)
    text = message_text(reply.body["view"])
    # 3 months x 10,000 x 25.66 % employer = 7,698.00; x 10.5 % employee = 3,150.00.
    # Deadlines moved off holidays to the next working day (税收征收管理法实施细则 Art. 109):
    # Tue 08-25; Fri 09-25 (Mid-Autumn) -> Mon 09-28; Sun 10-25 -> Mon 10-26. Days late on
    # 2026-11-27: 94 + 60 + 32 = 186; late fee = 3,616.00 x 0.05 % x 186 = 336.288 -> 336.29.
    assert "employer 8,034.29" in text and "late fee 336.29" in text
    assert "employee 3,150.00" in text and "total 11,184.29" in text
    # Each base year's figures, and the work-injury rate as the unit's own.
    assert "2026-08 to 2026-10: base 10,000.00 × (25.66 % employer + 10.50 % employee)" in text
    assert "The floor and ceiling of 2026-07 to 2027-06 are to be checked" in text
    assert "work-injury rate is the unit's own" in text
    assert "holiday; Social Insurance Law Art. 86)" in text  # cited in the reader's language
    card = next(p for p in slack.wait_posts(2) if p["channel"] == ADMIN_CHANNEL)
    assert "10,000.00" not in message_text(card)  # wages stay out of the channel


def test_payback_months_must_be_past_and_within_reach(slack, db):
    view = slack.open_form("payback", user=EMPLOYEE)
    answers = {"month_from": "2022-01", "month_to": "2027-01", "monthly_base": "10000", "reason": "other"}
    reply = slack.submit(view, answers, user=EMPLOYEE)
    assert "2023-11 at the earliest" in reply.body["errors"]["month_from"]
    assert "2026-11 at the latest" in reply.body["errors"]["month_to"]
    reply = slack.submit(view, {**answers, "month_from": "2026-05", "month_to": "2026-03"}, user=EMPLOYEE)
    assert "before" in reply.body["errors"]["month_to"]
    assert count(db, Request) == 0


def test_complaint_goes_only_to_administrators_privately(slack, db):
    view = slack.open_form("complaint", user=EMPLOYEE)
    secret = "My March contributions were never paid"
    reply = slack.submit(
        view, {"category": "unpaid_months", "description": secret, "month_from": "2026-03"}, user=EMPLOYEE
    )
    assert reply.body["response_action"] == "update"
    posts = slack.wait_posts(3)
    assert {p["channel"] for p in posts} == {ADMIN, ADMIN2, EMPLOYEE}
    assert all(secret in message_text(p) for p in posts if p["channel"] in (ADMIN, ADMIN2))
    assert not slack.posts_to(ADMIN_CHANNEL)
    # Another employee cannot read it; it does not even exist for them.
    reply = slack.command("status SI-2026-0001", user=OTHER)
    assert "no request SI-2026-0001" in message_text(reply.body)
    assert secret not in reply.raw


# --- acting on requests --------------------------------------------------------------------


def _card_ts(slack) -> str:
    call = next(c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == ADMIN_CHANNEL)
    return call.result["ts"]


def test_admin_approves_then_marks_done_and_requester_is_told_each_time(slack, db):
    file_change(slack)
    slack.wait_posts(2)
    ts = _card_ts(slack)

    assert slack.press("request_approve", "SI-2026-0001", user=ADMIN).status == 200
    updates = slack.fake.wait_for("chat.update", 1)
    assert updates[0].params["ts"] == ts and updates[0].params["channel"] == ADMIN_CHANNEL
    updated = message_text(updates[0].params)
    assert "Approved" in updated and f"<@{ADMIN}>" in updated
    elements = [e for b in updates[0].params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    # One primary button, Done, which asks first; Reject moved into the overflow.
    assert [(e["type"], e["action_id"], e.get("style")) for e in elements] == [
        ("button", "request_done", "primary"),
        ("button", "request_details", None),
        ("overflow", "request_reject", None),
    ]
    assert "need do nothing more" in elements[0]["confirm"]["text"]["text"]
    assert updates[0].params["text"] == "SI-2026-0001 Approved: Enrolment · Zhang San · 2026-12"
    dm = slack.wait_posts(3)[-1]
    assert dm["channel"] == EMPLOYEE and "now *Approved*" in message_text(dm)

    slack.press("request_done", "SI-2026-0001", user=ADMIN2)
    updates = slack.fake.wait_for("chat.update", 2)
    assert "Done" in message_text(updates[-1].params)
    assert "Done" in message_text(slack.wait_posts(4)[-1])
    row = request_row(db, "SI-2026-0001")
    assert [(e.action, e.from_state, e.to_state, e.actor_id) for e in row.events] == [
        ("submit", None, "submitted", EMPLOYEE),
        ("approve", "submitted", "approved", ADMIN),
        ("done", "approved", "done", ADMIN2),
    ]


def test_reject_asks_for_a_reason_and_the_requester_reads_it(slack, db):
    file_change(slack)
    slack.wait_posts(2)
    slack.press("request_reject", "SI-2026-0001", user=ADMIN, trigger_id="trig-reject")
    modal = slack.fake.wait_for("views.open", 2)[-1]
    assert modal.params["trigger_id"] == "trig-reject"
    view = modal.result["view"]
    empty = slack.submit(view, {"reason": "  "}, user=ADMIN)
    assert "give a reason" in empty.body["errors"]["reason"]
    assert request_row(db, "SI-2026-0001").state == "submitted"

    done = slack.submit(view, {"reason": "The ID number belongs to someone else"}, user=ADMIN)
    assert done.status == 200 and done.body.get("response_action") is None
    dm = slack.wait_posts(3)[-1]
    assert "Rejected" in message_text(dm) and "belongs to someone else" in message_text(dm)
    assert request_row(db, "SI-2026-0001").events[-1].reason == "The ID number belongs to someone else"


def test_moves_the_states_do_not_allow_are_refused_with_a_message(slack, db):
    file_change(slack)
    slack.wait_posts(2)
    slack.press("request_done", "SI-2026-0001", user=ADMIN)
    response = slack.fake.wait_for("response_url", 1)[0].params
    assert "cannot be marked done" in message_text(response) and response["replace_original"] is False
    assert request_row(db, "SI-2026-0001").state == "submitted"


def test_a_double_clicked_button_approves_once_and_tells_once(slack, db):
    file_change(slack)
    slack.wait_posts(2)
    results = []
    presses = [
        threading.Thread(
            target=lambda u=u: results.append(slack.press("request_approve", "SI-2026-0001", user=u))
        )
        for u in (ADMIN, ADMIN, ADMIN2)
    ]
    for t in presses:
        t.start()
    for t in presses:
        t.join()
    assert all(r.status == 200 for r in results)
    slack.fake.wait_for("response_url", 2)
    slack.fake.wait_for("chat.update", 1)
    slack.wait_posts(3)  # the two notices of the filing, and the one of the approval
    with db.session() as session:
        approvals = session.scalar(select(func.count()).where(RequestEvent.action == "approve"))
    assert approvals == 1
    state_dms = [p for p in slack.posts_to(EMPLOYEE) if "Approved" in message_text(p)]
    assert len(state_dms) == 1
    refusals = [message_text(r) for r in slack.responses()]
    # Whoever came second is told it is approved already (by the state check or the race guard).
    # ("SI-2026-0001 was already approved by @x at 10:00.")
    assert len(refusals) == 2
    assert all("was already approved by <@UADMIN000" in r and " at 10:00." in r for r in refusals)


def test_a_non_administrators_forged_button_press_changes_nothing(slack, db):
    file_change(slack)
    slack.wait_posts(2)
    for action in ("request_approve", "request_done", "request_details"):
        slack.press(action, "SI-2026-0001", user=OTHER)
    slack.press("request_reject", "SI-2026-0001", user=OTHER)
    responses = slack.fake.wait_for("response_url", 4)
    assert all("Only the filed social-insurance administrators" in message_text(r.params) for r in responses)
    assert not slack.fake.calls_to("chat.update") and len(slack.fake.calls_to("views.open")) == 1
    row = request_row(db, "SI-2026-0001")
    assert row.state == "submitted" and len(row.events) == 1


def test_details_show_personal_data_whole_to_an_administrator_only(slack):
    file_change(slack)
    slack.wait_posts(2)
    slack.press("request_details", "SI-2026-0001", user=ADMIN, trigger_id="trig-details")
    opened = slack.fake.wait_for("views.open", 2)[-1]  # the first: the form it was filed with
    assert opened.params["trigger_id"] == "trig-details"
    detail = opened.params["view"]
    assert detail["type"] == "modal" and detail["title"]["text"] == "Request details"
    assert VALID_ID in message_text(detail) and "9,000.00" in message_text(detail)
    assert "History" in message_text(detail)


# --- status, cancel, admin list ------------------------------------------------------------


def test_status_lists_own_requests_and_one_with_its_history(slack):
    file_change(slack)
    mine = slack.command("status", user=EMPLOYEE)
    assert "SI-2026-0001" in message_text(mine.body) and mine.body["response_type"] == "ephemeral"
    assert "SI-2026-0001" not in message_text(slack.command("status", user=OTHER).body)
    one = slack.command("status si-2026-0001", user=EMPLOYEE)
    assert "History" in message_text(one.body) and VALID_ID in message_text(one.body)
    assert "History" in message_text(slack.command("status SI-2026-0001", user=ADMIN).body)


def test_requester_cancels_while_submitted_only(slack, db):
    file_change(slack)
    slack.wait_posts(2)
    # To someone who may not see it, the request does not exist (not even that it does).
    not_theirs = message_text(slack.command("cancel SI-2026-0001", user=OTHER).body)
    nonexistent = message_text(slack.command("cancel SI-2026-9999", user=OTHER).body)
    assert not_theirs == nonexistent.replace("9999", "0001")
    assert "There is no request SI-2026-0001" in not_theirs
    assert "Only the person who filed" in message_text(slack.command("cancel SI-2026-0001", user=ADMIN).body)
    assert "is cancelled" in message_text(slack.command("cancel SI-2026-0001", user=EMPLOYEE).body)
    assert "Cancelled" in message_text(slack.fake.wait_for("chat.update", 1)[0].params)
    again = slack.command("cancel SI-2026-0001", user=EMPLOYEE)
    assert f"was already cancelled by <@{EMPLOYEE}> at 10:00" in message_text(again.body)
    assert request_row(db, "SI-2026-0001").state == "cancelled"


def test_admin_list_filters_by_kind_and_state_and_is_for_admins_only(slack):
    file_change(slack)
    view = slack.open_form("payback", user=OTHER)
    slack.submit(
        view,
        {"month_from": "2026-09", "month_to": "2026-09", "monthly_base": "8000", "reason": "other"},
        user=OTHER,
    )
    both = message_text(slack.command("admin list", user=ADMIN).body)
    assert "SI-2026-0001" in both and "SI-2026-0002" in both
    paybacks = message_text(slack.command("admin list payback submitted", user=ADMIN).body)
    assert "SI-2026-0002" in paybacks and "SI-2026-0001" not in paybacks
    assert "No request matches" in message_text(slack.command("admin list done", user=ADMIN).body)
    assert "Only the filed" in message_text(slack.command("admin list", user=EMPLOYEE).body)
    assert "neither a kind" in message_text(slack.command("admin list urgent", user=ADMIN).body)


def test_help_explains_every_subcommand(slack):
    text = message_text(slack.command("help", user=EMPLOYEE).body)
    for sub in ("/si change", "/si payback", "/si complaint", "/si status", "/si cancel", "/si help"):
        assert sub in text
    # The administrators' commands are listed apart (help needs no database, not even to
    # know who is asking).
    assert text.index("For administrators") < text.index("/si admin list")
    assert message_text(slack.command("", user=ADMIN).body) == text


def test_messages_follow_si_language(make_bot, slack_for):
    slack = slack_for(make_bot(language="zh"))
    assert "参保人员变更" in message_text(slack.command("help", user=EMPLOYEE).body)
    view = slack.open_form("change add", user=EMPLOYEE)
    assert view["title"]["text"] == "参保人员变更"
    reply = slack.submit(view, {**CHANGE, "contribution_base": "100"}, user=EMPLOYEE)
    assert "缴费基数必须在 7,546.00 至 37,731.00 元之间" in reply.body["errors"]["contribution_base"]


@contextmanager
def transactions_begun(db) -> Iterator[list[bool]]:
    """The transactions begun within the block: for each, whether it only reads."""
    from sqlalchemy import event

    begun: list[bool] = []

    def count(conn) -> None:
        begun.append(bool(conn.get_execution_options().get(READ_ONLY, False)))

    event.listen(db.engine, "begin", count)
    try:
        yield begun
    finally:
        event.remove(db.engine, "begin", count)


def test_an_approve_press_costs_a_handful_of_transactions_whatever_the_message_count(slack, db):
    file_change(slack)
    slack.wait_posts(2)
    slack.idle()
    with transactions_begun(db) as begun:
        slack.press("request_approve", "SI-2026-0001", user=ADMIN)
        slack.idle()
    # Whether the press can move it is read in one statement outside any transaction (a
    # press that can't is answered from that read). Then one to approve (the administrator
    # check in the same session), one to look for what is due and one to claim it, and for
    # each of its two messages (the card redrawn, the requester told) one to take its turn
    # in Slack's pace (bot/pacing.py) and one to send it.
    assert len(begun) == 7


def test_a_press_on_a_card_someone_already_moved_only_reads(slack, db):
    file_change(slack)
    slack.press("request_approve", "SI-2026-0001", user=ADMIN)
    slack.idle()
    with transactions_begun(db) as begun:
        slack.press("request_approve", "SI-2026-0001", user=ADMIN2)
        slack.idle()
    assert begun == []  # one statement outside any unit of work: no write lock, no session
    said = message_text(slack.fake.wait_for("response_url")[-1].params)
    assert "SI-2026-0001 was already approved by <@UADMIN000" in said and " at 10:00." in said


def test_a_second_press_on_a_complaint_speaks_of_complaints(slack, db):
    """A complaint is accepted, not approved: the refusal of the second press says so, in
    the kind's own words (bot/domain/kinds.words_of), as every list and card does."""
    view = slack.open_form("complaint", user=EMPLOYEE)
    slack.submit(view, {"category": "other", "description": "No payslip for March"}, user=EMPLOYEE)
    slack.wait_posts(3)
    slack.press("request_approve", "SI-2026-0001", user=ADMIN)
    slack.idle()
    slack.press("request_approve", "SI-2026-0001", user=ADMIN2)
    said = message_text(slack.fake.wait_for("response_url")[-1].params)
    assert "SI-2026-0001 was already accepted by <@UADMIN000" in said and "approved" not in said


def test_a_press_is_refused_from_its_one_read_as_the_move_would_refuse(slack, db):
    """What the press's one read decides (bot/services/requests.check_action): an unknown
    request, and an administrator removed since the card was posted."""
    file_change(slack)
    slack.wait_posts(2)
    slack.press("request_approve", "SI-2026-0999", user=ADMIN)
    unknown = message_text(slack.fake.wait_for("response_url")[-1].params)
    assert "There is no request SI-2026-0999 that you can see." in unknown
    slack.press("admin_remove", ADMIN2, user=ADMIN)  # the confirmed press of /si admin remove
    slack.fake.wait_for("response_url", 2)
    slack.press("request_approve", "SI-2026-0001", user=ADMIN2)
    removed = message_text(slack.fake.wait_for("response_url", 3)[-1].params)
    assert "Only the filed social-insurance administrators" in removed
    assert request_row(db, "SI-2026-0001").state == "submitted"


def test_replies_to_response_urls_reuse_kept_alive_connections(slack):
    """Each refused press is answered by a post to its response URL (bot/response_urls.py):
    each lazy thread keeps one connection open, not a new connection (and TLS handshake) a
    reply."""
    file_change(slack)
    slack.press("request_approve", "SI-2026-0001", user=ADMIN)
    slack.idle()
    before = len(slack.fake.response_ports)
    presses = 20
    for _ in range(presses):
        slack.press("request_approve", "SI-2026-0001", user=ADMIN2)
        slack.idle()
    ports = slack.fake.response_ports[before:]
    assert len(ports) == presses
    assert len(set(ports)) <= LAZY_WORKERS < presses, ports  # at most one a lazy thread
    said = message_text(slack.fake.wait_for("response_url")[-1].params)
    assert "already" in said


def test_a_refusal_whose_words_take_a_key_is_worded_not_an_apology(slack):
    # reminder_not_found is worded with the reminder's key: its parameter named "key" once
    # clashed with the reply helper's own and gave an apology instead.
    reply = slack.press("reminder_done", "payment:1999-01", user=ADMIN)
    assert reply.status == 200
    slack.idle()
    said = message_text(slack.fake.wait_for("response_url")[-1].params)
    assert "no longer known (payment:1999-01)" in said and "Sorry" not in said
