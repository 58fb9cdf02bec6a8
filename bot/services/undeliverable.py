"""Messages the outbox has not managed to deliver (bot/delivery.py retries them forever):
the administrators are told once about each one undeliverable for longer than the policy's
limit, ``/healthz`` names them, and a person decides what becomes of one with
``si-bot outbox list|retry|drop``.

The alert is a message of the outbox itself, by DM to each administrator: a DM works when
what fails is the admin channel (the bot was removed from it), and when what fails is
Slack itself the alert waits in the outbox with the rest and goes when Slack is back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain.resident_id import mask_in_text
from bot.domain.workplace import Workplace
from bot.services import roles
from bot.services.outbox import Recipient, enqueue
from bot.storage.models import OutboxMessage

log = logging.getLogger(__name__)

ALERT_NOTICE = "outbox_undeliverable"
SHOWN_IDS = 10  # an alert names this many rows; `si-bot outbox list` shows them all
LISTED = 200

_UNSENT = (OutboxMessage.sent_at.is_(None), OutboxMessage.dropped_at.is_(None))


def alert_undeliverable(session: Session, workplace: Workplace, now: datetime) -> list[int]:
    """Tell the administrators about every row refused for longer than the policy's
    ``undeliverable_alert_minutes`` that they were not told about yet; returns those rows'
    ids. Each row is marked as it is taken (compare-and-set), so two sweeps at once tell
    about it once. An alert that cannot be delivered itself raises no alert."""
    policy = workplace.policy
    limit = now - timedelta(minutes=policy.outbox_alert_minutes)
    overdue = session.scalars(
        select(OutboxMessage)
        .where(
            *_UNSENT,
            OutboxMessage.alerted_at.is_(None),
            OutboxMessage.first_failed_at <= limit,
            OutboxMessage.notice != ALERT_NOTICE,
        )
        .order_by(OutboxMessage.id)
    ).all()
    taken = [
        row
        for row in overdue
        if session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.alerted_at.is_(None))
            .values(alerted_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    ]
    if not taken:
        return []
    ids = [row.id for row in taken]
    oldest = min(row.first_failed_at for row in taken if row.first_failed_at is not None)
    params = {
        "count": len(taken),
        "ids": ids[:SHOWN_IDS],
        "more": max(0, len(ids) - SHOWN_IDS),
        "since": f"{oldest.astimezone(workplace.tz):%Y-%m-%d %H:%M}",
        "minutes": policy.outbox_alert_minutes,
        "retry_minutes": policy.outbox_retry_cap_minutes,
        "error": mask_in_text(taken[0].last_error)[:300],
    }
    admins = roles.admin_ids(session)
    for admin in admins:
        enqueue(
            session,
            key=f"outbox_alert:{ids[0]}:{now:%Y%m%dT%H%M%S.%f}:{admin}",
            notice=ALERT_NOTICE,
            to=Recipient.person(admin),
            now=now,
            params=params,
        )
    log.error(
        "outbox: %d message(s) undeliverable for over %d minutes (ids %s); %s",
        len(ids),
        policy.outbox_alert_minutes,
        ", ".join(map(str, ids[:SHOWN_IDS])),
        f"{len(admins)} administrator(s) told by DM" if admins else "no administrator is filed to tell",
    )
    return ids


def undeliverable(session: Session) -> list[int]:
    """The rows the administrators were told about that are still not delivered (what
    ``/healthz`` reports as degraded)."""
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(*_UNSENT, OutboxMessage.alerted_at.is_not(None))
            .order_by(OutboxMessage.id)
            .limit(LISTED)
        )
    )


@dataclass(frozen=True)
class Queued:
    """A row not yet delivered, as ``si-bot outbox list`` shows it: no message content,
    and what Slack said masked."""

    id: int
    key: str
    notice: str
    target: str
    attempts: int
    created_at: datetime
    not_before: datetime
    first_failed_at: datetime | None
    alerted: bool
    in_doubt: bool
    last_error: str


def queued(session: Session) -> tuple[list[Queued], int]:
    """The rows not delivered and not dropped, failing ones first (then by id), at most
    LISTED of them, and how many there are in all."""
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*_UNSENT)) or 0
    rows = session.scalars(
        select(OutboxMessage)
        .where(*_UNSENT)
        .order_by(OutboxMessage.attempts == 0, OutboxMessage.id)
        .limit(LISTED)
    ).all()
    return [
        Queued(
            id=row.id,
            key=mask_in_text(row.key),
            notice=row.notice,
            target=row.target,
            attempts=row.attempts,
            created_at=row.created_at,
            not_before=row.not_before,
            first_failed_at=row.first_failed_at,
            alerted=row.alerted_at is not None,
            in_doubt=row.in_doubt_since is not None,
            last_error=mask_in_text(row.last_error).replace("\n", " ")[:200],
        )
        for row in rows
    ], total


class Decision(StrEnum):
    DONE = "done"
    MISSING = "missing"
    ALREADY_SENT = "already_sent"
    DROPPED = "dropped"  # dropped before: a decision already taken stands


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    dropped_by: str | None = None
    dropped_at: datetime | None = None


def _decidable(row: OutboxMessage | None) -> Outcome | None:
    if row is None:
        return Outcome(Decision.MISSING)
    if row.sent_at is not None:
        return Outcome(Decision.ALREADY_SENT)
    if row.dropped_at is not None:
        return Outcome(Decision.DROPPED, row.dropped_by, row.dropped_at)
    return None


def retry(session: Session, row_id: int, now: datetime) -> Outcome:
    """Make a row due now: the next sweep (or delivery) sends it."""
    row = session.get(OutboxMessage, row_id, with_for_update=True)
    refused = _decidable(row)
    if refused is not None:
        return refused
    assert row is not None
    row.not_before = now
    log.warning("outbox %s (%s) made due now by hand", row.id, row.key)
    return Outcome(Decision.DONE)


def drop(session: Session, row_id: int, by: str, now: datetime) -> Outcome:
    """A person decided a row is not to be sent: it stays, marked with who and when, and
    is never sent."""
    row = session.get(OutboxMessage, row_id, with_for_update=True)
    refused = _decidable(row)
    if refused is not None:
        return refused
    assert row is not None
    row.dropped_at, row.dropped_by = now, by[:64]
    log.warning("outbox %s (%s) dropped by %s after %d attempt(s)", row.id, row.key, by, row.attempts)
    return Outcome(Decision.DONE, by, now)
