"""The administrator filing system (专管员备案): who the filed administrators are, since
when, and every change to that, logged. No Slack in here.

The administrators live in the ``administrators`` table. At start the ids in SI_ADMINS
that the table has never seen are filed (``source = SI_ADMINS``); an id that was removed
(by ``/si admin remove`` or a handover) stays removed even while SI_ADMINS still lists it,
so a restart cannot undo a handover. Every check reads the table in the caller's session
(``bot.services.roles``): a change made by any process counts at once everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.workplace import Workplace
from bot.services.outbox import Recipient, enqueue
from bot.services.roles import administrators, require_admin
from bot.storage.models import Administrator, AuditEntry

log = logging.getLogger(__name__)
SEED_SOURCE = "SI_ADMINS"


def active_admins(session: Session) -> list[Administrator]:
    """The filed administrators now, first filed first."""
    return list(
        session.scalars(
            select(Administrator)
            .where(Administrator.removed_at.is_(None))
            .order_by(Administrator.added_at, Administrator.user_id)
        )
    )


def seed_admins(session: Session, seed: Sequence[str], now: datetime) -> list[str]:
    """File the ids of SI_ADMINS the table has never seen. Returns the listed ids that were
    removed since (they stay removed: SI_ADMINS should be updated)."""
    stale = []
    for user_id in seed:
        row = session.get(Administrator, user_id)
        if row is not None:
            if row.removed_at is not None:
                stale.append(user_id)
            continue
        try:
            with session.begin_nested():
                session.add(
                    Administrator(
                        user_id=user_id, filed_on=None, added_at=now, added_by=SEED_SOURCE, source=SEED_SOURCE
                    )
                )
                session.add(AuditEntry(at=now, actor_id=SEED_SOURCE, action="admin_seed", subject=user_id))
        except IntegrityError:
            pass  # another process filed it a moment ago
    return stale


def seed_from_settings(session: Session, seed: Sequence[str], now: datetime) -> None:
    """At start: file the ids of SI_ADMINS the table has never seen, and warn about those
    it lists that were removed since."""
    stale = seed_admins(session, seed, now)
    if stale:
        log.warning(
            "SI_ADMINS lists %s, no longer filed administrators (removed or handed over): update SI_ADMINS",
            ", ".join(stale),
        )


@dataclass(frozen=True)
class FilingChange:
    outcome: str  # added | updated | already | removed | not_admin
    user_id: str
    filed_on: date | None = None


def file_admin(
    session: Session,
    *,
    actor: str,
    user_id: str,
    filed_on: date | None,
    source: str,
    now: datetime,
) -> Administrator:
    """Make ``user_id`` a filed administrator (no permission check: callers do it)."""
    row = session.get(Administrator, user_id)
    if row is None:
        row = Administrator(user_id=user_id, added_at=now, added_by=actor, source=source, filed_on=filed_on)
        session.add(row)
    else:
        row.removed_at = None
        row.removed_by = None
        row.added_at, row.added_by, row.source = now, actor, source
        row.filed_on = filed_on
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor,
            action="admin_add",
            subject=user_id,
            detail=f"source={source} filed_on={filed_on or ''}",
        )
    )
    session.flush()
    return row


def unfile_admin(session: Session, *, actor: str, user_id: str, reason: str, now: datetime) -> None:
    """End ``user_id``'s rights as administrator (no permission check: callers do it)."""
    row = session.get(Administrator, user_id)
    if row is None or row.removed_at is not None:
        return
    row.removed_at, row.removed_by = now, actor
    session.add(AuditEntry(at=now, actor_id=actor, action="admin_remove", subject=user_id, detail=reason))
    session.flush()


def add_admin(
    session: Session,
    workplace: Workplace,
    *,
    actor: str,
    user_id: str,
    filed_on: date | None,
    now: datetime,
) -> FilingChange:
    """``/si admin add @person [YYYY-MM-DD]``: file a new administrator, or record the day
    an existing one was filed with the social security center. Administrators only;
    logged."""
    require_admin(session, actor)
    row = session.get(Administrator, user_id)
    if row is not None and row.removed_at is None:
        if filed_on is None or row.filed_on == filed_on:
            return FilingChange("already", user_id, row.filed_on)
        row.filed_on = filed_on
        session.add(
            AuditEntry(
                at=now, actor_id=actor, action="admin_filed_on", subject=user_id, detail=filed_on.isoformat()
            )
        )
        return FilingChange("updated", user_id, filed_on)
    filed_on = filed_on or workplace.today(now)
    file_admin(session, actor=actor, user_id=user_id, filed_on=filed_on, source="command", now=now)
    return FilingChange("added", user_id, filed_on)


def check_removal(session: Session, *, actor: str, user_id: str) -> FilingChange | None:
    """Whether ``/si admin remove @person`` may go ahead, before it is asked: None when
    it may; ``not_admin`` when they are not one; refused when it would leave nobody filed
    (hand the role over instead). Administrators only."""
    require_admin(session, actor)
    row = session.get(Administrator, user_id)
    if row is None or row.removed_at is not None:
        return FilingChange("not_admin", user_id)
    if [a.user_id for a in active_admins(session)] == [user_id]:
        raise Refused("last_admin", user=user_id)
    return None


def remove_admin(
    session: Session, workplace: Workplace, *, actor: str, user_id: str, now: datetime
) -> FilingChange:
    """End an administrator's rights (``/si admin remove @person``, confirmed). Checked
    as :func:`check_removal`; logged; the removed person is told, and the administrators
    where they are told."""
    refusal = check_removal(session, actor=actor, user_id=user_id)
    if refusal is not None:
        return refusal
    unfile_admin(session, actor=actor, user_id=user_id, reason="command", now=now)
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    enqueue(
        session,
        key=f"admin_removed:{user_id}:{stamp}",
        notice="admin_removed",
        to=Recipient.person(user_id),
        params={"actor": actor, "user": user_id, "to_them": True},
        now=now,
    )
    for recipient in administrators(session, workplace):
        enqueue(
            session,
            key=f"admin_removed:{user_id}:{stamp}:{recipient.id}",
            notice="admin_removed",
            to=recipient,
            params={"actor": actor, "user": user_id, "to_them": False},
            now=now,
        )
    return FilingChange("removed", user_id)
