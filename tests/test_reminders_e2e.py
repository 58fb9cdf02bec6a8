"""Reminder buttons end to end: signed block actions into the real Bolt app over HTTP, the
Web API pointed at the fake Slack. The clock is moved, never slept."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.scheduler import reminder_tick
from bot.storage.models import ReminderOccurrence
from tests.conftest import ADMIN, ADMIN2, ADMIN_CHANNEL, EMPLOYEE, SHANGHAI, policy_moving_back
from tests.slack import message_text
from tests.stories import add_request
from tests.test_reminders import AUDIENCE

CUTOFF = "change_cutoff:2026-02"


def local(month: int, day: int, hh: int = 9, mm: int = 5) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SHANGHAI)


def buttons(message: dict) -> list[str]:
    return [
        e["action_id"] for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
    ]


@pytest.fixture
def settings(settings, tmp_path, request):
    """These stories were worked out on a policy that moves deadlines back and keeps the
    certificate exam (tests/conftest.py: policy_moving_back); reminders go to the admin
    channel unless a test asks for DMs (``indirect`` parameter "dm")."""
    to = getattr(request, "param", "channel")
    return replace(settings, policy_file=str(policy_moving_back(tmp_path, reminders_to=to)))


@pytest.fixture
def reminded(slack, clock):
    """Wednesday 11 February, 09:05: the cut-off's first reminder has gone out."""
    clock.move_to(local(2, 11))
    reminder_tick(slack.bot)
    posted = slack.wait_posts(len(AUDIENCE))
    assert sorted(p["channel"] for p in posted) == sorted(AUDIENCE)
    return {p["channel"]: p for p in posted}


def channel_copy(slack) -> dict:
    call = next(c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == ADMIN_CHANNEL)
    return call.result


def occurrence(db, key: str = CUTOFF) -> ReminderOccurrence:
    with db.session() as session:
        return session.scalar(select(ReminderOccurrence).where(ReminderOccurrence.key == key))


def test_admin_presses_done_every_copy_says_so_and_the_follow_ups_stop(slack, db, clock, reminded):
    assert buttons(reminded[ADMIN_CHANNEL]) == [
        "reminder_done",
        "reminder_snooze",
        "reminder_export_change_form",
    ]
    posted = channel_copy(slack)
    reply = slack.press("reminder_done", CUTOFF, user=ADMIN2, channel=ADMIN_CHANNEL, message_ts=posted["ts"])
    assert reply.status == 200

    (update,) = slack.fake.wait_for("chat.update", 1)
    assert update.params["channel"] == ADMIN_CHANNEL
    updates = [update]
    for update in updates:
        assert f"Marked done by <@{ADMIN2}>" in message_text(update.params)
        assert buttons(update.params) == []
    assert occurrence(db).handled_by == ADMIN2

    for day in (12, 13, 14, 24):
        clock.move_to(local(2, day))
        reminder_tick(slack.bot)
    cutoff_posts = [p for p in slack.posts_to(ADMIN_CHANNEL) if "Change cut-off" in message_text(p)]
    assert len(cutoff_posts) == 1  # no follow-ups, no missed alert


def test_a_second_press_is_told_who_handled_it_and_changes_nothing(slack, db, reminded):
    slack.press("reminder_done", CUTOFF, user=ADMIN, response_url=slack.fake.response_url("first"))
    slack.fake.wait_for("chat.update", 1)
    slack.press("reminder_done", CUTOFF, user=ADMIN2, response_url=slack.fake.response_url("second"))
    answer = slack.fake.wait_for("response_url", 1)[-1]
    assert f"Already marked done by <@{ADMIN}>" in message_text(answer.params)
    assert answer.params.get("response_type") == "ephemeral"
    assert len(slack.fake.calls_to("chat.update")) == 1
    assert occurrence(db).handled_by == ADMIN


def test_an_employee_pressing_done_changes_nothing(slack, db, reminded):
    slack.press("reminder_done", CUTOFF, user=EMPLOYEE)
    answer = slack.fake.wait_for("response_url", 1)[-1]
    assert "Only the filed social-insurance administrators" in message_text(answer.params)
    assert occurrence(db).handled_at is None
    assert slack.fake.calls_to("chat.update") == []


def test_snooze_until_tomorrow_confirms_and_marks_every_copy(slack, db, clock, reminded):
    slack.press("reminder_snooze", CUTOFF, user=ADMIN)
    answer = slack.fake.wait_for("response_url", 1)[-1]
    assert "the next reminder comes on 2026-02-12" in message_text(answer.params)
    updates = slack.fake.wait_for("chat.update", 1)
    for update in updates:
        assert f"Snoozed by <@{ADMIN}> until 2026-02-12" in message_text(update.params)
        assert buttons(update.params) == ["reminder_done", "reminder_snooze", "reminder_export_change_form"]
    assert occurrence(db).snoozed_until.isoformat() == "2026-02-12"

    clock.move_to(local(2, 11, 16, 0))
    assert reminder_tick(slack.bot) == []
    clock.move_to(local(2, 12))
    assert [r.key for r in reminder_tick(slack.bot)] == ["change_cutoff:2026-02:warning:2026-02-12"]
    newest = slack.posts_to(ADMIN_CHANNEL)[-1]
    assert "Snoozed" not in message_text(newest)


def test_see_them_lists_the_month_changes_to_the_admin_only(slack, db, clock):
    with db.session() as session:
        add_request(session, "SI-2026-0001", "change", "approved", local(2, 2))
        add_request(session, "SI-2026-0002", "change", "submitted", local(2, 9))
    clock.move_to(local(2, 11))
    reminder_tick(slack.bot)
    cutoff = [p for p in slack.wait_posts(2) if "Change cut-off" in message_text(p)]  # and the digest
    assert len(cutoff) == 1
    assert buttons(cutoff[0]) == [
        "reminder_done",
        "reminder_snooze",
        "reminder_see_changes",
        "reminder_export_change_form",
    ]

    slack.press("reminder_see_changes", CUTOFF, user=ADMIN, response_url=slack.fake.response_url("admin"))
    answer = slack.fake.wait_for("response_url", 1)[-1]
    listed = message_text(answer.params)
    assert "SI-2026-0001" in listed and "SI-2026-0002" in listed
    assert answer.params["response_type"] == "ephemeral"

    slack.press("reminder_see_changes", CUTOFF, user=EMPLOYEE, response_url=slack.fake.response_url("emp"))
    answer = slack.fake.wait_for("response_url", 2)[-1]
    assert "SI-2026-0001" not in message_text(answer.params)
    assert "Only the filed social-insurance administrators" in message_text(answer.params)


def test_the_cutoff_reminder_exports_the_change_form(slack, db, clock):
    with db.session() as session:
        add_request(session, "SI-2026-0001", "change", "approved", local(2, 2))
    clock.move_to(local(2, 11))
    reminder_tick(slack.bot)
    cutoff = next(p for p in slack.wait_posts(1) if "Change cut-off" in message_text(p))
    export = next(
        e
        for b in cutoff["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if "Export" in e["text"]["text"]
    )
    assert export["text"]["text"] == "Export the change form" and export["value"] == "2026-02"
    slack.press(
        export["action_id"], export["value"], user=ADMIN, response_url=slack.fake.response_url("admin")
    )
    assert "Building the insured change form for 2026-02" in message_text(
        slack.fake.wait_for("response_url", 1)[-1].params
    )
    assert slack.fake.wait_until(
        lambda calls: any(
            c.method == "chat.postMessage" and "Mark filed" in message_text(c.params) for c in calls
        )
    ), "the change form never arrived"
    slack.press(
        export["action_id"], export["value"], user=EMPLOYEE, response_url=slack.fake.response_url("e")
    )
    assert "Only the filed" in message_text(slack.fake.wait_for("response_url", 2)[-1].params)


def test_done_on_the_daily_digest_marks_it_seen(slack, db, clock):
    with db.session() as session:
        add_request(session, "SI-2026-0001", "change", "submitted", local(2, 5))
    clock.move_to(local(2, 10))
    reminder_tick(slack.bot)
    digests = [p for p in slack.wait_posts(1) if "Requests waiting too long" in message_text(p)]
    assert len(digests) == 1
    slack.press("reminder_done", "stale_digest:2026-02-10", user=ADMIN)
    updates = slack.fake.wait_for("chat.update", 1)
    assert all(f"Seen by <@{ADMIN}>" in message_text(u.params) for u in updates)


@pytest.mark.parametrize("settings", ["dm"], indirect=True)
def test_by_dm_done_in_one_administrator_s_dm_redraws_the_other_s(slack, db, clock):
    clock.move_to(local(2, 11))
    reminder_tick(slack.bot)
    posted = {p["channel"]: p for p in slack.wait_posts(2)}
    assert sorted(posted) == sorted([ADMIN, ADMIN2])  # each administrator, no channel copy
    slack.press("reminder_done", CUTOFF, user=ADMIN, channel="D" + ADMIN[1:])
    updates = slack.fake.wait_for("chat.update", 2)
    assert {u.params["channel"] for u in updates} == {"D" + ADMIN[1:], "D" + ADMIN2[1:]}
    assert all(f"Marked done by <@{ADMIN}>" in message_text(u.params) for u in updates)
    assert not slack.posts_to(ADMIN_CHANNEL)
