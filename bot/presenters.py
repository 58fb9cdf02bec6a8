"""What a template needs to show a request: plain values, masked where the audience is
not entitled to see personal data whole. No Slack calls, no words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain import resident_id
from bot.domain.calendar import WorkingCalendar
from bot.domain.payback import PaybackEstimate, estimate_payback
from bot.domain.procedures import PROCEDURE_KINDS
from bot.domain.requests import (
    Complaint,
    InsuredChange,
    Kind,
    PaybackRequest,
    State,
    from_payload,
)
from bot.presenters_workspace import present_procedure
from bot.services.workplace import Workplace
from bot.storage.models import Request

MASKED_AMOUNT = "****"


@dataclass(frozen=True)
class RequestView:
    public_id: str
    kind: str
    state: str
    requester: str
    subject: str
    created_at: Any
    fields: dict[str, Any]  # field name -> value as shown (masked when not whole)
    estimate: PaybackEstimate | None
    events: list[dict[str, Any]] = field(default_factory=list)
    whole: bool = False  # personal data shown whole
    is_open: bool = True
    can_approve: bool = False
    can_done: bool = False
    can_reject: bool = False
    last_reason: str = ""
    # The other procedures (bot/presenters_workspace.py): what the rules say about the
    # request, as (text key, parameters), and the text key of its materials checklist.
    facts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    materials: str = ""


def present(request: Request, workplace: Workplace, *, whole: bool) -> RequestView:
    """``whole``: the audience is an administrator or the person (DM, ephemeral, modal);
    otherwise resident ID numbers and amounts are masked (channel messages)."""
    kind = Kind(request.kind)
    form = from_payload(kind, request.payload)
    created_day: date = workplace.today(request.created_at)
    estimate = None
    fields: dict[str, Any]
    facts: list[tuple[str, dict[str, Any]]] = []
    materials = ""
    if kind in PROCEDURE_KINDS:
        fields, facts, materials = present_procedure(form, whole=whole)  # type: ignore[arg-type]
    elif isinstance(form, InsuredChange):
        fields = {
            "change_type": form.change_type.value,
            "person": form.person,
            "full_name": form.full_name,
            "resident_id": form.resident_id if whole else resident_id.mask(form.resident_id),
            "hukou": form.hukou.value,
            "effective_month": str(form.effective_month),
            "contribution_base": _amount(form.contribution_base, whole),
            "notes": form.notes,
        }
    elif isinstance(form, PaybackRequest):
        # The estimate is as of the day the request was filed, so it does not drift.
        policy = workplace.policy
        estimate = estimate_payback(
            form.month_from,
            form.month_to,
            form.monthly_base,
            policy,
            created_day,
            WorkingCalendar.from_policy(policy),
        )
        fields = {
            "month_from": str(form.month_from),
            "month_to": str(form.month_to),
            "monthly_base": _amount(form.monthly_base, whole),
            "reason": form.reason.value,
            "notes": form.notes,
        }
        if not whole:
            estimate = None
    else:
        assert isinstance(form, Complaint)
        fields = {
            "category": form.category.value,
            "description": form.description,
            "month_from": str(form.month_from) if form.month_from else "",
            "month_to": str(form.month_to) if form.month_to else "",
        }
    state = State(request.state)
    events = [
        {
            "at": e.at.astimezone(workplace.tz),
            "actor": e.actor_id,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "reason": e.reason,
        }
        for e in request.events
    ]
    last_reason = next((e["reason"] for e in reversed(events) if e["reason"]), "")
    return RequestView(
        public_id=request.public_id,
        kind=kind.value,
        state=state.value,
        requester=request.requester_id,
        subject=request.subject_id,
        created_at=request.created_at.astimezone(workplace.tz),
        fields=fields,
        estimate=estimate,
        events=events,
        whole=whole,
        is_open=state.is_open,
        can_approve=state is State.SUBMITTED,
        can_done=state is State.APPROVED,
        can_reject=state.is_open,
        last_reason=last_reason,
        facts=facts,
        materials=materials,
    )


def _amount(value: Any, whole: bool) -> str:
    if value is None:
        return ""
    return value if whole else MASKED_AMOUNT
