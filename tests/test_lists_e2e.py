"""Request lists a page at a time, end to end through the real Bolt app: /si admin list and
/si status with kind and state filters, Older / Newer buttons carrying the keyset (the
ephemeral answer replaced in place), rows linking to their cards, and App Home's list
modal with a real title, paged with views.update."""

from __future__ import annotations

from datetime import timedelta

from bot.console import slack_payloads as payloads
from bot.storage.models import RequestMessage
from tests.conftest import ADMIN, EMPLOYEE, SECRET, STORY_NOW
from tests.slack import message_text
from tests.stories import add_request


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
