"""The outbox under failure (issue 13, items 3 to 5): a message Slack keeps refusing is
never given up and the administrators are told; one row's failure is its own; a worker
killed at any point of a send never makes a message go twice."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import Deliverer
from bot.domain.requests import Action, RequestKind
from bot.runtime import build_runtime, make_client
from bot.services.outbox import Recipient, enqueue
from bot.services.requests import act_on_request, file_request
from bot.storage.models import OutboxMessage, Request, RequestMessage
from tests.conftest import ADMIN, ADMIN2, ADMIN_CHANNEL, EMPLOYEE
from tests.slack import message_text
from tests.stories import VALID_ID, new_hire

SI_BOT = str(Path(sys.executable).with_name("si-bot"))


def rows(db, **where) -> list[OutboxMessage]:
    with db.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.scalars(query))


def row(db, row_id: int) -> OutboxMessage:
    with db.session() as session:
        found = session.get(OutboxMessage, row_id)
        assert found is not None
        return found


def file_new_hire(bot, number: int) -> Request:
    """A change filed the way the form files it (its card for the admin channel and the
    requester's receipt recorded in the outbox), not yet delivered."""
    with bot.db.session() as session:
        raw = {**new_hire(number), "effective_month": "2026-12"}
        return file_request(
            session,
            bot.workplace,
            kind=RequestKind.CHANGE,
            actor=EMPLOYEE,
            raw=raw,
            submission_key=None,
            now=bot.now(),
        ).request


def file_by_form(slack) -> None:
    from tests.test_intake_e2e import file_change

    file_change(slack)
    slack.idle()


# --- 3. never given up; the administrators told; /healthz degraded ----------------------------


def test_a_message_slack_keeps_refusing_is_retried_forever_at_the_capped_interval(slack, db, clock):
    policy = slack.bot.workplace.policy
    cap = timedelta(minutes=policy.outbox_retry_cap_minutes)
    slack.fake.faults.refusing[ADMIN_CHANNEL] = "not_in_channel"  # the bot was removed from it
    file_by_form(slack)
    assert len(slack.posts_to(EMPLOYEE)) == 1  # the receipt went all the same
    (card,) = rows(db, notice="request_card")
    assert card.attempts == 1 and card.sent_at is None and "not_in_channel" in card.last_error

    waits = []
    for _ in range(30):  # far past the 12 attempts after which it used to be dropped
        before = row(db, card.id)
        clock.move_to(before.not_before + timedelta(seconds=1))
        tried_at = datetime.now(UTC)
        slack.bot.deliverer.deliver_pending()
        after = row(db, card.id)
        assert after.attempts == before.attempts + 1
        waits.append(after.not_before - tried_at)
    second = timedelta(seconds=1)  # the clock ticks on while a try is made
    assert all(later > earlier - second for earlier, later in itertools.pairwise(waits))  # it grows…
    assert max(waits) < cap + second and abs(waits[-1] - cap) < second  # …to the cap, and stays there
    card = row(db, card.id)
    assert card.attempts == 31 and card.sent_at is None and card.dropped_at is None

    # Slack takes it again: the next try sends it, once.
    del slack.fake.faults.refusing[ADMIN_CHANNEL]
    clock.move_to(card.not_before + timedelta(seconds=1))
    assert slack.bot.deliverer.deliver_pending() == 1
    assert len(slack.posts_to(ADMIN_CHANNEL)) == 1
    assert row(db, card.id).sent_at is not None


def test_the_administrators_are_told_once_by_dm_and_healthz_says_degraded_until_it_goes(slack, db, clock):
    limit = timedelta(minutes=slack.bot.workplace.policy.outbox_alert_minutes)
    slack.fake.faults.refusing[ADMIN_CHANNEL] = "channel_not_found"
    file_by_form(slack)
    (card,) = rows(db, notice="request_card")
    assert slack.get("/healthz") == (200, "ok\n")

    clock.shift(limit - timedelta(minutes=1))  # not yet past the limit: nobody is told
    slack.bot.deliverer.sweep()
    assert not slack.posts_to(ADMIN) and slack.get("/healthz") == (200, "ok\n")

    clock.shift(timedelta(minutes=2))
    slack.bot.deliverer.sweep()
    for admin in (ADMIN, ADMIN2):  # by DM: the admin channel is what fails
        (alert,) = slack.posts_to(admin)
        text = message_text(alert)
        assert "could not be delivered" in text and f"Rows: {card.id}" in text
        assert "channel_not_found" in text and "si-bot outbox drop ID" in text
    assert slack.get("/healthz") == (200, f"degraded: outbox messages undeliverable: {card.id}\n")

    clock.shift(timedelta(hours=2))  # still failing: retried, but told once
    slack.bot.deliverer.sweep()
    slack.bot.deliverer.sweep()
    assert len(slack.posts_to(ADMIN)) == 1 and len(slack.posts_to(ADMIN2)) == 1

    del slack.fake.faults.refusing[ADMIN_CHANNEL]
    clock.shift(timedelta(hours=1))
    slack.bot.deliverer.sweep()
    assert len(slack.posts_to(ADMIN_CHANNEL)) == 1
    assert slack.get("/healthz") == (200, "ok\n")


def test_when_slack_itself_is_down_the_alert_waits_in_the_outbox_with_the_rest(slack, db, clock):
    from tests.test_intake_e2e import CHANGE

    view = slack.open_form("change add", user=EMPLOYEE)
    slack.fake.outage(3600)  # from the submission on, every Web API call answers 503
    reply = slack.submit(view, CHANGE, user=EMPLOYEE, view_id=view["id"])
    assert reply.status == 200, reply.raw
    slack.idle()
    assert [r.attempts for r in rows(db)] == [1, 1]

    clock.shift(timedelta(minutes=61))
    slack.bot.deliverer.sweep()
    alerts = rows(db, notice="outbox_undeliverable")
    assert sorted(a.target for a in alerts) == [ADMIN, ADMIN2]
    assert all(a.sent_at is None and a.attempts == 1 for a in alerts)  # tried, refused, kept
    status, body = slack.get("/healthz")
    assert status == 200 and body.startswith("degraded:")

    slack.fake.faults.outage_until = 0  # Slack is back
    clock.shift(timedelta(minutes=16))
    slack.bot.deliverer.sweep()
    assert len(slack.posts_to(ADMIN_CHANNEL)) == 1 and len(slack.posts_to(EMPLOYEE)) == 1
    for admin in (ADMIN, ADMIN2):
        assert len(slack.posts_to(admin)) == 1
    assert all(r.sent_at is not None for r in rows(db))
    assert rows(db, alerted_at=None, notice="outbox_undeliverable")  # no alert about an alert
    assert slack.get("/healthz") == (200, "ok\n")


def si_bot(args: list[str], db) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SI_", "DATABASE_URL"))}
    env.update(DATABASE_URL=db.url, SI_LANGUAGE="en")
    return subprocess.run([SI_BOT, "outbox", *args], capture_output=True, text=True, timeout=120, env=env)


def test_si_bot_outbox_lists_retries_and_drops_with_who_and_when(settings, db, fake_slack):
    bot = build_runtime(settings, db=db, migrate=False)  # on the real clock, as the command's
    now = bot.now()
    with db.session() as session:
        for name in ("failing", "waiting"):
            enqueue(
                session,
                key=f"test:{name}",
                notice="notice",
                to=Recipient.channel("C0OTHER"),
                now=now,
                params={"body": f"a {name} message for {VALID_ID}"},
            )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == "test:failing")
            .values(
                attempts=3,
                first_failed_at=now - timedelta(minutes=30),
                not_before=now + timedelta(minutes=10),
                last_error=f"internal_error while posting {VALID_ID}",
            )
        )
    failing, waiting = rows(db)

    listed = si_bot(["list"], db)
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert "2 message(s) not delivered yet" in out
    assert out.index(f"#{failing.id}") < out.index(f"#{waiting.id}")  # failing first
    assert "attempts: 3" in out and "internal_error while posting 1101**********002X" in out
    assert VALID_ID not in out and "a failing message" not in out  # masked; no content shown

    retried = si_bot(["retry", str(failing.id)], db)
    assert retried.returncode == 0 and f"#{failing.id} is due now" in retried.stdout
    assert row(db, failing.id).not_before <= datetime.now(UTC)

    dropped = si_bot(["drop", str(waiting.id), "--by", "wang.admin"], db)
    assert dropped.returncode == 0 and "dropped by wang.admin" in dropped.stdout
    kept = row(db, waiting.id)  # recorded, not deleted
    assert kept.dropped_by == "wang.admin" and kept.dropped_at is not None and kept.sent_at is None
    again = si_bot(["drop", str(waiting.id)], db)
    assert again.returncode == 1 and "was dropped by wang.admin" in again.stderr
    assert si_bot(["retry", "99999"], db).returncode == 1

    assert bot.deliverer.deliver_pending() == 1  # the retried one; the dropped one never
    assert [
        c.params["metadata"]["event_payload"]["key"] for c in fake_slack.calls_to("chat.postMessage")
    ] == ["test:failing"]
    listed = si_bot(["list"], db)
    assert "Nothing is waiting" in listed.stdout
    assert si_bot(["retry", str(failing.id)], db).returncode == 1  # already delivered


# --- 4. a row's failure is its own ---------------------------------------------------------


def test_a_duplicate_ts_from_slack_marks_the_row_sent_once_and_the_rest_go_on(bot, db, fake_slack, clock):
    first = file_new_hire(bot, 1)
    assert bot.deliverer.deliver_pending() == 2
    with db.session() as session:
        (first_ts,) = session.scalars(
            select(RequestMessage.ts).where(
                RequestMessage.request_id == first.id, RequestMessage.channel == ADMIN_CHANNEL
            )
        )
    second, third = file_new_hire(bot, 2), file_new_hire(bot, 3)
    fake_slack.repeat_ts(first_ts)  # a restarted stand-in answers the next post with an old ts

    assert bot.deliverer.deliver_pending() == 4  # the card, whose record failed, and the three after it
    card = next(r for r in rows(db, notice="request_card") if r.request_id == second.id)
    assert card.sent_at is not None and card.attempts == 1 and card.posted_ts == first_ts
    assert "recording it failed" in card.last_error
    assert all(r.sent_at is not None for r in rows(db))
    assert any(r.request_id == third.id and r.notice == "request_card" for r in rows(db))

    clock.shift(timedelta(minutes=30))  # nothing is posted again, ever
    assert bot.deliverer.deliver_pending() == 0
    assert fake_slack.posted_keys()[card.key] == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 6


def test_a_failing_write_after_the_post_counts_the_attempt_and_blocks_nothing(bot, db, fake_slack, clock):
    first, second = file_new_hire(bot, 1), file_new_hire(bot, 2)

    def disk_full(session, _context, _instances) -> None:
        if any(isinstance(o, RequestMessage) and o.request_id == first.id for o in session.new):
            raise RuntimeError("could not extend file: No space left on device")

    event.listen(Session, "before_flush", disk_full)
    try:
        assert bot.deliverer.deliver_pending() == 4
    finally:
        event.remove(Session, "before_flush", disk_full)
    card = next(r for r in rows(db, notice="request_card") if r.request_id == first.id)
    assert card.sent_at is not None and card.attempts == 1 and "No space left" in card.last_error
    with db.session() as session:  # the card after it was recorded as usual
        recorded = (
            select(func.count()).select_from(RequestMessage).where(RequestMessage.request_id == second.id)
        )
        assert session.scalar(recorded) == 1

    clock.shift(timedelta(minutes=30))
    assert bot.deliverer.deliver_pending() == 0
    assert fake_slack.posted_keys()[card.key] == 1


# --- 5. no double post after a crash --------------------------------------------------------


class Crash(BaseException):
    """The worker is killed (kill -9): nothing after this point runs, no ``except
    Exception`` catches it, its transaction is never committed."""


class CrashAfterCommit:
    """The database of a worker killed right after its record of a send was committed."""

    def __init__(self, db) -> None:
        self.db, self.engine, self.armed = db, db.engine, False

    @contextmanager
    def session(self, **kw) -> Iterator[Session]:
        with self.db.session(**kw) as session:
            yield session
        if self.armed:
            raise Crash


def crashing_deliverer(bot, point: str) -> Deliverer:
    client = make_client(bot.settings)
    post = client.chat_postMessage

    def posting(**kw):
        if point == "before_post":
            raise Crash
        answer = post(**kw)
        if point == "after_post":
            raise Crash
        return answer

    client.chat_postMessage = posting  # type: ignore[method-assign]
    if point != "after_record":
        return Deliverer(bot.db, client, bot.messages, bot.workplace, bot.clock)
    db = CrashAfterCommit(bot.db)
    deliverer = Deliverer(db, client, bot.messages, bot.workplace, bot.clock)  # type: ignore[arg-type]
    mark_sent = deliverer._mark_sent

    def marking(*args) -> None:
        mark_sent(*args)
        db.armed = True

    deliverer._mark_sent = marking  # type: ignore[method-assign]
    return deliverer


@pytest.mark.parametrize("point", ["before_post", "after_post", "after_record"])
def test_a_worker_killed_at_any_point_of_a_send_never_doubles_a_message(bot, db, fake_slack, clock, point):
    request = file_new_hire(bot, 1)
    with pytest.raises(Crash):
        crashing_deliverer(bot, point).deliver_pending()
    posted_by_the_dead = len(fake_slack.calls_to("chat.postMessage"))
    assert posted_by_the_dead == (0 if point == "before_post" else 1)

    assert bot.deliverer.deliver_pending() == 0  # its claims hold: nobody else sends them yet
    clock.shift(timedelta(minutes=3))  # the claims run out; another worker takes over
    sent = bot.deliverer.deliver_pending()
    assert sent == (1 if point == "after_record" else 2)

    keys = [r.key for r in rows(db)]
    assert all(r.sent_at is not None and r.in_doubt_since is None for r in rows(db))
    assert fake_slack.posted_keys() == dict.fromkeys(keys, 1)  # each message once in Slack
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    # The card, adopted or posted, is the one recorded: approving redraws it in place.
    with db.session() as session:
        cards = session.scalars(select(RequestMessage).where(RequestMessage.request_id == request.id)).all()
    (admin_card,) = [c for c in cards if c.channel == ADMIN_CHANNEL]
    posted = [
        c.result for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == ADMIN_CHANNEL
    ]
    assert [p["ts"] for p in posted] == [admin_card.ts]
    with bot.work() as session:
        act_on_request(
            session, public_id=request.public_id, action=Action.APPROVE, actor=ADMIN, now=bot.now(), reason=""
        )
    updated = [c.params for c in fake_slack.calls_to("chat.update") if c.params["channel"] == ADMIN_CHANNEL]
    assert [u["ts"] for u in updated] == [admin_card.ts]


def test_a_reply_in_a_thread_is_found_in_its_thread_after_a_crash(bot, db, fake_slack, clock):
    with db.session() as session:
        enqueue(
            session,
            key="answer:C0HELP:1700000000.000100",
            notice="notice",
            to=Recipient.channel("C0HELP"),
            now=bot.now(),
            params={"body": "the answer", "thread_ts": "1700000000.000100"},
        )
    with pytest.raises(Crash):
        crashing_deliverer(bot, "after_post").deliver_pending()
    clock.shift(timedelta(minutes=3))
    assert bot.deliverer.deliver_pending() == 1
    assert fake_slack.calls_to("conversations.replies")  # looked for in the thread
    assert fake_slack.posted_keys() == {"answer:C0HELP:1700000000.000100": 1}
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_post_in_doubt_is_posted_once_when_the_history_has_not_got_it(bot, db, fake_slack, clock):
    """A worker killed before its post reached Slack: looked for, not found, posted."""
    file_new_hire(bot, 1)
    with pytest.raises(Crash):
        crashing_deliverer(bot, "before_post").deliver_pending()
    clock.shift(timedelta(minutes=3))
    assert bot.deliverer.deliver_pending() == 2
    assert len(fake_slack.calls_to("conversations.history")) == 2  # the card's channel and the DM
    assert sorted(fake_slack.posted_keys().values()) == [1, 1]


def test_a_post_slack_took_but_answered_500_for_is_not_posted_again(bot, db, fake_slack, clock):
    """The Web API client does not retry a post on a 5xx (Slack may have it): the outbox
    looks for it in the conversation and adopts it."""
    file_new_hire(bot, 1)
    fake_slack.fail_after_doing_next("chat.postMessage", 500)
    bot.deliverer.deliver_pending()
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the card (answered 500) and the receipt
    clock.shift(timedelta(minutes=3))
    bot.deliverer.deliver_pending()
    assert fake_slack.calls_to("conversations.history")
    assert sorted(fake_slack.posted_keys().values()) == [1, 1]
    assert all(r.sent_at is not None for r in rows(db))


# --- the policy and the stand-in Slack's history -------------------------------------------


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"retry_cap_minutes": 0}, "outbox.retry_cap_minutes"),
        ({"undeliverable_alert_minutes": "an hour"}, "outbox.undeliverable_alert_minutes"),
    ],
)
def test_the_outbox_limits_in_the_policy_file_are_checked(table, complaint):
    import tomllib

    from bot.domain.policy import DEFAULT_POLICY_FILE, PolicyError, parse_policy

    data = tomllib.loads(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    assert parse_policy(data).outbox_retry_cap_minutes == data["outbox"]["retry_cap_minutes"]
    data["outbox"].update(table)
    with pytest.raises(PolicyError, match=complaint):
        parse_policy(data)


def test_the_stand_in_slack_reads_history_back_a_page_at_a_time_with_metadata_on_request(fake_slack):
    client = make_client(Settings(bot_token="xoxb-t", api_url=fake_slack.api_url))
    first = client.chat_postMessage(channel="C0X", text="before")["ts"]
    for n in range(5):
        client.chat_postMessage(
            channel="C0X",
            text=f"m{n}",
            metadata={"event_type": "si_outbox", "event_payload": {"key": f"k{n}"}},
        )
    client.chat_postMessage(channel="C0X", text="a reply", thread_ts=first)
    seen, cursor, pages = [], None, 0
    while True:
        page = client.conversations_history(
            channel="C0X", oldest=first, limit=2, cursor=cursor, include_all_metadata=True
        )
        pages += 1
        seen += [m["metadata"]["event_payload"]["key"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == ["k4", "k3", "k2", "k1", "k0"] and pages == 3  # newest first; not the reply, not `oldest`
    plain = client.conversations_history(channel="C0X", limit=10)["messages"]
    assert len(plain) == 6 and not any("metadata" in m for m in plain)
    replies = client.conversations_replies(channel="C0X", ts=first)["messages"]
    assert [m["text"] for m in replies] == ["a reply", "before"]


def test_the_manifest_asks_for_the_history_the_outbox_reads_and_no_more():
    manifest = (Path(__file__).parents[1] / "manifest.yml").read_text(encoding="utf-8")
    bot_scopes = manifest.split("scopes:")[1].split("settings:")[0]
    listed = [line for line in bot_scopes.splitlines() if line.strip().startswith("- ")]
    scopes = {line.split("#")[0].strip(" -") for line in listed}
    # Posts go to channels (public or private) and DMs; never to group DMs.
    assert {"channels:history", "groups:history", "im:history", "chat:write"} <= scopes
    assert "mpim:history" not in scopes
