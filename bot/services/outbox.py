"""The outbox: messages recorded with the change they report, sent after the commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import OutboxMessage


def enqueue(
    session: Session,
    *,
    key: str,
    notice: str,
    target_kind: str,
    target: str,
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
        target_kind=target_kind,
        target=target,
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
    return True
