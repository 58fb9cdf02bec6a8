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
from bot.domain.kinds import Fact, FactContext, spec_for
from bot.domain.kinds.retirement import years_text
from bot.domain.masking import mask_free_text
from bot.domain.requests import State
from bot.domain.workplace import Workplace
from bot.services.requests import ListRow
from bot.storage.models import Request

MASKED_AMOUNT = "****"
# A header is plain text of at most 150 characters: a long name is cut to fit.
HEADLINE_NAME = 40
# The fields that name the month a request is about, the first one a form has.
_MONTH_FIELDS = ("effective_month", "month_from", "wanted_month")


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
    withheld: bool = False  # a sensitive kind in a channel: only its kind, id and state shown
    headline_kind: str = ""  # the text key of what it is (增员, 补缴, 就医审批)
    headline_name: str = ""  # whom it is about, when the form names them
    headline_month: str = ""  # the month it is about, when it has one

    @property
    def words(self) -> str:
        """The prefix of this kind's own words for states and actions ("" for the common
        ones): ``t(view.words ~ 'state.' ~ view.state)``."""
        return kinds.words_of(self.kind)

    def value(self, name: str) -> Any:
        """The shown value of the field ``name`` ("" when it has none)."""
        return next((f.value for f in self.fields if f.name == name), "")


@dataclass(frozen=True)
class ListRowView:
    """A request as a list shows it: one line (icon, id, kind, state, filed on, by whom)."""

    public_id: str
    kind: str
    state: str
    requester: str
    created_at: Any


def present_row(row: ListRow, workplace: Workplace) -> ListRowView:
    return ListRowView(
        public_id=row.public_id,
        kind=row.kind,
        state=row.state,
        requester=row.requester_id,
        created_at=row.created_at.astimezone(workplace.tz),
    )


def present(request: Request, workplace: Workplace, *, whole: bool) -> RequestView:
    """``whole``: the audience is an administrator or the person (DM, ephemeral, modal);
    otherwise resident ID numbers and amounts are masked, and private facts left out
    (channel messages)."""
    form = kinds.read_form(request.kind, request.payload)
    context = FactContext(workplace.policy, workplace.calendar, filed_on=workplace.today(request.created_at))
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
    withheld = not whole and spec_for(request.kind).sensitive
    if not whole:  # a reason is free text: an ID or an amount typed in it is masked
        last_reason = mask_free_text(last_reason)
        for e in events:
            e["reason"] = mask_free_text(e["reason"])
    shown = [] if withheld else shown_fields(form, whole=whole)
    return RequestView(
        public_id=request.public_id,
        kind=request.kind,
        state=state.value,
        requester=request.requester_id,
        subject=request.subject_id,
        created_at=request.created_at.astimezone(workplace.tz),
        fields=shown,
        events=[] if withheld else events,
        whole=whole,
        is_open=state.is_open,
        can_approve=state is State.SUBMITTED,
        can_done=state is State.APPROVED,
        can_reject=state.is_open,
        last_reason="" if withheld else last_reason,
        facts=[] if withheld else facts,
        materials="" if withheld else kinds.materials(request.kind, form),
        withheld=withheld,
        headline_kind=_headline_kind(request.kind, form),
        headline_name="" if withheld else _headline_name(form),
        headline_month="" if withheld else _headline_month(form),
    )


def _headline_kind(kind: str, form: Any) -> str:
    """An insured change says which (增员 / 减员 / 信息变更); every other kind its name."""
    change_type = getattr(form, "change_type", None)
    return f"headline.change.{change_type.value}" if change_type is not None else f"kind.{kind}"


def _headline_name(form: Any) -> str:
    name = str(getattr(form, "full_name", "") or "").strip()
    return name if len(name) <= HEADLINE_NAME else name[: HEADLINE_NAME - 1] + "…"


def _headline_month(form: Any) -> str:
    return next((str(getattr(form, f)) for f in _MONTH_FIELDS if getattr(form, f, None)), "")


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
            shown.append(ShownField(f.name, value if whole else mask_free_text(value), "long"))
        elif how == "option" and value in {o.value for o in f.metadata["options"]}:
            shown.append(ShownField(f.name, value, "choice"))
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
    if isinstance(value, str):  # free text (a name, a city, a bank typed before it was a select)
        return value if whole else mask_free_text(value)
    return str(value)


def mask_document(number: str) -> str:
    """A resident ID as ``1101**********002X``; a passport number with only its last two
    characters."""
    if len(number) == 18:
        return resident_id.mask(number)
    return "*" * max(0, len(number) - 2) + number[-2:]
