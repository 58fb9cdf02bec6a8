"""Answers to people who talk to the bot (mentions and direct messages)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.services.outbox import enqueue


def reply_to_mention(
    session: Session, *, event_id: str, channel: str, thread_ts: str, user: str, now: datetime
) -> bool:
    """Reply in the thread with how to use the bot. Keyed by Slack's event id: a retried
    delivery of the same event records nothing. False when it was already recorded."""
    return enqueue(
        session,
        key=f"event:{event_id}",
        notice="mention_help",
        target_kind="channel",
        target=channel,
        params={"thread_ts": thread_ts, "user": user},
        now=now,
    )
