"""Who may do what: administrators (filed with the social security center) and HR staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.services.workplace import Workplace
from bot.storage.models import AuditEntry, Staff


def is_staff(session: Session, user_id: str) -> bool:
    return session.get(Staff, user_id) is not None


def may_file_for_others(session: Session, workplace: Workplace, user_id: str) -> bool:
    """HR staff and administrators may report changes for anyone; employees for themselves."""
    return workplace.is_admin(user_id) or is_staff(session, user_id)


def require_admin(workplace: Workplace, user_id: str) -> None:
    if not workplace.is_admin(user_id):
        raise Refused("admins_only")


def list_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.added_at)))


def add_staff(session: Session, workplace: Workplace, *, actor: str, user_id: str, now: datetime) -> bool:
    """Put ``user_id`` on the HR staff list (administrators only). False if already there."""
    require_admin(workplace, actor)
    if is_staff(session, user_id):
        return False
    session.add(Staff(user_id=user_id, added_by=actor, added_at=now))
    session.add(AuditEntry(at=now, actor_id=actor, action="staff_add", subject=user_id))
    return True


def remove_staff(session: Session, workplace: Workplace, *, actor: str, user_id: str, now: datetime) -> bool:
    """Take ``user_id`` off the HR staff list (administrators only). False if not there."""
    require_admin(workplace, actor)
    row = session.get(Staff, user_id)
    if row is None:
        return False
    session.delete(row)
    session.add(AuditEntry(at=now, actor_id=actor, action="staff_remove", subject=user_id))
    return True
