"""Form submissions. Validation and saving happen within the ack, so a mistake is shown
on the exact field (``response_action: errors``) and nothing is half-saved."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.domain.errors import FieldErrors, Refused
from bot.domain.requests import Action, Kind
from bot.handlers.forms import FormMetadata, field_values
from bot.handlers.ids import CallbackId
from bot.handlers.replies import apology, field_errors
from bot.presenters import present
from bot.runtime import SiBot
from bot.services.requests import act_on_request, file_request

FORM_KINDS = {
    CallbackId.CHANGE_FORM: Kind.CHANGE,
    CallbackId.PAYBACK_FORM: Kind.PAYBACK,
    CallbackId.COMPLAINT_FORM: Kind.COMPLAINT,
    CallbackId.CARD_FORM: Kind.CARD,
    CallbackId.TRANSFER_FORM: Kind.TRANSFER,
    CallbackId.RETIREMENT_FORM: Kind.RETIREMENT,
    CallbackId.UNEMPLOYMENT_FORM: Kind.UNEMPLOYMENT,
    CallbackId.MEDICAL_FORM: Kind.MEDICAL,
    CallbackId.SETTLEMENT_FORM: Kind.SETTLEMENT,
}


def register(app: App, bot: SiBot) -> None:
    def deliver(body: dict[str, Any]) -> None:
        bot.deliverer.deliver_pending()

    def submit_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        kind = FORM_KINDS[CallbackId(view["callback_id"])]
        try:
            with bot.db.session() as session:
                result = file_request(
                    session,
                    bot.workplace,
                    kind=kind,
                    actor=user,
                    raw=field_values(view),
                    # The modal's view id: a double submission finds the first request.
                    submission_key=f"view:{view['id']}",
                    now=bot.now(),
                )
                shown = present(result.request, bot.workplace, whole=True)
            ack(
                response_action="update",
                view=bot.messages.render("form_submitted", view=shown, policy=bot.policy),
            )
        except FieldErrors as exc:
            ack(**field_errors(bot, exc))
        except Exception as exc:
            ack(response_action="update", view=_apology_view(bot, exc, kind.value))

    def submit_reject(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        metadata = FormMetadata.load(view.get("private_metadata"))
        reason = field_values(view).get("reason", "")
        try:
            with bot.db.session() as session:
                act_on_request(
                    session,
                    bot.workplace,
                    public_id=metadata.public_id,
                    action=Action.REJECT,
                    actor=user,
                    now=bot.now(),
                    reason=reason,
                )
            ack()
        except Refused as exc:
            ack(
                response_action="errors",
                errors={"reason": str(bot.messages.text(f"error.{exc.code}", **exc.params))},
            )
        except Exception as exc:
            ack(response_action="update", view=_apology_view(bot, exc, "reject"))

    for callback in FORM_KINDS:
        app.view(callback.value)(ack=submit_form, lazy=[deliver])
    app.view(CallbackId.REJECT_REASON.value)(ack=submit_reject, lazy=[deliver])


def _apology_view(bot: SiBot, exc: BaseException, where: str) -> dict[str, Any]:
    message = apology(bot, exc, where)
    return bot.messages.render("form_message", blocks=message["blocks"])
