"""Buttons on reminders: Done, Snooze until tomorrow, and the cut-off's "See them" and
"Export the change form".

Done and Snooze change the occurrence; the outbox then redraws every copy of the reminder
in place (Done: who handled it, no buttons; Snooze: until when). Refusals (not an
administrator, already done) come back ephemerally and change nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.domain.months import YearMonth
from bot.handlers import workspace
from bot.handlers.listen import Interaction, Listen
from bot.handlers.replies import ephemeral, notice
from bot.ids import ActionId
from bot.presenters.requests import present
from bot.services import reminders


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.button(ActionId.REMINDER_DONE)
    def done(press: Interaction, session: Session) -> None:
        reminders.mark_done(session, key=press.value, actor=press.user, now=bot.now())

    @listen.button(ActionId.REMINDER_SNOOZE)
    def snooze(press: Interaction, session: Session) -> None:
        snoozed = reminders.snooze(session, bot.workplace, key=press.value, actor=press.user, now=bot.now())
        press.reply(notice(bot, "reminder.snoozed", until=snoozed.until.isoformat()))

    @listen.button(ActionId.REMINDER_SEE_CHANGES, read_only=True)
    def see_changes(press: Interaction, session: Session) -> None:
        rows = reminders.cutoff_requests(session, viewer=press.user, occurrence=press.value)
        views = [present(r, bot.workplace, whole=True) for r in rows]
        press.reply(ephemeral(bot, "request_list", views=views, total=len(views), mine=False))

    @listen.button(ActionId.REMINDER_EXPORT_FORM)
    def export_form(press: Interaction, session: Session) -> None:
        # The same as /si export change-form <month>: the files and Mark filed in the DM.
        month = YearMonth.parse(press.value)
        workspace.send_change_form(press, session, month)
        press.reply(notice(bot, "change_form.building", month=str(month)))
