"""Who may do what, asked of the database in the caller's session: the filed
administrators (``administrators`` table, bot/services/filing.py) and HR staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Exists, exists, select
from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.workplace import Workplace
from bot.services.outbox import Recipient
from bot.storage.models import Administrator, AuditEntry, Staff

# The operator at the command line (si-bot export, import…), who acts as an administrator:
# never a Slack user id, which are upper case.
CLI_ACTOR = "cli"


def is_admin(session: Session, user_id: str) -> bool:
    """Whether ``user_id`` is a filed administrator now (one primary-key lookup), or the
    operator at the command line."""
    if user_id == CLI_ACTOR:
        return True
    if not user_id:
        return False
    row = session.get(Administrator, user_id)
    return row is not None and row.removed_at is None


def require_admin(session: Session, user_id: str) -> None:
    """Refused("admins_only") unless ``user_id`` is a filed administrator."""
    require(is_admin(session, user_id))


def require(admin: bool) -> None:
    """Refused("admins_only") unless the person, looked up already, is an administrator."""
    if not admin:
        raise Refused("admins_only")


def admin_now(user_id: ColumnElement[str]) -> Exists:
    """Whether ``user_id`` is a filed administrator now, as a clause for a statement that
    reads it with other things (a press's one read, bot/services/requests.py). A Slack
    user: the command line's operator never presses a button."""
    return exists().where(Administrator.user_id == user_id, Administrator.removed_at.is_(None))


def admin_ids(session: Session) -> list[str]:
    """The filed administrators' user ids, first filed first."""
    return list(
        session.scalars(
            select(Administrator.user_id)
            .where(Administrator.removed_at.is_(None))
            .order_by(Administrator.added_at, Administrator.user_id)
        )
    )


def administrators(session: Session, workplace: Workplace, *, confidential: bool = False) -> list[Recipient]:
    """Where the administrators are told: the admin channel, or each of them privately
    when there is none or the matter is confidential (complaints)."""
    if workplace.admin_channel and not confidential:
        return [Recipient.channel(workplace.admin_channel)]
    return [Recipient.person(admin) for admin in admin_ids(session)]


def is_staff(session: Session, user_id: str) -> bool:
    return session.get(Staff, user_id) is not None


def may_file_for_others(session: Session, user_id: str) -> bool:
    """HR staff and administrators may file for anyone; employees for themselves."""
    return is_admin(session, user_id) or is_staff(session, user_id)


def list_staff(session: Session, *, actor: str) -> list[Staff]:
    """The HR staff list (administrators only)."""
    require_admin(session, actor)
    return list(session.scalars(select(Staff).order_by(Staff.added_at)))


def add_staff(session: Session, *, actor: str, user_id: str, now: datetime) -> bool:
    """Put ``user_id`` on the HR staff list (administrators only). False if already there."""
    require_admin(session, actor)
    if is_staff(session, user_id):
        return False
    session.add(Staff(user_id=user_id, added_by=actor, added_at=now))
    session.add(AuditEntry(at=now, actor_id=actor, action="staff_add", subject=user_id))
    return True


def remove_staff(session: Session, *, actor: str, user_id: str, now: datetime) -> bool:
    """Take ``user_id`` off the HR staff list (administrators only). False if not there."""
    require_admin(session, actor)
    row = session.get(Staff, user_id)
    if row is None:
        return False
    session.delete(row)
    session.add(AuditEntry(at=now, actor_id=actor, action="staff_remove", subject=user_id))
    return True
