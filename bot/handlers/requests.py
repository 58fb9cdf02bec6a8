"""Requests in Slack: the forms that file them, the buttons on their cards — Approve,
Reject (asks for a reason), Done, Details (a modal) — and on the requester's DMs:
Withdraw (the receipt) and Contact the administrator (a rejection)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.domain.errors import FieldErrors, Problem, Refused
from bot.domain.requests import Action
from bot.handlers.forms import FormMetadata
from bot.handlers.listen import Interaction, Listen, Submission
from bot.handlers.replies import notice
from bot.ids import FORM_CALLBACKS, ActionId, CallbackId
from bot.presenters.requests import present
from bot.services import roles
from bot.services.requests import (
    act_on_request,
    check_action,
    file_request,
    find_request,
    message_administrators,
    visible_request,
)
from bot.storage.models import Request

MOVES = {ActionId.APPROVE: Action.APPROVE, ActionId.DONE: Action.DONE}


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.submission(*FORM_CALLBACKS)
    def submit_form(form: Submission, session: Session) -> dict:
        result = file_request(
            session,
            bot.workplace,
            kind=FORM_CALLBACKS[form.view["callback_id"]],
            actor=form.user,
            raw=form.values,
            submission_key=form.key,
            now=bot.now(),
        )
        shown = present(result.request, bot.workplace, whole=True)
        return {
            "response_action": "update",
            "view": bot.messages.render("form_submitted", view=shown, policy=bot.policy),
        }

    @listen.button(*MOVES, unit=False)
    def move(press: Interaction) -> None:
        action = MOVES[ActionId(press.action_id)]
        # A press that can't move the request (someone was first, not an administrator) is
        # answered from one read, with no unit of work; only a move that can happen takes
        # the write lock.
        glance = bot.db.glance
        check_action(glance, public_id=press.value, action=action, actor=press.user, tz=bot.workplace.tz)
        with bot.work() as writing:
            act_on_request(
                writing,
                public_id=press.value,
                action=action,
                actor=press.user,
                now=bot.now(),
                tz=bot.workplace.tz,
            )

    @listen.button(ActionId.REJECT, read_only=True)
    def ask_reason(press: Interaction, session: Session) -> None:
        roles.require_admin(session, press.user)
        request = find_request(session, press.value)
        view = present(request, bot.workplace, whole=False)
        if not view.can_reject:  # the card was not redrawn yet
            press.open(moved_on(request))
            return
        press.open(
            bot.messages.render(
                "form_reject",
                callback_id=CallbackId.REJECT_REASON.value,
                metadata=FormMetadata(public_id=request.public_id).dump(),
                view=view,
                month=request.effective_month or "",
            )
        )

    @listen.submission(CallbackId.REJECT_REASON)
    def reject(form: Submission, session: Session) -> dict | None:
        reason = form.values.get("reason", "").strip()
        if not reason:
            raise FieldErrors({"reason": Problem("reason_required")})
        public_id = FormMetadata.load(form.view.get("private_metadata")).public_id
        try:
            act_on_request(
                session,
                public_id=public_id,
                action=Action.REJECT,
                actor=form.user,
                now=bot.now(),
                reason=reason,
                tz=bot.workplace.tz,
            )
        except Refused as exc:
            if exc.code not in ("transition_not_allowed", "already_moved"):
                raise
            # Someone acted on it while the form was open: say who and when (no field
            # error: there is nothing to fix).
            return {"response_action": "update", "view": moved_on(find_request(session, public_id))}
        return None

    def moved_on(request: Request) -> dict:
        view = present(request, bot.workplace, whole=False)
        return bot.messages.render("form_moved_on", view=view, month=request.effective_month or "")

    @listen.button(ActionId.DETAILS, read_only=True)
    def details(press: Interaction, session: Session) -> None:
        roles.require_admin(session, press.user)
        view = present(find_request(session, press.value), bot.workplace, whole=True)
        # A modal, not an ephemeral message that is lost when the channel moves on.
        press.open(bot.messages.render("request_detail_modal", view=view, policy=bot.policy))

    @listen.button(ActionId.WITHDRAW)
    def withdraw(press: Interaction, session: Session) -> None:
        request = act_on_request(
            session,
            public_id=press.value,
            action=Action.CANCEL,
            actor=press.user,
            now=bot.now(),
            tz=bot.workplace.tz,
        )
        # The receipt is redrawn without its Withdraw button.
        shown = present(request, bot.workplace, whole=True)
        press.redraw(bot.messages.render("request_received", view=shown, policy=bot.policy))
        press.reply(notice(bot, "request.cancelled", public_id=request.public_id))

    @listen.button(ActionId.CONTACT_ADMIN, read_only=True)
    def contact_form(press: Interaction, session: Session) -> None:
        request = visible_request(session, public_id=press.value, viewer=press.user)
        press.open(
            bot.messages.render(
                "contact_admin",
                callback_id=CallbackId.CONTACT_ADMIN.value,
                metadata=FormMetadata(public_id=request.public_id).dump(),
                view=present(request, bot.workplace, whole=True),
            )
        )

    @listen.submission(CallbackId.CONTACT_ADMIN)
    def contact_admin(form: Submission, session: Session) -> dict:
        message_administrators(
            session,
            bot.workplace,
            public_id=FormMetadata.load(form.view.get("private_metadata")).public_id,
            actor=form.user,
            text=form.values.get("message", ""),
            submission_key=form.key,
            now=bot.now(),
        )
        return {"response_action": "update", "view": bot.messages.render("contact_admin_sent")}
