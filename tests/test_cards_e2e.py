"""What the cards, DMs and notifications say, and who sees what (issue 15), end to end:
signed requests into the real Bolt app, the Web API pointed at the fake Slack."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.storage.models import Request, Staff
from tests.conftest import ADMIN, ADMIN2, ADMIN_CHANNEL, EMPLOYEE, HR, OTHER
from tests.slack import message_text
from tests.test_intake_e2e import CHANGE as INTAKE_CHANGE
from tests.test_intake_e2e import VALID_ID

# The change the intake tests file, without its notes (each test types its own).
CHANGE = {k: v for k, v in INTAKE_CHANGE.items() if k != "notes"}
# Personal numbers typed where they don't belong: an ID, a salary, a bank card.
TYPED = "My ID is 44052419800101001X, salary 12,500 yuan, pay it to card 6222 0212 3456 7890 from 2026-12"
TYPED_MASKED = "My ID is 4405**********001X, salary ****, pay it to card ************7890 from 2026-12"


def file(slack, command: str, answers: dict, user: str = EMPLOYEE):
    view = slack.open_form(command, user=user)
    reply = slack.submit(view, answers, user=user, view_id=view["id"])
    assert reply.status == 200 and reply.body.get("response_action") == "update", reply.raw
    return reply


def card_in(posts, channel=ADMIN_CHANNEL):
    return next(p for p in posts if p["channel"] == channel)


def actions(message) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] in ("actions", "section") for e in _elements(b)]


def _elements(block) -> list[dict]:
    if block["type"] == "actions":
        return block["elements"]
    return [block["accessory"]] if "accessory" in block else []


def test_numbers_typed_in_free_text_are_masked_in_the_channel_and_whole_in_private(slack):
    file(slack, "change add", {**CHANGE, "notes": TYPED})
    posts = slack.wait_posts(2)
    card = card_in(posts)
    text = message_text(card)
    assert TYPED_MASKED in text
    for secret in ("44052419800101001X", "12,500", "6222 0212 3456 7890", "3456", VALID_ID, "9,000"):
        assert secret not in text, secret
    assert "🔒 Sensitive details hidden" in text
    # The header says what and who; the id and the state are in the context.
    assert card["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Enrolment · Zhang San · 2026-12"},
    }
    assert card["blocks"][1]["elements"][0]["text"] == "SI-2026-0001 · :hourglass_flowing_sand: *Submitted*"
    # The person's own receipt shows what they typed.
    receipt = card_in(posts, EMPLOYEE)
    assert TYPED in message_text(receipt) and VALID_ID in message_text(receipt)
    # A rejection's reason is free text too.
    slack.press("request_reject", "SI-2026-0001", user=ADMIN, trigger_id="trig-reject")
    reason_form = slack.fake.wait_for("views.open", 2)[-1].result["view"]
    slack.submit(reason_form, {"reason": "Card 6222021234567890 is not his, base 9000 too low"}, user=ADMIN)
    slack.wait_card("SI-2026-0001", "Rejected")
    redrawn = [c.params for c in slack.fake.calls_to("chat.update") if c.params["channel"] == ADMIN_CHANNEL][
        -1
    ]
    assert "Card ************7890 is not his, base **** too low" in message_text(redrawn)
    dm = slack.wait_posts(3)[-1]
    assert dm["channel"] == EMPLOYEE and "Card 6222021234567890 is not his" in message_text(dm)


def test_the_card_bank_is_a_select_shown_as_the_banks_name(slack):
    view = slack.open_form("card lost", user=EMPLOYEE)
    bank = next(b for b in view["blocks"] if b.get("block_id") == "bank")
    assert bank["element"]["type"] == "static_select"
    assert {"icbc", "boc", "other"} <= {o["value"] for o in bank["element"]["options"]}
    answers = {
        "card_action": "lost",
        "full_name": "Zhang San",
        "resident_id": VALID_ID,
        "lost_on": "2026-11-26",
        "bank": "boc",
        "notes": "old card 6222 0212 3456 7890",
    }
    file(slack, "card lost", answers)
    card = card_in(slack.wait_posts(2))
    assert "Bank of China" in message_text(card) and "************7890" in message_text(card)


def test_sensitive_kinds_show_only_kind_id_and_state_in_the_channel(slack):
    answers = {"treatment_kind": "inpatient", "hospital": "Fudan Cancer Hospital", "date_from": "2026-12-01"}
    file(slack, "medical", answers)
    card = card_in(slack.wait_posts(2))
    text = message_text(card)
    assert card["text"] == "Waiting for approval: Medical treatment approval (SI-2026-0001)"
    assert "Fudan" not in text and EMPLOYEE not in text
    assert [e["action_id"] for e in actions(card)] == ["request_approve", "request_reject", "request_details"]
    slack.press("request_details", "SI-2026-0001", user=ADMIN, trigger_id="trig-details")
    detail = slack.fake.wait_for("views.open", 2)[-1].params["view"]
    assert "Fudan Cancer Hospital" in message_text(detail)


def test_a_complaint_is_accepted_and_resolved_in_its_own_words(make_bot, slack_for):
    slack = slack_for(make_bot(language="zh"))
    file(slack, "complaint", {"category": "unpaid_months", "description": "三月份的社保没有缴"})
    posts = slack.wait_posts(3)  # each administrator privately, and the receipt
    card = card_in(posts, ADMIN)
    assert [e["text"]["text"] for e in actions(card)] == ["受理", "不予受理"]
    # A stale or forged Done on a complaint not yet accepted is refused in its words too.
    slack.press("request_done", "SI-2026-0001", user=ADMIN, channel=ADMIN)
    refused = message_text(slack.fake.wait_for("response_url", 1)[-1].params)
    assert "已提交的申请不能标记为已解决。" in refused and "办结" not in refused
    slack.press("request_approve", "SI-2026-0001", user=ADMIN, channel=ADMIN)
    dm = slack.wait_posts(4)[-1]
    assert dm["channel"] == EMPLOYEE
    assert dm["text"] == "SI-2026-0001 已受理：投诉"
    assert "已受理" in message_text(dm) and "调查" in message_text(dm) and "批准" not in message_text(dm)
    # Each administrator's card is redrawn where it was posted (their DM).
    assert slack.fake.wait_until(lambda calls: len([c for c in calls if c.method == "chat.update"]) >= 2)
    redrawn = slack.fake.calls_to("chat.update")[-1].params
    assert redrawn["text"] == "SI-2026-0001 已受理：投诉"
    done = actions(redrawn)[0]
    assert done["text"]["text"] == "已解决" and "投诉已解决" in done["confirm"]["text"]["text"]
    slack.press("request_done", "SI-2026-0001", user=ADMIN2, channel=ADMIN2)
    dm = slack.wait_posts(5)[-1]
    assert dm["text"] == "SI-2026-0001 已解决：投诉" and "办结" not in message_text(dm)


def test_the_receipt_withdraws_after_a_confirm(slack, db):
    file(slack, "change add", CHANGE)
    receipt = card_in(slack.wait_posts(2), EMPLOYEE)
    assert receipt["text"] == "Received SI-2026-0001: Enrolment · Zhang San · 2026-12"
    (withdraw,) = actions(receipt)
    assert withdraw["action_id"] == "request_withdraw" and withdraw["confirm"]["style"] == "danger"
    slack.press("request_withdraw", "SI-2026-0001", user=EMPLOYEE, channel=EMPLOYEE)
    assert slack.fake.wait_until(
        lambda calls: any(c.method == "chat.update" and c.params["channel"] == EMPLOYEE for c in calls)
    )
    redrawn = next(c.params for c in slack.fake.calls_to("chat.update") if c.params["channel"] == EMPLOYEE)
    assert not actions(redrawn)  # nothing left to withdraw
    slack.wait_card("SI-2026-0001", "Cancelled")
    with db.session() as session:
        assert session.scalar(select(Request.state)) == "cancelled"
    # Someone else's receipt button does nothing.
    file(slack, "change add", {**CHANGE, "full_name": "Li Si", "resident_id": "440524198001010013"})
    slack.press("request_withdraw", "SI-2026-0002", user=OTHER, channel=OTHER)
    refusal = slack.fake.wait_for("response_url", 2)[-1].params
    assert "SI-2026-0002" in message_text(refusal)
    with db.session() as session:
        assert session.scalar(select(Request.state).where(Request.public_id == "SI-2026-0002")) == "submitted"


def test_a_rejected_person_can_write_to_the_administrators(slack):
    file(slack, "change add", CHANGE)
    slack.wait_posts(2)
    slack.press("request_reject", "SI-2026-0001", user=ADMIN, trigger_id="trig-reject")
    reason_form = slack.fake.wait_for("views.open", 2)[-1].result["view"]
    slack.submit(reason_form, {"reason": "Wrong month"}, user=ADMIN)
    dm = slack.wait_posts(3)[-1]
    assert dm["text"] == "SI-2026-0001 Rejected: Enrolment 2026-12"
    assert "reaches si-bot's help assistant, not a person" in message_text(dm)
    (contact,) = actions(dm)
    slack.press(contact["action_id"], contact["value"], user=EMPLOYEE, channel=EMPLOYEE, trigger_id="trig-c")
    form = slack.fake.wait_for("views.open", 3)[-1].result["view"]
    assert form["title"]["text"] == "Contact administrator"
    assert "SI-2026-0001" in message_text(form)
    reply = slack.submit(form, {"message": "I start on *1 December*, see `contract`"}, user=EMPLOYEE)
    assert "sent to the administrators" in message_text(reply.body["view"])
    slack.submit(form, {"message": "I start on *1 December*, see `contract`"}, user=EMPLOYEE)  # twice
    posts = slack.wait_posts(5)
    slack.idle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 5  # a double submission sends once
    to_admins = {p["channel"]: p for p in posts[3:]}
    assert set(to_admins) == {ADMIN, ADMIN2}
    message = to_admins[ADMIN]
    assert message["text"] == "A message about SI-2026-0001: Enrolment 2026-12"
    # Their words are plain text: nothing in them formats.
    typed = next(b for b in message["blocks"] if b["text"]["type"] == "plain_text")
    assert typed["text"]["text"] == "I start on *1 December*, see `contract`"
    assert f"<@{EMPLOYEE}>" in message_text(message)


def test_the_insured_person_is_told_when_someone_else_files_for_them(slack, db):
    with db.session() as session:
        session.add(Staff(user_id=HR, added_by=ADMIN, added_at=slack.bot.now()))
    file(slack, "change add", {**CHANGE, "person": OTHER}, user=HR)
    posts = slack.wait_posts(3)
    told = card_in(posts, OTHER)
    assert told["text"] == "SI-2026-0001 filed for you: Enrolment 2026-12"
    assert f"<@{HR}> filed *SI-2026-0001* for you" in message_text(told)
    assert VALID_ID in message_text(told)  # their own data, privately
    assert card_in(posts, HR)["text"].startswith("Received SI-2026-0001")


def test_every_notification_text_of_a_run_is_plain(slack, db):
    """Mobile notifications and screen readers read only ``text``: no mrkdwn, no emoji codes."""
    with db.session() as session:
        session.add(Staff(user_id=HR, added_by=ADMIN, added_at=slack.bot.now()))
    file(slack, "change add", {**CHANGE, "notes": TYPED})
    file(
        slack,
        "change add",
        {**CHANGE, "person": OTHER, "full_name": "Li Si", "resident_id": "440524198001010013"},
        user=HR,
    )
    file(slack, "complaint", {"category": "unpaid_months", "description": "March was never paid"})
    slack.wait_posts(8)
    slack.press("request_approve", "SI-2026-0001", user=ADMIN)
    slack.press("request_approve", "SI-2026-0003", user=ADMIN, channel=ADMIN)
    slack.wait_card("SI-2026-0001", "Approved")
    slack.press("request_done", "SI-2026-0001", user=ADMIN)
    slack.press("request_reject", "SI-2026-0002", user=ADMIN, trigger_id="trig-reject")
    reason_form = slack.fake.wait_for("views.open", 4)[-1].result["view"]
    slack.submit(reason_form, {"reason": "Duplicate"}, user=ADMIN)
    slack.wait_card("SI-2026-0002", "Rejected")
    slack.idle()
    sent = [c.params for c in slack.fake.calls if c.method in ("chat.postMessage", "chat.update")]
    assert len(sent) >= 14
    for message in sent:
        text = message["text"]
        assert text and not re.search(r"[*`]|:[a-z0-9_+-]+:", text), text
        assert "SI-2026-000" in text, text  # front-loaded with the request
