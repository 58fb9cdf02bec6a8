"""The outbox: messages recorded with the change they report, sent after the commit
(bot/delivery.py). Each row says where it goes and who reads it there, decided once here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.audience import Audience
from bot.storage.bulk import insert_rows
from bot.storage.models import OutboxMessage


class TargetKind(StrEnum):
    USER = "user"  # a DM to a person
    CHANNEL = "channel"  # a post in a channel
    REQUEST_CARDS = "request_cards"  # redraw every posted card of a request
    REMINDER_COPIES = "reminder_copies"  # redraw every posted copy of a reminder
    REPORT_FILES = "report_files"  # upload a monthly report's charts and workbook (a person or a channel)


@dataclass(frozen=True)
class Recipient:
    kind: TargetKind
    id: str
    audience: Audience

    @classmethod
    def person(cls, user_id: str) -> Recipient:
        return cls(TargetKind.USER, user_id, Audience.PRIVATE)

    @classmethod
    def channel(cls, channel_id: str) -> Recipient:
        return cls(TargetKind.CHANNEL, channel_id, Audience.SHARED)

    @classmethod
    def cards_of(cls, public_id: str) -> Recipient:
        """Every posted card of a request (each redrawn for its own audience)."""
        return cls(TargetKind.REQUEST_CARDS, public_id, Audience.PRIVATE)

    @classmethod
    def copies_of(cls, occurrence: str) -> Recipient:
        """Every posted copy of a reminder occurrence (each redrawn for its own audience)."""
        return cls(TargetKind.REMINDER_COPIES, occurrence, Audience.PRIVATE)

    @classmethod
    def files_for(cls, recipient: Recipient) -> Recipient:
        """The files of a monthly report, for where ``recipient``'s message goes."""
        return cls(TargetKind.REPORT_FILES, recipient.id, recipient.audience)


def enqueue(
    session: Session,
    *,
    key: str,
    notice: str,
    to: Recipient,
    now: datetime,
    request_id: int | None = None,
    params: dict[str, Any] | None = None,
    track: bool = False,
) -> bool:
    """Record a message to send. False when a message with this key was already recorded."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return False
    row = OutboxMessage(
        key=key,
        notice=notice,
        target_kind=to.kind.value,
        target=to.id,
        audience=to.audience.value,
        request_id=request_id,
        params=params or {},
        track=track,
        created_at=now,
        not_before=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False  # another process recorded the same key first
    session.info["outbox"] = True  # the caller delivers after its commit
    return True


# A fan-out (a statement to every employee) is queued with its messages due one after the
# other at Slack's pace for chat.postMessage, so that the messages people wait for (a card,
# an answer) are due before most of it and go first; bot/delivery.py paces the posts
# themselves, across processes.
FAN_OUT_SPACING = timedelta(milliseconds=200)


@dataclass(frozen=True)
class Outgoing:
    """One message of a fan-out (see :func:`enqueue_many`)."""

    key: str
    notice: str
    to: Recipient
    params: dict[str, Any]


def enqueue_many(session: Session, messages: Sequence[Outgoing], *, now: datetime, start: datetime) -> int:
    """Record many messages at once, in bulk, those whose key is not recorded yet; the
    n-th is due at ``start`` + n × FAN_OUT_SPACING. Returns how many were recorded. The
    caller makes sure no other transaction records the same keys at the same time (it
    holds a lock on what it fans out). They are sent by the sweep, not by the caller."""
    if not messages:
        return 0
    existing = set(
        session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_([m.key for m in messages])))
    )
    rows = [
        {
            "key": m.key,
            "notice": m.notice,
            "target_kind": m.to.kind.value,
            "target": m.to.id,
            "audience": m.to.audience.value,
            "request_id": None,
            "params": m.params,
            "track": False,
            "created_at": now,
            "not_before": start + FAN_OUT_SPACING * index,
            "claimed_until": None,
            "sent_at": None,
            "attempts": 0,
            "last_error": "",
        }
        for index, m in enumerate(m for m in messages if m.key not in existing)
    ]
    insert_rows(session, OutboxMessage.__table__, rows)
    return len(rows)
