"""The registry of the unit's certificates, materials and accounts. No Slack in here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.documents import DocumentForm, parse_document
from bot.domain.workplace import Workplace
from bot.services.roles import require_admin
from bot.storage.models import AuditEntry, UnitDocument

_CATEGORY_ORDER = {"certificate": 0, "account": 1, "material": 2, "manual": 3}


def register_document(
    session: Session,
    workplace: Workplace,
    *,
    actor: str,
    raw: dict[str, Any],
    submission_key: str | None,
    now: datetime,
) -> UnitDocument:
    """Validate and record a certificate, material or account (administrators only;
    FieldErrors names each field to fix). A second submission of the same form records
    nothing and returns the first entry."""
    require_admin(session, actor)
    form: DocumentForm = parse_document(raw, today=workplace.today(now))
    if submission_key:
        existing = session.scalar(select(UnitDocument).where(UnitDocument.submission_key == submission_key))
        if existing is not None:
            return existing
    row = UnitDocument(
        category=form.category.value,
        name=form.name,
        location=form.location,
        holder_id=form.holder,
        due_on=form.due_on,
        due_kind=form.due_kind.value if form.due_kind else "",
        notes=form.notes,
        added_at=now,
        added_by=actor,
        submission_key=submission_key,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = session.scalar(select(UnitDocument).where(UnitDocument.submission_key == submission_key))
        if existing is None:
            raise
        return existing
    session.add(
        AuditEntry(at=now, actor_id=actor, action="document_add", subject=str(row.id), detail=form.name)
    )
    return row


def registry(session: Session, *, viewer: str) -> list[UnitDocument]:
    """``/si docs``: every document still kept (administrators only)."""
    require_admin(session, viewer)
    return list_documents(session)


def list_documents(session: Session) -> list[UnitDocument]:
    """Every document still kept: certificates, accounts, materials, manuals; soonest due first."""
    rows = session.scalars(select(UnitDocument).where(UnitDocument.retired_at.is_(None)))
    return sorted(rows, key=lambda d: (_CATEGORY_ORDER.get(d.category, 9), d.due_on or date.max, d.id))


def documents_due(session: Session, until: date) -> list[UnitDocument]:
    """Documents whose examination or expiry date is on or before ``until``, soonest
    first: what the reminders and App Home show as coming deadlines."""
    rows = session.scalars(
        select(UnitDocument)
        .where(
            UnitDocument.retired_at.is_(None), UnitDocument.due_on.is_not(None), UnitDocument.due_on <= until
        )
        .order_by(UnitDocument.due_on, UnitDocument.id)
    )
    return list(rows)


def move_holdings(session: Session, *, from_user: str, to_user: str, actor: str, now: datetime) -> int:
    """Everything ``from_user`` holds is now held by ``to_user`` (a handover); logged."""
    moved = session.execute(
        update(UnitDocument)
        .where(UnitDocument.holder_id == from_user, UnitDocument.retired_at.is_(None))
        .values(holder_id=to_user)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        session.add(
            AuditEntry(
                at=now,
                actor_id=actor,
                action="documents_move",
                subject=to_user,
                detail=f"{moved} from {from_user}",
            )
        )
    return moved
