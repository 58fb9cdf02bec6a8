"""Sends the outbox: renders each recorded notice with ``messages/`` and posts it to Slack.

Runs after the transaction that recorded the notices has committed (from a lazy listener
right after the ack, and from a periodic sweep that picks up anything left over). Each row
is claimed before it is sent, so several processes never send one row twice; a failure
leaves the row to be retried later with back-off, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update

from bot.domain.audience import Audience
from bot.domain.workplace import Workplace, utc_now
from bot.home_tab import HomePublisher
from bot.messages import Messages
from bot.pacing import Pace, admit, retry_after
from bot.presenters.report import report_message
from bot.presenters.requests import present
from bot.report.slack import ReportUploader
from bot.services import reminders
from bot.services.outbox import TargetKind
from bot.storage.db import Database
from bot.storage.models import OutboxMessage, Request, RequestEvent, RequestMessage

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=2)
MAX_ATTEMPTS = 12
BATCH = 20


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
                sent += self._deliver(row_id)
            if len(claimed) < BATCH:  # nothing more was due; what comes later, the sweep sends
                return sent

    def _claim_batch(self) -> list[int]:
        now = self.clock()
        claimable = (
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        # Looking costs no lock; only when something is due do we open a write transaction.
        with self.db.session(read_only=True) as session:
            candidates = session.scalars(
                select(OutboxMessage.id)
                .where(*claimable, OutboxMessage.attempts < MAX_ATTEMPTS, OutboxMessage.not_before <= now)
                .order_by(OutboxMessage.id)
                .limit(BATCH)
            ).all()
        if not candidates:
            return []
        claimed = []
        with self.db.session() as session:
            for row_id in candidates:
                won = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, *claimable)
                    .values(claimed_until=now + CLAIM_FOR)
                )
                if won.rowcount == 1:
                    claimed.append(row_id)
        return claimed

    def _deliver(self, row_id: int) -> int:
        if self.pace is not None and not admit(self.db, self.pace, row_id):
            return 0  # not its turn yet: made due when it is
        with self.db.session() as session:
            row = session.get(OutboxMessage, row_id)
            assert row is not None
            try:
                self._send(session, row)
            except SlackApiError as exc:
                self._postpone(row, exc)
                return 0
            except Exception as exc:  # a bug or an outage: keep the row, log it, retry later
                log.exception("outbox %s (%s) failed", row.id, row.key)
                self._postpone(row, exc)
                return 0
            row.sent_at = self.clock()
            row.claimed_until = None
            return 1

    def _postpone(self, row: OutboxMessage, exc: Exception) -> None:
        row.attempts += 1
        row.claimed_until = None
        row.last_error = str(exc)[:500]
        if self.pace is not None and _retry_after(exc):
            self.pace.back_off(_retry_after(exc))  # every process waits, not only this one
        delay = max(_retry_after(exc), min(3600, 5 * 2 ** min(row.attempts, 10)))
        row.not_before = self.clock() + timedelta(seconds=delay)
        level = logging.ERROR if row.attempts >= MAX_ATTEMPTS else logging.WARNING
        log.log(level, "outbox %s (%s) attempt %s failed: %s", row.id, row.key, row.attempts, row.last_error)

    # --- rendering -------------------------------------------------------------------------

    def _send(self, session, row: OutboxMessage) -> None:
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
        if "reminder" in row.params:
            message = self._reminder(session, row)
        else:
            message = self._render(row, request, audience)
        if row.params.get("thread_ts"):
            message["thread_ts"] = row.params["thread_ts"]
        response = self.client.chat_postMessage(channel=row.target, **message)
        if "reminder" in row.params:
            # Each posted copy is remembered, so Done and Snooze can redraw every copy.
            reminders.record_copy(
                session, row.params["reminder"], response["channel"], response["ts"], audience
            )
        if row.track and request is not None:
            session.add(
                RequestMessage(
                    request_id=request.id, channel=response["channel"], ts=response["ts"], audience=audience
                )
            )
        if row.notice == "request_received" and request is not None:
            self._redraw_homes(session, request)

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
