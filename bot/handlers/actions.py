"""Buttons on request cards: Approve, Reject (asks for a reason), Done, Details."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.requests import Action
from bot.handlers.forms import FormMetadata
from bot.handlers.ids import ActionId, CallbackId
from bot.handlers.replies import ephemeral, replying, to_presser
from bot.presenters import present
from bot.runtime import SiBot
from bot.services.requests import act_on_request, find_request
from bot.services.roles import require_admin

BUTTON_ACTIONS = {ActionId.APPROVE: Action.APPROVE, ActionId.DONE: Action.DONE}


def _ack(ack: Ack) -> None:
    ack()


def _pressed(body: dict[str, Any]) -> tuple[str, str, str]:
    action = body["actions"][0]
    return body["user"]["id"], action["action_id"], action.get("value", "")


def register(app: App, bot: SiBot) -> None:
    def move(body: dict[str, Any], respond) -> None:
        user, action_id, public_id = _pressed(body)
        with replying(bot, to_presser(respond), action_id), bot.db.session() as session:
            act_on_request(
                session,
                bot.workplace,
                public_id=public_id,
                action=BUTTON_ACTIONS[ActionId(action_id)],
                actor=user,
                now=bot.now(),
            )
        bot.deliverer.deliver_pending()

    def ask_reason(body: dict[str, Any], client: WebClient, respond) -> None:
        user, _, public_id = _pressed(body)
        with replying(bot, to_presser(respond), "reject"):
            require_admin(bot.workplace, user)
            client.views_open(
                trigger_id=body["trigger_id"],
                view=bot.messages.render(
                    "form_reject",
                    callback_id=CallbackId.REJECT_REASON.value,
                    metadata=FormMetadata(public_id=public_id).dump(),
                    public_id=public_id,
                ),
            )

    def details(body: dict[str, Any], respond) -> None:
        user, _, public_id = _pressed(body)
        with replying(bot, to_presser(respond), "details"):
            require_admin(bot.workplace, user)
            with bot.db.session(read_only=True) as session:
                view = present(find_request(session, public_id), bot.workplace, whole=True)
            respond(replace_original=False, **ephemeral(bot, "request_detail", view=view))

    for action_id in BUTTON_ACTIONS:
        app.action(action_id.value)(ack=_ack, lazy=[move])
    app.action(ActionId.REJECT.value)(ack=_ack, lazy=[ask_reason])
    app.action(ActionId.DETAILS.value)(ack=_ack, lazy=[details])
