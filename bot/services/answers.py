"""A person's answer to a DM that asks for one (a yearly statement, a declared base):
recorded once, whoever presses first, however often Slack delivers the press."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.domain.errors import Refused


def answer_once(
    session: Session,
    row: Any,
    state_column: InstrumentedAttribute,
    *,
    sent: str,
    answer: str,
    now: datetime,
    refused: Callable[[], Refused],
    **values: Any,
) -> None:
    """Move ``row`` from ``sent`` to ``answer`` (compare-and-set, with ``answered_at`` and
    ``values``), then read it back. ``refused`` is raised when it was no longer ``sent``:
    it is built after the read, so it can say what the answer already was."""
    model = type(row)
    moved = session.execute(
        update(model)
        .where(model.id == row.id, state_column == sent)
        .values({state_column.key: answer, "answered_at": now, **values})
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    if moved.rowcount != 1:
        raise refused()
