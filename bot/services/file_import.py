"""The steps every import of a roster or wage file takes, whatever it imports: read the
file, check every row, check them against the database, and only when not one row is
rejected write everything; record the import, or say that it changed nothing. No Slack in
here. What differs — the rows' rules, the database's checks, the writes — is an
:class:`ImportPlan` (bot/services/roster.py, wages.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.roster import Checked, FileKind, ImportOutcome, PreviousImport, Rejection
from bot.domain.tables import Row, TableError, read_table
from bot.domain.workplace import Workplace
from bot.services.roles import require_admin
from bot.storage.models import ImportBatch

MAX_REFERENCE = 200  # a file's name as kept in the history


class ImportPlan(Protocol):
    """What importing one checked file takes, once its rows passed their own rules: the
    rejections only the database can tell and, when there are none, how many rows it
    adds and changes, and the writes."""

    rejections: list[Rejection]
    added: int
    changed: int

    def write(self, *, batch_id: int, actor: str, now: datetime, reference: str) -> None:
        """Write every added and changed row in bulk, as part of import ``batch_id``."""
        ...


def run_import(
    session: Session,
    workplace: Workplace,
    *,
    kind: FileKind,
    check: Callable[[Sequence[Row]], Checked[Any]],
    plan: Callable[[Session, Checked[Any]], ImportPlan],
    actor: str,
    file_name: str,
    content: bytes,
    now: datetime,
    rows: Sequence[Row] | None = None,
) -> ImportOutcome:
    """Import ``content`` (or its ``rows``, already read) all or nothing; see
    :class:`ImportOutcome` for what it says. Refused ``admins_only``."""
    require_admin(session, actor)
    try:
        checked = check(read_table(file_name, content) if rows is None else rows)
    except TableError as exc:
        return ImportOutcome(kind, file_name, problem=(exc.code, exc.params))
    steps = plan(session, checked)
    rejections = sorted(checked.rejections + steps.rejections, key=lambda r: r.row)
    if rejections:
        return ImportOutcome(kind, file_name, rows=checked.rows, rejections=tuple(rejections))
    added, changed = steps.added, steps.changed
    digest = hashlib.sha256(content).hexdigest()
    unchanged = checked.rows - added - changed
    if not added and not changed:
        seen = _previous_import(session, kind, digest)
        return ImportOutcome(kind, file_name, rows=checked.rows, unchanged=unchanged, seen_before=seen)
    batch = ImportBatch(
        kind=kind.value,
        file_name=file_name[:MAX_REFERENCE],
        digest=digest,
        actor_id=actor,
        at=now,
        rows=checked.rows,
        added=added,
        changed=changed,
        unchanged=unchanged,
    )
    session.add(batch)
    session.flush()
    steps.write(batch_id=batch.id, actor=actor, now=now, reference=file_name[:MAX_REFERENCE])
    return ImportOutcome(
        kind,
        file_name,
        rows=checked.rows,
        added=added,
        changed=changed,
        unchanged=unchanged,
        batch_id=batch.id,
    )


def _previous_import(session: Session, kind: FileKind, digest: str) -> PreviousImport | None:
    """The first import of this very file, if it was imported before."""
    batch = session.scalar(
        select(ImportBatch)
        .where(ImportBatch.kind == kind.value, ImportBatch.digest == digest)
        .order_by(ImportBatch.id)
        .limit(1)
    )
    return PreviousImport(batch.at, batch.actor_id, batch.file_name) if batch else None
