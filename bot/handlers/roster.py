"""The roster in Slack: ``/si roster`` (one's own record and wages, or an administrator's
look-up), the retirees, the import templates, and correcting a wage from a record."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.domain import commands as cmd
from bot.domain.fields import MAX_AMOUNT, MonthWindow
from bot.domain.months import YearMonth
from bot.domain.roster import FileKind
from bot.exports import plain_words, upload_to_dm
from bot.handlers.forms import FormMetadata
from bot.handlers.listen import Interaction, Listen, Submission
from bot.handlers.replies import ephemeral, modal, notice
from bot.ids import ActionId, CallbackId
from bot.roster_files import template_file, template_name
from bot.runtime import SiBot
from bot.services import roles, roster, wages

WAGES_SHOWN = 12  # the last year of wages on a record


def record_message(bot: SiBot, session: Session, viewer: str, person: roster.EmployeeView) -> dict[str, Any]:
    """One person's record, their last year of wages and (for an administrator) the
    history of their record and a button to correct a wage. Shown only to the viewer."""
    admin = roles.is_admin(session, viewer)
    history = roster.employee_history(session, viewer=viewer, employee_id=person.id) if admin else []
    shown_wages = wages.wages_of(session, viewer=viewer, employee_id=person.id)[-WAGES_SHOWN:]
    return ephemeral(
        bot, "roster_record", person=person, wages=shown_wages, history=history[-10:], admin=admin
    )


def answer(bot: SiBot, command: cmd.Roster, user: str, session: Session) -> dict[str, Any]:
    """``/si roster [query]``."""
    if not command.query:
        person = roster.own_record(session, user)
        if person is None:
            return notice(bot, "roster.not_on_roster")
        return record_message(bot, session, user, person)
    found = roster.look_up(session, viewer=user, text=command.query)
    if len(found) == 1:
        return record_message(bot, session, user, found[0])
    return ephemeral(bot, "roster_list", people=found, query=command.query, title_key="roster.found")


def retirees(bot: SiBot, command: cmd.RosterRetirees, user: str, session: Session) -> dict[str, Any]:
    people = roster.retirees(session, viewer=user)
    return ephemeral(bot, "roster_list", people=people, query="", title_key="roster.retirees")


def templates_coming(bot: SiBot, command: cmd.RosterTemplates, user: str, session: Session) -> dict[str, Any]:
    roles.require_admin(session, user)
    return notice(bot, "roster.templates_coming")


def send_templates(turn: Interaction, command: cmd.RosterTemplates, session: Session) -> None:
    """The roster and wage templates (.xlsx) in the administrator's DM."""
    roles.require_admin(session, turn.user)
    words = plain_words(turn.bot.messages)
    files = [
        (template_name(kind, ".xlsx", words), template_file(kind, ".xlsx", words))
        for kind in (FileKind.ROSTER, FileKind.WAGES)
    ]
    turn.then(lambda: upload_to_dm(turn.bot.client, turn.user, files, title=words("roster.templates_title")))


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.button(ActionId.CORRECT_WAGE, read_only=True)
    def correct(press: Interaction, session: Session) -> None:
        roles.require_admin(session, press.user)
        person = roster.visible_employee(session, viewer=press.user, employee_id=int(press.value))
        today = bot.workplace.today(bot.now())
        press.open(
            bot.messages.render(
                "form_wage_correction",
                callback_id=CallbackId.WAGE_CORRECTION.value,
                metadata=FormMetadata(employee=str(person.id)).dump(),
                name=person.full_name,
                # The months whose wages can be corrected here, newest first.
                months=MonthWindow.back(YearMonth.of(today), bot.policy.record_months_back).months(),
                max_amount=f"{MAX_AMOUNT:f}",
            )
        )

    @listen.submission(CallbackId.WAGE_CORRECTION)
    def corrected(form: Submission, session: Session) -> dict:
        employee_id = int(FormMetadata.load(form.view.get("private_metadata")).employee)
        changed = wages.correct_wage_form(
            session, actor=form.user, employee_id=employee_id, raw=form.values, now=bot.now()
        )
        key = "roster.wage_corrected" if changed else "roster.wage_unchanged"
        month = form.values.get("month", "")
        return {
            "response_action": "update",
            "view": modal(bot, notice(bot, key, month=month), "wage_correction"),
        }
