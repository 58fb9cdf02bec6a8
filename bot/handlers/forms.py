"""Reading Slack's view state and private metadata into plain values."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


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
