"""What must hold whatever Slack (or someone pretending to be Slack) sends."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.console import slack_payloads as payloads
from bot.storage.models import OutboxMessage, Request
from tests.conftest import ADMIN_CHANNEL, EMPLOYEE, SECRET
from tests.slack import message_text
from tests.test_intake_e2e import VALID_ID, file_change


def test_a_forged_signature_is_refused_before_any_work_and_the_log_masks_the_id(slack, db, caplog):
    view = {"id": "V1", "callback_id": "change_form", "blocks": [], "private_metadata": ""}
    forged = payloads.view_submission("not-the-secret", user=EMPLOYEE, view=view, answers={})
    # Smuggle a resident ID into the body, as a forged request might.
    forged = payloads.SignedRequest(forged.body + "&note=" + VALID_ID + "%22" + VALID_ID, forged.headers)
    with caplog.at_level(logging.INFO):
        reply = slack.send(forged)
    assert reply.status == 401
    # One line from the gate in front of Bolt (tests/test_hardening_http.py has the rest).
    [line] = [r.getMessage() for r in caplog.records]
    assert "401 Unauthorized signature does not match" in line and VALID_ID not in line
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == 0
    assert not slack.fake.calls


def test_a_stale_timestamp_is_refused(slack):
    old = int(time.time()) - 10 * 60
    reply = slack.send(payloads.slash_command(SECRET, text="help", user=EMPLOYEE, timestamp=old))
    assert reply.status == 401
    assert "si-bot" not in reply.raw


def test_a_retried_event_is_answered_once(slack):
    event = {
        "type": "app_mention",
        "user": EMPLOYEE,
        "text": "<@UBOT> hi",
        "ts": "1700000000.000001",
        "channel": "C0GENERAL",
    }
    assert slack.event(event, event_id="Ev0001").status == 200
    slack.wait_posts(1)
    assert slack.event(event, event_id="Ev0001", retry=1).status == 200
    assert slack.event(event, event_id="Ev0001", retry=2).status == 200
    slack.idle()  # every listener has finished: a repeated reply would be there now
    replies = slack.posts_to("C0GENERAL")
    assert len(replies) == 1 and replies[0]["thread_ts"] == "1700000000.000001"
    assert "/si help" in message_text(replies[0])


def test_messages_from_bots_are_ignored(slack):
    event = {"type": "app_mention", "bot_id": "B1", "text": "<@UBOT>", "ts": "1.2", "channel": "C0GENERAL"}
    assert slack.event(event, event_id="Ev0002").status == 200
    slack.idle()
    assert not slack.posts_to("C0GENERAL")


def test_resident_ids_never_reach_the_log_whole(slack, caplog):
    with caplog.at_level(logging.DEBUG):
        file_change(slack)
        slack.wait_posts(2)
        logging.getLogger("anything").warning("user typed %s", VALID_ID)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert VALID_ID not in logged


def test_an_unexpected_error_gets_an_apology_with_a_reference_and_the_trace_is_logged(
    slack, caplog, monkeypatch
):
    import bot.handlers.subcommands as commands

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(commands, "list_message", broken)
    with caplog.at_level(logging.ERROR):
        reply = slack.command("status", user=EMPLOYEE)
    assert reply.status == 200
    text = message_text(reply.body)
    assert "Sorry" in text and "database on fire" not in reply.raw and "Traceback" not in reply.raw
    reference = text.split("reference: *")[1].split("*")[0]
    record = next(r for r in caplog.records if reference in r.getMessage())
    assert record.exc_info and "database on fire" in str(record.exc_info[1])


@pytest.mark.parametrize(("status", "headers"), [(500, {}), (429, {"Retry_After": "1"})])
def test_a_slack_outage_delays_messages_but_never_drops_or_doubles_them(slack, db, clock, status, headers):
    # Slack fails every try of the first post (after a 429 the client itself retries twice;
    # a post answered 500 it leaves to the outbox, which may have to look for it first).
    for _ in range(3 if status == 429 else 1):
        slack.fake.fail_next("chat.postMessage", status, **headers)
    file_change(slack)
    slack.wait_posts(1)  # the other notice went through
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.session() as session:
            failed = session.scalars(select(OutboxMessage).where(OutboxMessage.attempts > 0)).all()
        if failed:
            break
        time.sleep(0.05)
    assert len(failed) == 1 and failed[0].sent_at is None
    assert ("ratelimited" if status == 429 else "internal_error") in failed[0].last_error
    assert slack.bot.deliverer.deliver_pending() == 0  # not before its back-off
    # The next sweep after the back-off sends it, once. (The listener's own delivery may
    # still be looping in its thread and pick it up first: either way, once.)
    clock.shift(timedelta(minutes=1))
    slack.bot.deliverer.deliver_pending()
    slack.wait_posts(2)
    assert slack.bot.deliverer.deliver_pending() == 0
    with db.session() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
    assert len(slack.posts_to(ADMIN_CHANNEL)) == 1
    assert len(slack.posts_to(EMPLOYEE)) == 1


def test_healthz_answers_when_the_database_is_reachable(slack):
    assert slack.get("/healthz") == (200, "ok\n")
    assert slack.get("/nope")[0] == 404


def test_an_absurd_amount_and_control_characters_are_field_errors_not_apologies(slack, db):
    from tests.test_intake_e2e import CHANGE

    view = slack.open_form("change add", user=EMPLOYEE)
    reply = slack.submit(
        view,
        {**CHANGE, "contribution_base": "1e308", "full_name": "Zhang\x00San", "notes": "a\x07b"},
        user=EMPLOYEE,
        view_id=view["id"],
    )
    assert reply.body["response_action"] == "errors"
    errors = reply.body["errors"]
    assert "not an amount" in errors["contribution_base"]
    assert "control characters" in errors["full_name"] and "control characters" in errors["notes"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == 0


def test_help_answers_while_the_database_is_down(slack, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(slack.bot.db, "session", down)
    monkeypatch.setattr(slack.bot.db.glance, "rows", down)  # the ack path's one-statement reads
    reply = slack.command("help", user=EMPLOYEE)
    assert reply.status == 200 and "/si change" in message_text(reply.body)
    # A command that needs the database says sorry, with a reference, not a traceback.
    assert "Sorry" in message_text(slack.command("status", user=EMPLOYEE).body)
