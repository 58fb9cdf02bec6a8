"""Sends the outbox: renders each recorded notice with ``messages/`` and posts it to Slack.

Runs after the transaction that recorded the notices has committed (from the lazy pool
right after the ack, and from a periodic sweep that picks up anything left over). Each row
is claimed before it is sent, so several processes never send one row twice; a failure
leaves the row to be retried later with back-off that grows to the policy's cap
(``[outbox] retry_cap_minutes``) and then goes on at that interval: a row is never given
up, only a person drops one (``si-bot outbox drop``).

Each row is its own: whatever goes wrong with one (Slack refuses it, recording its outcome
fails, a bug) is counted against that row and the others are sent all the same. A post
Slack accepted is never posted again: if recording it fails, the row is marked sent in a
transaction of its own. Every post carries its row's key in Slack's message metadata, so a
row whose sender died between Slack's answer and the record (its claim ran out with no
outcome) is looked for in the conversation's history first and adopted when it is there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import case, func, or_, select, update

from bot.domain.audience import Audience
from bot.domain.resident_id import mask_in_text
from bot.domain.workplace import Workplace, utc_now
from bot.home_tab import HomePublisher
from bot.messages import Messages
from bot.pacing import Pace, admit, retry_after
from bot.presenters.report import report_message
from bot.presenters.requests import present
from bot.report.slack import ReportUploader
from bot.services import reminders
from bot.services.outbox import TargetKind
from bot.services.undeliverable import alert_undeliverable
from bot.storage.db import Database
from bot.storage.models import OutboxMessage, Request, RequestEvent, RequestMessage

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=2)
BATCH = 20
FIRST_RETRY_SECONDS = 10  # after the first failure; doubled at each next one, up to the policy's cap
# The metadata every post carries: its outbox row's key (found again in the history).
OUTBOX_EVENT = "si_outbox"
# A post in doubt is looked for from a little before its claim (clocks differ), this deep.
HISTORY_MARGIN = timedelta(minutes=1)
HISTORY_PAGES = 10
HISTORY_PAGE_SIZE = 200
POSTS = (TargetKind.USER, TargetKind.CHANNEL)


class _Attempt:
    """One try at one row: what Slack answered once the post went (or was found)."""

    def __init__(self) -> None:
        self.posted: dict[str, str] | None = None


class Deliverer:
    def __init__(
        self,
        db: Database,
        client: WebClient,
        messages: Messages,
        workplace: Workplace,
        clock: Callable[[], datetime] = utc_now,
        *,
        home: HomePublisher | None = None,
        pace: Pace | None = None,
    ):
        self.db = db
        self.client = client
        self.messages = messages
        self.workplace = workplace
        self.clock = clock
        self.home = home  # App Home shows requests: redrawn after they change
        self.reports = ReportUploader(client, messages)  # the monthly report's files
        self.pace = pace  # chat.postMessage's pace, shared by every process (bot/pacing.py)

    def deliver_pending(self) -> int:
        """Send every message that is due; returns how many were sent."""
        sent = 0
        while True:
            claimed = self._claim_batch()
            for row_id in claimed:
                sent += self._deliver_alone(row_id)
            if len(claimed) < BATCH:  # nothing more was due; what comes later, the sweep sends
                return sent

    def sweep(self) -> int:
        """The periodic sweep: send what is due, then tell the administrators about any
        message undeliverable for longer than the policy allows (their alert is itself a
        message of the outbox, retried like any other when Slack is down)."""
        sent = self.deliver_pending()
        with self.db.session() as session:
            alerted = alert_undeliverable(session, self.workplace, self.clock())
        if alerted:
            sent += self.deliver_pending()
        return sent

    def _claim_batch(self) -> list[int]:
        now = self.clock()
        claimable = (
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.dropped_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        # Looking costs no lock; only when something is due do we open a write transaction.
        with self.db.session(read_only=True) as session:
            candidates = session.scalars(
                select(OutboxMessage.id)
                .where(*claimable, OutboxMessage.not_before <= now)
                .order_by(OutboxMessage.id)
                .limit(BATCH)
            ).all()
        if not candidates:
            return []
        claimed = []
        # A claim that ran out with no outcome recorded: its sender died, perhaps after
        # posting. The post is in doubt from that claim on, until the row is sent.
        in_doubt = case(
            (
                OutboxMessage.claimed_until.is_not(None),
                func.coalesce(
                    OutboxMessage.in_doubt_since, OutboxMessage.claimed_at, OutboxMessage.created_at
                ),
            ),
            else_=OutboxMessage.in_doubt_since,
        )
        with self.db.session() as session:
            for row_id in candidates:
                won = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, *claimable)
                    .values(claimed_until=now + CLAIM_FOR, claimed_at=now, in_doubt_since=in_doubt)
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount == 1:
                    claimed.append(row_id)
        return claimed

    def _deliver_alone(self, row_id: int) -> int:
        """Deliver one row; whatever goes wrong is that row's and counted against it, and
        the rows after it are sent all the same."""
        try:
            return self._deliver(row_id)
        except Exception as exc:
            log.exception("outbox %s failed", row_id)
            try:
                with self.db.session() as session:
                    row = session.get(OutboxMessage, row_id)
                    if row is not None:
                        self._postpone(row, exc, in_doubt=True)
            except Exception:
                # The database itself is failing: the claim runs out and the row is
                # taken again then (its post in doubt, so looked for before posting).
                log.exception("outbox %s: its failure could not be recorded either", row_id)
            return 0

    def _deliver(self, row_id: int) -> int:
        if self.pace is not None and not admit(self.db, self.pace, row_id):
            return 0  # not its turn yet: made due when it is
        attempt = _Attempt()
        try:
            with self.db.session() as session:
                row = session.get(OutboxMessage, row_id)
                assert row is not None
                try:
                    self._send(session, row, attempt)
                except Exception as exc:
                    if attempt.posted is not None:
                        raise  # Slack has it: recorded below, in a transaction of its own
                    if not isinstance(exc, SlackApiError):  # a bug or an outage: logged
                        log.exception("outbox %s (%s) failed", row.id, row.key)
                    # Slack refused it (4xx, a 429): nothing was posted. Anything else (a
                    # 5xx, a timeout, a dropped connection) may have posted it: in doubt.
                    self._postpone(row, exc, in_doubt=_maybe_posted(exc))
                    return 0
                self._mark_sent(row, attempt)
            return 1
        except Exception as exc:
            if attempt.posted is None:
                raise
            self._posted_but_not_recorded(row_id, attempt, exc)
            return 1

    def _mark_sent(self, row: OutboxMessage, attempt: _Attempt) -> None:
        row.sent_at = self.clock()
        row.claimed_until = None
        row.in_doubt_since = None
        if attempt.posted is not None:
            row.posted_channel, row.posted_ts = attempt.posted["channel"], attempt.posted["ts"]

    def _posted_but_not_recorded(self, row_id: int, attempt: _Attempt, exc: Exception) -> None:
        """Slack accepted the post, then recording it failed (a duplicate ts, a failing
        write): the message was posted, so the row is sent and is never posted again. The
        attempt counts, and what went wrong is kept on the row."""
        assert attempt.posted is not None
        channel, ts = attempt.posted["channel"], attempt.posted["ts"]
        log.error("outbox %s was posted (%s %s) but recording it failed: %s", row_id, channel, ts, exc)
        with self.db.session() as session:
            row = session.get(OutboxMessage, row_id)
            assert row is not None
            row.attempts += 1
            row.last_error = _error(f"posted as {ts} in {channel}, but recording it failed: {exc}")
            self._mark_sent(row, attempt)

    def _postpone(self, row: OutboxMessage, exc: Exception, *, in_doubt: bool = False) -> None:
        now = self.clock()
        row.attempts += 1
        row.claimed_until = None
        row.first_failed_at = row.first_failed_at or now
        if in_doubt and TargetKind(row.target_kind) in POSTS:
            row.in_doubt_since = row.in_doubt_since or row.claimed_at or row.created_at
        row.last_error = _error(str(exc))
        if self.pace is not None and _retry_after(exc):
            self.pace.back_off(_retry_after(exc))  # every process waits, not only this one
        # Never given up: the back-off grows to the policy's cap, then stays there.
        cap = self.workplace.policy.outbox_retry_cap_minutes * 60
        delay = max(_retry_after(exc), min(cap, FIRST_RETRY_SECONDS * 2 ** min(row.attempts - 1, 20)))
        row.not_before = now + timedelta(seconds=delay)
        log.warning("outbox %s (%s) attempt %s failed: %s", row.id, row.key, row.attempts, row.last_error)

    # --- rendering -------------------------------------------------------------------------

    def _send(self, session, row: OutboxMessage, attempt: _Attempt) -> None:
        # A card is drawn and posted with its request locked: a state change meanwhile waits
        # for the card to be recorded, so its redraw finds the card (never a stale one).
        request = session.get(Request, row.request_id, with_for_update=row.track) if row.request_id else None
        target = TargetKind(row.target_kind)
        if target is TargetKind.REQUEST_CARDS:
            assert request is not None
            for card in session.scalars(
                select(RequestMessage).where(RequestMessage.request_id == request.id)
            ):
                message = self._card(request, Audience(card.audience))
                self.client.chat_update(channel=card.channel, ts=card.ts, **message)
            self._redraw_homes(session, request)
            return
        if target is TargetKind.REMINDER_COPIES:
            for channel, ts, params in reminders.copies(session, self.workplace, row.target):
                message = self.messages.render(row.notice, policy=self.workplace.policy, **params)
                self.client.chat_update(channel=channel, ts=ts, **message)
            return
        if target is TargetKind.REPORT_FILES:
            # Files, not a message: uploaded once, even when an earlier attempt's outcome was lost.
            self.reports.upload(row.target, row.params, since=row.created_at)
            return
        audience = Audience(row.audience)
        thread_ts = row.params.get("thread_ts") or None
        if row.in_doubt_since is not None:
            attempt.posted = self._find_posted(row, thread_ts)
        if attempt.posted is None:
            if "reminder" in row.params:
                message = self._reminder(session, row)
            else:
                message = self._render(row, request, audience)
            if thread_ts:
                message["thread_ts"] = thread_ts
            metadata = {"event_type": OUTBOX_EVENT, "event_payload": {"key": row.key}}
            response = self.client.chat_postMessage(channel=row.target, metadata=metadata, **message)
            attempt.posted = {"channel": response["channel"], "ts": response["ts"]}
        channel, ts = attempt.posted["channel"], attempt.posted["ts"]
        if "reminder" in row.params:
            # Each posted copy is remembered, so Done and Snooze can redraw every copy.
            reminders.record_copy(session, row.params["reminder"], channel, ts, audience)
        if row.track and request is not None:
            session.add(RequestMessage(request_id=request.id, channel=channel, ts=ts, audience=audience))
        session.flush()  # a record that fails (a duplicate ts) fails here, after the post
        if row.notice == "request_received" and request is not None:
            self._redraw_homes(session, request)

    def _find_posted(self, row: OutboxMessage, thread_ts: str | None) -> dict[str, str] | None:
        """The message an earlier attempt at ``row`` posted, found by the key in its
        metadata in the conversation (or thread) since the attempt, or None."""
        assert row.in_doubt_since is not None
        channel = row.target
        if TargetKind(row.target_kind) is TargetKind.USER:  # a DM: the conversation's id
            channel = self.client.conversations_open(users=row.target)["channel"]["id"]
        oldest = f"{(row.in_doubt_since - HISTORY_MARGIN).timestamp():.6f}"
        cursor = None
        for _ in range(HISTORY_PAGES):
            search = {"channel": channel, "oldest": oldest, "include_all_metadata": True}
            search.update(limit=HISTORY_PAGE_SIZE, cursor=cursor)
            if thread_ts:  # a reply is in its thread, not in the channel's history
                page = self.client.conversations_replies(ts=thread_ts, **search)
            else:
                page = self.client.conversations_history(**search)
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == OUTBOX_EVENT
                    and (metadata.get("event_payload") or {}).get("key") == row.key
                ):
                    ts = str(message["ts"])
                    log.warning("outbox %s (%s) already in Slack (%s): adopted", row.id, row.key, ts)
                    return {"channel": channel, "ts": ts}
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        log.warning("outbox %s (%s): not in %s pages of history; posting", row.id, row.key, HISTORY_PAGES)
        return None

    def _redraw_homes(self, session, request: Request) -> None:
        """App Home shows requests: redraw it for those concerned (bot/home_tab.py)."""
        if self.home is not None:
            self.home.after_request(session, request)

    def _reminder(self, session, row: OutboxMessage) -> dict:
        """A reminder is drawn with its occurrence's state at sending time (done, snoozed)."""
        params = reminders.current_params(session, self.workplace, row.params)
        return self.messages.render(row.notice, policy=self.workplace.policy, **params)

    def _card(self, request: Request, audience: Audience) -> dict:
        view = present(request, self.workplace, whole=audience is Audience.PRIVATE)
        return self.messages.render("request_card", view=view, policy=self.workplace.policy)

    def _render(self, row: OutboxMessage, request: Request | None, audience: Audience) -> dict:
        if row.notice == "request_card":
            assert request is not None
            return self._card(request, audience)
        if row.notice == "monthly_report":
            return report_message(self.messages, row.params["report"])
        if request is not None:
            view = present(request, self.workplace, whole=audience is Audience.PRIVATE)
            event = None
            if "event_id" in row.params:
                event = next((e for e in request.events if e.id == row.params["event_id"]), None)
                assert isinstance(event, RequestEvent | None)
            return self.messages.render(
                row.notice, view=view, event=event, policy=self.workplace.policy, **row.params
            )
        params = dict(row.params)
        if "permalink_for" in params:
            target = params.pop("permalink_for")
            link = self.client.chat_getPermalink(channel=target["channel"], message_ts=target["ts"])
            params["permalink"] = link.get("permalink", "")
        return self.messages.render(row.notice, policy=self.workplace.policy, **params)


def _retry_after(exc: Exception) -> int:
    """Seconds Slack asked us to wait (429 Retry-After), or 0."""
    response = getattr(exc, "response", None)
    if response is None or getattr(response, "status_code", None) != 429:
        return 0
    return int(retry_after(response.headers or {}))


def _error(text: str) -> str:
    """What went wrong, as kept on the row and shown by ``si-bot outbox list``: masked."""
    return mask_in_text(text)[:500]


def _maybe_posted(exc: Exception) -> bool:
    """Whether a failed post may have reached Slack all the same: anything but a clear
    refusal (a 4xx answer, or an ``ok: false`` error)."""
    if not isinstance(exc, SlackApiError):
        return True
    status = getattr(exc.response, "status_code", 200)
    return status >= 500
