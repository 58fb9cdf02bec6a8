"""What a template needs to show a request: plain values, masked where the audience is
not entitled to see personal data whole. No Slack calls, no words.

Which value is personal, and how each field is shown, comes from the form's dataclass
(``bot.domain.kinds.spec``: field metadata), so every kind is presented the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from enum import StrEnum
from typing import Any

from bot.domain import kinds, resident_id
from bot.domain.kinds import Fact, FactContext
from bot.domain.kinds.retirement import years_text
from bot.domain.requests import State
from bot.domain.workplace import Workplace
from bot.storage.models import Request

MASKED_AMOUNT = "****"


@dataclass(frozen=True)
class ShownField:
    name: str  # the field: its label is the text ``field.<name>``
    value: Any  # as shown to this audience (an amount stays a Decimal: templates format money)
    style: str  # text | choice (value is an option: ``<name>.<value>``) | person | long


@dataclass(frozen=True)
class RequestView:
    public_id: str
    kind: str
    state: str
    requester: str
    subject: str
    created_at: Any
    fields: list[ShownField]
    events: list[dict[str, Any]] = field(default_factory=list)
    whole: bool = False  # personal data shown whole
    is_open: bool = True
    can_approve: bool = False
    can_done: bool = False
    can_reject: bool = False
    last_reason: str = ""
    facts: list[Fact] = field(default_factory=list)  # what the rules say about it
    materials: str = ""  # the text key of its materials checklist

    def value(self, name: str) -> Any:
        """The shown value of the field ``name`` ("" when it has none)."""
        return next((f.value for f in self.fields if f.name == name), "")


def present(request: Request, workplace: Workplace, *, whole: bool) -> RequestView:
    """``whole``: the audience is an administrator or the person (DM, ephemeral, modal);
    otherwise resident ID numbers and amounts are masked, and private facts left out
    (channel messages)."""
    form = kinds.read_form(request.kind, request.payload)
    context = FactContext(policy=workplace.policy, filed_on=workplace.today(request.created_at))
    facts = [f for f in kinds.facts(request.kind, form, context) if whole or not f.private]
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
        kind=request.kind,
        state=state.value,
        requester=request.requester_id,
        subject=request.subject_id,
        created_at=request.created_at.astimezone(workplace.tz),
        fields=shown_fields(form, whole=whole),
        events=events,
        whole=whole,
        is_open=state.is_open,
        can_approve=state is State.SUBMITTED,
        can_done=state is State.APPROVED,
        can_reject=state.is_open,
        last_reason=last_reason,
        facts=facts,
        materials=kinds.materials(request.kind, form),
    )


def shown_fields(form: Any, *, whole: bool) -> list[ShownField]:
    """Every field of ``form`` that has a value, as this audience may see it."""
    shown = []
    for f in dataclass_fields(form):
        value = getattr(form, f.name)
        if value is None or value == "":
            continue
        how = f.metadata.get("show", "")
        if isinstance(value, StrEnum):
            shown.append(ShownField(f.name, value.value, "choice"))
        elif how == "person":
            shown.append(ShownField(f.name, value, "person"))
        elif how == "long":
            shown.append(ShownField(f.name, value, "long"))
        else:
            shown.append(ShownField(f.name, _value(value, how, whole), "text"))
    return shown


def _value(value: Any, how: str, whole: bool) -> Any:
    if how == "resident_id":
        return value if whole else resident_id.mask(value)
    if how == "id_document":
        return value if whole else mask_document(value)
    if how == "amount":
        return value if whole else MASKED_AMOUNT
    if how == "years":
        return years_text(value)
    return str(value)


def mask_document(number: str) -> str:
    """A resident ID as ``1101**********002X``; a passport number with only its last two
    characters."""
    if len(number) == 18:
        return resident_id.mask(number)
    return "*" * max(0, len(number) - 2) + number[-2:]
