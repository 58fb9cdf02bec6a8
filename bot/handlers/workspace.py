"""The administrator's workspace in Slack: App Home, the change-form export and its Mark
filed button, the contacts, the certificate registry and the handover."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.months import YearMonth
from bot.domain.requests import Action, RequestKind
from bot.exports import change_form_files, handover_files, plain_words, upload_to_dm
from bot.handlers.forms import document_form, form_view
from bot.handlers.listen import Interaction, Listen, Submission
from bot.handlers.lists import list_message
from bot.handlers.replies import ephemeral, modal, notice
from bot.ids import ActionId, CallbackId
from bot.presenters.requests import present
from bot.runtime import SiBot
from bot.services import change_form, documents, filing, handover, roles
from bot.services.requests import ListFilter, act_on_request, request_page, visible_request
from bot.storage.models import Handover, UnitDocument

LIST_SHOWN = 30


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            bot.home.opened(event["user"])

    @listen.button(ActionId.HOME_OPEN_FORM, ActionId.HOME_OPEN_FORM_MORE, read_only=True)
    def open_form(press: Interaction, session: Session) -> None:
        press.open(form_view(bot, session, RequestKind(press.value), user=press.user))

    @listen.button(ActionId.HOME_WAITING)
    def waiting_request(press: Interaction, session: Session) -> None:
        """The overflow of a request waiting on the administrator's Home: approve it (the
        cards and the Homes are redrawn after delivery, as for the card's button), or see it
        in a modal."""
        choice, _, public_id = press.value.partition(":")
        if choice == "approve":
            act_on_request(
                session, public_id=public_id, action=Action.APPROVE, actor=press.user, now=bot.now()
            )
        elif choice == "details":
            request = visible_request(session, public_id=public_id, viewer=press.user)
            shown = ephemeral(bot, "request_detail", view=present(request, bot.workplace, whole=True))
            press.open(modal(bot, shown, "request", public_id=public_id))
        else:
            raise Refused("unknown_subcommand", sub=press.value)

    @listen.button(ActionId.HOME_COMMAND)
    def home_command(press: Interaction, session: Session) -> None:
        if press.value == "contact":
            press.open(modal(bot, contact_message(bot, session), "contact"))
        elif press.value == "docs":
            press.open(modal(bot, docs_message(bot, documents.registry(session, viewer=press.user)), "docs"))
        elif press.value == "docs_add":
            roles.require_admin(session, press.user)
            press.open(document_form(bot, press.user))
        elif press.value == "requests":
            everyone = ListFilter(mine=False)
            page = request_page(session, viewer=press.user, which=everyone)
            listed = list_message(bot, page, which=everyone, selects=True)
            press.open(modal(bot, listed, "requests_all"))
        elif press.value == "export":
            send_change_form(press, session, form_month(bot))
        else:
            raise Refused("unknown_subcommand", sub=press.value)

    @listen.button(ActionId.CHANGE_FORM_FILED)
    def filed(press: Interaction, session: Session) -> None:
        result = change_form.mark_filed(session, export_id=int(press.value), actor=press.user, now=bot.now())
        press.redraw(
            bot.messages.render(
                "change_form_filed",
                month=result.month,
                done=result.done,
                skipped=result.skipped,
                by=press.user,
            )
        )
        press.then(lambda: bot.home.refresh([press.user], admins=True))

    @listen.button(ActionId.ADMIN_REMOVE)
    def remove_admin(press: Interaction, session: Session) -> None:
        change = filing.remove_admin(
            session, bot.workplace, actor=press.user, user_id=press.value, now=bot.now()
        )
        press.reply(notice(bot, f"filing.{change.outcome}", user=press.value))
        press.then(lambda: bot.home.refresh([press.value], admins=True))

    @listen.button(ActionId.HANDOVER_CONFIRM)
    def confirm(press: Interaction, session: Session) -> None:
        record = handover.confirm_handover(
            session, bot.workplace, handover_id=int(press.value), actor=press.user, now=bot.now()
        )
        if press.message_ts:
            press.redraw(handover_message(bot, record, role="to"))
        people = [record.from_id, record.to_id]
        press.then(lambda: bot.home.refresh(people, admins=True))

    def after_document(bot: SiBot, user: str) -> None:
        bot.home.refresh([], admins=True)

    @listen.submission(CallbackId.DOCUMENT_FORM, after=after_document)
    def submit_document(form: Submission, session: Session) -> dict:
        row = documents.register_document(
            session, bot.workplace, actor=form.user, raw=form.values, submission_key=form.key, now=bot.now()
        )
        return {
            "response_action": "update",
            "view": modal(bot, notice(bot, "docs.saved", name=row.name), "document_saved"),
        }


# --- messages and files -----------------------------------------------------------------------


def form_month(bot: SiBot) -> YearMonth:
    """The month whose change form is being prepared (that of the next cut-off)."""
    return change_form.form_month(bot.workplace, bot.now())


def contact_message(bot: SiBot, session: Session) -> dict[str, Any]:
    """``/si contact``: the filed administrators and the social security center."""
    admins = [
        {"user": a.user_id, "filed_on": a.filed_on.isoformat() if a.filed_on else ""}
        for a in filing.active_admins(session)
    ]
    return ephemeral(bot, "contact", admins=admins)


def docs_message(bot: SiBot, rows: list[UnitDocument]) -> dict[str, Any]:
    """``/si docs``: the unit's certificates, materials and accounts."""
    docs = [
        {
            "id": d.id,
            "category": d.category,
            "name": d.name,
            "location": d.location,
            "holder": d.holder_id,
            "due_on": d.due_on.isoformat() if d.due_on else "",
            "due_kind": d.due_kind,
        }
        for d in rows
    ]
    return ephemeral(bot, "docs_list", docs=docs)


def handover_message(bot: SiBot, record: Handover, *, role: str) -> dict[str, Any]:
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


def send_change_form(turn: Interaction, session: Session, month: YearMonth) -> None:
    """Export ``month``'s change form to the person's DM: the .xlsx and .csv files, then a
    message with the counts and the Mark filed button."""
    bot = turn.bot
    exported = change_form.export_change_form(
        session, bot.workplace, month=month, actor=turn.user, now=bot.now()
    )
    summary = change_form.month_summary(session, month)
    if not exported.rows:
        message = bot.messages.render("change_form_empty", month=str(month), summary=summary)
        turn.then(lambda: bot.client.chat_postMessage(channel=turn.user, **message))
        return
    session.flush()
    words = plain_words(bot.messages)
    files = change_form_files(exported.rows, month, words)
    counts = {t: sum(1 for r in exported.rows if r.change_type == t) for t in ("add", "remove", "update")}
    message = bot.messages.render(
        "change_form_ready",
        month=str(month),
        export_id=exported.export.id,
        rows=len(exported.rows),
        counts=counts,
        summary=summary,
        files=[name for name, _ in files],
    )

    def send() -> None:
        channel = upload_to_dm(
            bot.client, turn.user, files, title=words("change_form.title", month=str(month))
        )
        bot.client.chat_postMessage(channel=channel, **message)

    turn.then(send)


def send_handover(turn: Interaction, session: Session, number: int | None) -> None:
    """The handover record as .xlsx and .csv in the person's DM."""
    record = handover.find_handover(session, viewer=turn.user, number=number)
    words = plain_words(turn.bot.messages)
    files = handover_files(record, handover.handover_log(session, record), words)
    title = words("handover.file.title", number=record.id)
    turn.then(lambda: upload_to_dm(turn.bot.client, turn.user, files, title=title))
