"""Buttons under the help channel's answers: Helpful, Not helpful, and the matching form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.requests import Kind
from bot.handlers.forms import form_view
from bot.handlers.ids import ActionId
from bot.handlers.replies import apology, notice
from bot.runtime import SiBot
from bot.services.help import record_feedback


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, bot: SiBot) -> None:
    def feedback(body: dict[str, Any], respond) -> None:
        action = body["actions"][0]
        helpful = action["action_id"] == ActionId.HELPFUL
        try:
            with bot.db.session() as session:
                result = record_feedback(
                    session,
                    bot.workplace,
                    answer_id=int(action["value"]),
                    user=body["user"]["id"],
                    helpful=helpful,
                    now=bot.now(),
                )
            key = (
                "help.thanks_already"
                if not result.recorded
                else "help.thanks_escalated"
                if result.escalated
                else "help.thanks"
            )
            respond(replace_original=False, **notice(bot, key))
        except Exception as exc:
            respond(replace_original=False, **apology(bot, exc, "help feedback"))
        bot.deliverer.deliver_pending()

    def open_form(body: dict[str, Any], client: WebClient, respond) -> None:
        try:
            kind = Kind(body["actions"][0]["value"])
            view = form_view(
                bot, kind, user=body["user"]["id"], channel=(body.get("channel") or {}).get("id", "")
            )
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception as exc:
            respond(replace_original=False, **apology(bot, exc, "help form"))

    app.action(ActionId.HELPFUL.value)(ack=_ack, lazy=[feedback])
    app.action(ActionId.NOT_HELPFUL.value)(ack=_ack, lazy=[feedback])
    app.action(ActionId.OPEN_FORM.value)(ack=_ack, lazy=[open_form])
