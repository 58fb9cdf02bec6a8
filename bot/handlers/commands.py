"""``/si``: parse, ack within Slack's 3 seconds, and open forms after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.commands import Command, parse_command
from bot.domain.errors import Refused
from bot.domain.requests import Action, Kind, State
from bot.domain.workspace_commands import WORKSPACE_COMMANDS
from bot.handlers import workspace
from bot.handlers.forms import form_view
from bot.handlers.replies import apology, ephemeral, notice, refused
from bot.presenters import present
from bot.runtime import SiBot
from bot.services import roles
from bot.services.requests import act_on_request, all_requests, own_requests, visible_request

READ_ONLY_COMMANDS = frozenset({"status", "admin-list"})


def _parsed_or_none(text: str) -> Command | None:
    try:
        return parse_command(text)
    except Refused:
        return None


def needs_follow_up(body: dict[str, Any]) -> bool:
    """Subcommands with work after the ack: opening a form, sending what a cancel recorded,
    the workspace's files, modals and Home redraws."""
    parsed = _parsed_or_none(body.get("text", ""))
    return parsed is not None and (
        parsed.opens_form or parsed.name == "cancel" or parsed.name in workspace.LAZY_COMMANDS
    )


def register(app: App, bot: SiBot) -> None:
    def ack_si(ack: Ack, command: dict[str, Any]) -> None:
        user = command["user_id"]
        try:
            parsed = parse_command(command.get("text", ""))
            if parsed.opens_form:
                ack()  # the form opens after the ack (lazy), within trigger_id's 3 seconds
            elif parsed.name in WORKSPACE_COMMANDS:
                ack(**workspace.answer(bot, parsed, user))
            else:
                ack(**run(bot, parsed, user))
        except Refused as exc:
            ack(**refused(bot, exc))
        except Exception as exc:
            ack(**apology(bot, exc, "/si"))

    def follow_up(body: dict[str, Any], client: WebClient, respond) -> None:
        parsed = _parsed_or_none(body.get("text", ""))
        if parsed is not None and parsed.name in WORKSPACE_COMMANDS:
            workspace.follow_up(bot, parsed, body, client, respond)
            return
        if parsed is None or parsed.kind is None:
            bot.deliverer.deliver_pending()
            return
        try:
            view = form_view(
                bot,
                parsed.kind,
                user=body["user_id"],
                channel=body.get("channel_id", ""),
                prefill=parsed.prefill,
            )
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception as exc:
            respond(**apology(bot, exc, "/si form"))

    # Most subcommands are answered entirely within the ack; only those with work after
    # it pay for a lazy listener.
    app.command("/si", matchers=[needs_follow_up])(ack=ack_si, lazy=[follow_up])
    app.command("/si")(ack_si)


def run(bot: SiBot, parsed: Command, user: str) -> dict[str, Any]:
    """Answer the subcommands that need no form, within the ack."""
    now = bot.now()
    workplace = bot.workplace
    if parsed.name == "help":
        return ephemeral(bot, "help", is_admin=workplace.is_admin(user))
    with bot.db.session(read_only=parsed.name in READ_ONLY_COMMANDS) as session:
        if parsed.name == "status" and not parsed.public_id:
            rows = own_requests(session, user)
            views = [present(r, workplace, whole=True) for r in rows]
            return ephemeral(bot, "request_list", views=views, total=len(views), mine=True)
        if parsed.name == "status":
            request = visible_request(session, workplace, public_id=parsed.public_id, viewer=user)
            return ephemeral(bot, "request_detail", view=present(request, workplace, whole=True))
        if parsed.name == "cancel":
            request = act_on_request(
                session, workplace, public_id=parsed.public_id, action=Action.CANCEL, actor=user, now=now
            )
            return notice(bot, "request.cancelled", public_id=request.public_id)
        if parsed.name == "admin-list":
            rows, total = all_requests(
                session,
                workplace,
                viewer=user,
                kind=Kind(parsed.filter_kind) if parsed.filter_kind else None,
                state=State(parsed.state) if parsed.state else None,
            )
            views = [present(r, workplace, whole=True) for r in rows]
            return ephemeral(bot, "request_list", views=views, total=total, mine=False)
        if parsed.name == "admin-staff":
            return _staff(bot, session, parsed, user, now)
    raise Refused("unknown_subcommand", sub=parsed.name)


def _staff(bot: SiBot, session, parsed: Command, user: str, now) -> dict[str, Any]:
    workplace = bot.workplace
    if parsed.verb == "add":
        changed = roles.add_staff(session, workplace, actor=user, user_id=parsed.user, now=now)
        return notice(bot, "staff.added" if changed else "staff.already", user=parsed.user)
    if parsed.verb == "remove":
        changed = roles.remove_staff(session, workplace, actor=user, user_id=parsed.user, now=now)
        return notice(bot, "staff.removed" if changed else "staff.not_there", user=parsed.user)
    roles.require_admin(workplace, user)
    return ephemeral(bot, "staff_list", staff=roles.list_staff(session))
