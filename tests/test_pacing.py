"""Posts to Slack paced across processes (bot/pacing.py), and the yearly statements' fan-out
through the outbox under Slack's rate limit (429 with Retry-After), with two replicas and a
restart: every statement posted once, none lost, none doubled."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.pacing import MAX_WAIT, Lane, Pace
from bot.services import roster
from bot.storage.models import OutboxMessage
from tests.conftest import ADMIN, STORY_NOW
from tests.stories import WORKPLACE


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def paced(db):
    clock = Clock()
    pace = Pace(db, clock, workspace=Lane("workspace", timedelta(seconds=0.5), 3), sleep=clock.sleep)
    return pace, clock


def test_a_burst_then_one_post_per_interval(paced):
    pace, clock = paced
    # Three at once (the burst), then one every half second, waited for in turn.
    assert [pace.take(None) for _ in range(5)] == [None] * 5
    assert clock.slept == [0.5, 0.5]


def test_a_channel_gets_one_post_a_second_after_its_burst(db):
    clock = Clock()
    fast = Lane("workspace", timedelta(milliseconds=10), 100)  # only the channel's pace counts here
    pace = Pace(db, clock, workspace=fast, sleep=clock.sleep)
    for _ in range(5):
        assert pace.take("C0ADMIN") is None  # the channel's burst of five
    clock.slept.clear()
    assert pace.take("C0ADMIN") is None and clock.slept == [1.0]
    assert pace.take("C0OTHER") is None  # another channel: only the workspace's pace


def test_a_turn_further_off_than_max_wait_is_not_taken_but_told(paced):
    pace, clock = paced
    pace.back_off(30)  # Slack said: 30 seconds
    later = pace.take(None)
    assert later == clock.now + timedelta(seconds=30) and clock.slept == []
    assert later - clock.now > MAX_WAIT
    clock.now += timedelta(seconds=30)
    assert pace.take(None) is None


def test_a_lane_far_ahead_of_the_clock_starts_afresh(paced):
    pace, clock = paced
    clock.now += timedelta(hours=2)
    for _ in range(3):
        pace.take(None)
    clock.now -= timedelta(hours=2)  # the clock moved back (a test, a fixed server clock)
    assert pace.take(None) is None and clock.slept == []


# --- the fan-out, end to end ----------------------------------------------------------------

PEOPLE = 40


def roster_file() -> bytes:
    from bench.bench_import import people

    rows = ["姓名,身份证号,Slack 用户,户籍类型,参保月份,缴费基数（元）"]
    for i, (name, number, hukou, _enrolled, base) in enumerate(people(PEOPLE)):
        rows.append(f"{name},{number},UFAN{i:05d},{hukou},2026-01,{base}")
    return "\n".join(rows).encode()


def test_the_statements_fan_out_under_429s_and_a_restart_once_each(slack, make_bot, db, clock):
    with db.session() as session:
        assert roster.import_roster(
            session, WORKPLACE, actor="cli", file_name="r.csv", content=roster_file(), now=STORY_NOW
        ).imported
    fake = slack.fake
    # Slack takes ten posts a second, then answers 429 with Retry-After: 1; and refuses two
    # more outright.
    fake.limit("chat.postMessage", per_second=10, retry_after=1)
    fake.fail_next("chat.postMessage", 429, Retry_After="1")
    fake.fail_next("chat.postMessage", 429, Retry_After="1")
    slack.command("admin statements 2026", user=ADMIN)
    slack.idle()
    with db.session() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.notice == "statement")) == PEOPLE
        # A replica crashed while it held five of them: claimed, never sent.
        stuck = list(
            session.scalars(select(OutboxMessage.id).where(OutboxMessage.notice == "statement").limit(5))
        )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(stuck))
            .values(claimed_until=datetime.now(UTC) + timedelta(minutes=2))
        )

    # Two replicas send side by side, as their sweeps would, until nothing more is due.
    replicas = [slack.bot, make_bot()]
    deadline = time.monotonic() + 60

    def sweep(replica) -> None:
        while time.monotonic() < deadline and unsent(db) > len(stuck):
            replica.deliverer.deliver_pending()
            time.sleep(0.05)

    threads = [threading.Thread(target=sweep, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unsent(db) == len(stuck)
    assert fake.failures == []  # both refusals were met, and the posts retried after them
    refused = [c.at for c in fake.refused]
    if db.engine.dialect.name == "postgresql":
        # Every replica waits out a 429's Retry-After (the pace's workspace lane), not only
        # the one that was told: no post is taken within the second after a refusal.
        taken = [c.at for c in fake.calls_to("chat.postMessage")]
        assert not any(r < t < r + 0.9 for r in refused for t in taken)
    # The restart: a new process, once the dead one's claims have run out, sends the rest.
    clock.shift(timedelta(minutes=3))
    restarted = make_bot()
    while unsent(db) and time.monotonic() < deadline + 30:
        restarted.deliverer.deliver_pending()
    assert unsent(db) == 0
    posted = [
        c.params["channel"]
        for c in fake.calls_to("chat.postMessage")
        if c.params["channel"].startswith("UFAN")
    ]
    # Each once: none lost, none doubled.
    assert sorted(posted) == sorted(f"UFAN{i:05d}" for i in range(PEOPLE))


def unsent(db) -> int:
    with db.session(read_only=True) as session:
        return session.scalar(
            select(func.count()).where(OutboxMessage.notice == "statement", OutboxMessage.sent_at.is_(None))
        )
