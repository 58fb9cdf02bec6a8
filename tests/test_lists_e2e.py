"""Request lists a page at a time, end to end through the real Bolt app: /si admin list and
/si status with kind and state filters, Older / Newer buttons carrying the keyset (the
ephemeral answer replaced in place), rows linking to their cards, and App Home's list
modal with a real title, its kind and state selects, paged with views.update."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.views import View

from bot.console import slack_payloads as payloads
from bot.storage.models import RequestMessage
from tests.conftest import ADMIN, EMPLOYEE, SECRET, STORY_NOW
from tests.slack import message_text
from tests.stories import add_request
from tests.test_workspace_e2e import open_home


def story(db, count: int = 23) -> list[str]:
    """``count`` requests an hour apart: changes, one complaint in five, every third done;
    each with a card in the administrators' channel."""
    ids = []
    with db.session() as session:
        for n in range(1, count + 1):
            kind = "complaint" if n % 5 == 0 else "change"
            state = "done" if n % 3 == 0 else "submitted"
            at = STORY_NOW - timedelta(hours=count - n)
            request = add_request(session, f"SI-2026-{n:04d}", kind, state, at, effective_month="2026-12")
            ts = f"1700000{n:03d}.000100"
            session.add(RequestMessage(request_id=request.id, channel="C0ADMIN", ts=ts, audience="shared"))
            ids.append(request.public_id)
    return ids


def pages(message: dict) -> dict[str, str]:
    """The page buttons of a list: action id -> value."""
    return {
        e["action_id"]: e["value"]
        for b in message.get("blocks", [])
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    }


def test_admin_list_pages_back_and_forth_with_the_keyset(slack, db):
    ids = story(db)
    first = slack.command("admin list", user=ADMIN).body
    text = message_text(first)
    # Newest first, ten a page, each id linked to its card in the channel.
    row = next(line for line in text.splitlines() if "SI-2026-0023" in line)
    assert row.endswith("· <https://fake.slack.test/archives/C0ADMIN/p1700000023000100|card>")
    assert all(public_id in text for public_id in ids[13:]) and ids[12] not in text
    assert "Showing 10 of 23" in text
    assert set(pages(first)) == {"list_page_older"}

    slack.press("list_page_older", pages(first)["list_page_older"], user=ADMIN)
    (second,) = slack.fake.wait_for("response_url", 1)
    assert second.params["replace_original"] is True
    text = message_text(second.params)
    assert all(public_id in text for public_id in ids[3:13]) and ids[13] not in text and ids[2] not in text
    assert set(pages(second.params)) == {"list_page", "list_page_older"}

    slack.press("list_page_older", pages(second.params)["list_page_older"], user=ADMIN)
    third = slack.fake.wait_for("response_url", 2)[-1].params
    assert [p for p in ids if p in message_text(third)] == ids[:3]
    assert set(pages(third)) == {"list_page"}  # the last page: nothing older

    slack.press("list_page", pages(third)["list_page"], user=ADMIN)
    back = slack.fake.wait_for("response_url", 3)[-1].params
    assert [p for p in ids if p in message_text(back)] == ids[3:13]


def test_filters_carry_over_to_the_next_page(slack, db):
    ids = story(db)
    done_changes = [p for n, p in enumerate(ids, 1) if n % 3 == 0 and n % 5 != 0]  # 6 of them
    first = slack.command("admin list change done", user=ADMIN).body
    assert "State: Done" in message_text(first)
    assert [p for p in ids if p in message_text(first)] == done_changes
    assert pages(first) == {}  # one page holds them all

    mine = slack.command("status complaint", user=EMPLOYEE).body
    assert [p for p in ids if p in message_text(mine)] == [p for n, p in enumerate(ids, 1) if n % 5 == 0]
    assert "archives" not in message_text(mine)  # the channel's cards are the administrators'
    assert "neither a kind" in message_text(slack.command("status change urgent", user=EMPLOYEE).body)
    # A forged page value is refused in words, not a crash.
    slack.press("list_page_older", "all|change|nonsense|older|x|1", user=ADMIN)
    (refusal,) = slack.fake.wait_for("response_url", 1)
    assert "can no longer be read" in message_text(refusal.params)


def test_app_homes_list_modal_has_a_title_and_pages_in_place(slack, db):
    ids = story(db, 12)
    slack.send(payloads.home_block_action(SECRET, user=ADMIN, action_id="home_command", value="requests"))
    (opened,) = slack.fake.wait_for("views.open", 1)
    view = opened.result["view"]
    assert view["title"]["text"] == "Requests"
    value = pages(view)["list_page_older"]
    press = payloads.modal_block_action(
        SECRET, user=ADMIN, action_id="list_page_older", value=value, view_id=view["id"]
    )
    assert slack.send(press).status == 200
    (updated,) = slack.fake.wait_for("views.update", 1)
    assert updated.params["view_id"] == view["id"]
    shown = updated.result["view"]
    assert shown["title"]["text"] == "Requests"
    assert [p for p in ids if p in message_text(shown)] == ids[:2]


def selects(view: dict) -> dict[str, dict]:
    """The list modal's selects: action id -> the select."""
    return {
        e["action_id"]: e
        for b in view["blocks"]
        if b.get("block_id") == "list_filters"
        for e in b["elements"]
    }


def option(select: dict, text: str) -> str:
    """The value of the option that shows ``text``."""
    return next(o["value"] for o in select["options"] if o["text"]["text"] == text)


def choose(slack, view: dict, action_id: str, text: str, updates: int) -> dict:
    """Choose ``text`` in the modal's select ``action_id``, as Slack sends it; the view
    Slack shows after the bot's views.update."""
    value = option(selects(view)[action_id], text)
    chosen = payloads.modal_select_action(SECRET, user=ADMIN, view=view, action_id=action_id, value=value)
    assert slack.send(chosen).status == 200
    update = slack.fake.wait_for("views.update", updates)[-1]
    assert update.params["view_id"] == view["id"]
    return update.result["view"]


def test_the_list_modal_filters_by_kind_and_state_and_starts_from_the_newest(slack, db):
    ids = story(db)  # 23: a complaint every fifth, every third done
    complaints = [p for n, p in enumerate(ids, 1) if n % 5 == 0]
    done_complaints = [p for n, p in enumerate(ids, 1) if n % 15 == 0]
    slack.send(payloads.home_block_action(SECRET, user=ADMIN, action_id="home_command", value="requests"))
    (opened,) = slack.fake.wait_for("views.open", 1)
    view = opened.result["view"]
    View(**view).validate_json()  # Block Kit as Slack takes it
    shown = selects(view)
    assert shown["list_kind"]["initial_option"]["text"]["text"] == "All kinds"
    assert shown["list_state"]["initial_option"]["text"]["text"] == "All states"
    assert [o["text"]["text"] for o in shown["list_state"]["options"]] == [
        "All states", "Submitted", "Approved", "Done", "Rejected", "Cancelled"
    ]  # fmt: skip
    assert "Complaint" in [o["text"]["text"] for o in shown["list_kind"]["options"]]

    # Turn to the older page first: a new filter starts again from the newest.
    older = payloads.modal_block_action(
        SECRET,
        user=ADMIN,
        action_id="list_page_older",
        value=pages(view)["list_page_older"],
        view_id=view["id"],
    )
    assert slack.send(older).status == 200
    view = slack.fake.wait_for("views.update", 1)[-1].result["view"]
    assert "SI-2026-0023" not in message_text(view)

    view = choose(slack, view, "list_kind", "Complaint", 2)
    View(**view).validate_json()
    assert view["title"]["text"] == "Requests"
    assert [p for p in ids if p in message_text(view)] == complaints  # all four, newest to oldest
    assert message_text(view).index("SI-2026-0020") < message_text(view).index("SI-2026-0005")
    assert selects(view)["list_kind"]["initial_option"]["text"]["text"] == "Complaint"
    assert pages(view) == {}  # one page holds them

    # The state select keeps the kind chosen.
    view = choose(slack, view, "list_state", "Done", 3)
    assert [p for p in ids if p in message_text(view)] == done_complaints
    assert selects(view)["list_kind"]["initial_option"]["text"]["text"] == "Complaint"
    assert selects(view)["list_state"]["initial_option"]["text"]["text"] == "Done"

    # Back to every kind: the done ones of every kind, ten a page, the page buttons keeping
    # the filter (and the selects) as they turn.
    view = choose(slack, view, "list_kind", "All kinds", 4)
    done = [p for n, p in enumerate(ids, 1) if n % 3 == 0]
    assert [p for p in ids if p in message_text(view)] == done  # 7 of them: one page

    view = choose(slack, view, "list_state", "Rejected", 5)
    assert not [p for p in ids if p in message_text(view)]
    assert "No request matches." in message_text(view)


def test_the_list_modals_filter_is_for_administrators_and_refuses_a_forged_value(slack, db):
    story(db, 3)
    slack.send(payloads.home_block_action(SECRET, user=ADMIN, action_id="home_command", value="requests"))
    (opened,) = slack.fake.wait_for("views.open", 1)
    view = opened.result["view"]
    bogus = {"text": {"type": "plain_text", "text": "x"}, "value": "all|bogus|"}
    kinds = selects(view)["list_kind"]
    kinds["options"].append(bogus)  # a value no option of ours has: forged
    chosen = payloads.modal_select_action(
        SECRET, user=ADMIN, view=view, action_id="list_kind", value="all|bogus|"
    )
    assert slack.send(chosen).status == 200
    assert "can no longer be read" in message_text(slack.fake.wait_for("chat.postMessage", 1)[-1].params)
    # Everyone's list is the administrators': an employee choosing in it is refused.
    value = option(selects(view)["list_kind"], "Complaint")
    chosen = payloads.modal_select_action(
        SECRET, user=EMPLOYEE, view=view, action_id="list_kind", value=value
    )
    assert slack.send(chosen).status == 200
    refusal = slack.fake.wait_for("chat.postMessage", 2)[-1].params
    assert refusal["channel"] == EMPLOYEE and "administrator" in message_text(refusal).lower()
    assert len(slack.fake.calls_to("views.update")) == 0


def test_a_complaint_is_accepted_in_every_list_as_on_its_card(slack, db):
    """A complaint's states have words of their own (accepted / not accepted / resolved), in
    /si status and on App Home as on its card; other kinds are approved."""
    with db.session() as session:
        add_request(session, "SI-2026-0001", "complaint", "approved", STORY_NOW - timedelta(hours=2))
        add_request(session, "SI-2026-0002", "complaint", "rejected", STORY_NOW - timedelta(hours=1))
        add_request(session, "SI-2026-0003", "change", "approved", STORY_NOW, effective_month="2026-12")
    listed = message_text(slack.command("status", user=EMPLOYEE).body)
    assert "*SI-2026-0001* · Complaint · Accepted" in listed
    assert "*SI-2026-0002* · Complaint · Not accepted" in listed
    assert "*SI-2026-0003* · Enrolment change · Approved" in listed
    assert "Complaint · Approved" not in listed
    home = message_text(open_home(slack, EMPLOYEE, 1)["view"])
    assert "*SI-2026-0001* · Complaint · Accepted" in home and "Complaint · Approved" not in home
