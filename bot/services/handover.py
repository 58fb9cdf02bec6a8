"""Handing the administrator's role to a successor (工作交接). No Slack in here.

``/si admin handover @successor`` takes a snapshot of everything the role holds — every
certificate, material and account in the registry (who holds it, where it is kept), the
open requests, the coming deadlines, the filed administrators — and sends it to both
people. The successor confirms receipt; then, in one transaction, the successor is filed as
administrator, the outgoing administrator's rights end, what they held moves to the
successor, and all of it is logged. The record can be exported at any time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain.deadlines import next_deadlines
from bot.domain.errors import Refused
from bot.domain.requests import OPEN_STATES, RequestKind
from bot.domain.workplace import Workplace
from bot.services import documents, filing, roles
from bot.services.outbox import Recipient, enqueue
from bot.storage.models import AuditEntry, Handover, Request

PENDING, CONFIRMED, CANCELLED = "pending", "confirmed", "cancelled"
DEADLINES = 6  # the coming deadlines of the role listed in the checklist
DOCUMENTS_AHEAD = timedelta(days=183)  # registry due dates listed among the deadlines


@dataclass(frozen=True)
class Started:
    handover: Handover
    created: bool  # False: the same handover was already pending (nothing sent again)


def checklist(session: Session, workplace: Workplace, *, outgoing: str, now: datetime) -> dict[str, Any]:
    """What the role holds now, as plain JSON values (stored with the handover, so the
    record shows what was handed over, whatever changes later)."""
    today = workplace.today(now)
    docs = [
        {
            "id": d.id,
            "category": d.category,
            "name": d.name,
            "location": d.location,
            "holder": d.holder_id,
            "due_on": d.due_on.isoformat() if d.due_on else "",
            "due_kind": d.due_kind,
            "held_by_outgoing": d.holder_id == outgoing,
        }
        for d in documents.list_documents(session)
    ]
    open_rows = session.scalars(
        select(Request).where(Request.state.in_(OPEN_STATES)).order_by(Request.created_at, Request.id)
    )
    open_requests = []
    complaints: Counter[str] = Counter()
    for r in open_rows:
        if r.kind == RequestKind.COMPLAINT:
            complaints[r.state] += 1  # confidential: counted, not listed
            continue
        open_requests.append(
            {
                "public_id": r.public_id,
                "kind": r.kind,
                "state": r.state,
                "since": workplace.today(r.created_at).isoformat(),
            }
        )
    deadlines = [
        {"kind": d.kind.value, "period": d.period, "due": d.due.isoformat()}
        for d in next_deadlines(workplace.policy, workplace.calendar, today, DEADLINES)
    ]
    for d in documents.documents_due(session, today + DOCUMENTS_AHEAD):
        deadlines.append(
            {"kind": f"document_{d.due_kind or 'exam'}", "period": d.name, "due": d.due_on.isoformat()}
        )
    deadlines.sort(key=lambda d: d["due"])
    admins = [
        {"user": a.user_id, "filed_on": a.filed_on.isoformat() if a.filed_on else ""}
        for a in filing.active_admins(session)
    ]
    return {
        "documents": docs,
        "open_requests": open_requests,
        "open_complaints": {
            "submitted": complaints["submitted"],
            "approved": complaints["approved"],
        },
        "deadlines": deadlines,
        "administrators": admins,
        "taken_on": today.isoformat(),
    }


def _pending(session: Session, outgoing: str) -> Handover | None:
    return session.scalar(
        select(Handover)
        .where(Handover.from_id == outgoing, Handover.state == PENDING)
        .order_by(Handover.id.desc())
    )


def start_handover(
    session: Session, workplace: Workplace, *, actor: str, successor: str, now: datetime
) -> Started:
    """Start handing ``actor``'s role to ``successor``: record the checklist and send it to
    both (the successor's copy with a Confirm button). Administrators only; not to
    oneself. A pending handover to the same successor is kept as it is; one to someone
    else is cancelled and replaced. Logged."""
    roles.require_admin(session, actor)
    if successor == actor:
        raise Refused("handover_self")
    pending = _pending(session, actor)
    if pending is not None and pending.to_id == successor:
        return Started(pending, created=False)
    if pending is not None:
        pending.state = CANCELLED
        session.add(
            AuditEntry(
                at=now,
                actor_id=actor,
                action="handover_cancel",
                subject=pending.to_id,
                detail=f"#{pending.id}",
            )
        )
    handover = Handover(
        from_id=actor,
        to_id=successor,
        state=PENDING,
        created_at=now,
        checklist=checklist(session, workplace, outgoing=actor, now=now),
    )
    session.add(handover)
    session.flush()
    session.add(
        AuditEntry(
            at=now, actor_id=actor, action="handover_start", subject=successor, detail=f"#{handover.id}"
        )
    )
    for role, target in (("from", actor), ("to", successor)):
        enqueue(
            session,
            key=f"handover:{handover.id}:checklist:{target}",
            notice="handover_checklist",
            to=Recipient.person(target),
            params=_params(handover, role),
            now=now,
        )
    return Started(handover, created=True)


def _params(handover: Handover, role: str) -> dict[str, Any]:
    return {
        "handover_id": handover.id,
        "role": role,
        "outgoing": handover.from_id,
        "successor": handover.to_id,
        "checklist": handover.checklist,
        "started": handover.created_at.isoformat(),
    }


def confirm_handover(
    session: Session, workplace: Workplace, *, handover_id: int, actor: str, now: datetime
) -> Handover:
    """The successor confirms receipt: they are filed as administrator, the outgoing
    administrator's rights end, what the outgoing administrator held moves to them, and
    both (and the admin channel) are told. Only the successor may confirm, once."""
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise Refused("handover_not_found", number=handover_id)
    if actor != handover.to_id:
        raise Refused("handover_not_yours", successor=handover.to_id)
    if handover.state == PENDING and not roles.is_admin(session, handover.from_id):
        # Rights end with the role: one removed meanwhile can no longer pass them on.
        raise Refused("handover_outgoing_gone", number=handover_id, outgoing=handover.from_id)
    moved = session.execute(
        update(Handover)
        .where(Handover.id == handover_id, Handover.state == PENDING)
        .values(state=CONFIRMED, confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        session.refresh(handover)
        raise Refused(f"handover_{handover.state}", number=handover_id)
    session.refresh(handover)
    if handover.to_id not in {a.user_id for a in filing.active_admins(session)}:
        filing.file_admin(
            session, actor=actor, user_id=handover.to_id, filed_on=None, source="handover", now=now
        )
    filing.unfile_admin(
        session, actor=actor, user_id=handover.from_id, reason=f"handover #{handover.id}", now=now
    )
    held = documents.move_holdings(
        session, from_user=handover.from_id, to_user=handover.to_id, actor=actor, now=now
    )
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor,
            action="handover_confirm",
            subject=handover.from_id,
            detail=f"#{handover.id}",
        )
    )
    params = {**_params(handover, "done"), "moved": held, "confirmed": now.isoformat()}
    told = [Recipient.person(handover.from_id), Recipient.person(handover.to_id)]
    if workplace.admin_channel:
        told.append(Recipient.channel(workplace.admin_channel))
    for recipient in told:
        enqueue(
            session,
            key=f"handover:{handover.id}:done:{recipient.id}",
            notice="handover_done",
            to=recipient,
            params={k: v for k, v in params.items() if k != "checklist"},
            now=now,
        )
    return handover


def find_handover(session: Session, *, viewer: str, number: int | None) -> Handover:
    """A handover record for an administrator or one of its two people; the latest when
    no number is given."""
    if number is None:
        query = select(Handover).order_by(Handover.id.desc()).limit(1)
        if not roles.is_admin(session, viewer):
            query = query.where((Handover.from_id == viewer) | (Handover.to_id == viewer))
        handover = session.scalar(query)
    else:
        handover = session.get(Handover, number)
    if handover is None or not (
        viewer in (handover.from_id, handover.to_id) or roles.is_admin(session, viewer)
    ):
        raise Refused("handover_not_found", number=number or "")
    return handover


def handover_log(session: Session, handover: Handover) -> list[AuditEntry]:
    """The audit entries of this handover, from its start to its confirmation."""
    end = handover.confirmed_at or handover.created_at
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.at >= handover.created_at, AuditEntry.at <= end)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    people = {handover.from_id, handover.to_id}
    return [
        r for r in rows if r.actor_id in people and (r.action.startswith(("handover", "admin", "documents")))
    ]


def is_pending_successor(session: Session, user: str) -> Handover | None:
    """A handover waiting for ``user`` to confirm it, if any."""
    return session.scalar(
        select(Handover).where(Handover.to_id == user, Handover.state == PENDING).order_by(Handover.id.desc())
    )
