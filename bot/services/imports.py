"""A file an administrator hands over (by DM in Slack): recognised as a roster, a wage file
or the center's bill from its columns, and imported. No Slack in here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.bill import is_bill
from bot.domain.roster import FileKind, ImportOutcome, detect_kind
from bot.domain.tables import TableError, read_table
from bot.domain.workplace import Workplace
from bot.services.bills import BillImport, import_bill
from bot.services.roles import require_admin
from bot.services.roster import import_roster
from bot.services.wages import import_wages
from bot.storage.models import ProcessedDelivery


def import_file(
    session: Session, workplace: Workplace, *, actor: str, file_name: str, content: bytes, now: datetime
) -> ImportOutcome | BillImport:
    """Import a roster, a wage file or the center's bill, whichever its columns say it is
    (a wage file names a gross wage, a roster file an enrolment month, a bill a scheme and
    both sides' amounts: its month comes from a month column or the file's name). An
    outcome with the problem ``file_kind_unknown`` when none; otherwise as
    :func:`import_roster`, :func:`import_wages` and :func:`bills.import_bill` promise.
    Refused ``admins_only`` for anyone but an administrator."""
    require_admin(session, actor)
    try:
        rows = read_table(file_name, content)
    except TableError as exc:
        return ImportOutcome(None, file_name, problem=(exc.code, exc.params))
    kind = detect_kind(rows)
    if kind is None and is_bill(rows):
        return import_bill(
            session,
            workplace,
            month=None,
            actor=actor,
            file_name=file_name,
            content=content,
            now=now,
            rows=rows,
        )
    if kind is None:
        return ImportOutcome(None, file_name, problem=("file_kind_unknown", {}))
    importer = import_roster if kind is FileKind.ROSTER else import_wages
    return importer(session, workplace, actor=actor, file_name=file_name, content=content, now=now, rows=rows)


def claim_delivery(session: Session, key: str, now: datetime) -> bool:
    """Record that the delivery ``key`` (a Slack event, a shared file) is being acted on.
    False when it already was: a retried or repeated delivery then does nothing. Part of
    the caller's transaction, so work that fails leaves it unclaimed."""
    if session.get(ProcessedDelivery, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ProcessedDelivery(key=key, at=now))
    except IntegrityError:
        return False  # another process claimed it a moment ago
    return True
