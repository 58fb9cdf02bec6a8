"""Slack's requests to the app, built and signed the way Slack does: the one place that
knows their shapes. The console sends them to the app; the tests send them over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

TEAM = "TFAKE"


@dataclass(frozen=True)
class SignedRequest:
    body: str
    headers: dict[str, str]


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def _form(secret: str, fields: dict[str, str], timestamp: int | None) -> SignedRequest:
    body = urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body, timestamp)}
    return SignedRequest(body, headers)


def slash_command(
    secret: str,
    *,
    text: str,
    user: str,
    channel: str = "C0GENERAL",
    response_url: str = "",
    trigger_id: str = "trigger-1",
    timestamp: int | None = None,
) -> SignedRequest:
    return _form(
        secret,
        {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": channel,
            "user_id": user,
            "command": "/si",
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger_id,
        },
        timestamp,
    )


def _interactive(secret: str, payload: dict[str, Any], timestamp: int | None) -> SignedRequest:
    return _form(secret, {"payload": json.dumps(payload)}, timestamp)


def _button_press(
    user: str, action_id: str, value: str, block_id: str, trigger_id: str, where: dict[str, Any]
) -> dict[str, Any]:
    """A block_actions payload for one button; ``where`` says what it was pressed on."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": "AFAKE",
        "trigger_id": trigger_id,
        **where,
        "actions": [{"type": "button", "action_id": action_id, "block_id": block_id, "value": value}],
    }


def block_action(
    secret: str,
    *,
    user: str,
    action_id: str,
    value: str,
    channel: str = "C0ADMIN",
    message_ts: str = "1700000001.000100",
    response_url: str = "",
    trigger_id: str = "trigger-2",
    timestamp: int | None = None,
    state: dict[str, Any] | None = None,
) -> SignedRequest:
    """A button pressed on a message; ``state`` is what the message's selects show,
    ``{block_id: {action_id: {"type": ..., "selected_option": ...}}}``."""
    where = {
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": message_ts},
        "message": {"ts": message_ts},
        "response_url": response_url,
        "state": {"values": state or {}},
    }
    payload = _button_press(user, action_id, value, "request_actions", trigger_id, where)
    return _interactive(secret, payload, timestamp)


def view_state(view: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    """The ``state.values`` Slack would send for ``view`` filled in with ``answers``."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        name, element = block["block_id"], block["element"]
        # A field left as the form had it is sent with its initial value, as Slack does.
        answer = answers.get(name, _initial(element))
        kind = element["type"]
        if kind in ("static_select", "radio_buttons"):
            option = next((o for o in options_of(element) if o["value"] == answer), None)
            if answer and option is None:
                # Not an option of the form: a forged payload, or a form opened long ago.
                option = {"text": {"type": "plain_text", "text": answer}, "value": answer}
            state = {"type": kind, "selected_option": option if answer else None}
        elif kind == "users_select":
            state = {"type": kind, "selected_user": answer or None}
        elif kind == "datepicker":
            state = {"type": kind, "selected_date": answer or None}
        else:
            state = {"type": kind, "value": answer or None}
        values[name] = {element["action_id"]: state}
    return values


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    """A select's options, in its option groups if it has them."""
    groups = element.get("option_groups") or [{"options": element.get("options", [])}]
    return [option for group in groups for option in group["options"]]


def _initial(element: dict[str, Any]) -> str:
    option = element.get("initial_option") or {}
    return (
        element.get("initial_value")
        or element.get("initial_user")
        or element.get("initial_date")
        or option.get("value", "")
    )


def view_submission(
    secret: str,
    *,
    user: str,
    view: dict[str, Any],
    answers: dict[str, str],
    view_id: str = "V00000001",
    timestamp: int | None = None,
) -> SignedRequest:
    submitted = {
        **view,
        "id": view.get("id", view_id),
        "state": {"values": view_state(view, answers)},
        "private_metadata": view.get("private_metadata", ""),
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": "AFAKE",
        "view": submitted,
    }
    return _interactive(secret, payload, timestamp)


def view_block_action(
    secret: str,
    *,
    user: str,
    view: dict[str, Any],
    answers: dict[str, str],
    block_id: str,
    view_id: str = "V00000001",
    trigger_id: str = "trigger-view",
    timestamp: int | None = None,
) -> SignedRequest:
    """A choice made in an open modal whose element dispatches its actions (a radio or a
    select with ``dispatch_action``): ``answers`` is what the form shows then, the choice
    of ``block_id`` among them."""
    values = view_state(view, answers)
    element = next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)
    action = {
        "block_id": block_id,
        "action_id": element["action_id"],
        **values[block_id][element["action_id"]],
    }
    shown = {
        **view,
        "id": view.get("id", view_id),
        "hash": view.get("hash", "1700000000.hash"),
        "state": {"values": values},
    }
    return _in_modal(secret, user=user, view=shown, action=action, trigger_id=trigger_id, timestamp=timestamp)


def modal_select_action(
    secret: str,
    *,
    user: str,
    view: dict[str, Any],
    action_id: str,
    value: str,
    trigger_id: str = "trigger-modal",
    timestamp: int | None = None,
) -> SignedRequest:
    """An option chosen in a select of an open modal's actions block (Slack sends the
    choice at once): ``value`` is the option's value, which must be one of the select's."""
    element, block_id = next(
        (e, b["block_id"])
        for b in view["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("action_id") == action_id
    )
    option = next(o for o in options_of(element) if o["value"] == value)
    action = {
        "type": element["type"],
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": option,
        "initial_option": element.get("initial_option"),
    }
    return _in_modal(secret, user=user, view=view, action=action, trigger_id=trigger_id, timestamp=timestamp)


def _in_modal(
    secret: str,
    *,
    user: str,
    view: dict[str, Any],
    action: dict[str, Any],
    trigger_id: str,
    timestamp: int | None,
) -> SignedRequest:
    """A block action inside an open modal (``view``, as Slack sends it back)."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": "AFAKE",
        "trigger_id": trigger_id,
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "actions": [action],
    }
    return _interactive(secret, payload, timestamp)


def event_callback(
    secret: str, event: dict[str, Any], *, event_id: str, timestamp: int | None = None
) -> SignedRequest:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "AFAKE",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )
    headers = {"Content-Type": "application/json", **sign(secret, body, timestamp)}
    return SignedRequest(body, headers)


def home_block_action(
    secret: str,
    *,
    user: str,
    action_id: str,
    value: str,
    view_id: str = "VHOME0001",
    trigger_id: str = "trigger-home",
    timestamp: int | None = None,
) -> SignedRequest:
    """A button pressed on App Home: the container is a view, and there is no response URL."""
    where = {"container": {"type": "view", "view_id": view_id}, "view": {"id": view_id, "type": "home"}}
    payload = _button_press(user, action_id, value, "home", trigger_id, where)
    return _interactive(secret, payload, timestamp)


def modal_block_action(
    secret: str,
    *,
    user: str,
    action_id: str,
    value: str,
    view_id: str,
    trigger_id: str = "trigger-modal",
    timestamp: int | None = None,
) -> SignedRequest:
    """A button pressed in an open modal: the container is that view, no response URL."""
    where = {"container": {"type": "view", "view_id": view_id}, "view": {"id": view_id, "type": "modal"}}
    payload = _button_press(user, action_id, value, "list_pages", trigger_id, where)
    return _interactive(secret, payload, timestamp)
