"""Reading Slack's view state and private metadata into plain values."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bot.domain.requests import Kind
from bot.handlers.ids import CallbackId
from bot.runtime import SiBot
from bot.services import roles


def field_values(view: dict[str, Any]) -> dict[str, str]:
    """``{block_id: value}`` for every input in a submitted view, whatever its element type."""
    values: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for element in actions.values():
            values[block_id] = _element_value(element)
    return values


def _element_value(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        option = element.get("selected_option") or {}
        return option.get("value", "")
    if kind == "users_select":
        return element.get("selected_user") or ""
    if kind == "conversations_select":
        return element.get("selected_conversation") or ""
    if kind == "datepicker":
        return element.get("selected_date") or ""
    return element.get("value") or ""


@dataclass(frozen=True)
class FormMetadata:
    """Carried in a modal's private_metadata: where the form was opened from."""

    channel: str = ""
    public_id: str = ""

    def dump(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def load(cls, raw: str | None) -> FormMetadata:
        try:
            data = json.loads(raw or "{}")
        except json.JSONDecodeError:
            return cls()
        return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})


FORM_CALLBACKS = {
    Kind.CHANGE: CallbackId.CHANGE_FORM,
    Kind.PAYBACK: CallbackId.PAYBACK_FORM,
    Kind.COMPLAINT: CallbackId.COMPLAINT_FORM,
    Kind.CARD: CallbackId.CARD_FORM,
    Kind.TRANSFER: CallbackId.TRANSFER_FORM,
    Kind.RETIREMENT: CallbackId.RETIREMENT_FORM,
    Kind.UNEMPLOYMENT: CallbackId.UNEMPLOYMENT_FORM,
    Kind.MEDICAL: CallbackId.MEDICAL_FORM,
    Kind.SETTLEMENT: CallbackId.SETTLEMENT_FORM,
}


def form_view(bot: SiBot, kind: Kind, *, user: str, channel: str = "", prefill: dict | None = None) -> dict:
    """The modal for filing a request of ``kind``, pre-filled where the user said so."""
    with bot.db.session(read_only=True) as session:
        for_others = roles.may_file_for_others(session, bot.workplace, user)
    prefill = dict(prefill or {})
    if kind in (Kind.CHANGE, Kind.SETTLEMENT) and not prefill.get("person"):
        prefill["person"] = user
    return bot.messages.render(
        f"form_{kind.value}",
        callback_id=FORM_CALLBACKS[kind].value,
        metadata=FormMetadata(channel=channel).dump(),
        prefill=prefill,
        for_others=for_others,
        policy=bot.policy,
        # The base period of this month: its floor and ceiling in the hints.
        period=bot.policy.period_on(bot.workplace.today(bot.now())),
    )
