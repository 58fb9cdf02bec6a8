"""The administrator's workspace in Slack: App Home, the change-form export and its Mark
filed button, ``/si contact``, the certificate registry, the administrators' filing and
the handover. Acks in the request thread; Slack calls (files, modals, Home) in lazy
listeners. Its ``/si`` subcommands arrive through the one ``/si`` listener of
``commands``, which calls :func:`answer` in the ack and :func:`follow_up` after it."""

from __future__ import annotations

import contextlib
import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.commands import Command
from bot.domain.errors import FieldErrors, Refused
from bot.domain.months import YearMonth
from bot.domain.requests import Kind
from bot.exports import change_form_files, handover_files, plain_words, upload_to_dm
from bot.handlers.forms import FormMetadata, field_values, form_view
from bot.handlers.ids import ActionId, CallbackId
from bot.handlers.replies import apology, ephemeral, field_errors, notice, refused, replying
from bot.home_tab import HomePublisher
from bot.presenters import present
from bot.runtime import SiBot
from bot.services import change_form, documents, filing, handover
from bot.services.requests import all_requests
from bot.services.roles import require_admin

log = logging.getLogger("bot.handlers")
# Subcommands with Slack work after the ack: files, a modal, messages and Home to redraw.
LAZY_COMMANDS = frozenset(
    {"export-change-form", "export-handover", "docs-add", "admin-add", "admin-remove", "admin-handover"}
)
HOME_COMMANDS = frozenset({"export", "requests", "docs", "docs_add", "contact"})


def _redraw_pressed(body: dict[str, Any], client: WebClient, message: dict[str, Any]) -> bool:
    """Redraw the message whose button was pressed; False when it was pressed elsewhere
    (App Home), where there is no message to redraw."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return False
    client.chat_update(channel=container["channel_id"], ts=container["message_ts"], **message)
    return True


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, bot: SiBot) -> None:
    publisher = HomePublisher(bot)
    bot.deliverer.home = publisher  # the outbox redraws Home after request changes

    def tell(body: dict[str, Any], client: WebClient, respond, message: dict[str, Any]) -> None:
        """An answer to a button: ephemeral where it was pressed, or by DM from App Home
        (which has no response URL)."""
        if body.get("response_url"):
            respond(replace_original=False, **message)
        else:
            message = {k: v for k, v in message.items() if k != "response_type"}
            client.chat_postMessage(channel=body["user"]["id"], **message)

    # --- App Home -------------------------------------------------------------------------

    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        try:
            publisher.opened(event["user"])
        except Exception:
            log.exception("App Home of %s not drawn", event.get("user"))

    app.event("app_home_opened")(ack=_ack, lazy=[home_opened])

    def open_form(body: dict[str, Any], client: WebClient, respond) -> None:
        user = body["user"]["id"]
        try:
            kind = Kind(body["actions"][0]["value"])
            client.views_open(trigger_id=body["trigger_id"], view=form_view(bot, kind, user=user))
        except Exception as exc:
            tell(body, client, respond, apology(bot, exc, "home form"))

    def home_command(body: dict[str, Any], client: WebClient, respond) -> None:
        user = body["user"]["id"]
        what = body["actions"][0].get("value", "")
        with replying(bot, lambda message: tell(body, client, respond, message), f"home {what}"):
            if what == "contact":
                client.views_open(trigger_id=body["trigger_id"], view=_modal(bot, contact_message(bot)))
                return
            if what not in HOME_COMMANDS:
                raise Refused("unknown_subcommand", sub=what)
            require_admin(bot.workplace, user)
            if what == "export":
                send_change_form(bot, client, user, change_form.form_month(bot.workplace, bot.now()))
            elif what == "docs_add":
                client.views_open(trigger_id=body["trigger_id"], view=document_form(bot, user))
            elif what == "docs":
                client.views_open(trigger_id=body["trigger_id"], view=_modal(bot, docs_message(bot, user)))
            elif what == "requests":
                with bot.db.session(read_only=True) as session:
                    rows, total = all_requests(session, bot.workplace, viewer=user, limit=30)
                    views = [present(r, bot.workplace, whole=True) for r in rows]
                message = ephemeral(bot, "request_list", views=views, total=total, mine=False)
                client.views_open(trigger_id=body["trigger_id"], view=_modal(bot, message))

    def filed(body: dict[str, Any], client: WebClient, respond) -> None:
        user = body["user"]["id"]
        with replying(bot, lambda message: tell(body, client, respond, message), "change form filed"):
            with bot.db.session() as session:
                result = change_form.mark_filed(
                    session,
                    bot.workplace,
                    export_id=int(body["actions"][0]["value"]),
                    actor=user,
                    now=bot.now(),
                )
            bot.deliverer.deliver_pending()  # the cards and each requester's notice
            message = bot.messages.render(
                "change_form_filed", month=result.month, done=result.done, skipped=result.skipped, by=user
            )
            if not _redraw_pressed(body, client, message):
                client.chat_postMessage(channel=user, **message)
            publisher.refresh([user, *bot.workplace.admins])

    def confirm(body: dict[str, Any], client: WebClient, respond) -> None:
        user = body["user"]["id"]
        with replying(bot, lambda message: tell(body, client, respond, message), "handover confirm"):
            with bot.db.session() as session:
                record = handover.confirm_handover(
                    session,
                    bot.workplace,
                    handover_id=int(body["actions"][0]["value"]),
                    actor=user,
                    now=bot.now(),
                )
                people = [record.from_id, record.to_id]
                message = handover_message(bot, record, role="to")
            bot.deliverer.deliver_pending()
            _redraw_pressed(body, client, message)
            publisher.refresh([*people, *bot.workplace.admins])

    app.action(ActionId.HOME_OPEN_FORM.value)(ack=_ack, lazy=[open_form])
    app.action(ActionId.HOME_COMMAND.value)(ack=_ack, lazy=[home_command])
    app.action(ActionId.CHANGE_FORM_FILED.value)(ack=_ack, lazy=[filed])
    app.action(ActionId.HANDOVER_CONFIRM.value)(ack=_ack, lazy=[confirm])

    # --- the registry's form ----------------------------------------------------------------

    def submit_document(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        try:
            with bot.db.session() as session:
                row = documents.register_document(
                    session,
                    bot.workplace,
                    actor=user,
                    raw=field_values(view),
                    submission_key=f"view:{view['id']}",
                    now=bot.now(),
                )
                name = row.name
            saved = notice(bot, "docs.saved", name=name)
            ack(response_action="update", view=bot.messages.render("form_message", blocks=saved["blocks"]))
        except FieldErrors as exc:
            ack(**field_errors(bot, exc))
        except Refused as exc:
            ack(response_action="update", view=_modal(bot, refused(bot, exc)))
        except Exception as exc:
            ack(response_action="update", view=_modal(bot, apology(bot, exc, "document form")))

    def after_document(body: dict[str, Any]) -> None:
        publisher.refresh(list(bot.workplace.admins))

    app.view(CallbackId.DOCUMENT_FORM.value)(ack=submit_document, lazy=[after_document])


# --- answers within the ack -------------------------------------------------------------------


def follow_up(bot: SiBot, parsed: Command, body: dict[str, Any], client: WebClient, respond) -> None:
    """The Slack work after a workspace subcommand's ack: files, the registry's form,
    messages and Home redraws."""
    user = body["user_id"]
    with replying(bot, lambda message: respond(**message), f"/si {parsed.name}"):
        if parsed.name in ("admin-add", "admin-remove", "admin-handover"):
            bot.deliverer.deliver_pending()
            bot.deliverer.home.refresh([user, parsed.user, *bot.workplace.admins])
            return
        if parsed.name == "export-handover":
            with contextlib.suppress(Refused):  # the ack said so already
                send_handover(bot, client, user, int(parsed.ref) if parsed.ref else None)
            return
        if not bot.workplace.is_admin(user):
            return  # the ack said so already
        if parsed.name == "docs-add":
            client.views_open(trigger_id=body["trigger_id"], view=document_form(bot, user))
        elif parsed.name == "export-change-form":
            send_change_form(bot, client, user, _month(bot, parsed.month))


def answer(bot: SiBot, parsed: Command, user: str) -> dict[str, Any]:
    """What the ack says: the whole answer, or that the rest follows."""
    workplace, now = bot.workplace, bot.now()
    if parsed.name == "contact":
        return contact_message(bot)
    if parsed.name == "docs":
        require_admin(workplace, user)
        return docs_message(bot, user)
    if parsed.name == "docs-add":
        require_admin(workplace, user)
        return {}  # the form opens after the ack
    if parsed.name == "export-change-form":
        require_admin(workplace, user)
        return notice(bot, "change_form.building", month=str(_month(bot, parsed.month)))
    if parsed.name == "export-handover":
        with bot.db.session(read_only=True) as session:
            record = handover.find_handover(
                session, workplace, viewer=user, number=int(parsed.ref) if parsed.ref else None
            )
            return notice(bot, "handover.exporting", number=record.id)
    with bot.db.session() as session:
        if parsed.name == "admin-add":
            day = date.fromisoformat(parsed.day) if parsed.day else None
            change = filing.add_admin(
                session, workplace, actor=user, user_id=parsed.user, filed_on=day, now=now
            )
            return notice(bot, f"filing.{change.outcome}", user=parsed.user, day=str(change.filed_on or ""))
        if parsed.name == "admin-remove":
            change = filing.remove_admin(session, workplace, actor=user, user_id=parsed.user, now=now)
            return notice(bot, f"filing.{change.outcome}", user=parsed.user)
        if parsed.name == "admin-handover":
            started = handover.start_handover(session, workplace, actor=user, successor=parsed.user, now=now)
            key = "handover.started" if started.created else "handover.still_pending"
            return notice(bot, key, successor=parsed.user, number=started.handover.id)
    raise Refused("unknown_subcommand", sub=parsed.name)


def _month(bot: SiBot, text: str) -> YearMonth:
    return YearMonth.parse(text) if text else change_form.form_month(bot.workplace, bot.now())


def _modal(bot: SiBot, message: dict[str, Any]) -> dict[str, Any]:
    return bot.messages.render("form_message", blocks=message["blocks"])


def contact_message(bot: SiBot) -> dict[str, Any]:
    """``/si contact``: the filed administrators and the social security center."""
    with bot.db.session(read_only=True) as session:
        admins = [
            {"user": a.user_id, "filed_on": a.filed_on.isoformat() if a.filed_on else ""}
            for a in filing.active_admins(session)
        ]
    return ephemeral(bot, "contact", admins=admins)


def docs_message(bot: SiBot, user: str) -> dict[str, Any]:
    with bot.db.session(read_only=True) as session:
        rows = [
            {
                "id": d.id,
                "category": d.category,
                "name": d.name,
                "location": d.location,
                "holder": d.holder_id,
                "due_on": d.due_on.isoformat() if d.due_on else "",
                "due_kind": d.due_kind,
            }
            for d in documents.list_documents(session)
        ]
    return ephemeral(bot, "docs_list", docs=rows)


def document_form(bot: SiBot, user: str) -> dict[str, Any]:
    return bot.messages.render(
        "form_document",
        callback_id=CallbackId.DOCUMENT_FORM.value,
        metadata=FormMetadata().dump(),
        prefill={"holder": user},
    )


def handover_message(bot: SiBot, record, *, role: str) -> dict[str, Any]:
    return bot.messages.render(
        "handover_checklist",
        policy=bot.policy,
        handover_id=record.id,
        role=role,
        outgoing=record.from_id,
        successor=record.to_id,
        checklist=record.checklist,
        started=record.created_at.isoformat(),
        confirmed=record.confirmed_at is not None,
    )


def send_change_form(bot: SiBot, client: WebClient, user: str, month: YearMonth) -> None:
    """Export ``month``'s change form to ``user``'s DM: the .xlsx and .csv files, then a
    message with the counts and the Mark filed button."""
    with bot.db.session() as session:
        exported = change_form.export_change_form(
            session, bot.workplace, month=month, actor=user, now=bot.now()
        )
        summary = change_form.month_summary(session, month)
        export_id = exported.export.id
    if not exported.rows:
        message = bot.messages.render("change_form_empty", month=str(month), summary=summary)
        client.chat_postMessage(channel=user, **message)
        return
    words = plain_words(bot.messages)
    files = change_form_files(exported.rows, month, words)
    channel = upload_to_dm(client, user, files, title=words("change_form.title", month=str(month)))
    counts = {t: sum(1 for r in exported.rows if r.change_type == t) for t in ("add", "remove", "update")}
    message = bot.messages.render(
        "change_form_ready",
        month=str(month),
        export_id=export_id,
        rows=len(exported.rows),
        counts=counts,
        summary=summary,
        files=[name for name, _ in files],
    )
    client.chat_postMessage(channel=channel, **message)


def send_handover(bot: SiBot, client: WebClient, user: str, number: int | None) -> None:
    """The handover record as .xlsx and .csv in ``user``'s DM."""
    with bot.db.session(read_only=True) as session:
        record = handover.find_handover(session, bot.workplace, viewer=user, number=number)
        log_rows = handover.handover_log(session, record)
        words = plain_words(bot.messages)
        files = handover_files(record, log_rows, words)
        title = words("handover.file.title", number=record.id)
    upload_to_dm(client, user, files, title=title)
