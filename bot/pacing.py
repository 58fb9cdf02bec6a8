"""Pacing posts to Slack: ``chat.postMessage`` allows about one message a second per
channel, short bursts, and a workspace-wide limit it does not publish; past them it answers
429 with ``Retry-After``. A fan-out of ten thousand statements must stay within them with
several processes sending at once, and after a restart.

Each lane — the workspace, and each channel that is not a DM (a DM goes to one person, who
gets one message at a time) — is a row of ``send_pace`` holding the theoretical time of its
next post (the generic cell rate algorithm): a post may go when that time, less the lane's
burst allowance, has come; taking it moves the time on by the lane's interval. The row is
read and moved in one short transaction (locked on PostgreSQL; SQLite's writes are one at a
time), so processes share one budget. A 429 moves the workspace lane to ``Retry-After``
from now: every process waits, not only the one that was told. A post not allowed within
MAX_WAIT is not waited for: its outbox row is made due at the lane's time, and the sender
goes on (bot/delivery.py sends it then). State lives in the database: nothing is lost at a
restart, and each outbox row is still claimed before it is sent, so none goes twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.services.outbox import FAN_OUT_SPACING, TargetKind
from bot.storage.db import Database
from bot.storage.models import OutboxMessage, SendPace

log = logging.getLogger(__name__)

WORKSPACE = "workspace"
# The workspace: one post per FAN_OUT_SPACING (five a second, 300 a minute: Slack publishes
# no figure; well-behaved apps report several hundred a minute), bursts of 20.
WORKSPACE_INTERVAL = FAN_OUT_SPACING
WORKSPACE_BURST = 20
# A channel: one post a second, bursts of five (Slack: "1 per second, short bursts allowed").
CHANNEL_INTERVAL = timedelta(seconds=1)
CHANNEL_BURST = 5
# Longer than this, a sender does not wait for its turn: the row is made due then.
MAX_WAIT = timedelta(seconds=2)
# A lane further ahead than this is stale (the clock moved back): it starts again from now.
MAX_AHEAD = timedelta(minutes=15)


@dataclass(frozen=True)
class Lane:
    name: str
    interval: timedelta
    burst: int

    @property
    def tolerance(self) -> timedelta:
        return self.interval * (self.burst - 1)


class Pace:
    """The shared pace of ``chat.postMessage``."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        workspace: Lane | None = None,
        channel_interval: timedelta = CHANNEL_INTERVAL,
        channel_burst: int = CHANNEL_BURST,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.db = db
        self.clock = clock
        self.workspace = workspace or Lane(WORKSPACE, WORKSPACE_INTERVAL, WORKSPACE_BURST)
        self.channel_interval = channel_interval
        self.channel_burst = channel_burst
        self.sleep = sleep
        self._lock = threading.Lock()
        self._backed_off: datetime | None = None  # a 429's end, not yet written to the lane

    def lanes(self, channel: str | None) -> list[Lane]:
        found = [self.workspace]
        if channel:
            found.append(Lane(f"channel:{channel}", self.channel_interval, self.channel_burst))
        return found

    def take(self, channel: str | None) -> datetime | None:
        """A turn to post (to ``channel`` when it is a shared channel): None when it is
        now, after waiting at most MAX_WAIT; else the time the post may go, not taken."""
        with self.db.session() as session:
            now = self.clock()
            allowed = self._take(session, channel, now)
        return self._wait(allowed, now)

    def _take(self, session, channel: str | None, now: datetime) -> datetime:
        """In ``session``: the lanes' turn for a post, taken when it is within MAX_WAIT."""
        lanes = [(lane, _lane(session, lane.name, now)) for lane in self.lanes(channel)]
        for _, row in lanes:
            if row.next_at - now > MAX_AHEAD:
                row.next_at = now  # the clock moved back: the lane starts afresh
        self._write_back_off(session, lanes[0][1])  # a 429's Retry-After, for every process
        allowed = max([now, *(row.next_at - lane.tolerance for lane, row in lanes)])
        if allowed - now <= MAX_WAIT:
            for lane, row in lanes:
                row.next_at = max(row.next_at, allowed) + lane.interval
        return allowed

    def _wait(self, allowed: datetime, now: datetime) -> datetime | None:
        """Sleep until a turn taken within MAX_WAIT (None); a later one is returned."""
        if allowed - now > MAX_WAIT:
            return allowed
        wait = (allowed - now).total_seconds()
        if wait > 0:
            self.sleep(wait)
        return None

    def back_off(self, seconds: float) -> None:
        """Slack answered 429: no process posts before ``seconds`` from now. Noted here at
        once, and written to the workspace lane for the other processes: at once on
        PostgreSQL, at this process's next turn on SQLite (whose one write lock the caller
        may hold; SQLite serves one process anyway)."""
        until = self.clock() + timedelta(seconds=seconds)
        with self._lock:
            self._backed_off = max(self._backed_off or until, until)
        log.warning("Slack asked to wait %s s (429): every process posts again after it", seconds)
        if self.db.engine.dialect.name == "postgresql":
            with self.db.session() as session:
                self._write_back_off(session, _lane(session, self.workspace.name, self.clock()))

    def _write_back_off(self, session, workspace: SendPace) -> None:
        with self._lock:
            backed_off, self._backed_off = self._backed_off, None
        if backed_off is not None:
            workspace.next_at = max(workspace.next_at, backed_off + self.workspace.tolerance)


def _lane(session, name: str, now: datetime) -> SendPace:
    row = session.scalar(select(SendPace).where(SendPace.lane == name).with_for_update())
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = SendPace(lane=name, next_at=now)
            session.add(row)
        return row
    except IntegrityError:  # another process made it a moment ago
        return session.scalars(select(SendPace).where(SendPace.lane == name).with_for_update()).one()


def admit(db: Database, pace: Pace, row_id: int) -> bool:
    """Whether the outbox row ``row_id`` may be sent now, as far as the pace says: a post
    waits for its turn (up to MAX_WAIT); one whose turn is further off is made due then,
    unclaimed, and False. Anything but a post (a redraw) is not paced. One short
    transaction."""
    with db.session() as session:
        now = pace.clock()
        kind, target = session.execute(
            select(OutboxMessage.target_kind, OutboxMessage.target).where(OutboxMessage.id == row_id)
        ).one()
        if kind not in (TargetKind.USER, TargetKind.CHANNEL):
            return True
        allowed = pace._take(session, target if kind == TargetKind.CHANNEL else None, now)
        if allowed - now > MAX_WAIT:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(not_before=allowed, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
            return False
    pace._wait(allowed, now)
    return True


class PacedRateLimitHandler(RateLimitErrorRetryHandler):
    """The Web API client's retry of a 429 (after ``Retry-After``), which first tells the
    shared pace, so that every process waits, not only this one."""

    def __init__(self, pace: Pace, max_retry_count: int = 2):
        super().__init__(max_retry_count=max_retry_count)
        self.pace = pace

    def __deepcopy__(self, memo: dict) -> PacedRateLimitHandler:
        # Bolt copies the client for each request: the copy shares the one pace (and its
        # database), which is the point.
        return self

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is not None:
            self.pace.back_off(retry_after(response.headers))
        super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)


def retry_after(headers: dict) -> float:
    """Seconds a 429's ``Retry-After`` asks for (30 when it says nothing usable)."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return float(value)
            except ValueError:
                return 30.0
    return 30.0
